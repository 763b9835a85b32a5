"""The ticket picker's table: the engineer's open PSA tickets, every cell literal text (PSA text is untrusted).

Why append: "Load more" adds the next ConnectWise page below what is shown, so the queue is never fetched whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services.psa.base import TicketListItem
from flowpilot_tui.services.tickets import age

WIDE = {"ticket": 8, "company": 18, "status": 14, "priority": 12, "age": 4}
NARROW = {"ticket": 7, "company": 12, "status": 11, "priority": 8, "age": 3}  # below 100 columns: room for the summary
PADDING = 6 * 2 + 2  # cell padding and the scrollbar
_PRIORITY = re.compile(r"^priority\s*(\d+)\s*-\s*", re.IGNORECASE)


def priority_label(name: str) -> str:
    """ "Priority 3 - Normal Response" -> "P3 Normal Response" (the number survives clipping)."""
    return _PRIORITY.sub(lambda m: f"P{m[1]} ", one_line(name))


class TicketTable(DataTable[Text]):
    DEFAULT_CSS = "TicketTable { height: 1fr; }"

    widths = WIDE

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        w = self.widths = NARROW if self.app.size.width < 100 else WIDE
        self.add_column("Ticket", key="ticket", width=w["ticket"])
        self.add_column("Company", key="company", width=w["company"])
        self.add_column("Summary", key="summary")
        self.add_column("Status", key="status", width=w["status"])
        self.add_column("Priority", key="priority", width=w["priority"])
        self.add_column("Age", key="age", width=w["age"])

    def show(self, items: Iterable[TicketListItem], now: datetime, *, append: bool = False) -> None:
        """Replace the rows (or add them below, for "Load more"); the summary is clipped to what fits."""
        w = self.widths
        width = max(self.app.size.width - sum(w.values()) - PADDING, 12)
        if not append:
            self.clear()
        column = self.columns[ColumnKey("summary")]
        column.auto_width = False  # a fixed width: lazily recomputed auto widths would show clipped text first
        column.width = width
        for t in items:
            if str(t.id) in self.rows:
                continue  # a ticket that moved up between pages is shown once
            self.add_row(
                Text(f"#{t.id}", style="bold"),
                plain(one_line(t.company_name, w["company"])),
                plain(one_line(t.summary, width)),
                plain(one_line(t.status_name, w["status"])),
                plain(one_line(priority_label(t.priority_name), w["priority"])),
                Text(age(t, now)),
                key=str(t.id),
            )

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value) if key.value else None
