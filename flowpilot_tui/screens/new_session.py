"""Modal for a new session: a title and, optionally, a PSA connection + ticket id to link.

Why validate here too: the service rejects bad input anyway, but catching "ticket id without connection" before
the round trip keeps what the engineer typed on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from flowpilot_tui import keymap


@dataclass(frozen=True)
class NewSessionRequest:
    title: str
    connection: str | None
    ticket_id: int | None


class NewSession(ModalScreen[NewSessionRequest | None]):
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])

    def __init__(self, connections: list[str]) -> None:
        super().__init__()
        self.connections = connections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New session", classes="title")
            yield Label("Title")
            yield Input(placeholder="What is the problem? e.g. Outlook keeps prompting for password", id="title")
            yield Label("Link to a PSA ticket (optional)")
            with Horizontal(classes="row"):
                yield Select(
                    [(name, name) for name in self.connections],
                    prompt="No ticket (local only)",
                    id="connection",
                    disabled=not self.connections,
                )
                yield Input(placeholder="Ticket #", id="ticket", restrict=r"#?[0-9]*", max_length=12)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def create(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        connection = self.query_one("#connection", Select).value
        ticket = self.query_one("#ticket", Input).value.strip().lstrip("#")
        if not title:
            self.notify("Give the session a title", severity="warning")
            self.query_one("#title", Input).focus()
            return
        conn = connection if isinstance(connection, str) else None
        if bool(conn) != bool(ticket):
            self.notify("To link a ticket, choose a connection and type the ticket number", severity="warning")
            return
        self.dismiss(NewSessionRequest(title, conn, int(ticket) if ticket else None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
