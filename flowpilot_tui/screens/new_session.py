"""Modal for a new session: a title and, optionally, a PSA connection + ticket id to link.

Why validate here too: the service rejects bad input anyway, but catching "ticket id without connection" before
the round trip keeps what the engineer typed on screen. For the same reason the linked ticket is read from the PSA
while the dialog is still open: a ticket that does not exist is refused here, not at post time, and an unreachable
PSA is said plainly (Create again links it unchecked). Both fields apply keys in the order typed, and Enter creates
with the field's text as it was at that Enter (see widgets/ordered_keys.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from flowpilot_tui import keymap
from flowpilot_tui.errors import DomainError, NotFound
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import Dialog

TicketCheck = Callable[[str, int], Awaitable[object]]


@dataclass(frozen=True)
class NewSessionRequest:
    title: str
    connection: str | None
    ticket_id: int | None


class NewSession(Dialog[NewSessionRequest | None]):
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])

    def __init__(self, connections: list[str], check_ticket: TicketCheck | None = None) -> None:
        super().__init__()
        self.connections = connections
        self.check_ticket = check_ticket
        self._unchecked_ok: NewSessionRequest | None = None  # the PSA could not be asked; Create again links it

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New session", classes="title")
            yield Label("Title")
            yield OrderedInput(placeholder="What is the problem? e.g. Outlook keeps prompting for password", id="title")
            yield Label("Link to a PSA ticket (optional)")
            with Horizontal(classes="row"):
                yield Select(
                    [(name, name) for name in self.connections],
                    prompt="No ticket (local only)",
                    id="connection",
                    disabled=not self.connections,
                )
                yield OrderedInput(placeholder="Ticket #", id="ticket", restrict=r"#?[0-9]*", max_length=12)
            yield Label("", id="ticket-problem", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        """Enter: the field it was pressed in counts as it was at that Enter (keys typed after it are not in it)."""
        self.create(**{"title" if event.input.id == "title" else "ticket": event.value})

    @on(Button.Pressed, "#create")
    def create_pressed(self) -> None:
        self.create()

    def create(self, title: str | None = None, ticket: str | None = None) -> None:
        title = (self.query_one("#title", Input).value if title is None else title).strip()
        connection = self.query_one("#connection", Select).value
        ticket = (self.query_one("#ticket", Input).value if ticket is None else ticket).strip().lstrip("#")
        if not title:
            self.notify("Give the session a title", severity="warning")
            self.query_one("#title", Input).focus()
            return
        conn = connection if isinstance(connection, str) else None
        if bool(conn) != bool(ticket):
            self.notify("To link a ticket, choose a connection and type the ticket number", severity="warning")
            return
        request = NewSessionRequest(title, conn, int(ticket) if ticket else None)
        if request.connection is None or request.ticket_id is None or self.check_ticket is None:
            self.dismiss(request)
        elif request == self._unchecked_ok:
            self.dismiss(request)
        else:
            self._problem("Checking the ticket…")
            self.query_one("#create", Button).disabled = True
            self.check(request)

    @work(exclusive=True, group="check-ticket", exit_on_error=False)
    async def check(self, request: NewSessionRequest) -> None:
        assert self.check_ticket is not None and request.connection is not None and request.ticket_id is not None
        try:
            await self.check_ticket(request.connection, request.ticket_id)
        except NotFound as exc:
            self._problem(exc.message)
            self.query_one("#ticket", Input).focus()
        except DomainError as exc:
            self._unchecked_ok = request
            self._problem(f"Could not check ticket #{request.ticket_id}: {exc.message}. Create again links it anyway.")
        else:
            self.dismiss(request)
            return
        self.query_one("#create", Button).disabled = False

    def _problem(self, message: str) -> None:
        self.query_one("#ticket-problem", Label).update(Text(message))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
