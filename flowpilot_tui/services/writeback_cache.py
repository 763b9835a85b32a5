"""The PSA facts a post needs before the status change, kept in the database for every FlowPilot process (issue 15):
a ticket's board (from the last read of the ticket: a post, a link, a sync) and a board's statuses, per connection.

Why: a fresh `flowpilot post --yes` process knew nothing and read the ticket (for its board) and the board's statuses
before the PATCH: 6 requests per verified post instead of 4. Both change rarely, and a stale hint is safe: the status
step re-reads once when the target is not on the cached board, a refused PATCH drops the rows and is retried once
after a re-read (services/writeback_status.py), and every change is verified by reading the ticket back.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.models import PsaCache, PSAConnection
from flowpilot_tui.services.psa.base import BoardStatus, PsaCall, PsaProvider, TicketState

TICKET = "ticket"
STATUSES = "board_statuses"
STATUS_TTL = timedelta(hours=12)  # a board's statuses: an admin adding or retiring one is rare
TICKET_TTL = timedelta(days=7)  # a ticket's board (a move is caught by the re-read above)


async def _connection_id(db: AsyncSession, account_id: int, name: str) -> int | None:
    return await db.scalar(
        select(PSAConnection.id).where(PSAConnection.account_id == account_id, PSAConnection.name == name)
    )


async def prime(
    db: AsyncSession, account_id: int, connection: str, provider: PsaProvider, ticket_id: int, now: datetime
) -> int | None:
    """Give `provider` what the shared cache knows about `ticket_id` and its board; returns that board (or None)."""
    conn_id = await _connection_id(db, account_id, connection)
    if conn_id is None:
        return None
    rows = (
        await db.scalars(
            select(PsaCache).where(
                PsaCache.account_id == account_id,
                PsaCache.connection_id == conn_id,
                or_(and_(PsaCache.kind == TICKET, PsaCache.key == int(ticket_id)), PsaCache.kind == STATUSES),
            )
        )
    ).all()
    ticket_row = next((r for r in rows if r.kind == TICKET and r.fetched_at + TICKET_TTL > now), None)
    ticket = _ticket(ticket_row.payload) if ticket_row else None
    if ticket is None:
        return None
    if provider.known_ticket(ticket_id) is None:
        provider.remember_ticket(ticket)
    board = provider.known_ticket(ticket_id) or ticket
    row = next((r for r in rows if r.kind == STATUSES and r.key == board.board_id), None)
    left = (row.fetched_at + STATUS_TTL - now).total_seconds() if row else 0
    statuses = _statuses(row.payload, board.board_id) if row and left > 0 else None
    if statuses:
        provider.remember_board_statuses(board.board_id, statuses, left)
    return ticket.board_id


async def store(
    db: AsyncSession,
    account_id: int,
    connection: str,
    provider: PsaProvider,
    ticket_id: int,
    calls: list[PsaCall],
    now: datetime,
    *,
    primed_board: int | None,
) -> None:
    """Keep what this post learnt: the ticket as last read, the statuses of its board when read in this post; drop
    what the provider dropped (a refused status id: the board's list and the ticket's board may be stale)."""
    conn_id = await _connection_id(db, account_id, connection)
    if conn_id is None:
        return
    ticket = provider.known_ticket(ticket_id)
    read_ticket = any(c.method == "GET" and c.path.endswith(f"/tickets/{int(ticket_id)}") for c in calls)
    if ticket is None or read_ticket:
        await _put(db, account_id, conn_id, TICKET, int(ticket_id), asdict(ticket) if ticket else None, now)
    for board in {b for b in (primed_board, ticket.board_id if ticket else None) if b}:
        statuses = provider.cached_board_statuses(board)
        read_now = any(c.method == "GET" and c.path.endswith(f"/boards/{board}/statuses") for c in calls)
        if statuses is None:
            await _put(db, account_id, conn_id, STATUSES, board, None, now)
        elif read_now:
            await _put(db, account_id, conn_id, STATUSES, board, {"statuses": [asdict(s) for s in statuses]}, now)


async def keep_ticket(db: AsyncSession, account_id: int, connection: str, ticket: TicketState, now: datetime) -> None:
    """A ticket read outside a post (linking, sync, the live status before a post): remember its board."""
    conn_id = await _connection_id(db, account_id, connection)
    if conn_id is not None and ticket.id and ticket.board_id:
        await _put(db, account_id, conn_id, TICKET, int(ticket.id), asdict(ticket), now)


async def statuses_fresh(db: AsyncSession, account_id: int, connection: str, board_id: int, now: datetime) -> bool:
    """Whether the shared cache holds the board's statuses, still fresh."""
    conn_id = await _connection_id(db, account_id, connection)
    if conn_id is None:
        return True  # nowhere to keep them: nothing to read
    fetched = await db.scalar(
        select(PsaCache.fetched_at).where(
            PsaCache.connection_id == conn_id, PsaCache.kind == STATUSES, PsaCache.key == int(board_id)
        )
    )
    return fetched is not None and fetched + STATUS_TTL > now


async def keep_statuses(
    db: AsyncSession, account_id: int, connection: str, board_id: int, statuses: list[BoardStatus], now: datetime
) -> None:
    """A board's statuses read outside a post (when a ticket on it is linked or imported)."""
    conn_id = await _connection_id(db, account_id, connection)
    if conn_id is not None and statuses:
        await _put(db, account_id, conn_id, STATUSES, int(board_id), {"statuses": [asdict(s) for s in statuses]}, now)


async def _put(
    db: AsyncSession, account_id: int, conn_id: int, kind: str, key: int, payload: dict[str, Any] | None, now: datetime
) -> None:
    row = await db.scalar(
        select(PsaCache).where(PsaCache.connection_id == conn_id, PsaCache.kind == kind, PsaCache.key == key)
    )
    if payload is None:
        if row is not None:
            await db.delete(row)
    elif row is None:
        db.add(
            PsaCache(account_id=account_id, connection_id=conn_id, kind=kind, key=key, payload=payload, fetched_at=now)
        )
    else:
        row.payload, row.fetched_at = payload, now


def _ticket(payload: dict[str, Any]) -> TicketState | None:
    try:
        return TicketState(**payload)
    except TypeError:  # written by another version: ignore
        return None


def _statuses(payload: dict[str, Any], board_id: int) -> list[BoardStatus] | None:
    try:
        found = [BoardStatus(**s) for s in payload.get("statuses", [])]
    except TypeError:
        return None
    return [s for s in found if s.board_id == board_id] or None
