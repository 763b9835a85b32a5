"""Work from the PSA queue: list my tickets, import one as a session, sync the notes added since.

- The queue is the configured member's open tickets (owner or assigned resource, `closedFlag=false`), newest
  activity first, one ConnectWise page per call (`page`/`pageSize`/`conditions`): a 5,000-ticket queue is never
  fetched whole. Search by number (`48213`, `#48213`) or summary text is a server-side condition too.
- Import creates a session linked to the ticket: title from the summary; the customer's initial description (the
  oldest Discussion note) as a `symptom` fact; company, contact, site and configuration items as `environment`
  facts; every note as a read-only chat message (role `system`, never sent to a model) naming author, time and
  visibility — all with `source = psa`. Importing the same ticket again opens the existing session.
- Sync appends the notes whose id is above the newest imported one and reports the live status (closed by someone
  else, moved to another board) so the engineer sees it before posting.

PSA text is untrusted: it is stored as plain text (the chat renders system messages as plain text) and facts go
through the redactor like everything else before any model call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.errors import ConfigError, InvalidInput, NotFound
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import AISession, ChatMessage, PSAConnection
from flowpilot_tui.services.psa.base import TicketDetail, TicketListItem, TicketListPage, TicketNote, TicketState
from flowpilot_tui.services.sessions import MAX_TEXT, Clock, SessionService, utcnow
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.views import SessionSummary

if TYPE_CHECKING:
    from flowpilot_tui.config import ConnectWiseConnection
    from flowpilot_tui.services.psa.base import PsaProvider

Providers = Callable[[str], Any]
SOURCE = "psa"
VISIBILITY_LABEL = {"discussion": "Discussion", "internal": "Internal", "resolution": "Resolution"}


@dataclass(frozen=True)
class ImportResult:
    session: SessionSummary
    created: bool  # False: the ticket was already imported; this is the existing session
    facts: int
    notes: int


@dataclass(frozen=True)
class SyncResult:
    session_id: str
    ticket_id: int
    new_notes: tuple[TicketNote, ...]
    status_name: str
    closed: bool
    warning: str | None  # closed or moved by someone else: say so before the engineer posts


def _quote(text: str) -> str:
    """A ConnectWise string literal: double quotes, and a double quote inside becomes a single one."""
    return '"' + text.replace('"', "'").replace("\\", "") + '"'


def note_message(ticket_id: int, note: TicketNote) -> str:
    when = note.created_at.strftime("%Y-%m-%d %H:%M UTC") if note.created_at else "unknown time"
    label = VISIBILITY_LABEL.get(note.visibility, note.visibility)
    return f"Ticket #{ticket_id} note · {label} · {note.author} · {when} (from ConnectWise, read-only)\n\n{note.text}"


class TicketService:
    def __init__(
        self,
        store: Store,
        actor: Actor,
        providers: Providers,
        connections: Mapping[str, ConnectWiseConnection],
        clock: Clock = utcnow,
    ) -> None:
        self.store, self.actor, self.providers, self.clock = store, actor, providers, clock
        self.connections = dict(connections)
        self.sessions = SessionService(store, actor, clock)

    # ---- settings -------------------------------------------------------------------------------------------

    def connection_name(self, name: str | None) -> str:
        if name:
            if name not in self.connections:
                raise ConfigError(f"PSA connection {name!r} is not configured (add [connections.{name}] to the config)")
            return name
        if len(self.connections) == 1:
            return next(iter(self.connections))
        if not self.connections:
            raise ConfigError("no PSA connection is configured; add a [connections.NAME] block to the config")
        raise InvalidInput(
            f"several connections are configured; pick one with --connection ({', '.join(self.connections)})"
        )

    def member(self, name: str) -> str:
        member = self.connections[name].member_for(self.actor.login)
        if not member:
            raise ConfigError(
                f"connections.{name}.member_identifier is not set: FlowPilot needs your ConnectWise member id to list "
                f"your tickets (or set connections.{name}.members.{self.actor.login})"
            )
        return member

    # ---- the queue ------------------------------------------------------------------------------------------

    async def list_tickets(
        self,
        *,
        connection: str | None = None,
        board: str | None = None,
        status: str | None = None,
        search: str | None = None,
        page: int = 1,
        page_size: int = 25,
    ) -> tuple[str, TicketListPage]:
        name = self.connection_name(connection)
        member = self.member(name)
        provider = self.providers(name)
        m = _quote(member)
        conds = [f"(owner/identifier={m} or resources contains {m})", "closedFlag=false"]
        if board:
            conds.append(f"board/name={_quote(board)}")
        if status:
            conds.append(f"status/name={_quote(status)}")
        term = (search or "").strip()
        if term:
            digits = term.removeprefix("#")
            conds.append(
                f"(id={int(digits)} or summary contains {_quote(term)})"
                if digits.isdigit()
                else f"summary contains {_quote(term)}"
            )
        result = await provider.list_tickets(" and ".join(conds), page=page, page_size=page_size)
        if page == 1 and not result.items and not await provider.member_exists(member):
            raise ConfigError(
                f"ConnectWise has no member {member!r} (connections.{name}.member_identifier); check the identifier "
                "in ConnectWise under System > Members"
            )
        return name, result

    # ---- import ---------------------------------------------------------------------------------------------

    async def _existing(self, connection_id: int, ticket_id: int) -> str | None:
        async with self.store.read() as db:
            return await db.scalar(
                select(AISession.id)
                .where(
                    AISession.account_id == self.actor.account_id,
                    AISession.psa_connection_id == connection_id,
                    AISession.psa_ticket_id == ticket_id,
                )
                .order_by(AISession.created_at.desc())
                .limit(1)
            )

    async def _connection_id(self, name: str) -> int:
        async with self.store.read() as db:
            cid = await db.scalar(
                select(PSAConnection.id).where(
                    PSAConnection.account_id == self.actor.account_id, PSAConnection.name == name
                )
            )
        if cid is None:
            raise NotFound(f"PSA connection {name!r} not found for this account")
        return int(cid)

    async def import_ticket(self, ticket_id: int, *, connection: str | None = None) -> ImportResult:
        self.actor.require_writer()
        name = self.connection_name(connection)
        cid = await self._connection_id(name)
        existing = await self._existing(cid, int(ticket_id))
        if existing is not None:
            return ImportResult((await self.sessions.get(existing)).summary, False, 0, 0)
        provider = self.providers(name)
        detail: TicketDetail = await provider.get_ticket_detail(int(ticket_id))
        notes: list[TicketNote] = await provider.list_ticket_notes(int(ticket_id))
        now = self.clock()
        async with self.store.write() as db:  # BEGIN IMMEDIATE: a concurrent import of the same ticket waits here
            again = await db.scalar(
                select(AISession.id).where(
                    AISession.account_id == self.actor.account_id,
                    AISession.psa_connection_id == cid,
                    AISession.psa_ticket_id == int(ticket_id),
                )
            )
            if again is not None:
                summary = await self.sessions._summary(db, again)
                return ImportResult(summary, False, 0, 0)
            row = AISession(
                account_id=self.actor.account_id,
                owner_id=self.actor.user_id,
                title=(detail.summary or f"Ticket #{ticket_id}")[:300],
                status="active",
                psa_connection_id=cid,
                psa_ticket_id=int(ticket_id),
                state_version=1,
                created_at=now,
                updated_at=now,
            )
            db.add(row)
            await db.flush()
            first = next((n for n in notes if n.visibility == "discussion"), None)
            facts = [("symptom", (first.text if first else detail.summary)[:MAX_TEXT])]
            for label, value in (
                ("Company", detail.company_name),
                ("Contact", detail.contact_name),
                ("Site", detail.site_name),
            ):
                if value:
                    facts.append(("environment", f"{label}: {value}"))
            facts += [("environment", f"Configuration: {c}") for c in detail.configurations]
            for kind, text in facts:
                if text.strip():
                    await self.sessions.add_fact_in(db, row, kind, text, source=SOURCE)
            header = (
                f"Imported ConnectWise ticket #{ticket_id} ({detail.board_name} · {detail.status_name}); "
                f"{len(notes)} note(s) below are ticket context, read-only."
            )
            meta = {"source": SOURCE, "ticket_import": {"board_id": detail.board_id, "ticket_id": int(ticket_id)}}
            await self.sessions.append_message_in(db, row, "system", header, meta=meta)
            for note in notes:
                await self._add_note(db, row, int(ticket_id), note)
            summary = await self.sessions._summary(db, row.id)
        known = provider.known_ticket(int(ticket_id))
        if known is not None:
            await self._share(name, known, provider)
        return ImportResult(summary, True, len(facts), len(notes))

    async def _add_note(self, db: Any, row: AISession, ticket_id: int, note: TicketNote) -> None:
        meta = {
            "source": SOURCE,
            "psa_note_id": note.id,
            "visibility": note.visibility,
            "author": note.author,
            "created_at": note.created_at.isoformat() if note.created_at else None,
        }
        await self.sessions.append_message_in(
            db, row, "system", note_message(ticket_id, note)[: MAX_TEXT * 2], meta=meta
        )

    # ---- sync -----------------------------------------------------------------------------------------------

    async def _link(self, session_id: str) -> tuple[str, int, int, int | None]:
        """(connection name, ticket id, newest imported note id, board id at import) of a linked session."""
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            if row.psa_ticket_id is None or row.psa_connection_id is None:
                raise InvalidInput(f"Session {session_id} is not linked to a ticket; nothing to sync")
            name = await db.scalar(
                select(PSAConnection.name).where(
                    PSAConnection.id == row.psa_connection_id, PSAConnection.account_id == self.actor.account_id
                )
            )
            metas = (
                await db.scalars(
                    select(ChatMessage.meta).where(ChatMessage.session_id == row.id, ChatMessage.role == "system")
                )
            ).all()
        last, board = 0, None
        for meta in metas:
            if isinstance(meta, dict) and meta.get("source") == SOURCE:
                last = max(last, int(meta.get("psa_note_id") or 0))
                board = (meta.get("ticket_import") or {}).get("board_id", board)
        return str(name), int(row.psa_ticket_id), last, board

    async def sync(self, session_id: str) -> SyncResult:
        name, ticket_id, last, board = await self._link(session_id)
        provider = self.providers(self.connection_name(name))
        detail = await provider.get_ticket(ticket_id)
        await self._share(name, detail)
        new = await provider.list_ticket_notes(ticket_id, after_id=last)
        if new:
            self.actor.require_writer()
            async with self.store.write() as db:
                row = await load_session(db, self.actor, session_id)
                for note in new:
                    await self._add_note(db, row, ticket_id, note)
        return SyncResult(
            session_id, ticket_id, tuple(new), detail.status_name, detail.closed, ticket_warning(detail, board)
        )

    async def _share(self, connection: str, ticket: TicketState, provider: PsaProvider | None = None) -> None:
        """Remember the ticket's board for the next post from any FlowPilot process (services/writeback_cache.py):
        a fresh `flowpilot post` then needs no ticket GET before the status change. With `provider` (a link or an
        import: the session will be posted from) the board's statuses too, read now unless the cache holds them, so
        that post makes 4 requests even when it is the first on the connection. Best effort; writers only."""
        if not self.actor.can_write:
            return
        from flowpilot_tui.services import writeback_cache

        acct, now = self.actor.account_id, self.clock()
        try:
            statuses = None
            if provider is not None and ticket.board_id:
                async with self.store.read() as db:
                    fresh = await writeback_cache.statuses_fresh(db, acct, connection, ticket.board_id, now)
                if not fresh:
                    statuses = await provider.list_board_statuses(ticket.board_id)
            async with self.store.write() as db:
                await writeback_cache.keep_ticket(db, acct, connection, ticket, now)
                if statuses:
                    await writeback_cache.keep_statuses(db, acct, connection, ticket.board_id, statuses, now)
        except Exception:  # noqa: BLE001 - a cache write never fails a read
            pass

    async def check_ticket(self, connection: str, ticket_id: int) -> str:
        """Read the ticket before a session is linked to it: a ticket that does not exist is refused now, not at post
        time. Returns its summary. An unreachable PSA raises its PsaError (the caller may link it unchecked)."""
        from flowpilot_tui.services.psa.errors import PsaCallError

        provider = self.providers(self.connection_name(connection))
        try:
            ticket = await provider.get_ticket(int(ticket_id))
        except PsaCallError as exc:
            if exc.status_code == 404:
                raise NotFound(f"Ticket #{int(ticket_id)} does not exist in {connection}") from exc
            raise
        await self._share(connection, ticket, provider)
        return str(ticket.summary or "")

    async def live_status(self, session_id: str, *, just_read: bool = False) -> SyncResult:
        """The linked ticket's live status (closed or moved by someone else is the warning); only its board is kept
        (the shared PSA cache, for the next post).
        `just_read`: the caller read the ticket a moment ago (the post plan does), so that read is used again."""
        name, ticket_id, _last, board = await self._link(session_id)
        provider = self.providers(self.connection_name(name))
        known = provider.known_ticket(ticket_id) if just_read else None
        detail = known or await provider.get_ticket(ticket_id)
        if known is None:
            await self._share(name, detail)
        return SyncResult(session_id, ticket_id, (), detail.status_name, detail.closed, ticket_warning(detail, board))


def ticket_warning(ticket: Any, imported_board_id: int | None) -> str | None:
    """Closed or moved by someone else since the import: the words shown before posting."""
    if ticket.closed:
        return (
            f"Ticket #{ticket.id} is closed in ConnectWise (status {ticket.status_name}); "
            "ConnectWise refuses time on a closed ticket"
        )
    if imported_board_id is not None and ticket.board_id != imported_board_id:
        return (
            f"Ticket #{ticket.id} was moved to board {ticket.board_name} (status {ticket.status_name}) since the import"
        )
    return None


def age(item: TicketListItem, now: datetime) -> str:
    if item.entered is None:
        return "?"
    minutes = int((now - item.entered).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"
