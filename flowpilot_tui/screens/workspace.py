"""The session workspace: chat, facts, the active fix and the Resolve/Escalate preview.

Why this file only wires: widgets render and ask (messages), workers call services and post results, and the
handlers here apply them. Wide terminals show the panes side by side; below NARROW columns they become tabs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from flowpilot_tui import keymap, ui_state
from flowpilot_tui.decisions import FollowUp, follow_up
from flowpilot_tui.messages import (
    HistoryLoaded,
    ReplyChunk,
    ReplyFinished,
    ServiceDone,
    ServiceFailed,
    SessionLoaded,
)
from flowpilot_tui.safe_text import one_line
from flowpilot_tui.screens.live import LiveRead, LiveWatch, OwnWrites, SessionsChanged, visible_change
from flowpilot_tui.screens.script_viewer import ScriptViewer
from flowpilot_tui.screens.session_screen import SessionScreen, TicketStatusRead
from flowpilot_tui.screens.template_builder import TemplateBuilder
from flowpilot_tui.services import rules
from flowpilot_tui.services.errors import ConfigError, DomainError
from flowpilot_tui.services.live import describe_change
from flowpilot_tui.services.views import FactView, SessionDetail
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.chat_input import ChatInput
from flowpilot_tui.widgets.chat_log import card_line
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.facts_pane import FactsPane
from flowpilot_tui.widgets.fix_card import FixCard
from flowpilot_tui.widgets.ordered_keys import after_typed_keys
from flowpilot_tui.widgets.session_header import SessionHeader, TicketLive

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.widget import Widget
    from textual.worker import ResultType, Worker, WorkType

    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.drafts import Kind
    from flowpilot_tui.services.tickets import SyncResult

NARROW = 100
PANES = ("chat", "facts", "fix", "preview")
PANE_TITLES = {"pane-chat": "Chat", "pane-facts": "Facts", "pane-fix": "Suggested fix", "pane-preview": "Preview"}
PANE_NODES = {
    "chat": ("pane-chat",),
    "facts": ("ws-middle", "pane-facts"),
    "fix": ("ws-middle", "pane-fix"),
    "preview": ("pane-preview",),
}
INITIAL_HISTORY = 50
# Workers whose writes change the session row (a draft save does not: it never hides another engineer's change)
OWN_WRITE_GROUPS = frozenset({"write", "reply", "post", "preview-load", "ticket"})  # see screens/live.py
VIEWER_REASON = "Read-only: your role (viewer) can read this session but not change it"


@dataclass
class FollowUpReady(Message):
    """A fix decision was recorded; its follow-up says what to show next."""

    follow_up: FollowUp


@dataclass
class TicketSynced(Message):
    """A sync pulled the ticket's new notes (already stored as read-only context) and its live status."""

    result: SyncResult


class Workspace(SessionScreen):
    BINDINGS = keymap.bindings("workspace")
    PALETTE_SCOPES = {
        "workspace": None,
        "chat": "ChatPane",
        "chat_input": "ChatInput",
        "facts": "FactsPane",
        "fix": "FixCard",
    }

    def __init__(
        self, services: Services, session_id: str, *, kind: Kind = "resolve", pane: str = "chat", notice: str = ""
    ) -> None:
        super().__init__(services, session_id, kind=kind)
        self.pane = pane  # the pane focused first (after a take-over: the escalation package in the preview)
        self.notice = notice
        self.own = OwnWrites(self, OWN_WRITE_GROUPS)
        self.live = LiveWatch(self, services)
        self._panes: tuple[Widget, ...] = ()  # the four panes, in PANES order (set on mount)
        self._tabs: Tabs | None = None  # the pane tabs of a narrow terminal (mounted the first time it is narrow)
        self._ticket_read = False  # the linked ticket's live status was asked for (once, on opening)
        self._chat_input: ChatInput | None = None

    def compose(self) -> ComposeResult:
        yield SessionHeader(id="ws-header")
        if not self.can_write:
            yield Static(VIEWER_REASON + ": chat, facts, fix decisions and posting are disabled.", classes="readonly")
        with Horizontal(id="ws-body"):
            yield ChatPane(
                id="pane-chat",
                classes="pane",
                read_only_reason="" if self.can_write else VIEWER_REASON,
                cursor_blink=self.services.settings.ui.cursor_blink,
            )
            with Vertical(id="ws-middle"):
                yield FactsPane(id="pane-facts", classes="pane", can_write=self.can_write)
                yield FixCard(id="pane-fix", classes="pane", can_write=self.can_write)
            yield self.make_preview(id="pane-preview", classes="pane")
        yield AppFooter()

    async def on_mount(self) -> None:
        self._panes = tuple(self.query_one(f"#pane-{pane}") for pane in PANES)
        self._chat_input = self.query_one(ChatPane).input  # still readable once unmounted (on_unmount)
        for pane in self._panes:
            pane.border_title = PANE_TITLES[pane.id or ""]
        self._layout(self.app.size.width)
        self._assistant_status()
        self.focus_pane(self.pane)
        self._restore_unsent()
        await self.start_preview()  # the one read of the session and its history, before the first frame
        self.live.start()
        if self.notice:
            self.notify(self.notice, timeout=12, markup=False)

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _focus_moved(self) -> None:
        """Mark the pane that holds focus (its border), restyling only the pane nodes whose mark changes.

        A class change restyles the node and everything below it, and `:focus-within` restyles every node of the
        focused pane and of the blurred one: with a long chat that was most of the cost of an F2–F5. A blur because
        a dialog opened over the workspace keeps the mark (focus comes back to it): no restyle, and the dimmed
        workspace behind the dialog stays as it was (its backdrop is not drawn twice, see screen_base.py).
        """
        if not self.is_active:
            return
        panes = self._panes
        node: DOMNode | None = self.focused
        while node is not None and node not in panes:
            node = node.parent
        changed = []
        for pane in panes:
            if pane.has_class("-focused") != (pane is node):
                pane.set_class(pane is node, "-focused", update=False)
                changed.append(pane)
        if changed:
            self.app.stylesheet.update_nodes(changed, animate=False)
            for pane in changed:
                title = PANE_TITLES[pane.id or ""]
                pane.border_title = Content.styled(title, "$foreground") if pane is node else title

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        """Narrow: show only the current pane. Inline `display` on the five containers, not a class on the screen:
        a screen class restyles every widget below it (hundreds with a long chat) on each F2–F5."""
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")  # changes only on a resize
        if narrow and self._tabs is None:
            # composed only once needed: hidden when wide, its nine nodes cost style and mount work on every open
            self._tabs = Tabs(*(Tab(p.title(), id=f"tab-{p}") for p in PANES), id="ws-tabs", active=f"tab-{self.pane}")
            self.mount(self._tabs, before="#ws-body")
        shown = PANE_NODES[self.pane]
        for node in ("pane-chat", "ws-middle", "pane-facts", "pane-fix", "pane-preview"):
            self.query_one(f"#{node}").display = not narrow or node in shown

    async def on_unmount(self) -> None:
        await self.live.close()
        if self.can_write and self._chat_input is not None:  # quit, a hang-up, leaving: the unsent chat line comes
            ui_state.keep_unsent_chat(self.session_id, self._chat_input.text)  # back when the session is opened

    def _restore_unsent(self) -> None:
        text = ui_state.unsent_chat(self.session_id) if self.can_write else ""
        if text and self._chat_input is not None:
            self._chat_input.restore(text)  # ahead of anything typed while the session opened

    def run_worker(
        self,
        work: WorkType[ResultType],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[ResultType]:
        self.own.note(group)  # counted before it runs: a live read overlapping our own write stays silent
        return super().run_worker(work, name, group, description, exit_on_error, start, exclusive, thread)

    # ---- services -------------------------------------------------------------------------------------------

    def _assistant_status(self) -> None:
        assistant, chat = self.services.assistant, self.query_one(ChatPane)
        chat.input.slash_commands = list(assistant.slash_commands())
        if assistant.offline:
            chat.set_status("Assistant offline · /help", assistant.offline_notice)
        else:
            chat.set_status(f"Assistant: {self.services.settings.llm.model} · Esc cancels a reply")

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        try:
            detail = await self.services.sessions.get(self.session_id)
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        self.post_message(SessionLoaded(detail))

    async def read_on_open(self) -> HistoryLoaded | None:
        """The newest messages (one more than shown: whether earlier ones exist), shown with the session."""
        window = min(INITIAL_HISTORY, self.services.settings.ui.history_window)
        try:
            messages = await self.services.sessions.list_messages(self.session_id, limit=window + 1)
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return None
        return HistoryLoaded(messages[-window:], len(messages) > window)

    async def apply_opening(self, opening: Message) -> None:
        if isinstance(opening, HistoryLoaded):
            await self.history_loaded(opening)

    async def _reload(self, focus_fact: int | None = None, *, focus_newest_fact: bool = False) -> None:
        try:
            detail = await self.services.sessions.get(self.session_id)
            if focus_newest_fact and detail.facts:
                focus_fact = max(f.id for f in detail.facts)  # show what the assistant just recorded
            self.post_message(SessionLoaded(detail, focus_fact))
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))

    @work(group="write", exit_on_error=False)
    async def mutate(self, op: Callable[[], Awaitable[object]], done: str = "") -> None:
        """Run one service write; any domain error becomes a notification, then the session is re-read."""
        result = None
        try:
            result = await op()
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
        else:
            if done:
                self.post_message(ServiceDone(done))
        await self._reload(result.id if isinstance(result, FactView) else None)

    # ---- the linked ticket (issue 14) ---------------------------------------------------------------------------

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def read_ticket_status(self) -> None:
        """The linked ticket's live status for the header (closed or moved by someone else is flagged)."""
        try:
            result = await self.services.tickets.live_status(self.session_id)
        except ConfigError:
            return  # the connection is not configured here: there is no live status to read
        except DomainError as exc:
            self.post_message(TicketStatusRead(None, one_line(exc.message, 200)))
            return
        self.post_message(TicketStatusRead(result))

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def sync_ticket(self) -> None:
        try:
            result = await self.services.tickets.sync(self.session_id)
        except DomainError as exc:
            self.post_message(ServiceFailed(f"Ticket not synced: {one_line(exc.message, 300)}"))
            return
        self.post_message(TicketSynced(result))
        await self._reload()

    @on(TicketStatusRead)
    def ticket_status_read(self, event: TicketStatusRead) -> None:
        header = self.query_one(SessionHeader)
        if event.result is None:
            header.show_ticket(TicketLive("", error=event.error))
            return
        r = event.result
        known = header.ticket_live
        header.show_ticket(TicketLive(r.status_name, r.closed, r.warning))
        if r.warning and (known is None or known.warning != r.warning):
            self.notify(r.warning, title="Ticket changed in ConnectWise", severity="warning", timeout=15, markup=False)

    @on(TicketSynced)
    async def ticket_synced(self, event: TicketSynced) -> None:
        from flowpilot_tui.services.tickets import note_message

        r = event.result
        log = self.query_one(ChatPane).log_view
        for note in r.new_notes:
            await log.add_message("system", note_message(r.ticket_id, note), note="ticket context")
        self.post_message(TicketStatusRead(r))
        count = len(r.new_notes)
        self.notify(
            f"Ticket #{r.ticket_id} synced: {count} new note(s); status {one_line(r.status_name, 40)}", markup=False
        )

    # ---- applying results -------------------------------------------------------------------------------------

    def apply_detail(self, detail: SessionDetail, focus_fact: int | None = None) -> None:
        if not self._ticket_read and detail.summary.ticket_id is not None:
            self._ticket_read = True  # once, with the first detail read on opening (no read of its own)
            self.read_ticket_status()
        super().apply_detail(detail, focus_fact)
        self.query_one(SessionHeader).show(detail.summary)
        self.query_one(FactsPane).show(detail.facts, focus_fact)
        active = detail.active_fix
        self.query_one(FixCard).show(active, len(detail.fixes) - (1 if active else 0))
        self.refresh_bindings()

    # ---- live updates (another engineer's change, no key press) -------------------------------------------------

    @on(SessionsChanged)
    def live_changed(self, event: SessionsChanged) -> None:
        if event.initial or self.session_id in event.ids:
            self.live_read(self.own.token(), self.detail)

    @work(exclusive=True, group="live", exit_on_error=False)
    async def live_read(self, token: tuple[int, bool], before: SessionDetail | None) -> None:
        from flowpilot_tui.services.live import reread

        try:  # the session and who changed it since `before` (the audit trail), in one read transaction
            detail, by = await reread(self.services.sessions, self.session_id, before, now=self.services.clock())
        except DomainError:
            return  # the next change or ctrl+r reads it again
        self.post_message(LiveRead(detail, by, token))

    @on(LiveRead)
    def live_applied(self, event: LiveRead) -> None:
        """Apply another engineer's change through the usual path; the editor's text is kept, and they are told."""
        before, after = self.detail, event.detail
        if not visible_change(before, after):
            return
        if before is not None and after.summary.updated_at < before.summary.updated_at:
            return  # an older read than what is shown
        self.preview_edited()  # keys typed but not yet captured become the draft first: never reloaded over
        has_draft = self.current.is_draft or self.preview.text_area.has_focus
        line = ""
        if before is not None and not self.own.overlapped(event.token):
            line = describe_change(before, after, by=event.by, has_draft=has_draft)
        self.apply_detail(after)
        if line:
            self.notify(line, title="Session changed", timeout=15, markup=False)

    @on(HistoryLoaded)
    async def history_loaded(self, event: HistoryLoaded) -> None:
        await self.query_one(ChatPane).log_view.show_history(event.messages, event.has_more, event.earlier)

    @on(ServiceFailed)
    def service_failed(self, event: ServiceFailed) -> None:
        self.notify(event.message, severity="error", markup=False)

    @on(ServiceDone)
    def service_done(self, event: ServiceDone) -> None:
        self.notify(event.message, markup=False)

    # ---- chat -------------------------------------------------------------------------------------------------

    @on(ChatInput.Submitted)
    async def chat_submitted(self, event: ChatInput.Submitted) -> None:
        chat = self.query_one(ChatPane)
        if not self.can_write or chat.log_view.streaming:
            chat.input.restore(event.text)  # nothing typed is lost
            self.notify(
                "Wait for the reply to finish (Esc cancels it)" if self.can_write else VIEWER_REASON, severity="warning"
            )
            return
        await chat.log_view.add_message("user", event.text)
        self.send(event.text)

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def send(self, text: str) -> None:
        assistant = self.services.assistant

        async def on_text(chunk: str) -> None:
            self.post_message(ReplyChunk(chunk))

        try:
            result = await assistant.send(self.session_id, text, on_text=on_text)
        except asyncio.CancelledError:
            self.post_message(ReplyFinished("", interrupted=True))
            await self._reload()
            raise
        except DomainError as exc:
            self.post_message(ReplyFinished("", error=exc.message, unsent=text))
            return
        reply = result.reply.content if result.reply else None
        cards = [(c.kind, card_line(c.title, c.detail)) for c in result.cards]
        unsent = text if result.error and result.user_message is None else ""
        self.post_message(
            ReplyFinished(reply or "", interrupted=result.interrupted, error=result.error, cards=cards, unsent=unsent)
        )
        await self._reload(focus_newest_fact=any(kind == "fact" for kind, _ in cards))

    @on(ReplyChunk)
    async def reply_chunk(self, event: ReplyChunk) -> None:
        await self.query_one(ChatPane).log_view.write_chunk(event.text)

    @on(ReplyFinished)
    async def reply_finished(self, event: ReplyFinished) -> None:
        chat = self.query_one(ChatPane)
        log = chat.log_view
        if log.streaming or event.text:
            await log.finish_reply(event.text or None, interrupted=event.interrupted, error=event.error)
        elif event.error:
            self.notify(event.error, severity="error", markup=False)
        for kind, line in event.cards:
            await log.add_message("tool", line, note=kind)
        if event.unsent and not chat.input.text:
            chat.input.text = event.unsent  # nothing the engineer typed is lost

    @on(ChatPane.CancelRequested)
    def cancel_reply(self) -> None:
        self.workers.cancel_group(self, "reply")

    @on(ChatPane.EarlierRequested)
    def earlier_requested(self) -> None:
        self.load_earlier(self.query_one(ChatPane).log_view.oldest_id)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def load_earlier(self, before_id: int | None) -> None:
        if before_id is None:
            return
        window = self.services.settings.ui.history_window
        try:
            messages = await self.services.sessions.list_messages(
                self.session_id, limit=window + 1, before_id=before_id
            )
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        has_more = len(messages) > window
        self.post_message(HistoryLoaded(messages[-window:], has_more, earlier=True))

    # ---- facts and fixes ----------------------------------------------------------------------------------------

    @on(FactsPane.Requested)
    def fact_requested(self, event: FactsPane.Requested) -> None:
        from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog
        from flowpilot_tui.widgets.fact_editor import FactEdit, FactEditor

        sessions, sid, fact = self.services.sessions, self.session_id, event.fact
        if event.action == "delete" and fact is not None:

            def delete(answer: str | None) -> None:
                if answer is not None:
                    self.mutate(lambda: sessions.delete_fact(sid, fact.id), "Fact deleted")

            self.app.push_screen(ConfirmDialog("Delete fact?", one_line(fact.text, 200), "Delete"), delete)
            return

        def save(edit: FactEdit | None) -> None:
            if edit is None:
                return
            if fact is None:
                self.mutate(lambda: sessions.add_fact(sid, edit.kind, edit.text, outcome=edit.outcome or None))
            else:
                self.mutate(
                    lambda: sessions.edit_fact(sid, fact.id, text=edit.text, kind=edit.kind, outcome=edit.outcome)
                )

        self.app.push_screen(FactEditor(fact, event.kind), save)

    @on(FixCard.Decided)
    def fix_decided(self, event: FixCard.Decided) -> None:
        self.decide(event.fix.id, event.decision)

    @work(group="write", exit_on_error=False)
    async def decide(self, fix_id: int, decision: str) -> None:
        try:
            await self.services.sessions.decide_fix(self.session_id, fix_id, decision)
            result = await follow_up(self.services.scripts, self.session_id, fix_id, decision)
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
        else:
            self.post_message(FollowUpReady(result))
        await self._reload()

    @on(FollowUpReady)
    def follow_up_ready(self, event: FollowUpReady) -> None:
        """The workspace picks the modal for what follows a decision."""
        result = event.follow_up
        if result.script is not None:
            self.app.push_screen(ScriptViewer(result.script))
        elif result.template is not None:
            self.app.push_screen(TemplateBuilder(self.services, result.template))
        self.notify(result.message, markup=False)

    @on(FixCard.HistoryRequested)
    def fix_history(self) -> None:
        from flowpilot_tui.widgets.fix_history import FixHistory

        if self.detail is not None:
            self.app.push_screen(FixHistory(self.detail.fixes))

    # ---- actions ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in keymap.WRITE_ACTIONS["workspace"] and not self.can_write:
            return None
        status = self.detail.summary.status if self.detail else ""
        if action == "pause_resume":
            return (rules.allowed("pause", status) or rules.allowed("resume", status)) or None
        if action == "request_escalation":
            return rules.allowed("request_escalation", status) or None
        if action == "post" and status and not rules.allowed(self.kind, status):
            return False  # already resolved (or escalated): nothing to post, so the key is not offered
        return True

    def action_back(self) -> None:
        chat = self.query_one(ChatPane)
        if chat.log_view.streaming:
            self.workers.cancel_group(self, "reply")
        elif chat.input.text.strip() and self.can_write:
            self._ask_before_leaving(chat)  # an unsent message is never thrown away without a word
        else:
            self.app.pop_screen()

    def _ask_before_leaving(self, chat: ChatPane) -> None:
        from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog

        def answer(leave: str | None) -> None:
            if leave is None:
                chat.input.focus()  # stay: the message is still in the input
            else:
                chat.input.text = ""  # discarded, as asked: not kept for the next opening either
                self.app.pop_screen()

        size = len(chat.input.text)
        body = f"Your chat message ({size:,} characters) is not sent. Leave the session and discard it?"
        self.app.push_screen(ConfirmDialog("Unsent message", body, "Discard & leave"), answer)

    def action_show_redactions(self) -> None:
        self.show_redactions()  # F6 from any pane, not only while the preview has focus

    def action_pane(self, pane: str) -> None:
        self.focus_pane(pane)

    def focus_pane(self, pane: str) -> None:
        self.pane = pane
        if self._tabs is not None and self._tabs.is_mounted:
            self._tabs.active = f"tab-{pane}"
        self._layout(self.app.size.width)
        widget = self.query_one(f"#pane-{pane}")
        if pane == "chat":
            chat = self.query_one(ChatPane)
            widget = chat.input if self.can_write else chat.log_view
        target = widget if widget.focusable else next((w for w in widget.query("*") if w.focusable), None)
        if target is not None:
            target.focus()

    @on(Tabs.TabActivated)
    def tab_activated(self, event: Tabs.TabActivated) -> None:
        pane = (event.tab.id or "tab-chat").removeprefix("tab-")
        if pane != self.pane:
            self.focus_pane(pane)

    def action_reload(self) -> None:
        self.load()

    def action_pause_resume(self) -> None:
        if self.detail is None:
            return
        sessions, sid = self.services.sessions, self.session_id
        if rules.allowed("pause", self.detail.summary.status):
            self.mutate(lambda: sessions.pause(sid), "Session paused")
        else:
            self.mutate(lambda: sessions.resume(sid), "Session resumed")

    def action_request_escalation(self) -> None:
        from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog

        sessions, sid = self.services.sessions, self.session_id

        def done(reason: str | None) -> None:
            if reason is not None:
                self.mutate(lambda: sessions.request_escalation(sid, reason or None), "Escalation requested")

        self.app.push_screen(
            ConfirmDialog(
                "Request escalation?",
                "Marks the session as requesting escalation; a senior engineer picks it up.",
                "Request escalation",
                ask_reason="Reason (optional), e.g. needs storage admin access",
            ),
            done,
        )

    def action_toggle_kind(self) -> None:
        after_typed_keys(self.app, self.toggle_kind)  # behind the keys typed just before (a priority binding)

    def action_regenerate(self) -> None:
        after_typed_keys(self.app, self.regenerate)  # behind the keys typed just before (a priority binding)

    def action_post(self) -> None:
        after_typed_keys(self.app, self.confirm_post)  # behind the keys typed just before (a priority binding)

    def action_sync_ticket(self) -> None:
        if self.detail is not None and self.detail.summary.ticket_id is None:
            self.notify("This session is not linked to a ticket; nothing to sync.", severity="warning", markup=False)
            return
        self.sync_ticket()

    def action_copy_preview(self) -> None:
        after_typed_keys(self.app, self.copy_preview)  # behind the keys typed just before (a priority binding)
