"""Confirm & post: the one gate between the engineer's text and a ticket the customer can read.

Why so explicit: writing a customer-visible note by mistake is the classic helpdesk incident, so the modal states
the target, the visibility and the status step in words, starts on Cancel, needs a modified key or the button, and
refuses to go on while secret-like strings in a customer-visible note are unacknowledged. It never edits the text.

Post gate (issue 11): open `[CHECK: …]` review flags (found by services/post_gate.py, not re-parsed here) are listed
with section, text and reason, and confirm stays disabled until the engineer ticks that they reviewed them; the same
tick covers secret-like strings in an internal note. The modal dismisses with a `PostConsent` saying what was
acknowledged, which the caller passes on as `accept_flags`; the service audits the accepted flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services import post_gate, wording
from flowpilot_tui.services.redact import RedactedItem, find_secrets
from flowpilot_tui.services.writeback_types import PostPlan

MAX_LISTED = 6


def _secret_line(text: str, item: RedactedItem) -> str:
    line = text.count("\n", 0, item.start) + 1
    shown = one_line(item.original, 28)
    return f"line {line}: {item.kind.replace('_', ' ')} “{shown}”"


def _flag_line(flag: post_gate.ReviewFlag) -> str:
    text = f" “{one_line(flag.text, 50)}”" if flag.text else ""
    return f"{one_line(flag.section, 24)}:{text} — {one_line(flag.reason, 60)}"


@dataclass(frozen=True)
class PostConsent:
    """What the engineer confirmed: `accept_flags` is True only when open flags/internal secrets were ticked."""

    accept_flags: bool
    flags: tuple[post_gate.ReviewFlag, ...] = ()


class ConfirmPost(ModalScreen[PostConsent | None]):
    """Dismisses with a PostConsent only after an explicit confirm; Esc, Cancel and anything else give None."""

    DEFAULT_CSS = """
    ConfirmPost { align: center middle; }
    ConfirmPost > #cp-box {
        width: 90%; max-width: 96; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmPost.-internal > #cp-box, ConfirmPost.-local > #cp-box { border: thick $primary; }
    ConfirmPost #cp-kind { text-style: bold; background: $warning 30%; padding: 0 1; }
    ConfirmPost.-internal #cp-kind, ConfirmPost.-local #cp-kind { background: $primary 30%; }
    ConfirmPost #cp-body { height: auto; max-height: 16; }
    ConfirmPost #cp-ack { width: 100%; }
    ConfirmPost #cp-flags-ack { width: 100%; height: 1; border: none; padding: 0 1; }
    ConfirmPost #cp-flags { color: $warning; }
    ConfirmPost .cp-line { margin-top: 1; }
    ConfirmPost #cp-warning { color: $warning; text-style: bold; }
    ConfirmPost.-internal #cp-warning { color: $text-muted; text-style: none; }
    ConfirmPost #cp-secrets { color: $error; }
    ConfirmPost #cp-refuse { color: $error; text-style: bold; }
    ConfirmPost #cp-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmPost #cp-buttons Button { margin-left: 2; }
    """
    BINDINGS = keymap.bindings("confirm_post")
    AUTO_FOCUS = "#cp-cancel"

    def __init__(self, plan: PostPlan, text: str) -> None:
        super().__init__(classes="-local" if plan.local else ("-internal" if plan.kind == "escalate" else "-customer"))
        self.plan = plan
        self.text = text
        # a local resolve/escalate stores the note: the same gate applies (the resolution note is the customer's)
        self.customer_note = plan.customer_visible or (plan.local and plan.kind == "resolve")
        self.secrets = find_secrets(text)
        self.flags = post_gate.review_flags(text)
        self.refusal = self._refusal()

    def _refusal(self) -> str:
        if not self.text.strip():
            return "Nothing to post: the note is empty. Write or regenerate it first."
        return ""

    @property
    def needs_ack(self) -> bool:
        return self.customer_note and bool(self.secrets)

    @property
    def needs_flags_ack(self) -> bool:
        """Open review flags, or secrets in an internal note: the service refuses them without `accept_flags`."""
        return bool(self.flags) or (not self.customer_note and bool(self.secrets))

    def compose(self) -> ComposeResult:
        plan, text = self.plan, self.text
        size = f"Note: {len(text):,} characters, {text.count(chr(10)) + 1 if text else 0:,} lines."
        if len(text) > wording.LONG_NOTE:
            size += f" This is long (over {wording.LONG_NOTE:,} characters): check it is what you mean to send."
        with Vertical(id="cp-box") as box:
            box.border_title = "Confirm & post"
            yield Static(plain(wording.heading(plan)), id="cp-kind")
            with VerticalScroll(id="cp-body"):
                yield Static(plain(wording.plan_action(plan)), id="cp-action", classes="cp-line")
                if wording.plan_warning(plan):
                    yield Static(plain(wording.plan_warning(plan)), id="cp-warning")
                yield Static(plain(size), id="cp-size", classes="cp-line")
                if self.flags:
                    yield Static(plain(self._flags_text()), id="cp-flags", classes="cp-line")
                if self.secrets:
                    yield Static(plain(self._secrets_text()), id="cp-secrets", classes="cp-line")
                if self.refusal:
                    yield Static(plain(self.refusal), id="cp-refuse", classes="cp-line")
            if self.needs_ack and not self.refusal:
                safe = "keep in the resolution note" if self.plan.local else "send to the customer"
                yield Checkbox(f"I checked them: safe to {safe}", id="cp-ack")
            if self.needs_flags_ack and not self.refusal:
                yield Checkbox(self._flags_ack_label(), id="cp-flags-ack")
            with Horizontal(id="cp-buttons"):
                yield Button("Cancel (Esc)", id="cp-cancel", variant="default")
                yield Button(
                    wording.confirm_label(plan),
                    id="cp-confirm",
                    variant="warning" if plan.customer_visible else "primary",
                    disabled=bool(self.refusal) or self.needs_ack or self.needs_flags_ack,
                )

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Keep the buttons on screen in small terminals: the text part scrolls instead."""
        boxes = (3 * self.needs_ack + self.needs_flags_ack) if not self.refusal else 0
        reserved = 2 + 1 + 4 + 3 + boxes  # border, kind, buttons, margin, acknowledgement checkboxes
        self.query_one("#cp-body").styles.max_height = max(3, min(16, self.size.height - reserved))

    def _secrets_text(self) -> str:
        head = f"{len(self.secrets)} secret-like string(s) found in the note"
        if self.plan.local and self.customer_note:
            head += " — they would be kept in the resolution note. Edit the note, or acknowledge below:"
        elif self.customer_note:
            head += " — the customer would see them. Edit the note, or acknowledge below:"
        else:
            head += " (internal note; consider pointing to where the secret is kept instead):"
        lines = [f"  • {_secret_line(self.text, s)}" for s in self.secrets[:MAX_LISTED]]
        if len(self.secrets) > MAX_LISTED:
            lines.append(f"  … and {len(self.secrets) - MAX_LISTED} more")
        return "\n".join([head, *lines])

    def _flags_text(self) -> str:
        head = f"{len(self.flags)} open review flag(s) — edit them away, or tick below (the acceptance is audited):"
        lines = [f"  • {_flag_line(f)}" for f in self.flags[:MAX_LISTED]]
        if len(self.flags) > MAX_LISTED:
            lines.append(f"  … and {len(self.flags) - MAX_LISTED} more")
        lines.append(f"Review markers [CHECK: …] are removed from what is {'stored' if self.plan.local else 'posted'}.")
        return "\n".join([head, *lines])

    def _flags_ack_label(self) -> str:
        if self.flags and not self.customer_note and self.secrets:
            return "I reviewed the flagged items and the secret-like strings: post anyway"
        if self.flags:
            return "I reviewed the flagged items: post anyway"
        return "I checked the secret-like strings: post them in this internal note"

    @property
    def acknowledged(self) -> bool:
        if not self.needs_ack:
            return True
        return self.query_one("#cp-ack", Checkbox).value

    @property
    def flags_acknowledged(self) -> bool:
        if not self.needs_flags_ack:
            return True
        return self.query_one("#cp-flags-ack", Checkbox).value

    @on(Checkbox.Changed, "#cp-ack")
    @on(Checkbox.Changed, "#cp-flags-ack")
    def _ack_changed(self) -> None:
        ready = self.acknowledged and self.flags_acknowledged
        self.query_one("#cp-confirm", Button).disabled = bool(self.refusal) or not ready

    @on(Button.Pressed, "#cp-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cp-confirm")
    def action_confirm(self) -> None:
        if self.refusal:
            self.notify(self.refusal, severity="error", markup=False)
            return
        if not self.acknowledged:
            self.notify(
                "Tick the acknowledgement for the secret-like strings first (or edit the note).",
                severity="warning",
                markup=False,
            )
            return
        if not self.flags_acknowledged:
            what = "open review flags" if self.flags else "secret-like strings"
            self.notify(
                f"Tick that you reviewed the {what} first (or edit the note).", severity="warning", markup=False
            )
            return
        self.dismiss(PostConsent(accept_flags=self.needs_flags_ack, flags=tuple(self.flags)))
