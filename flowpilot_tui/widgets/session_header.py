"""One-line session header: ticket, title, status (in words), owner, PSA link, the ticket's live status, version.

Why a widget: the same summary must read identically wherever it is shown and never parse the title as markup;
the title gives way first when the terminal is narrow, so status and link stay visible. The ticket's live status
(read from the PSA when the workspace opens and after a sync) is shown beside the link; a ticket closed or moved by
someone else is flagged in words ("closed in CW!", "moved!"), never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.services.views import SessionSummary
from flowpilot_tui.widgets.session_table import status_text


@dataclass(frozen=True)
class TicketLive:
    """What the header shows about the linked ticket: its PSA status, and the warning when it changed under us."""

    status_name: str
    closed: bool = False
    warning: str | None = None
    error: str | None = None  # the live status could not be read


class SessionHeader(Static):
    DEFAULT_CSS = "SessionHeader { height: 1; padding: 0 1; background: $panel; }"

    session_summary: SessionSummary | None = None
    ticket_live: TicketLive | None = None

    def show(self, s: SessionSummary) -> None:
        self.session_summary = s
        self._render_line()

    def show_ticket(self, live: TicketLive | None) -> None:
        self.ticket_live = live
        if self.session_summary is not None:
            self._render_line()

    @property
    def ticket_text(self) -> str:
        """The live-status part in words (also what tests and screen readers see)."""
        live = self.ticket_live
        if live is None:
            return ""
        if live.error:
            return "CW status unknown"
        label = f"CW: {one_line(live.status_name, 24)}"
        if live.warning:
            return label + (" — closed in CW!" if live.closed else " — moved!")
        return label

    def _render_line(self) -> None:
        s = self.session_summary
        assert s is not None
        tail = Text()
        tail.append("  ·  ")
        tail.append_text(status_text(s.status))
        tail.append("  ·  ")
        tail.append_text(plain(one_line(s.owner_name, 20)))
        link = f"{s.connection_name} #{s.ticket_id}" if s.ticket_id else "local only"
        tail.append("  ·  ")
        tail.append_text(plain(link, style="dim"))
        if s.ticket_id and self.ticket_text:
            warn = self.ticket_live is not None and (self.ticket_live.warning or self.ticket_live.error)
            tail.append("  ·  ")
            tail.append_text(plain(self.ticket_text, style="bold red" if warn else ""))
        tail.append(f"  ·  v{s.state_version}", style="dim")
        head = Text(f"#{s.ticket_id} " if s.ticket_id else "", style="bold")
        room = max(self.app.size.width - 2 - len(head) - len(tail), 12)
        head.append_text(plain(one_line(s.title, room), style="bold"))
        head.end = ""
        self.update(head + tail)
