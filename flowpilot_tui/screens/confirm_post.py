"""Confirm & post: the one gate between the engineer's text and a ticket the customer can read.

Why so explicit: writing a customer-visible note by mistake is the classic helpdesk incident, so the modal states
the target, the visibility and the status step in words, starts on Cancel, needs a modified key or the button, and
refuses to go on while secret-like strings in a customer-visible note are unacknowledged. It never edits the text.

Post gate (issue 11): open `[CHECK: …]` review flags (found by services/post_gate.py, not re-parsed here) are listed
with section, text and reason, and confirm stays disabled until the engineer ticks that they reviewed them; the same
tick covers secret-like strings in an internal note. The modal dismisses with a `PostConsent` saying what was
acknowledged, which the caller passes on as `accept_flags`; the service audits the accepted flags.

Time entry (issue 14): with the connection's time settings the modal shows the entry posted first (start and end
default to the session's activity today, from the service; notes a one-line summary), editable, with a "No time
entry" tick; the values go to the same `WritebackService.post(time_entry=…, no_time=…)` the CLI's `post --time` uses.
A ticket closed or moved by someone else since the import is stated at the top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services import post_gate, wording
from flowpilot_tui.services.redact import RedactedItem, find_secrets
from flowpilot_tui.services.time_entry import TimeEntryDraft, TimePlan, unset_reason
from flowpilot_tui.services.writeback_types import PostPlan
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import Dialog

MAX_LISTED = 6
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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
    time_entry: TimeEntryDraft | None = None  # the confirmed start/end/notes (None: the service's defaults)
    no_time: bool = False  # the engineer ticked "No time entry"


def at(day: datetime, hhmm: str) -> datetime | None:
    """`HH:MM` on the day of `day` (UTC), or None when it is not a time of day."""
    m = HHMM.match(hhmm.strip())
    return day.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0) if m else None


class ConfirmPost(Dialog[PostConsent | None]):
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
    ConfirmPost #cp-ticket-warning { color: $error; text-style: bold; }
    ConfirmPost #cp-time-row { height: 1; margin-top: 1; }
    ConfirmPost #cp-time-row Label { width: auto; padding: 0 1 0 0; }
    ConfirmPost #cp-time-row Input { width: 7; margin-right: 1; }
    ConfirmPost #cp-time-row #cp-time-notes { width: 1fr; }
    ConfirmPost #cp-no-time { width: auto; height: 1; border: none; padding: 0 1; }
    ConfirmPost #cp-buttons Button { margin-left: 2; }
    """
    BINDINGS = keymap.bindings("confirm_post")
    AUTO_FOCUS = "#cp-cancel"

    def __init__(
        self, plan: PostPlan, text: str, *, time: TimePlan | None = None, ticket_warning: str | None = None
    ) -> None:
        super().__init__(classes="-local" if plan.local else ("-internal" if plan.kind == "escalate" else "-customer"))
        self.plan = plan
        self.text = text
        self.time = time if not plan.local else None
        self.ticket_warning = ticket_warning if not plan.local else None
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
    def has_time_fields(self) -> bool:
        return self.time is not None and self.time.settings is not None and not self.refusal

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
                if self.ticket_warning:
                    yield Static(plain(f"⚠ {self.ticket_warning}."), id="cp-ticket-warning")
                # what needs the engineer's decision first: in a small terminal the rest scrolls, these must not
                if self.flags:
                    yield Static(plain(self._flags_text()), id="cp-flags", classes="cp-line")
                if self.secrets:
                    yield Static(plain(self._secrets_text()), id="cp-secrets", classes="cp-line")
                yield Static(plain(wording.plan_action(plan)), id="cp-action", classes="cp-line")
                if wording.plan_warning(plan):
                    yield Static(plain(wording.plan_warning(plan)), id="cp-warning")
                if self.time is not None:
                    yield Static(plain(self._time_text()), id="cp-time", classes="cp-line")
                yield Static(plain(size), id="cp-size", classes="cp-line")
                if self.refusal:
                    yield Static(plain(self.refusal), id="cp-refuse", classes="cp-line")
            if self.needs_ack and not self.refusal:
                safe = "keep in the resolution note" if self.plan.local else "send to the customer"
                yield Checkbox(f"I checked them: safe to {safe}", id="cp-ack")
            if self.needs_flags_ack and not self.refusal:
                yield Checkbox(self._flags_ack_label(), id="cp-flags-ack")
            if self.has_time_fields:
                assert self.time is not None
                with Horizontal(id="cp-time-row"):
                    yield Label("Time (UTC)")
                    yield OrderedInput(f"{self.time.start:%H:%M}", id="cp-time-start", compact=True, max_length=5)
                    yield Label("to")
                    yield OrderedInput(f"{self.time.end:%H:%M}", id="cp-time-end", compact=True, max_length=5)
                    yield OrderedInput(
                        self.time.notes, id="cp-time-notes", compact=True, placeholder="Time entry notes"
                    )
                    yield Checkbox("No time entry", id="cp-no-time", compact=True)
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
        boxes = (3 * self.needs_ack + self.needs_flags_ack + 2 * self.has_time_fields) if not self.refusal else 0
        reserved = 2 + 1 + 4 + 3 + boxes  # border, kind, buttons, margin, acknowledgement checkboxes, time row
        self.query_one("#cp-body").styles.max_height = max(3, min(16, self.size.height - reserved))

    def _time_text(self) -> str:
        assert self.time is not None
        t = self.time
        if t.settings is None:
            return f"No time entry: {unset_reason(one_line(self.plan.connection_name or ''))}."
        if self.has_time_fields and self.is_mounted and self.query_one("#cp-no-time", Checkbox).value:
            return "No time entry (ticked below): only the note and the status change are sent."
        start, end = self._window()
        if start is None or end is None or end <= start:
            return "Time entry: type the start and end as HH:MM (UTC), the end after the start."
        return wording.time_action(start, end, t.settings.work_type, t.settings.billable, t.settings.member)

    def _window(self) -> tuple[datetime | None, datetime | None]:
        assert self.time is not None
        if not self.is_mounted or not self.has_time_fields:
            return self.time.start, self.time.end
        day = self.time.start
        return (
            at(day, self.query_one("#cp-time-start", Input).value),
            at(day, self.query_one("#cp-time-end", Input).value),
        )

    @on(Input.Changed, "#cp-time-start")
    @on(Input.Changed, "#cp-time-end")
    @on(Checkbox.Changed, "#cp-no-time")
    def _time_changed(self) -> None:
        self.query_one("#cp-time", Static).update(plain(self._time_text()))

    def _time_consent(self) -> tuple[TimeEntryDraft | None, bool] | str:
        """(draft, no_time) from the fields, or the words saying what to fix."""
        if not self.has_time_fields:
            return None, False
        if self.query_one("#cp-no-time", Checkbox).value:
            return None, True
        start, end = self._window()
        if start is None or end is None:
            return "Type the time entry's start and end as HH:MM (e.g. 09:10), or tick No time entry."
        if end <= start:
            return "The time entry must end after it starts (or tick No time entry)."
        notes = self.query_one("#cp-time-notes", Input).value.strip()
        return TimeEntryDraft(start, end, notes or None), False

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
        time = self._time_consent()
        if isinstance(time, str):
            self.notify(time, severity="warning", markup=False)
            return
        draft, no_time = time
        self.dismiss(
            PostConsent(accept_flags=self.needs_flags_ack, flags=tuple(self.flags), time_entry=draft, no_time=no_time)
        )
