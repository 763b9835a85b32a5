"""A screen that owns one session's state: the only `SessionDetail`, the drafts, and the post flow.

Why one owner: the pane used to hold its own copy of the session, three services and the post workers, and after a
post both it and the workspace re-read the session. Now the screen holds the state, runs load / save / regenerate /
post as workers (they call services and post result messages, never touching widgets), applies each result in an
`@on` handler, and pushes the modals the pane asks for. `Workspace` is this plus chat, facts and the fix card.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.message import Message
from textual.timer import Timer

from flowpilot_tui.messages import NotePosted, SessionLoaded
from flowpilot_tui.safe_text import one_line
from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.screens.discard_draft import DiscardDraft
from flowpilot_tui.screens.follow_up import FollowUpOffer
from flowpilot_tui.screens.redactions import RedactionsScreen
from flowpilot_tui.services import wording
from flowpilot_tui.services.drafts import DraftBook, Kind, KindText, fetch_text, other_kind
from flowpilot_tui.services.errors import ConfigError, DomainError
from flowpilot_tui.widgets.preview_pane import VIEWER_REASON, PreviewPane, PreviewView
from flowpilot_tui.widgets.screen_base import FreshScreen

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.tickets import SyncResult
    from flowpilot_tui.services.time_entry import TimePlan
    from flowpilot_tui.services.views import SessionDetail
    from flowpilot_tui.services.writeback_types import PostPlan, WritebackOutcome


@dataclass
class PreviewLoaded(Message):
    """A worker read the session and the text for `kind` (or failed with `error`)."""

    kind: Kind
    data: KindText | None
    detail: SessionDetail | None
    error: str = ""
    loads: int | None = None  # the opening's text: how many loads of `kind` had started when it began


@dataclass
class PostState(Message):
    running: bool


@dataclass
class PostDone(Message):
    kind: Kind
    outcome: WritebackOutcome | None = None
    error: str = ""
    text: str = ""  # what the engineer confirmed (a follow-up note is computed from it)
    accept_flags: bool = False  # the consent given in Confirm & post (it covers a follow-up: part of that text)
    follow_up: bool = False  # the result of posting a follow-up note


@dataclass
class TicketStatusRead(Message):
    """The linked ticket's live status was read (opening, sync, before a post); `error` when the read failed."""

    result: SyncResult | None
    error: str = ""


@dataclass
class DraftSaveFailed(Message):
    error: str


class DraftSaved(Message):
    pass


OPEN_WAIT_S = 0.5  # how long a new screen's first frame waits for the opening read (start_preview)


class SessionScreen(FreshScreen[None]):
    """Subclasses compose a `PreviewPane` (see `make_preview`) and await `start_preview()` on mount."""

    def __init__(self, services: Services, session_id: str, *, kind: Kind = "resolve") -> None:
        super().__init__()
        self.services = services
        self.session_id = session_id
        self.can_write = services.actor.can_write
        self.detail: SessionDetail | None = None
        self.drafts = DraftBook()
        self.kind: Kind = kind
        self.posting = False  # a post flow is open (plan, modal, request): no second one, no regenerate
        self.post_running = False  # the request is in flight: the editor is locked
        self.preview_error = ""
        self.autosave_delay = services.settings.ui.autosave_s
        self._save_timer: Timer | None = None
        self._text_loads: Counter[Kind] = Counter()  # loads of each kind's text started (see open_session)
        self._open_waiter: asyncio.Future[tuple[Message, ...]] | None = None  # start_preview awaits the opening

    def make_preview(self, **kwargs: object) -> PreviewPane:
        blink = self.services.settings.ui.cursor_blink
        return PreviewPane(can_write=self.can_write, cursor_blink=blink, kind=self.kind, **kwargs)

    @property
    def preview(self) -> PreviewPane:
        return self.query_one(PreviewPane)

    @property
    def current(self) -> KindText:
        return self.drafts[self.kind]

    @property
    def is_stale(self) -> bool:
        return self.drafts.is_stale(self.kind, self.detail.summary.state_version if self.detail else None)

    async def start_preview(self) -> None:
        """Opening: one read of the session feeds every pane (SessionLoaded), then the preview's text.

        Awaited from `on_mount`, before the screen's first layout and paint: what the read returns in time
        (OPEN_WAIT_S) is applied here, so the first frame shows the session. Painting empty panes first and the
        session after cost two more layouts and full repaints (about half of an opening). A slower read (a busy
        database) does not hold the screen: the panes show empty and fill when it arrives."""
        self.render_preview()
        waiter: asyncio.Future[tuple[Message, ...]] = asyncio.get_running_loop().create_future()
        self._open_waiter = waiter
        self.open_session(self.kind)
        try:
            arrived = await asyncio.wait_for(waiter, OPEN_WAIT_S)
        except TimeoutError:
            return  # wait_for cancelled the waiter: the worker posts what it reads as messages
        finally:
            self._open_waiter = None
        for message in arrived:
            if isinstance(message, SessionLoaded):
                await self.session_loaded(message)
            elif isinstance(message, PreviewLoaded):
                self.preview_loaded(message)

    def _opened(self, *messages: Message) -> None:
        """The opening read's results: to `start_preview` while it waits, otherwise as messages."""
        waiter = self._open_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(messages)
            return
        for message in messages:
            self.post_message(message)

    @work(group="open", exit_on_error=False)
    async def open_session(self, kind: Kind) -> None:
        """The one read on opening: the session, what the subclass shows beside it (`read_on_open`) and, when no
        model can be asked (the offline generator), the preview's text, all applied in one frame: every separate
        arrival cost a layout and a full repaint of the screen. With a model configured the panes do not wait for
        it: the text follows as its own load."""
        loads = self._text_loads[kind]
        try:
            detail = await self.services.sessions.get(self.session_id)
        except DomainError as exc:
            self._opened(PreviewLoaded(kind, None, None, error=one_line(exc.message)))
            return
        opening = await self.read_on_open()
        if self.services.generation.uses_claude:
            self._opened(SessionLoaded(detail, opening=opening))
            self.post_message(await self._read_text(detail, kind, loads=loads))
        else:
            preview = await self._read_text(detail, kind, loads=loads)
            self._opened(SessionLoaded(detail, opening=opening, preview=preview))

    async def _read_text(
        self, detail: SessionDetail, kind: Kind, *, loads: int | None = None, regenerate: bool = False
    ) -> PreviewLoaded:
        """The text for `kind` as a PreviewLoaded (an error becomes its `error`, never an exception)."""
        try:
            data = await fetch_text(
                self.services.sessions, self.services.generation, detail, kind, regenerate=regenerate
            )
        except DomainError as exc:
            return PreviewLoaded(kind, None, None, error=one_line(exc.message), loads=loads)
        return PreviewLoaded(kind, data, detail, loads=loads)

    async def read_on_open(self) -> Message | None:
        """What a subclass reads on opening beside the session (applied by `apply_opening` in the same frame)."""
        return None

    async def apply_opening(self, opening: Message) -> None:
        """Show what `read_on_open` returned."""

    def render_preview(self) -> None:
        d = self.detail
        self.preview.show(
            PreviewView(
                self.kind,
                self.current,
                state_version=d.summary.state_version if d else None,
                status=d.summary.status if d else "",
                ticket_id=d.summary.ticket_id if d else None,
                stale=self.is_stale,
                posting=self.post_running,
                error=self.preview_error,
            )
        )

    def apply_detail(self, detail: SessionDetail, focus_fact: int | None = None) -> None:
        """Every fresh SessionDetail of a load or a write comes through here (subclasses show it in their panes)."""
        self._keep(detail)
        self.render_preview()

    def _keep(self, detail: SessionDetail) -> None:
        """Hold the newest detail: a slower worker's older read never replaces a newer one."""
        if self.detail is None or detail.summary.state_version >= self.detail.summary.state_version:
            self.detail = detail

    @work(exclusive=True, group="session", exit_on_error=False)
    async def refresh_session(self) -> None:
        """Re-read the session (state_version, status, ticket) without touching the texts."""
        try:
            detail = await self.services.sessions.get(self.session_id)
        except DomainError as exc:
            self.notify(one_line(exc.message), severity="error", markup=False)
            return
        self.post_message(SessionLoaded(detail))

    @on(SessionLoaded)
    async def session_loaded(self, event: SessionLoaded) -> None:
        with self.app.batch_update():  # on opening, the panes, the history and the text fill in one frame
            self.apply_detail(event.detail, event.focus_fact)
            if event.opening is not None:
                await self.apply_opening(event.opening)
            if isinstance(event.preview, PreviewLoaded):
                self.preview_loaded(event.preview)

    # ---- loading ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="preview-load", exit_on_error=False)
    async def load_preview(
        self, kind: Kind, regenerate: bool = False, discard_draft: bool = False, *, whole_session: bool = False
    ) -> None:
        """Read the session and the text for `kind`; `whole_session` also shows the detail in every pane, as soon
        as it is read (the text may still be generated: the panes do not wait for the model)."""
        sessions = self.services.sessions
        self._text_loads[kind] += 1  # a text the opening read before this load started does not replace it
        try:
            if discard_draft:
                await sessions.discard_draft(self.session_id, kind)
            detail = await sessions.get(self.session_id)
        except DomainError as exc:
            self.post_message(PreviewLoaded(kind, None, None, error=one_line(exc.message)))
            return
        if whole_session:
            self.post_message(SessionLoaded(detail))
        self.post_message(await self._read_text(detail, kind, regenerate=regenerate))

    @on(PreviewLoaded)
    def preview_loaded(self, event: PreviewLoaded) -> None:
        if event.loads is not None and event.loads != self._text_loads[event.kind]:
            if event.detail is not None:
                self._keep(event.detail)
            return  # the opening's text, superseded by a load started since (a regenerate, a reload)
        if event.data is None:
            self.preview_error = f"could not load: {event.error}"
            self.notify(f"Preview: {event.error}", severity="error", markup=False)
        elif self._typed_over(event.kind):
            self.preview_error = ""  # keys typed while this load ran win: they stay, and are saved as the draft
        else:
            self.preview_error = ""
            self.drafts.loaded(event.kind, event.data)
        if event.detail is not None and self.detail is None:
            self.apply_detail(event.detail)  # the opening load was superseded (e.g. a toggle): its read fills the panes
        elif event.detail is not None:
            self._keep(event.detail)
        self.render_preview()

    def _typed_over(self, kind: Kind) -> bool:
        """The engineer edited `kind` and the edits are not all saved (a requested load unloads the kind first)."""
        held = self.drafts[kind]
        if not held.loaded or held.final:
            return False
        captured = self.capture() if kind == self.kind else False
        return captured or kind in self.drafts.dirty

    # ---- editing and draft autosave ---------------------------------------------------------------------------

    def capture(self) -> bool:
        """Copy the editor into the current kind; an actual change makes it a dirty draft."""
        if not self.preview.editable:
            return False
        version = self.detail.summary.state_version if self.detail else None
        return self.drafts.capture(self.kind, self.preview.editor_text, version)

    @on(PreviewPane.Edited)
    def preview_edited(self) -> None:
        if self.capture():
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(self.autosave_delay, self._autosave)
            self.render_preview()

    def _autosave(self) -> None:
        self._save_timer = None
        if self.drafts.dirty:
            self.save_drafts()

    @work(group="draft-save", exit_on_error=False)
    async def save_drafts(self) -> None:
        await self.flush_drafts()

    async def flush_drafts(self) -> None:
        """Write every dirty draft now. Call before quitting or posting; a failure is a notification."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None

        async def save(kind: str, text: str, base: int) -> None:
            await self.services.sessions.save_draft(self.session_id, kind, text, base)

        try:
            await self.drafts.flush(save, self.detail.summary.state_version if self.detail else None)
        except DomainError as exc:
            self.post_message(DraftSaveFailed(one_line(exc.message)))
            return
        self.post_message(DraftSaved())

    @on(DraftSaved)
    def draft_saved(self) -> None:
        self.render_preview()

    @on(DraftSaveFailed)
    def draft_save_failed(self, event: DraftSaveFailed) -> None:
        self.notify(
            f"Could not save your draft: {event.error}. The text is still in the editor; it will be saved on your "
            "next edit.",
            severity="error",
            markup=False,
        )

    async def on_unmount(self) -> None:
        if self.drafts.dirty:  # best effort: the debounce window must not lose the last keystrokes on close
            try:
                await self.flush_drafts()
            except Exception:  # noqa: BLE001 - the store may already be closed at app exit
                pass

    # ---- intents from the pane (and the workspace keys) -------------------------------------------------------

    @on(PreviewPane.ToggleRequested)
    def toggle_kind(self) -> None:
        """Switch Resolve <-> Escalate; each kind keeps its own text and draft."""
        self.capture()
        if self.drafts.dirty:
            self.save_drafts()
        self.kind = other_kind(self.kind)
        self.render_preview()
        if not self.current.loaded:
            self.load_preview(self.kind)

    @on(PreviewPane.RegenerateRequested)
    def regenerate(self) -> None:
        if not self.can_write:
            self.notify(VIEWER_REASON, severity="warning", markup=False)
            return
        if self.posting:
            self.notify("A post is running; regenerate after it finishes.", severity="warning", markup=False)
            return
        self.capture()
        st, kind = self.current, self.kind
        if not st.is_draft:
            self._reload_generated(kind, discard=False)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self._reload_generated(kind, discard=True)

        self.app.push_screen(DiscardDraft(kind, len(st.text)), answer)

    def _reload_generated(self, kind: Kind, *, discard: bool) -> None:
        self.drafts.unload(kind)
        if self._save_timer is not None and not self.drafts.dirty:
            self._save_timer.stop()
        self.render_preview()
        self.load_preview(kind, regenerate=True, discard_draft=discard)

    @on(PreviewPane.CopyRequested)
    def copy_preview(self) -> None:
        from flowpilot_tui.services.post_gate import text_to_copy

        self.capture()
        text = text_to_copy(self.current.text, self.kind)
        if not text:
            self.notify("Nothing to copy: the note is empty.", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        left_out = " (review markers and fact ids left out, as on the ticket)" if text != self.current.text else ""
        self.notify(
            f"Copied {len(text):,} characters to the clipboard (OSC 52){left_out}. If nothing arrived, your "
            "terminal or tmux may block OSC 52 (tmux: set -g set-clipboard on).",
            markup=False,
        )

    @on(PreviewPane.RedactionsRequested)
    def show_redactions(self) -> None:
        self._load_redactions()

    @work(exclusive=True, group="preview-redactions", exit_on_error=False)
    async def _load_redactions(self) -> None:
        """Rebuild the redacted bundle and list what was masked (local only; the model never sees the originals)."""
        try:
            bundle = await self.services.generation.bundle(self.session_id)
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.app.push_screen(RedactionsScreen(bundle.redactions))

    # ---- posting ----------------------------------------------------------------------------------------------

    @on(PreviewPane.ConfirmRequested)
    def confirm_post(self) -> None:
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
        self.capture()
        self.posting = True
        self._post(self.kind)

    @work(exclusive=True, group="post", exit_on_error=False)
    async def _post(self, kind: Kind) -> None:
        writeback = self.services.writeback
        try:
            await self.flush_drafts()  # the draft is safe in the DB before anything leaves the machine
            text = self.drafts[kind].text
            try:
                plan = await writeback.plan(self.session_id, kind, with_status_name=True)
            except DomainError as exc:
                self.post_message(PostDone(kind, error=f"Cannot post: {one_line(exc.message)}. Nothing was sent."))
                return
            time, warning = await self._post_context(plan, kind, text)
            consent = await self.app.push_screen_wait(ConfirmPost(plan, text, time=time, ticket_warning=warning))
            if consent is None:
                self.notify("Not posted: nothing was sent; your text is kept.", markup=False)
                return
            self.post_message(PostState(True))
            try:
                # the modal only confirms once secret-like strings and open [CHECK] flags are acknowledged
                outcome = await writeback.post(
                    self.session_id,
                    kind,
                    text,
                    accept_flags=consent.accept_flags,
                    allow_secrets=True,
                    time_entry=consent.time_entry,
                    no_time=consent.no_time,
                    on_progress=self._post_progress,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a notification, never a crash
                self.post_message(PostDone(kind, error=wording.failure_text(exc, kind)))
                return
            self.post_message(PostDone(kind, outcome=outcome, text=text, accept_flags=consent.accept_flags))
        finally:
            self.post_message(PostState(False))

    @work(exclusive=True, group="post", exit_on_error=False)
    async def _post_follow_up(self, kind: Kind, text: str, accept_flags: bool) -> None:
        """Post what `text` adds to the note on the ticket as a follow-up note (journaled and gated, as the CLI's
        `--post-follow-up`): the engineer asked for it in the FollowUpOffer and confirmed it there."""
        self.post_message(PostState(True))
        try:
            outcome = await self.services.writeback.post_follow_up(
                self.session_id, kind, text, accept_flags=accept_flags, allow_secrets=True
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a notification, never a crash
            self.post_message(PostDone(kind, error=wording.failure_text(exc, kind), follow_up=True))
            return
        finally:
            self.post_message(PostState(False))
        self.post_message(PostDone(kind, outcome=outcome, follow_up=True))

    async def _post_context(self, plan: PostPlan, kind: Kind, text: str) -> tuple[TimePlan | None, str | None]:
        """The time entry defaults and the ticket's live-status warning for the modal (a failed read is said, the
        post itself reports what the PSA answers)."""
        if plan.local:
            return None, None
        time: TimePlan | None = None
        try:
            time = await self.services.writeback.time_plan(self.session_id, kind, text)
        except DomainError:
            time = None
        try:
            # a status name means the plan read the ticket a moment ago: that read is the live status too
            just_read = plan.target_status_name is not None
            live = await self.services.tickets.live_status(self.session_id, just_read=just_read)
        except ConfigError:
            return time, None  # the connection is not configured here: the post itself says so
        except DomainError as exc:
            return time, f"Could not read the ticket's live status ({one_line(exc.message, 160)})"
        self.post_message(TicketStatusRead(live))
        return time, live.warning

    def _post_progress(self, line: str) -> None:
        """Writeback progress: the delayed re-read of the status is the step that takes a while; say so."""
        if line.startswith("verifying: "):
            self.notify(line[0].upper() + line[1:], timeout=5, markup=False)

    @on(PostState)
    def post_state(self, event: PostState) -> None:
        self.post_running = event.running
        if not event.running:
            self.posting = False
        self.render_preview()

    @on(PostDone)
    def post_done(self, event: PostDone) -> None:
        if event.outcome is None:
            title = "Follow-up note not posted" if event.follow_up else wording.failure_title(event.kind)
            self.notify(event.error, title=title, severity="error", timeout=20, markup=False)
            return
        if event.follow_up:
            self.notify(one_line(event.outcome.message), title="Follow-up note posted", timeout=10, markup=False)
            self.load_preview(self.kind, whole_session=True)  # the session now stores both notes
            return
        self.drafts.forget(event.kind)  # writeback cleared the DB draft
        self.notify(wording.outcome_text(event.outcome), title="Done", timeout=10, markup=False)
        self.render_preview()
        self.load_preview(self.kind, whole_session=True)  # the one reload: the session and the text it now holds
        self.post_message(NotePosted(event.outcome, event.kind, self.session_id))
        if event.outcome.follow_up_text and event.outcome.follow_up_note_id is None:
            self._offer_follow_up(event)
        elif event.outcome.ticket_text_differs:
            self.notify(wording.ticket_differs(event.outcome), severity="warning", timeout=30, markup=False)

    def _offer_follow_up(self, event: PostDone) -> None:
        """The ticket holds an earlier version of the note: show the difference, post it only when asked."""
        assert event.outcome is not None
        kind, text, accept = event.kind, event.text, event.accept_flags

        def answer(post: bool | None) -> None:
            if post and not self.posting:
                self.posting = True
                self._post_follow_up(kind, text, accept)

        self.app.push_screen(FollowUpOffer(event.outcome, kind), answer)
