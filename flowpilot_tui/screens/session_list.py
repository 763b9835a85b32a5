"""Start screen: the account's sessions, a page at a time, with status filter, search, new and open.

Why paging and debounced search: the service pages in SQL so a 100,000-session account stays instant; the
screen only ever holds one page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Select, Static

from flowpilot_tui import keymap
from flowpilot_tui.messages import PageLoaded, ServiceFailed, SessionCreated
from flowpilot_tui.safe_text import plain
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.services.models import SESSION_STATUSES
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from flowpilot_tui.screens.new_session import NewSessionRequest
    from flowpilot_tui.services.container import Services

PAGE_SIZE = 50
ALL = "all"
SEARCH_DEBOUNCE_S = 0.3


class SessionList(Screen[None]):
    BINDINGS = keymap.bindings("list")
    PALETTE_SCOPES = {"list": None}

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.page_offset = 0
        self.total = 0
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        actor = self.services.actor
        yield Static(plain(f"FlowPilot · {actor.account_name} · {actor.display_name} ({actor.role})"), id="topbar")
        if not actor.can_write:
            yield Static(
                "Read-only: your role (viewer) can open and read sessions; creating and editing are disabled.",
                classes="readonly",
            )
        with Horizontal(id="list-controls"):
            yield Input(placeholder="Search title or #ticket  ( / )", id="search")
            yield Select(
                [("All statuses", ALL), *((s.replace("_", " "), s) for s in SESSION_STATUSES)],
                value=ALL,
                allow_blank=False,
                id="status",
            )
            yield Button("New session", id="new", disabled=not actor.can_write)
        yield SessionTable(id="sessions")
        yield Static("", id="pager")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(SessionTable).focus()
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
        if offset is not None:
            self.page_offset = max(0, offset)
        self.fetch(self.status, self.search, self.page_offset)

    @work(exclusive=True, group="list", exit_on_error=False)
    async def fetch(self, status: str | None, search: str, offset: int) -> None:
        try:
            page = await self.services.sessions.list_sessions(
                status=status, search=search or None, limit=PAGE_SIZE, offset=offset
            )
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        self.post_message(PageLoaded(page, status, search))

    @on(PageLoaded)
    def show_page(self, event: PageLoaded) -> None:
        page = event.page
        self.page_offset, self.total = page.offset, page.total
        self.query_one(SessionTable).show(page.items)
        pages = max(1, -(-page.total // PAGE_SIZE))
        current = page.offset // PAGE_SIZE + 1
        if page.total:
            first, last = page.offset + 1, page.offset + len(page.items)
            shown = f"{first:,}–{last:,} of {page.total:,} sessions · page {current:,}/{pages:,}"
        elif event.search or event.status:
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

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_session(event.row_key.value)

    # ---- actions ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_session" and not self.services.actor.can_write:
            return None
        if action == "next_page":
            return self.page_offset + PAGE_SIZE < self.total or None
        if action == "prev_page":
            return self.page_offset > 0 or None
        if action == "open":
            return bool(self.query_one(SessionTable).row_count) or None
        return True

    def action_open(self) -> None:
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
        if self.page_offset + PAGE_SIZE < self.total:
            self.load(self.page_offset + PAGE_SIZE)

    def action_prev_page(self) -> None:
        if self.page_offset > 0:
            self.load(self.page_offset - PAGE_SIZE)

    def action_refresh(self) -> None:
        self.load()

    def action_new_session(self) -> None:
        from flowpilot_tui.screens.new_session import NewSession

        if not self.services.actor.can_write:
            self.notify("Your role (viewer) cannot create sessions", severity="warning")
            return
        self.app.push_screen(NewSession(sorted(self.services.settings.connections)), self._create)

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
        self.open_session(event.summary.id)
