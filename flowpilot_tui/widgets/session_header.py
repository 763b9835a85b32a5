"""One-line session header: ticket, title, status (in words), owner, PSA link and state version.

Why a widget: the same summary must read identically wherever it is shown and never parse the title as markup;
the title gives way first when the terminal is narrow, so status and link stay visible.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services.views import SessionSummary
from flowpilot_tui.widgets.session_table import status_text


class SessionHeader(Static):
    DEFAULT_CSS = "SessionHeader { height: 1; padding: 0 1; background: $panel; }"

    def show(self, s: SessionSummary) -> None:
        tail = Text()
        tail.append("  ·  ")
        tail.append_text(status_text(s.status))
        tail.append("  ·  ")
        tail.append_text(plain(one_line(s.owner_name, 20)))
        link = f"{s.connection_name} #{s.ticket_id}" if s.ticket_id else "local only"
        tail.append("  ·  ")
        tail.append_text(plain(link, style="dim"))
        tail.append(f"  ·  v{s.state_version}", style="dim")
        head = Text(f"#{s.ticket_id} " if s.ticket_id else "", style="bold")
        room = max(self.app.size.width - 2 - len(head) - len(tail), 12)
        head.append_text(plain(one_line(s.title, room), style="bold"))
        head.end = ""
        self.update(head + tail)
