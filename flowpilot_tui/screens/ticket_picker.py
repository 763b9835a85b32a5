"""New session from a ticket: the configured member's open PSA tickets, one ConnectWise page at a time.

Why this shape: the queue can hold thousands of tickets, so the screen asks the service for one page (newest
activity first) and "Load more" (`]`) appends the next; a search (Enter) is a server-side condition on the number or
the summary, never a filter over fetched rows. Choosing a ticket imports it (a ticket already imported opens its
session) and the screen dismisses with the session id. Every PSA call runs in a worker that posts a message; a
failure (no connection, unknown member, PSA unreachable) is a message on the picker, never a crash. PSA text is
untrusted and rendered literally (widgets/ticket_table.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import FreshScreen
from flowpilot_tui.widgets.ticket_table import TicketTable

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.psa.base import TicketListPage
    from flowpilot_tui.services.tickets import ImportResult

PAGE_SIZE = 25


@dataclass
class TicketsLoaded(Message):
    connection: str
    page: TicketListPage
    search: str
    append: bool


@dataclass
class TicketsFailed(Message):
    """Listing or importing failed: `message` is shown on the picker."""

    message: str


@dataclass
class TicketImported(Message):
    result: ImportResult


def _failure(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return one_line(exc.message, 300)
    return f"Unexpected {type(exc).__name__} while talking to the PSA; nothing was changed."


class TicketPicker(FreshScreen[str | None]):
    """Dismisses with the id of the session to open (new or existing), or None."""

    DEFAULT_CSS = """
    TicketPicker #tp-controls { height: 3; }
    TicketPicker #tp-search { width: 1fr; }
    TicketPicker #tp-connection { width: 24; }
    TicketPicker #tp-more { width: auto; min-width: 14; }
    TicketPicker #tp-status { height: auto; padding: 0 1; color: $text-muted; }
    TicketPicker #tp-status.-error { color: $error; text-style: bold; }
    """
    BINDINGS = keymap.bindings("tickets")
    PALETTE_SCOPES = {"tickets": None}

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.connections = sorted(services.settings.connections)
        self.page = 0
        self.has_more = False
        self.search = ""
        self.busy = False
        self.shown = 0

    def compose(self) -> ComposeResult:
        yield Static(plain("New session from ticket · your open tickets, newest activity first"), id="topbar")
        with Horizontal(id="tp-controls"):
            yield OrderedInput(placeholder="Search #number or summary, then Enter  ( / )", id="tp-search")
            if len(self.connections) > 1:
                yield Select(
                    [(name, name) for name in self.connections],
                    value=self.connections[0],
                    allow_blank=False,
                    id="tp-connection",
                )
            yield Button("Load more (])", id="tp-more", disabled=True)
        yield TicketTable(id="tp-table")
        yield Static("Loading your tickets…", id="tp-status")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(TicketTable).focus()
        self.load()

    # ---- loading ----------------------------------------------------------------------------------------------

    @property
    def connection(self) -> str | None:
        if len(self.connections) <= 1:
            return None  # the service picks the only one, or says none is configured
        value = self.query_one("#tp-connection", Select).value
        return value if isinstance(value, str) else None

    def load(self, *, more: bool = False, search: str | None = None) -> None:
        if not more:
            self.search = (self.query_one("#tp-search", Input).value if search is None else search).strip()
        self.busy = True
        self.query_one("#tp-more", Button).disabled = True
        self.set_status("Loading more tickets…" if more else "Loading your tickets…")
        self.fetch(self.connection, self.search, self.page + 1 if more else 1, more)

    @work(exclusive=True, group="tickets", exit_on_error=False)
    async def fetch(self, connection: str | None, search: str, page: int, append: bool) -> None:
        try:
            name, result = await self.services.tickets.list_tickets(
                connection=connection, search=search or None, page=page, page_size=PAGE_SIZE
            )
        except Exception as exc:  # noqa: BLE001 - every failure is a message on the picker
            self.post_message(TicketsFailed(_failure(exc)))
            return
        self.post_message(TicketsLoaded(name, result, search, append))

    @on(TicketsLoaded)
    def show_page(self, event: TicketsLoaded) -> None:
        self.busy = False
        page = event.page
        self.page, self.has_more = page.page, page.has_more
        table = self.query_one(TicketTable)
        table.show(page.items, self.services.clock(), append=event.append)
        self.shown = table.row_count
        self.query_one("#tp-more", Button).disabled = not page.has_more
        where = f"connection {event.connection}"
        if not self.shown:
            what = f"No open tickets match “{event.search}”" if event.search else "No open tickets in your queue"
            self.set_status(f"{what} ({where}).")
        else:
            more = " · more on ConnectWise: ] loads the next page" if page.has_more else ""
            found = f" matching “{event.search}”" if event.search else ""
            self.set_status(f"{self.shown:,} ticket(s){found} shown ({where}){more} · Enter starts a session")
        self.refresh_bindings()

    @on(TicketsFailed)
    def failed(self, event: TicketsFailed) -> None:
        self.busy = False
        self.query_one("#tp-more", Button).disabled = not self.has_more
        self.set_status(event.message, error=True)
        self.refresh_bindings()

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#tp-status", Static)
        status.set_class(error, "-error")
        status.update(plain(text))

    @property
    def status_text(self) -> str:
        return str(self.query_one("#tp-status", Static).render())

    # ---- controls ---------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#tp-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        self.load(search=event.value)  # the text at Enter (keys act in order: see widgets/ordered_keys.py)
        self.query_one(TicketTable).focus()

    @on(Select.Changed, "#tp-connection")
    def connection_changed(self) -> None:
        self.load()

    @on(Button.Pressed, "#tp-more")
    def more_pressed(self) -> None:
        self.action_load_more()

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.choose(int(event.row_key.value))

    # ---- actions ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "load_more":
            return (self.has_more and not self.busy) or None
        if action == "choose":
            return bool(self.shown) or None
        return True

    def action_choose(self) -> None:
        ticket = self.query_one(TicketTable).selected_id
        if ticket is not None:
            self.choose(ticket)

    def action_load_more(self) -> None:
        if self.has_more and not self.busy:
            self.load(more=True)

    def action_focus_search(self) -> None:
        self.query_one("#tp-search", Input).focus()

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.workers.cancel_group(self, "tickets")
        self.dismiss(None)

    def choose(self, ticket_id: int) -> None:
        if self.busy:
            return
        self.busy = True
        self.set_status(f"Importing ticket #{ticket_id}…")
        self.import_ticket(ticket_id, self.connection)

    @work(exclusive=True, group="tickets", exit_on_error=False)
    async def import_ticket(self, ticket_id: int, connection: str | None) -> None:
        try:
            result = await self.services.tickets.import_ticket(ticket_id, connection=connection)
        except Exception as exc:  # noqa: BLE001 - every failure is a message on the picker
            self.post_message(TicketsFailed(f"Ticket #{ticket_id} was not imported: {_failure(exc)}"))
            return
        self.post_message(TicketImported(result))

    @on(TicketImported)
    def imported(self, event: TicketImported) -> None:
        result = event.result
        ticket = f"#{result.session.ticket_id}"
        if result.created:
            self.notify(f"Ticket {ticket} imported: {result.facts} fact(s), {result.notes} note(s)", markup=False)
        else:
            self.notify(f"Ticket {ticket} was already imported; opening its session", markup=False)
        self.dismiss(result.session.id)
