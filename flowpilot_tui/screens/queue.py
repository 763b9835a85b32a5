"""The escalation queue: the account's sessions requesting escalation or escalated, oldest first, with their age and
who escalated them; an engineer takes one over (t) and lands on its escalation package.

Why here and not in the session list: the queue is a different question ("what is waiting for a senior?") with its
own order (oldest first, not newest updated) and its own action. It follows other engineers' changes live (a take-over
elsewhere drops out of "whose it is" at once), and a take that lost the race says who won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.screens.live import LiveWatch, SessionsChanged, on_top
from flowpilot_tui.services.errors import Conflict, DomainError
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.screen_base import FreshScreen
from flowpilot_tui.widgets.session_table import status_text

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.handoff import QueueItem, Takeover

FIXED_WIDTH = 8 + 7 + 15 + 14 + 12 + 24 + 7 * 2 + 4  # the other columns, cell padding, scrollbar
VIEWER_QUEUE = "Read-only: your role (viewer) can see the escalation queue; taking a session over is for engineers."


@dataclass
class QueueLoaded(Message):
    items: list[QueueItem]
    now: datetime


@dataclass
class TakeDone(Message):
    takeover: Takeover


@dataclass
class QueueFailed(Message):
    message: str
    conflict: bool = False


def age_text(seconds: int) -> str:
    """Compact age: 45s, 12m, 3h 05m, 2d 4h."""
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


class QueueScreen(FreshScreen[None]):
    BINDINGS = keymap.bindings("queue")
    PALETTE_SCOPES = {"queue": None}
    CSS = """
    QueueScreen #queue-table { height: 1fr; }
    QueueScreen #queue-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.items: dict[str, QueueItem] = {}
        self.taking = False
        self.live = LiveWatch(self, services)

    def compose(self) -> ComposeResult:
        actor = self.services.actor
        yield Static(
            plain(f"Escalation queue · {actor.account_name} · {actor.display_name} ({actor.role})"), id="topbar"
        )
        if not actor.can_write:
            yield Static(VIEWER_QUEUE, classes="readonly")
        yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the queue…", id="queue-status")
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width in (
            ("Age", "age", 8),
            ("Ticket", "ticket", 7),
            ("Title", "title", None),
            ("Status", "status", 15),
            ("Escalated by", "by", 14),
            ("Owner", "owner", 12),
            ("Reason", "reason", 24),
        ):
            table.add_column(label, key=key, width=width or 12)
        table.focus()
        self.load()
        self.live.start()

    async def on_unmount(self) -> None:
        await self.live.close()

    def on_screen_resume(self) -> None:
        self.load()

    # ---- loading ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="queue", exit_on_error=False)
    async def load(self) -> None:
        from flowpilot_tui.services.handoff import HandoffService

        try:
            items = await HandoffService(self.services.store, self.services.actor, self.services.clock).queue()
        except DomainError as exc:
            self.post_message(QueueFailed(exc.message))
            return
        self.post_message(QueueLoaded(items, self.services.clock()))

    @on(QueueLoaded)
    def show_queue(self, event: QueueLoaded) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_id
        table.clear()
        title_width = max(self.app.size.width - FIXED_WIDTH, 12)
        table.columns[ColumnKey("title")].width = title_width
        self.items = {item.summary.id: item for item in event.items}
        for item in event.items:
            s = item.summary
            table.add_row(
                Text(age_text(item.age_seconds(event.now))),
                Text(f"#{s.ticket_id}" if s.ticket_id else "local", style="" if s.ticket_id else "dim"),
                plain(one_line(s.title, title_width)),
                status_text(s.status),
                plain(one_line(item.escalated_by_name or item.escalated_by_login, 14)),
                plain(one_line(s.owner_name or s.owner_login, 12)),
                plain(one_line(item.reason or "", 24)),
                key=s.id,
            )
        if selected in self.items:  # a live re-read keeps the engineer's row
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        if not event.items:
            status = "The escalation queue is empty."
        else:
            n = len(event.items)
            status = f"{n} session{'s' if n != 1 else ''} waiting · oldest first"
            if self.services.actor.can_write:
                status += " · t takes over the highlighted one · Enter opens it"
            else:
                status += " · Enter opens one to read"
        self.query_one("#queue-status", Static).update(plain(status))

    @on(SessionsChanged)
    def live_changed(self) -> None:
        if on_top(self):  # underneath another screen: on_screen_resume reloads
            self.load()

    @on(QueueFailed)
    def failed(self, event: QueueFailed) -> None:
        self.taking = False
        self.notify(event.message, title="Not taken over" if event.conflict else "", severity="error", markup=False)
        if event.conflict:
            self.load()

    # ---- actions ----------------------------------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return value if isinstance(value, str) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("take", "open"):
            return bool(self.items) or None
        return True

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.row_key.value, str):
            self.open_session(event.row_key.value)

    def action_open(self) -> None:
        if self.selected_id:
            self.open_session(self.selected_id)

    def open_session(self, session_id: str, *, package_first: bool = False, notice: str = "") -> None:
        from flowpilot_tui.screens.workspace import Workspace

        if package_first:
            workspace = Workspace(self.services, session_id, kind="escalate", pane="preview", notice=notice)
        else:
            workspace = Workspace(self.services, session_id)
        self.app.push_screen(workspace)

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_take(self) -> None:
        actor = self.services.actor
        if not actor.can_write:
            self.notify(
                f"Your role ({actor.role}) can see the queue but cannot take sessions over.",
                severity="warning",
                markup=False,
            )
            return
        sid = self.selected_id
        item = self.items.get(sid) if sid else None
        if item is None:
            return
        if item.summary.owner_login == actor.login:
            self.notify("This session is already yours: Enter opens it.", severity="warning", markup=False)
            return
        if self.taking:
            return
        self.taking = True
        self.take(item.summary.id, item.summary.owner_login)

    @work(exclusive=True, group="take", exit_on_error=False)
    async def take(self, session_id: str, seen_owner: str) -> None:
        from flowpilot_tui.services.handoff import HandoffService

        handoff = HandoffService(self.services.store, self.services.actor, self.services.clock)
        try:
            taken = await handoff.take(session_id, expected_owner_login=seen_owner)
        except Conflict as exc:
            self.post_message(QueueFailed(f"{exc.message}. It is not yours; the queue is refreshed.", conflict=True))
            return
        except DomainError as exc:
            self.post_message(QueueFailed(exc.message))
            return
        self.post_message(TakeDone(taken))

    @on(TakeDone)
    def take_done(self, event: TakeDone) -> None:
        self.taking = False
        t = event.takeover
        notice = (
            f"You took this session over from {t.previous_owner_login}. The escalation package is shown first "
            "(F2 chat, F3 facts)."
        )
        self.open_session(t.detail.summary.id, package_first=True, notice=notice)
