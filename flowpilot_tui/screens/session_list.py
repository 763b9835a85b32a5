"""Start screen: the account's sessions, a page at a time, with status filter, search, new and open.

Why paging and debounced search: the service pages in SQL so a 100,000-session account stays instant; the
screen only ever holds one page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Select, Static

from flowpilot_tui import keymap
from flowpilot_tui.messages import PageLoaded, ServiceFailed, SessionCreated
from flowpilot_tui.safe_text import plain
from flowpilot_tui.screens.live import LiveWatch, SessionsChanged, on_top
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.services.models import SESSION_STATUSES
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import FreshScreen
from flowpilot_tui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from flowpilot_tui.screens.new_session import NewSessionRequest
    from flowpilot_tui.services.container import Services

PAGE_SIZE = 50
ALL = "all"
SEARCH_DEBOUNCE_S = 0.3


@dataclass
class TotalCounted(Message):
    """How many sessions match the filter the rows were read for (the pager's total)."""

    total: int
    status: str | None
    search: str


class SessionList(FreshScreen[None]):
    BINDINGS = keymap.bindings("list")
    PALETTE_SCOPES = {"list": None}

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.page_offset = 0
        self.total = -1  # -1 until the count (a second query, after the rows are shown) comes back
        self.cursors: list[str | None] = [None]  # keyset: the `after` cursor of each page up to the current one
        self.more = False
        self._next_after: str | None = None
        self._search_timer: Timer | None = None
        self.live = LiveWatch(self, services)  # another engineer's change re-reads the page, no key press
        self._shown = 0
        self._total_for: tuple[str | None, str] | None = None
        self._loaded_search: str | None = None  # the search text of the last load
        self._rows_for: tuple[str | None, str] | None = None  # the (status, search) the rows on screen answer
        self._open_when_shown = False  # Enter came before the rows of the current search: open its first row then

    def compose(self) -> ComposeResult:
        actor = self.services.actor
        yield Static(plain(f"FlowPilot · {actor.account_name} · {actor.display_name} ({actor.role})"), id="topbar")
        if not actor.can_write:
            yield Static(
                "Read-only: your role (viewer) can open and read sessions; creating and editing are disabled.",
                classes="readonly",
            )
        with Horizontal(id="list-controls"):
            yield OrderedInput(placeholder=self._search_hint(), id="search")  # keys act in order
            yield Select(
                [("All statuses", ALL), *((s.replace("_", " "), s) for s in SESSION_STATUSES)],
                value=ALL,
                allow_blank=False,
                id="status",
            )
            yield Button("New session", id="new", disabled=not actor.can_write)
            yield Button("From ticket", id="from-ticket", disabled=not actor.can_write)
        yield SessionTable(id="sessions")
        yield Static("", id="pager")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(SessionTable).focus()
        self.load()
        self.live.start()

    def on_resize(self) -> None:
        self.query_one("#search", Input).placeholder = self._search_hint()

    def _search_hint(self) -> str:
        """The hint fits the field: beside two buttons and the status filter, 80 columns leave about 20."""
        return "Search title or #ticket  ( / )" if self.app.size.width >= 100 else "Title or #ticket (/)"

    async def on_unmount(self) -> None:
        await self.live.close()

    @on(SessionsChanged)
    def live_changed(self) -> None:
        if on_top(self):  # underneath another screen: on_screen_resume reloads; the cursor keeps its session
            self.load()

    def on_screen_resume(self) -> None:
        self.load()

    # ---- loading ----------------------------------------------------------------------------------------------

    @property
    def status(self) -> str | None:
        value = self.query_one("#status", Select).value
        return value if isinstance(value, str) and value != ALL else None

    @property
    def search(self) -> str:
        return self.query_one("#search", Input).value.strip()

    def load(self, offset: int | None = None) -> None:
        """Re-read the current page; `load(0)` starts again at page 1 (new search or filter). Paging is keyset (never
        OFFSET): each page is read `after` the last row of the one before, so page 1,000 costs what page 1 does."""
        if offset == 0:
            self.cursors = [None]
        self._loaded_search = self.search
        self.fetch(self.status, self.search, self.cursors[-1], len(self.cursors))

    @work(exclusive=True, group="list", exit_on_error=False)
    async def fetch(self, status: str | None, search: str, after: str | None, page_no: int) -> None:
        """One query for the rows and has-more; the total for the pager is counted afterwards, off the rows' path."""
        try:
            page = await self.services.sessions.list_sessions(
                status=status, search=search or None, limit=PAGE_SIZE, after=after, with_total=False
            )
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        self.post_message(PageLoaded(replace(page, offset=(page_no - 1) * PAGE_SIZE), status, search))
        self.count(status, search)

    @work(exclusive=True, group="list-count", exit_on_error=False)
    async def count(self, status: str | None, search: str) -> None:
        try:
            page = await self.services.sessions.list_sessions(status=status, search=search or None, limit=1)
        except DomainError:
            return  # the rows are shown; the pager just stays without a total
        self.post_message(TotalCounted(page.total, status, search))

    @on(TotalCounted)
    def total_counted(self, event: TotalCounted) -> None:
        if (event.status, event.search) == (self.status, self.search):
            self.total, self._total_for = event.total, (event.status, event.search)
            self._show_pager(self._shown, event.search, event.status)

    @on(PageLoaded)
    def show_page(self, event: PageLoaded) -> None:
        page = event.page
        self.page_offset, self.more, self._next_after = page.offset, page.has_more, page.next_after
        self._shown = len(page.items)
        self.query_one(SessionTable).show(page.items)
        self._rows_for = (event.status, event.search)
        self._show_pager(len(page.items), event.search, event.status)
        self.refresh_bindings()
        if self._open_when_shown and self._rows_for == (self.status, self.search):
            self._open_when_shown = False
            self.action_open()

    def _show_pager(self, shown_rows: int, search: str, status: str | None) -> None:
        current = self.page_offset // PAGE_SIZE + 1
        first, last = self.page_offset + 1, self.page_offset + shown_rows
        if shown_rows and self.total > 0 and self._total_for == (status, search):
            pages = max(current, -(-self.total // PAGE_SIZE))
            shown = f"{first:,}–{last:,} of {self.total:,} sessions · page {current:,}/{pages:,}"
        elif shown_rows:
            shown = f"{first:,}–{last:,} sessions · page {current:,}" + (" · more" if self.more else "")
        elif search or status:
            shown = "No sessions match the search/filter"
        else:
            shown = "No sessions yet" + (" — press ctrl+n to start one" if self.services.actor.can_write else "")
        self.query_one("#pager", Static).update(plain(shown))

    @on(ServiceFailed)
    def failed(self, event: ServiceFailed) -> None:
        self.notify(event.message, severity="error")

    # ---- controls ---------------------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if self.search == self._loaded_search:
            # Already read for this text (Enter handled before the last Changed, or typed back to it): a reload
            # 0.3 s later would go back to page 1 and cancel a page being read.
            return
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE_S, lambda: self.load(0))

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self.load(0)
        self.query_one(SessionTable).focus()

    @on(Select.Changed, "#status")
    def status_changed(self) -> None:
        self.load(0)

    @on(Button.Pressed, "#new")
    def new_pressed(self) -> None:
        self.action_new_session()

    @on(Button.Pressed, "#from-ticket")
    def from_ticket_pressed(self) -> None:
        self.action_new_from_ticket()

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if self._defer_open_until_rows():
            return
        if event.row_key.value:
            self.open_session(event.row_key.value)

    def _defer_open_until_rows(self) -> bool:
        """True when the rows on screen answer an earlier search or filter than the one typed (typed ahead of the
        read): an Enter now would open a session the engineer did not search for, so the open waits for the rows
        (show_page opens the first). Also what clears a deferred open once the rows are current."""
        self._open_when_shown = self._rows_for != (self.status, self.search)
        return self._open_when_shown

    # ---- actions ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new_session", "new_from_ticket") and not self.services.actor.can_write:
            return None
        if action == "next_page":
            return self.more or None
        if action == "prev_page":
            return len(self.cursors) > 1 or None
        if action == "open":
            return bool(self.query_one(SessionTable).row_count) or None
        return True

    def action_open(self) -> None:
        if self._defer_open_until_rows():
            return
        session_id = self.query_one(SessionTable).selected_id
        if session_id:
            self.open_session(session_id)

    def open_session(self, session_id: str) -> None:
        from flowpilot_tui.screens.workspace import Workspace

        self.app.push_screen(Workspace(self.services, session_id))

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_cycle_status(self) -> None:
        select = self.query_one("#status", Select)
        order = [ALL, *SESSION_STATUSES]
        current = select.value if select.value in order else ALL
        select.value = order[(order.index(current) + 1) % len(order)]

    def action_next_page(self) -> None:
        if self.more and self._next_after:
            self.cursors.append(self._next_after)
            self.load()

    def action_prev_page(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_queue(self) -> None:
        from flowpilot_tui.screens.queue import QueueScreen

        self.app.push_screen(QueueScreen(self.services))

    def action_new_session(self) -> None:
        from flowpilot_tui.screens.new_session import NewSession

        if not self.services.actor.can_write:
            self.notify("Your role (viewer) cannot create sessions", severity="warning")
            return
        self.app.push_screen(
            NewSession(sorted(self.services.settings.connections), self.services.tickets.check_ticket), self._create
        )

    def action_new_from_ticket(self) -> None:
        """New session from a ticket of the engineer's PSA queue: the picker imports it and names the session."""
        from flowpilot_tui.screens.ticket_picker import TicketPicker

        if not self.services.actor.can_write:
            self.notify("Your role (viewer) cannot create sessions", severity="warning")
            return

        def picked(session_id: str | None) -> None:
            if session_id:
                self.open_session(session_id)

        self.app.push_screen(TicketPicker(self.services), picked)

    def _create(self, request: NewSessionRequest | None) -> None:
        if request is not None:
            self.create(request)

    @work(exclusive=True, group="create", exit_on_error=False)
    async def create(self, request: NewSessionRequest) -> None:
        try:
            summary = await self.services.sessions.create(
                request.title, connection_name=request.connection, ticket_id=request.ticket_id
            )
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        self.post_message(SessionCreated(summary))

    @on(SessionCreated)
    def created(self, event: SessionCreated) -> None:
        self.notify(f"Session created: {event.summary.title}", markup=False)
        self.clear_filters()  # back on the list, the new session is shown (a search must not hide it)
        self.query_one(SessionTable).select(event.summary.id)
        self.open_session(event.summary.id)

    def clear_filters(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#search", Input).value = ""
            self.query_one("#status", Select).value = ALL
