"""Session service: the one place that reads and writes sessions, facts, fixes, chat and drafts.

Every method is scoped to the actor's account; every write checks the role; every fact/fix/decision write bumps
state_version in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, literal, literal_column, or_, select, table, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services import audit, rules
from flowpilot_tui.services.access import bump_state_version, load_session
from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import (
    FACT_KINDS,
    FIX_DECISIONS,
    NOTE_KINDS,
    SESSION_STATUSES,
    AISession,
    ChatMessage,
    Draft,
    PSAConnection,
    SessionFact,
    SessionSuggestedFix,
    User,
)
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.views import (
    FactView,
    FixView,
    MessageView,
    Page,
    SessionDetail,
    SessionSummary,
    summary_of,
)

Clock = Callable[[], datetime]
MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_MESSAGE = 200_000
CHAT_ROLES = ("user", "assistant", "system", "tool")
FTS_RARE = 500  # title matches up to which a search is driven by the FTS index (see _title_match)


def utcnow() -> datetime:
    return datetime.now(UTC)


def clean_text(value: str | None, what: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long ({len(text):,} characters; the limit is {limit:,})")
    return text


class SessionService:
    def __init__(self, store: Store, actor: Actor, clock: Clock = utcnow) -> None:
        self.store = store
        self.actor = actor
        self.clock = clock

    # ---- reads ------------------------------------------------------------------------------------------------

    def _summary_query(self) -> Select:
        return (
            select(AISession, User.login, User.display_name, PSAConnection.name)
            .join(User, User.id == AISession.owner_id)
            .outerjoin(PSAConnection, PSAConnection.id == AISession.psa_connection_id)
            .where(AISession.account_id == self.actor.account_id)
        )

    async def list_sessions(
        self,
        *,
        status: str | None = None,
        search: str | None = None,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
        after: str | None = None,
        with_total: bool = True,
    ) -> Page:
        """Newest-updated first. Page on with `after=page.next_after` (keyset: as cheap at page 1,000 as at page 1);
        `offset` still works but walks every earlier row. `with_total=False` skips the count (has_more is still
        known: one extra row is fetched)."""
        if status is not None and status not in SESSION_STATUSES:
            raise InvalidInput(f"Unknown status {status!r}; use one of: {', '.join(SESSION_STATUSES)}")
        limit = max(1, min(int(limit), 500))
        offset = max(0, int(offset))
        conds: list[Any] = [AISession.account_id == self.actor.account_id]
        if status:
            conds.append(AISession.status == status)
        if owner:
            conds.append(AISession.owner_id == select(User.id).where(User.login == owner).scalar_subquery())
        if search and search.strip():
            term = search.strip()
            digits = term[1:] if term.startswith("#") else term
            if term.startswith("#") and digits.isdigit():
                # "#48213" means the ticket: an indexed equality, not a scan of every title.
                conds.append(AISession.psa_ticket_id == int(digits))
            else:
                title = await self._title_match(term)
                conds.append(or_(title, AISession.psa_ticket_id == int(digits)) if digits.isdigit() else title)
        page_conds = list(conds)
        if after:
            # A row-value comparison: the planner turns it into a range on the (…, updated_at, id) index (an OR of
            # `<` and `= AND <` made SQLite walk every row of the account).
            updated, sid = _decode_cursor(after)
            page_conds.append(
                tuple_(AISession.updated_at, AISession.id)
                < tuple_(literal(updated, AISession.updated_at.type), literal(sid, AISession.id.type))
            )
        async with self.store.read() as db:
            rows = (
                await db.execute(
                    self._summary_query()
                    .where(*page_conds[1:])
                    .order_by(AISession.updated_at.desc(), AISession.id.desc())
                    .limit(limit + 1)
                    .offset(0 if after else offset)
                )
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            total = await db.scalar(select(func.count()).select_from(AISession).where(*conds)) if with_total else None
        items = tuple(summary_of(*r) for r in rows)
        next_after = _encode_cursor(items[-1].updated_at, items[-1].id) if more and items else None
        return Page(items, int(total) if total is not None else -1, offset, limit, more=more, next_after=next_after)

    async def _title_match(self, term: str) -> Any:
        """Title contains `term` (case-insensitive, wildcards literal). Other dialects: ILIKE (a trigram index there
        serves it). SQLite, terms of 3+ characters: the FTS5 trigram index, asked first how common the term is —
        a rare term (≤ FTS_RARE matches) is looked up through the index (few rows to fetch and sort); a common one
        is matched while walking the page index in order, which finds a page of matches after a few hundred rows
        (driving 10,000 matches through the index and sorting them cost half a second)."""
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        by_scan = AISession.title.ilike(like, escape="\\")
        if self.store.engine.dialect.name != "sqlite" or len(term) < 3:
            return by_scan
        phrase = '"' + term.replace('"', '""') + '"'
        matches: Select[Any] = (
            select(literal_column("session_id"))
            .select_from(table("ai_sessions_fts"))
            .where(literal_column("ai_sessions_fts").op("MATCH")(phrase))
        )
        async with self.store.read() as db:
            found = await db.scalar(select(func.count()).select_from(matches.limit(FTS_RARE + 1).subquery()))
        return AISession.id.in_(matches) if (found or 0) <= FTS_RARE else by_scan

    async def _summary(self, db: AsyncSession, session_id: str) -> SessionSummary:
        return (await self._summary_and_row(db, session_id))[0]

    async def _summary_and_row(self, db: AsyncSession, session_id: str) -> tuple[SessionSummary, AISession]:
        row = (await db.execute(self._summary_query().where(AISession.id == str(session_id)))).first()
        if row is None:
            raise NotFound(f"Session {session_id} not found")
        return summary_of(*row), row[0]

    async def get(self, session_id: str) -> SessionDetail:
        async with self.store.read() as db:
            return await self.get_in(db, session_id)

    async def get_in(self, db: AsyncSession, session_id: str) -> SessionDetail:
        """`get` inside the caller's open transaction (a live re-read adds its audit lookup to the same one)."""
        summary, row = await self._summary_and_row(db, session_id)  # scoped to the account like load_session
        facts = (
            await db.scalars(select(SessionFact).where(SessionFact.session_id == row.id).order_by(SessionFact.id))
        ).all()
        fixes = (
            await db.scalars(
                select(SessionSuggestedFix)
                .where(SessionSuggestedFix.session_id == row.id)
                .order_by(SessionSuggestedFix.id.desc())
            )
        ).all()
        count = await db.scalar(select(func.count()).where(ChatMessage.session_id == row.id)) or 0
        drafts = (await db.scalars(select(Draft).where(Draft.session_id == row.id))).all()
        return SessionDetail(
            summary=summary,
            facts=tuple(FactView.of(f) for f in facts),
            fixes=tuple(FixView.of(f) for f in fixes),
            message_count=int(count),
            resolution_note_markdown=row.resolution_note_markdown,
            escalation_package_markdown=row.escalation_package_markdown,
            resolved_at=row.resolved_at,
            escalated_at=row.escalated_at,
            drafts={d.kind: d.text for d in drafts},
        )

    async def list_messages(
        self, session_id: str, *, limit: int = 200, before_id: int | None = None
    ) -> list[MessageView]:
        """The newest `limit` messages (older than `before_id` if given), oldest first."""
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            query = select(ChatMessage).where(ChatMessage.session_id == row.id)
            if before_id is not None:
                query = query.where(ChatMessage.id < before_id)
            rows = (await db.scalars(query.order_by(ChatMessage.id.desc()).limit(max(1, limit)))).all()
        return [MessageView.of(m) for m in reversed(rows)]

    # ---- session lifecycle ------------------------------------------------------------------------------------

    async def create(
        self, title: str, *, connection_name: str | None = None, ticket_id: int | None = None
    ) -> SessionSummary:
        self.actor.require_writer()
        title = clean_text(title, "Title", limit=MAX_TITLE)
        if (connection_name is None) != (ticket_id is None):
            raise InvalidInput("A linked ticket needs both a connection name and a ticket id")
        if ticket_id is not None and int(ticket_id) <= 0:
            raise InvalidInput("Ticket id must be a positive number")
        now = self.clock()
        async with self.store.write() as db:
            connection_id = None
            if connection_name is not None:
                connection_id = await db.scalar(
                    select(PSAConnection.id).where(
                        PSAConnection.account_id == self.actor.account_id, PSAConnection.name == connection_name
                    )
                )
                if connection_id is None:
                    raise NotFound(f"PSA connection {connection_name!r} not found for this account")
            row = AISession(
                account_id=self.actor.account_id,
                owner_id=self.actor.user_id,
                title=title,
                status="active",
                psa_connection_id=connection_id,
                psa_ticket_id=int(ticket_id) if ticket_id is not None else None,
                state_version=1,
                created_at=now,
                updated_at=now,
            )
            db.add(row)
            await db.flush()
            return await self._summary(db, row.id)

    async def _transition(self, session_id: str, action: str, *, reason: str | None = None) -> SessionSummary:
        self.actor.require_writer()
        reason = clean_text(reason, "Escalation reason", required=False) or None
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            previous = row.status
            row.status = rules.target_status(action, row.status)
            if reason:
                row.escalation_reason = reason
            row.updated_at = now = self.clock()
            audit.add_event(
                db, self.actor, row.id, audit.STATUS_PREFIX + action, {"from": previous, "to": row.status}, now
            )
            await db.flush()
            return await self._summary(db, row.id)

    async def pause(self, session_id: str) -> SessionSummary:
        return await self._transition(session_id, "pause")

    async def resume(self, session_id: str) -> SessionSummary:
        return await self._transition(session_id, "resume")

    async def request_escalation(self, session_id: str, reason: str | None = None) -> SessionSummary:
        """Status and reason change together, in one transaction."""
        return await self._transition(session_id, "request_escalation", reason=reason)

    # ---- chat -------------------------------------------------------------------------------------------------

    async def append_message(
        self, session_id: str, role: str, content: str, *, interrupted: bool = False, meta: dict | None = None
    ) -> MessageView:
        self.actor.require_writer()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            return await self.append_message_in(db, row, role, content, interrupted=interrupted, meta=meta)

    # The `*_in` variants do the same inside the caller's open write transaction, for batches that must commit
    # together (an assistant reply with the facts and fix it recorded). `row` comes from `load_session`.

    async def append_message_in(
        self,
        db: AsyncSession,
        row: AISession,
        role: str,
        content: str,
        *,
        interrupted: bool = False,
        meta: dict | None = None,
    ) -> MessageView:
        self.actor.require_writer()
        if role not in CHAT_ROLES:
            raise InvalidInput(f"Unknown chat role {role!r}")
        if len(content) > MAX_MESSAGE:
            raise InvalidInput(f"Message is too long ({len(content):,} characters; the limit is {MAX_MESSAGE:,})")
        now = self.clock()
        msg = ChatMessage(
            session_id=row.id, role=role, content=content, interrupted=interrupted, meta=meta, created_at=now
        )
        db.add(msg)
        row.updated_at = now
        if role == "user":  # what the engineer typed; the assistant's reply and tool cards are part of that turn
            audit.add_event(db, self.actor, row.id, audit.CHAT_MESSAGE, {"role": role}, now)
        await db.flush()
        return MessageView.of(msg)

    # ---- facts ------------------------------------------------------------------------------------------------

    async def add_fact(
        self, session_id: str, kind: str, text: str, *, outcome: str | None = None, source: str = "engineer"
    ) -> FactView:
        self.actor.require_writer()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            return await self.add_fact_in(db, row, kind, text, outcome=outcome, source=source)

    async def add_fact_in(
        self,
        db: AsyncSession,
        row: AISession,
        kind: str,
        text: str,
        *,
        outcome: str | None = None,
        source: str = "engineer",
    ) -> FactView:
        """Validates before touching the transaction, so a caller may catch InvalidInput and carry on."""
        self.actor.require_writer()
        if kind not in FACT_KINDS:
            raise InvalidInput(f"Unknown fact kind {kind!r}; use one of: {', '.join(FACT_KINDS)}")
        text = clean_text(text, "Fact text")
        outcome = clean_text(outcome, "Outcome", required=False) or None
        now = self.clock()
        fact = SessionFact(
            session_id=row.id, kind=kind, text=text, outcome=outcome, source=source, created_at=now, updated_at=now
        )
        db.add(fact)
        await db.flush()
        await bump_state_version(
            db, self.actor, row.id, now, audit.FACT_ADDED, {"fact_id": fact.id, "kind": kind, "source": source}
        )
        return FactView.of(fact)

    async def _load_fact(self, db: AsyncSession, session_id: str, fact_id: int) -> SessionFact:
        row = await load_session(db, self.actor, session_id)
        fact = await db.scalar(
            select(SessionFact).where(SessionFact.id == int(fact_id), SessionFact.session_id == row.id)
        )
        if fact is None:
            raise NotFound(f"Fact {fact_id} not found in session {session_id}")
        return fact

    async def edit_fact(
        self,
        session_id: str,
        fact_id: int,
        *,
        text: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
    ) -> FactView:
        self.actor.require_writer()
        if kind is not None and kind not in FACT_KINDS:
            raise InvalidInput(f"Unknown fact kind {kind!r}; use one of: {', '.join(FACT_KINDS)}")
        now = self.clock()
        async with self.store.write() as db:
            fact = await self._load_fact(db, session_id, fact_id)
            if text is not None:
                fact.text = clean_text(text, "Fact text")
            if kind is not None:
                fact.kind = kind
            if outcome is not None:
                fact.outcome = clean_text(outcome, "Outcome", required=False) or None
            fact.updated_at = now
            await db.flush()
            await bump_state_version(
                db, self.actor, fact.session_id, now, audit.FACT_EDITED, {"fact_id": fact.id, "kind": fact.kind}
            )
            return FactView.of(fact)

    async def delete_fact(self, session_id: str, fact_id: int) -> None:
        self.actor.require_writer()
        now = self.clock()
        async with self.store.write() as db:
            fact = await self._load_fact(db, session_id, fact_id)
            await db.delete(fact)
            await db.flush()
            await bump_state_version(
                db, self.actor, fact.session_id, now, audit.FACT_DELETED, {"fact_id": fact.id, "kind": fact.kind}
            )

    # ---- suggested fixes --------------------------------------------------------------------------------------

    async def propose_fix(
        self,
        session_id: str,
        title: str,
        *,
        rationale: str = "",
        steps: Sequence[str] = (),
        target_shell: str | None = None,
        source: str = "engineer",
    ) -> FixView:
        """A new suggestion supersedes the active one: at most one active fix, history kept."""
        self.actor.require_writer()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            return await self.propose_fix_in(
                db, row, title, rationale=rationale, steps=steps, target_shell=target_shell, source=source
            )

    async def propose_fix_in(
        self,
        db: AsyncSession,
        row: AISession,
        title: str,
        *,
        rationale: str = "",
        steps: Sequence[str] = (),
        target_shell: str | None = None,
        source: str = "engineer",
    ) -> FixView:
        """Validates before touching the transaction, so a caller may catch InvalidInput and carry on."""
        self.actor.require_writer()
        title = clean_text(title, "Fix title", limit=MAX_TITLE)
        rationale = clean_text(rationale, "Rationale", required=False)
        clean_steps = [clean_text(s, "Step") for s in steps if s and s.strip()]
        if target_shell not in (None, "powershell", "bash"):
            raise InvalidInput("Target shell must be 'powershell' or 'bash'")
        now = self.clock()
        await db.execute(
            update(SessionSuggestedFix)
            .where(SessionSuggestedFix.session_id == row.id, SessionSuggestedFix.superseded_at.is_(None))
            .values(superseded_at=now)
            .execution_options(synchronize_session=False)
        )
        fix = SessionSuggestedFix(
            session_id=row.id,
            title=title,
            rationale=rationale,
            steps=clean_steps,
            target_shell=target_shell,
            source=source,
            created_at=now,
        )
        db.add(fix)
        await db.flush()
        await bump_state_version(
            db, self.actor, row.id, now, audit.FIX_PROPOSED, {"fix_id": fix.id, "title": title[:120], "source": source}
        )
        return FixView.of(fix)

    async def decide_fix(self, session_id: str, fix_id: int, decision: str) -> FixView:
        self.actor.require_writer()
        if decision not in FIX_DECISIONS:
            raise InvalidInput(f"Unknown decision {decision!r}; use one of: {', '.join(FIX_DECISIONS)}")
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            fix = await db.scalar(
                select(SessionSuggestedFix).where(
                    SessionSuggestedFix.id == int(fix_id), SessionSuggestedFix.session_id == row.id
                )
            )
            if fix is None:
                raise NotFound(f"Fix {fix_id} not found in session {session_id}")
            if decision == "dismissed":
                if fix.superseded_at is not None:
                    raise Conflict("This fix is already superseded by a newer suggestion")
                fix.superseded_at = now
            fix.user_decision = decision
            fix.decided_at = now
            await db.flush()
            await bump_state_version(
                db, self.actor, row.id, now, audit.FIX_DECIDED, {"fix_id": fix.id, "decision": decision}
            )
            return FixView.of(fix)

    # ---- drafts -----------------------------------------------------------------------------------------------

    async def save_draft(self, session_id: str, kind: str, text: str, base_state_version: int) -> None:
        """Persist the engineer's edit as they type. Drafts are not state: no state_version bump."""
        self.actor.require_writer()
        if kind not in NOTE_KINDS:
            raise InvalidInput(f"Unknown note kind {kind!r}")
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            draft = await db.get(Draft, (row.id, kind))
            if draft is None:
                db.add(
                    Draft(
                        session_id=row.id, kind=kind, text=text, base_state_version=base_state_version, updated_at=now
                    )
                )
            else:
                draft.text, draft.base_state_version, draft.updated_at = text, base_state_version, now

    async def get_draft(self, session_id: str, kind: str) -> tuple[str, int] | None:
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            draft = await db.get(Draft, (row.id, kind))
            return (draft.text, draft.base_state_version) if draft else None

    async def discard_draft(self, session_id: str, kind: str) -> None:
        self.actor.require_writer()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            await db.execute(delete(Draft).where(Draft.session_id == row.id, Draft.kind == kind))


def _encode_cursor(updated_at: datetime, session_id: str) -> str:
    return f"{updated_at.isoformat()}|{session_id}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, sid = cursor.split("|", 1)
        return datetime.fromisoformat(stamp), sid
    except ValueError:
        raise InvalidInput(f"Not a paging cursor: {cursor!r} (use the next_after value of a previous page)") from None
