"""The session list table: one page of `SessionSummary` rows, every cell literal text.

Why a page at a time: the service pages in SQL, so 100,000 sessions cost the same to show as 50.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services.views import SessionSummary

STATUS_STYLE = {
    "active": "bold",
    "paused": "dim",
    "requesting_escalation": "bold yellow",
    "escalated": "yellow",
    "resolved": "green",
}


FIXED_WIDTH = 7 + 15 + 12 + 12 + 5 * 2 + 4  # other columns, cell padding, scrollbar and border


def when(value: datetime | None) -> str:
    return value.astimezone().strftime("%b %d %H:%M") if value else ""


def status_text(status: str) -> Text:
    """Status as words (never colour alone)."""
    label = "req. escalation" if status == "requesting_escalation" else status.replace("_", " ")
    return Text(label, style=STATUS_STYLE.get(status, ""))


class SessionTable(DataTable[Text]):
    """`show(rows)` replaces the page; the cursor stays on the session it was on (or on `select(id)`'s), and the
    title column is re-fitted when the terminal is resized (so Owner/Updated stay visible, titles use the room)."""

    DEFAULT_CSS = "SessionTable { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: tuple[SessionSummary, ...] = ()
        self._fitted_to = 0  # the title width the rows were laid out for
        self._wanted: str | None = None

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("Ticket", key="ticket", width=7)
        self.add_column("Title", key="title")
        self.add_column("Status", key="status", width=15)
        self.add_column("Owner", key="owner", width=12)
        self.add_column("Updated", key="updated", width=12)

    def _title_width(self) -> int:
        return max(self.app.size.width - FIXED_WIDTH, 12)

    def select(self, session_id: str) -> None:
        """Put the cursor on `session_id` at the next `show` (e.g. a session just created)."""
        self._wanted = session_id

    def on_resize(self) -> None:
        if self._rows and self._title_width() != self._fitted_to:
            self.show(self._rows)

    def show(self, rows: tuple[SessionSummary, ...]) -> None:
        """Replace the rows; the title is clipped to what fits beside the fixed columns."""
        keep = self._wanted or self.selected_id
        title_width = self._title_width()
        self._rows, self._fitted_to = rows, title_width
        self.clear()
        # A fixed width, not auto: auto widths are recomputed lazily, and a render before that shows clipped titles.
        title = self.columns[ColumnKey("title")]
        title.auto_width = False
        title.width = max([len("Title"), *(len(one_line(s.title, title_width)) for s in rows)])
        for s in rows:
            self.add_row(
                Text(f"#{s.ticket_id}" if s.ticket_id else "local", style="" if s.ticket_id else "dim"),
                plain(one_line(s.title, title_width)),
                status_text(s.status),
                plain(one_line(s.owner_name, 12)),
                Text(when(s.updated_at)),
                key=s.id,
            )
        index = next((i for i, s in enumerate(rows) if s.id == keep), None)
        if index is not None:
            self._wanted = None  # kept until a page holds it (a page read before the filter was cleared may not)
            self.move_cursor(row=index, animate=False, scroll=True)

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value
