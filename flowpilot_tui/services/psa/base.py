"""The PSA provider interface: what writeback needs from any PSA (ConnectWise first; Autotask/HaloPSA can follow).

Providers speak in these small frozen dataclasses, never in wire JSON, and raise `services.psa.errors` types.
Every HTTP call a provider makes is reported as a `PsaCall` (no headers, no bodies, no secrets) to the hook given
at construction and to any `collect_calls()` block active in the current task.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


class NoteVisibility(enum.Enum):
    """Where a note shows. RESOLUTION is customer-visible; INTERNAL never is."""

    RESOLUTION = "resolution"
    INTERNAL = "internal"


@dataclass(frozen=True)
class BoardStatus:
    id: int
    name: str
    board_id: int
    closed: bool
    inactive: bool
    sort_order: int = 0


@dataclass(frozen=True)
class TicketState:
    id: int
    summary: str
    board_id: int
    board_name: str
    status_id: int
    status_name: str
    closed: bool
    company_name: str | None = None
    last_updated: str | None = None


@dataclass(frozen=True)
class PostedNote:
    id: str
    ticket_id: int
    text: str
    visibility: NoteVisibility | None  # None: a kind FlowPilot does not write (e.g. Discussion only)
    created_at: datetime | None = None


@dataclass(frozen=True)
class PsaCall:
    """One HTTP exchange, as the audit log records it."""

    method: str
    path: str
    status_code: int | None
    duration_ms: int
    outcome: str  # ok | http_error | rate_limited | transport_error
    request_id: str | None = None


AuditHook = Callable[[PsaCall], None]

_sink: ContextVar[list[PsaCall] | None] = ContextVar("flowpilot_psa_call_sink", default=None)


@contextmanager
def collect_calls() -> Iterator[list[PsaCall]]:
    """Collect the PSA calls made by this task (and tasks it starts) inside the block; safe with shared providers."""
    calls: list[PsaCall] = []
    token = _sink.set(calls)
    try:
        yield calls
    finally:
        _sink.reset(token)


def report_call(call: PsaCall, hook: AuditHook | None) -> None:
    sink = _sink.get()
    if sink is not None:
        sink.append(call)
    if hook is not None:
        hook(call)


@runtime_checkable
class PsaProvider(Protocol):
    """What writeback needs. Implementations must make `post_note` send each note at most once per call."""

    name: str

    async def get_ticket(self, ticket_id: int) -> TicketState: ...

    async def list_board_statuses(self, board_id: int, *, refresh: bool = False) -> list[BoardStatus]:
        """All statuses of a board, inactive ones included (flagged). Cached per provider."""
        ...

    def known_ticket(self, ticket_id: int) -> TicketState | None:
        """The ticket as this provider last read it (None if never read): lets a post skip a GET for the board."""
        ...

    def forget_board_statuses(self, board_id: int) -> None:
        """Drop a board's cached statuses (a status id was refused, or the list is known to be stale)."""
        ...

    def remember_ticket(self, ticket: TicketState) -> None:
        """Take a ticket state another process read (the shared cache); what this provider read itself wins."""
        ...

    def remember_board_statuses(self, board_id: int, statuses: list[BoardStatus], ttl_s: float) -> None:
        """Take a board's statuses another process read (the shared cache), valid `ttl_s` seconds more."""
        ...

    def cached_board_statuses(self, board_id: int) -> list[BoardStatus] | None:
        """The board's statuses as cached right now, or None (not cached, expired, or dropped after a refusal)."""
        ...

    async def post_note(self, ticket_id: int, text: str, visibility: NoteVisibility) -> PostedNote: ...

    async def list_recent_notes(self, ticket_id: int, limit: int = 25) -> list[PostedNote]:
        """Newest first: used to find a note whose POST outcome is unknown."""
        ...

    async def set_status(self, ticket_id: int, status_id: int) -> TicketState:
        """Ask for a status change; the returned state is the PSA's claim, not proof. Re-read to verify."""
        ...

    async def system_info(self) -> dict[str, Any]:
        """The PSA's own version/identity record (what `flowpilot config check` shows for a connection)."""
        ...

    async def aclose(self) -> None: ...


def normalize_note_text(text: str) -> str:
    """Compare notes the way a PSA may hand them back: LF line endings, no trailing whitespace."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


@dataclass(frozen=True)
class TicketListItem:
    """One row of a ticket queue."""

    id: int
    summary: str
    company_name: str
    status_name: str
    priority_name: str
    board_name: str
    owner: str | None
    entered: datetime | None
    last_updated: datetime | None


@dataclass(frozen=True)
class TicketListPage:
    items: tuple[TicketListItem, ...]
    page: int
    page_size: int
    has_more: bool  # ConnectWise's `Link` header names a next page


@dataclass(frozen=True)
class TicketNote:
    """A note as the PSA shows it, for ticket context (read-only, untrusted text)."""

    id: int
    text: str
    author: str
    created_at: datetime | None
    visibility: str  # discussion | internal | resolution


@dataclass(frozen=True)
class TicketDetail:
    id: int
    summary: str
    board_id: int
    board_name: str
    status_name: str
    closed: bool
    closed_by: str | None
    company_name: str | None
    contact_name: str | None
    site_name: str | None
    configurations: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeEntryRef:
    """A time entry as ConnectWise stores it."""

    id: int
    ticket_id: int
    member: str
    start: datetime | None
    end: datetime | None
    hours: float
    notes: str
