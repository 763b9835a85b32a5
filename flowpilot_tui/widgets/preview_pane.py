"""The Resolve / Escalate preview: one widget for both kinds, with inline editing, drafts, and Confirm & post.

Why drafts are handled here with such care: the engineer's edited note is the most expensive text in the app. It is
kept per (session, kind) in memory and in the DB (debounced autosave), survives toggling kinds, failed posts and
restarts, and is only dropped after a post succeeded. The header says where the text came from and whether the
session's facts moved on since it was generated or edited ("stale").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static, TextArea

from flowpilot_tui import posting
from flowpilot_tui.safe_text import one_line, strip_controls
from flowpilot_tui.services import rules
from flowpilot_tui.services.errors import DomainError

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.views import SessionDetail

KINDS = ("resolve", "escalate")
AUTOSAVE_DELAY = 0.5  # seconds of typing pause before a draft is written
VIEWER_REASON = "Read-only (viewer): you can read and copy this text; editing, regenerating and posting are disabled."
CLOSED_STATUS = {"resolve": "resolved", "escalate": "escalated"}


@dataclass
class KindText:
    """What the pane holds for one kind. `text` is the in-memory copy of the editor (and of the draft)."""

    text: str = ""
    origin: str = "empty"  # draft | generated | stored | final | empty
    source: str = ""  # provenance for the header
    base_version: int | None = None  # state_version the text was generated / edited from
    is_draft: bool = False
    saved_text: str | None = None  # last text written to the DB draft
    loaded: bool = False


class PreviewPane(Widget, can_focus=False):
    """`PreviewPane(services, session_id, kind)`; tui-core mounts it and forwards the workspace keys to its actions."""

    DEFAULT_CSS = """
    PreviewPane { layout: vertical; height: 1fr; }
    PreviewPane > #pv-kind { padding: 0 1; text-style: bold; background: $warning 25%; }
    PreviewPane.-escalate > #pv-kind { background: $primary 25%; }
    PreviewPane > #pv-meta { padding: 0 1; color: $text-muted; }
    PreviewPane > #pv-stale { padding: 0 1; color: $error; text-style: bold; display: none; }
    PreviewPane.-stale > #pv-stale { display: block; }
    PreviewPane > #pv-readonly { padding: 0 1; color: $warning; }
    PreviewPane > #pv-text { height: 1fr; }
    """
    BINDINGS = [
        # priority: the editor's own ctrl+k (delete to end of line) would otherwise swallow the toggle
        Binding("ctrl+k", "toggle_kind", "Resolve/Escalate", id="preview.toggle_kind", priority=True),
        Binding("ctrl+g", "regenerate", "Regenerate", id="preview.regenerate"),
        Binding("f9", "confirm_post", "Confirm & post…", id="preview.confirm"),
        Binding("f10", "copy", "Copy", id="preview.copy"),
        Binding("f6", "show_redactions", "Redacted…", id="preview.redactions", priority=True, show=False),
    ]

    @dataclass
    class Posted(Message):
        """A post (or local resolve/escalate) succeeded: the workspace reloads the session."""

        outcome: Any
        kind: str
        session_id: str

    @dataclass
    class _Loaded(Message):
        kind: str
        data: KindText | None
        detail: SessionDetail | None
        error: str = ""

    @dataclass
    class _SessionFresh(Message):
        detail: SessionDetail

    @dataclass
    class _DraftSaved(Message):
        kind: str
        text: str

    @dataclass
    class _PostState(Message):
        running: bool

    @dataclass
    class _PostDone(Message):
        kind: str
        outcome: Any = None
        error: str = ""

    def __init__(self, services: Services, session_id: str, kind: str = "resolve", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.services = services
        self.session_id = session_id
        self.kind = kind
        self.can_write = services.actor.can_write
        self.detail: SessionDetail | None = None
        self.texts: dict[str, KindText] = {k: KindText() for k in KINDS}
        self.posting = False
        self._dirty: set[str] = set()
        self._save_lock = asyncio.Lock()
        self._save_timer: Timer | None = None
        self.autosave_delay = AUTOSAVE_DELAY
        self._error = ""

    # ---- layout -----------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="pv-kind")
        yield Static(id="pv-meta")
        yield Static(id="pv-stale")
        if not self.can_write:
            yield Static(Text(VIEWER_REASON), id="pv-readonly")
        area = TextArea(
            id="pv-text", soft_wrap=True, read_only=not self.can_write, show_line_numbers=False, placeholder="Loading…"
        )
        area.cursor_blink = self.services.settings.ui.cursor_blink
        yield area

    def on_mount(self) -> None:
        self._render_header()
        self._load(self.kind)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#pv-text", TextArea)

    @property
    def current(self) -> KindText:
        return self.texts[self.kind]

    @property
    def is_stale(self) -> bool:
        base, detail = self.current.base_version, self.detail
        return base is not None and detail is not None and detail.summary.state_version > base

    def target_text(self) -> str:
        detail = self.detail
        if detail is None:
            return "…"
        if detail.summary.ticket_id is None:
            return "local only"
        return f"ConnectWise ticket #{detail.summary.ticket_id} · {posting.VISIBILITY[self.kind]}"

    def _render_header(self) -> None:
        st, detail = self.current, self.detail
        self.set_class(self.kind == "escalate", "-escalate")
        self.refresh_bindings()
        self.query_one("#pv-kind", Static).update(Text(f"{posting.KIND_LABEL[self.kind]}  ·  {self.target_text()}"))
        parts = [f"state v{detail.summary.state_version}" if detail else "state …"]
        if self._error:
            parts.append(self._error)
        elif not st.loaded:
            parts.append("loading…")
        else:
            parts.append(st.source)
            if st.is_draft:
                parts.append("draft saved" if st.saved_text == st.text else "saving draft…")
        self.query_one("#pv-meta", Static).update(Text(" · ".join(p for p in parts if p)))
        stale = self.is_stale
        self.set_class(stale, "-stale")
        if stale and detail is not None:
            what = "edited" if st.is_draft else "generated"
            self.query_one("#pv-stale", Static).update(
                Text(
                    f"STALE: the session changed after this text was {what} (v{st.base_version} → now "
                    f"v{detail.summary.state_version}). Review it, or regenerate (ctrl+g)."
                )
            )

    def _show(self) -> None:
        """Put the current kind's text in the editor (a load, not an edit: `Changed` compares against it)."""
        st, area = self.current, self.text_area
        area.placeholder = "" if st.loaded else "Loading…"
        if st.loaded and not st.text:
            area.placeholder = "No text yet: write the note here." if self.can_write else "No text."
        area.read_only = not self._editable(st)
        if area.text != st.text:
            area.load_text(st.text)
        self._render_header()

    # ---- loading ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="preview-load", exit_on_error=False)
    async def _load(self, kind: str, regenerate: bool = False, discard_draft: bool = False) -> None:
        try:
            if discard_draft:
                await self.services.sessions.discard_draft(self.session_id, kind)
            detail = await self.services.sessions.get(self.session_id)
            data = await self._fetch(kind, detail, regenerate)
        except DomainError as exc:
            self.post_message(self._Loaded(kind, None, None, error=one_line(exc.message)))
            return
        self.post_message(self._Loaded(kind, data, detail))

    async def _fetch(self, kind: str, detail: SessionDetail, regenerate: bool) -> KindText:
        """Draft first, then the posted note of a closed session, then the generator, then the stored text."""
        draft = None if regenerate else await self.services.sessions.get_draft(self.session_id, kind)
        if draft is not None:
            text, base = draft
            text = strip_controls(text)
            return KindText(
                text,
                "draft",
                f"your edited draft (based on v{base})",
                base,
                is_draft=True,
                saved_text=text,
                loaded=True,
            )
        stored = detail.resolution_note_markdown if kind == "resolve" else detail.escalation_package_markdown
        if stored and detail.summary.status == CLOSED_STATUS[kind] and not regenerate:
            return KindText(
                strip_controls(stored),
                "final",
                f"the note saved when the session was {CLOSED_STATUS[kind]} (read-only)",
                None,
                loaded=True,
            )
        generator = posting.optional_service(self.services, "generation")
        reason = "generator unavailable"
        if generator is not None:
            try:
                preview = await generator.preview(self.session_id, kind, regenerate=regenerate)
            except DomainError as exc:
                reason = f"generator unavailable: {one_line(exc.message)}"
            except Exception as exc:  # a generator bug must not cost the engineer the pane
                reason = f"generator unavailable ({type(exc).__name__})"
            else:
                return KindText(
                    strip_controls(preview.markdown),
                    "generated",
                    _provenance(preview),
                    preview.state_version,
                    loaded=True,
                )
        if stored:
            return KindText(strip_controls(stored), "stored", f"{reason}; showing the stored text", None, loaded=True)
        return KindText("", "empty", f"{reason}; no stored text", None, loaded=True)

    @on(_Loaded)
    def _loaded(self, event: _Loaded) -> None:
        event.stop()
        if event.detail is not None:
            self.detail = event.detail
        if event.data is None:
            self._error = f"could not load: {event.error}"
            self.notify(f"Preview: {event.error}", severity="error", markup=False)
        else:
            self._error = ""
            self.texts[event.kind] = event.data
            self._dirty.discard(event.kind)
        if event.kind == self.kind:
            self._show()

    def update_session(self, detail: SessionDetail) -> None:
        """The workspace passes every fresh SessionDetail here, so the stale marker and target follow the facts."""
        self.detail = detail
        self._render_header()

    @work(exclusive=True, group="preview-session", exit_on_error=False)
    async def refresh_session(self) -> None:
        """Re-read the session (state_version, status, ticket) without touching the text."""
        try:
            detail = await self.services.sessions.get(self.session_id)
        except DomainError as exc:
            self.notify(f"Preview: {one_line(exc.message)}", severity="error", markup=False)
            return
        self.post_message(self._SessionFresh(detail))

    @on(_SessionFresh)
    def _session_fresh(self, event: _SessionFresh) -> None:
        event.stop()
        self.update_session(event.detail)

    # ---- editing and draft autosave ---------------------------------------------------------------------------

    def _editable(self, st: KindText) -> bool:
        return self.can_write and st.loaded and not self.posting and st.origin != "final"

    def _capture(self) -> bool:
        """Copy the editor into the current kind's state; an actual change makes it a (dirty) draft."""
        st = self.current
        if not self._editable(st) or not self.is_mounted:
            return False
        text = self.text_area.text
        if text == st.text:
            return False
        if st.base_version is None and self.detail is not None:
            st.base_version = self.detail.summary.state_version
        if not st.is_draft:
            st.source = f"your edited draft (based on v{st.base_version})" if st.base_version else "your edited draft"
        st.text, st.is_draft, st.origin = text, True, "draft"
        self._dirty.add(self.kind)
        return True

    @on(TextArea.Changed, "#pv-text")
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._capture():
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(self.autosave_delay, self._autosave)
            self._render_header()

    def _autosave(self) -> None:
        self._save_timer = None
        if self._dirty:
            self._save_worker()

    @work(group="draft-save", exit_on_error=False)
    async def _save_worker(self) -> None:
        await self.flush_drafts()

    async def flush_drafts(self) -> None:
        """Write every dirty draft now (serialised; always the newest text). Call before quitting or posting."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        async with self._save_lock:
            while self._dirty:
                kind = self._dirty.pop()
                st = self.texts[kind]
                text = st.text
                base = st.base_version or (self.detail.summary.state_version if self.detail else 0)
                try:
                    await self.services.sessions.save_draft(self.session_id, kind, text, base)
                except DomainError as exc:
                    self._dirty.add(kind)
                    self.notify(
                        f"Could not save your draft: {one_line(exc.message)}. The text is still in the "
                        "editor; it will be saved on your next edit.",
                        severity="error",
                        markup=False,
                    )
                    return
                self.post_message(self._DraftSaved(kind, text))

    @on(_DraftSaved)
    def _draft_saved(self, event: _DraftSaved) -> None:
        event.stop()
        self.texts[event.kind].saved_text = event.text
        if event.kind == self.kind:
            self._render_header()

    async def on_unmount(self) -> None:
        if self._dirty:  # best effort: the debounce window must not lose the last keystrokes on close
            try:
                await self.flush_drafts()
            except Exception:  # noqa: BLE001 - the store may already be closed at app exit
                pass

    # ---- actions ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("regenerate", "confirm_post") and not self.can_write:
            return None  # shown disabled; the header explains why
        if (
            action == "confirm_post"
            and self.detail is not None
            and not rules.allowed(self.kind, self.detail.summary.status)
        ):
            return None  # already resolved / escalated: nothing to post
        if action == "regenerate" and self.current.origin == "final":
            return None  # the saved note of a closed session is a record, not a draft
        return True

    def toggle_kind(self) -> None:
        """Switch Resolve <-> Escalate; each kind keeps its own text and draft."""
        self._capture()
        if self._dirty:
            self._save_worker()
        self.kind = "escalate" if self.kind == "resolve" else "resolve"
        self._show()
        if not self.current.loaded:
            self._load(self.kind)

    def action_toggle_kind(self) -> None:
        self.toggle_kind()

    def action_regenerate(self) -> None:
        if not self.can_write:
            self.notify(VIEWER_REASON, severity="warning", markup=False)
            return
        if self.posting:
            self.notify("A post is running; regenerate after it finishes.", severity="warning", markup=False)
            return
        if posting.optional_service(self.services, "generation") is None:
            self.notify(
                "Cannot regenerate: the note generator is unavailable in this build. Your text is unchanged.",
                severity="warning",
                markup=False,
            )
            return
        self._capture()
        st, kind = self.current, self.kind
        if not st.is_draft:
            self._reload_generated(kind, discard=False)
            return
        from flowpilot_tui.screens.discard_draft import DiscardDraft

        def answer(discard: bool | None) -> None:
            if discard:
                self._reload_generated(kind, discard=True)

        self.app.push_screen(DiscardDraft(kind, len(st.text)), answer)

    def _reload_generated(self, kind: str, *, discard: bool) -> None:
        self._dirty.discard(kind)
        if self._save_timer is not None and not self._dirty:
            self._save_timer.stop()
        self.texts[kind] = replace(self.texts[kind], loaded=False)
        self._show()
        self._load(kind, regenerate=True, discard_draft=discard)

    def action_copy(self) -> None:
        self._capture()
        text = self.current.text
        if not text:
            self.notify("Nothing to copy: the note is empty.", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(
            f"Copied {len(text):,} characters to the clipboard (OSC 52). If nothing arrived, your terminal "
            "or tmux may block OSC 52 (tmux: set -g set-clipboard on).",
            markup=False,
        )

    def action_show_redactions(self) -> None:
        self._load_redactions()

    @work(exclusive=True, group="preview-redactions", exit_on_error=False)
    async def _load_redactions(self) -> None:
        """Rebuild the redacted bundle and list what was masked (local only; the model never sees the originals)."""
        from flowpilot_tui.screens.redactions import RedactionsScreen

        generation = getattr(self.services, "generation", None)
        if generation is None:
            self.notify("The generator is unavailable, so nothing was redacted or sent.", markup=False)
            return
        try:
            bundle = await generation.bundle(self.session_id)
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.app.push_screen(RedactionsScreen(bundle.redactions))

    def action_confirm_post(self) -> None:
        """Open Confirm & post for the current kind; the post runs in a worker and ends in a notification."""
        if not self.can_write:
            self.notify(VIEWER_REASON, severity="warning", markup=False)
            return
        if self.posting:
            self.notify("A post is already running; wait for its result.", severity="warning", markup=False)
            return
        if not self.current.loaded:
            self.notify("The preview is still loading.", severity="warning", markup=False)
            return
        self._capture()
        self.posting = True
        self._post(self.kind)

    # ---- posting ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="post", exit_on_error=False)
    async def _post(self, kind: str) -> None:
        from flowpilot_tui.screens.confirm_post import ConfirmPost

        try:
            await self.flush_drafts()  # the draft is safe in the DB before anything leaves the machine
            text = self.texts[kind].text
            writeback = posting.optional_service(self.services, "writeback")
            if writeback is None:
                self.post_message(
                    self._PostDone(
                        kind,
                        error="Posting is unavailable in this build (no writeback "
                        "service). Nothing was sent; your text is kept.",
                    )
                )
                return
            try:
                plan = await posting.plan_post(writeback, self.session_id, kind)
            except DomainError as exc:
                self.post_message(
                    self._PostDone(kind, error=f"Cannot post: {one_line(exc.message)}. Nothing was sent.")
                )
                return
            if not await self.app.push_screen_wait(ConfirmPost(plan, text)):
                self.notify("Not posted: nothing was sent; your text is kept.", markup=False)
                return
            self.post_message(self._PostState(True))
            try:
                outcome = await writeback.post(self.session_id, kind, text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a notification, never a crash
                self.post_message(self._PostDone(kind, error=posting.failure_text(exc, kind)))
                return
            self.post_message(self._PostDone(kind, outcome=outcome))
        finally:
            self.post_message(self._PostState(False))

    @on(_PostState)
    def _post_state(self, event: _PostState) -> None:
        event.stop()
        self.posting = event.running
        self.text_area.read_only = not self._editable(self.current)
        if event.running:
            self.query_one("#pv-meta", Static).update(Text("posting… (the editor is locked until ConnectWise answers)"))
        else:
            self._render_header()

    @on(_PostDone)
    def _post_done(self, event: _PostDone) -> None:
        event.stop()
        if event.error:
            title = f"{'Resolve' if event.kind == 'resolve' else 'Escalate'} not completed"
            self.notify(event.error, title=title, severity="error", timeout=20, markup=False)
            return
        # Success: writeback cleared the DB draft; drop ours and show what the session now holds.
        self.texts[event.kind] = KindText()
        self._dirty.discard(event.kind)
        self.notify(posting.outcome_text(event.outcome), title="Done", timeout=10, markup=False)
        self.post_message(self.Posted(event.outcome, event.kind, self.session_id))
        if event.kind == self.kind:
            self._show()
        self._load(self.kind)


def _provenance(preview: Any) -> str:
    """Header provenance of a GeneratedPreview: generator, cache, fallback, redactions, flags."""
    if preview.generator == "claude":
        parts = [f"generated by Claude ({one_line(preview.model or '')})"]
    else:
        parts = [f"generated offline (template {one_line(preview.template_version)})"]
    if preview.from_cache:
        parts.append("from cache")
    if preview.fallback_reason:
        parts.append(f"fallback to offline: {one_line(preview.fallback_reason, 80)}")
    parts.append(f"{preview.redaction_count} redacted")
    if preview.flagged_items:
        parts.append(f"{len(preview.flagged_items)} flagged for review")
    return " · ".join(parts)
