"""Live updates between engineers: which sessions of my account another FlowPilot changed, pushed without a key press.

- PostgreSQL: `LISTEN flowpilot_changes` on a dedicated asyncpg connection; migration 0005 adds a trigger that
  notifies `<account id>:<session id>` on every insert/update of a session row (fact, fix and chat writes bump the
  row; posts, status changes and take-overs update it).
- SQLite: a cheap probe, `PRAGMA data_version` on a dedicated connection (it changes only when *another* connection
  committed); on a change, one indexed query for the sessions updated since the last look.

One feed serves a whole app: `subscribe(callback)` adds a listener (every screen that follows changes), so a FlowPilot
holds one LISTEN connection or one probe however many screens are open. `next_batch()` waits for the next set of
changed session ids (scripts and tests).

`reread` re-reads a changed session and, in the same transaction, the audit trail since the version on screen: who did
what and when (every session write records an audit event: services/audit.py). `describe_change` turns that into one
line for an engineer whose draft sits on a session that changed ("Dana Ortiz edited a fact 12 s ago (alice's
session)"); the draft itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services import audit
from flowpilot_tui.services.models import AISession, AuditEvent, User
from flowpilot_tui.services.store import Store, sqlite_path
from flowpilot_tui.services.views import SessionDetail

if TYPE_CHECKING:
    from flowpilot_tui.services.sessions import SessionService

CHANNEL = "flowpilot_changes"
APPLICATION_NAME = "flowpilot-live"  # the LISTEN connection's name in pg_stat_activity
# Probe interval: `PRAGMA data_version` on an idle connection costs microseconds, so 100 ms keeps the wait for the
# next probe (half of it on average) small next to the re-read and the redraw.
SQLITE_PROBE_S = 0.1
# The SQLite probe looks back this far behind the newest updated_at it has seen (another process's clock may lag a
# little); rows are reported once per (updated_at, state_version), so the look-back costs no repeated deliveries.
SQLITE_LOOKBACK = timedelta(seconds=30)

OnChange = Callable[[set[str]], None]


class ChangeFeed:
    """Changes to `account_id`'s sessions made by other connections. Start once, then await `next_batch()` — or
    `subscribe(callback)` (or pass `on_change`): each subscriber is called (in the event loop, never blocking) with
    each coalesced set of changed ids; a UI posts a message from it and applies the change in one place."""

    def __init__(
        self, store: Store, account_id: int, *, probe_s: float = SQLITE_PROBE_S, on_change: OnChange | None = None
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.probe_s = probe_s
        self._subscribers: list[OnChange] = [on_change] if on_change is not None else []
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()
        self._flush_scheduled = False
        self._task: asyncio.Task[None] | None = None
        self._pg: Any = None
        self._since: datetime | None = None
        self._seen: dict[str, tuple[datetime, int]] = {}
        self.closed = False

    async def start(self) -> ChangeFeed:
        if self.store.is_postgres:
            import asyncpg

            url = make_url(self.store.db_url)
            self._pg = await asyncpg.connect(
                user=url.username,
                password=url.password,
                host=url.host,
                port=url.port,
                database=url.database,
                server_settings={"application_name": APPLICATION_NAME},
            )
            await self._pg.add_listener(CHANNEL, self._on_notify)
        else:
            self._since = await self._high_water()
            self._task = asyncio.create_task(self._probe_sqlite(), name="flowpilot-live-probe")
        return self

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        account, _, session_id = payload.partition(":")
        if account == str(self.account_id) and session_id:
            self._emit(session_id)

    def subscribe(self, callback: OnChange) -> Callable[[], None]:
        """Call `callback` with every later batch of changed ids; returns the function that unsubscribes it."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, session_id: str) -> None:
        if not self._subscribers:
            self._queue.put_nowait(session_id)
            return
        self._pending.add(session_id)
        if not self._flush_scheduled:  # a burst of notifications becomes one call
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, set()
        if not batch or self.closed:
            return
        for callback in list(self._subscribers):
            callback(set(batch))

    async def _high_water(self) -> datetime | None:
        from sqlalchemy import func

        async with self.store.read() as db:
            since = await db.scalar(
                select(func.max(AISession.updated_at)).where(AISession.account_id == self.account_id)
            )
        if since is not None:
            await self._changed_rows(since)  # what exists now is the baseline, not a change
        return since

    async def _probe_sqlite(self) -> None:
        import aiosqlite

        path = sqlite_path(self.store.db_url)
        if path is None:
            return
        async with aiosqlite.connect(path) as conn:
            await conn.execute("PRAGMA busy_timeout=5000")
            last = None
            while True:
                async with conn.execute("PRAGMA data_version") as cur:
                    row = await cur.fetchone()
                version = row[0] if row else None
                if last is None or version != last:  # first turn: what changed between start() and now
                    await self._collect_sqlite()
                last = version
                await asyncio.sleep(self.probe_s)

    async def _collect_sqlite(self) -> None:
        for session_id in await self._changed_rows(self._since):
            self._emit(session_id)

    async def _changed_rows(self, since: datetime | None) -> list[str]:
        """Sessions whose (updated_at, state_version) differs from what was last seen, looking back a little behind
        the high-water mark; one indexed range query."""
        query = select(AISession.id, AISession.updated_at, AISession.state_version).where(
            AISession.account_id == self.account_id
        )
        floor = since - SQLITE_LOOKBACK if since is not None else None
        if floor is not None:
            query = query.where(AISession.updated_at >= floor)
        async with self.store.read() as db:
            rows = (await db.execute(query)).all()
        changed = []
        for session_id, updated, version in rows:
            if self._seen.get(session_id) != (updated, version):
                self._seen[session_id] = (updated, version)
                changed.append(session_id)
            if self._since is None or updated > self._since:
                self._since = updated
        if self._since is not None:  # forget rows that fell out of the look-back window
            horizon = self._since - SQLITE_LOOKBACK
            self._seen = {k: v for k, v in self._seen.items() if v[0] >= horizon}
        return changed

    async def next_batch(self, timeout: float | None = None) -> set[str]:
        """The next changed session ids (everything queued so far), or an empty set after `timeout` seconds."""
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return set()
        batch = {first}
        while not self._queue.empty():
            batch.add(self._queue.get_nowait())
        return batch

    async def close(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pg is not None:
            with contextlib.suppress(Exception):
                await self._pg.close()


@dataclass(frozen=True)
class ChangeEvent:
    """One audited write by another engineer: who, what (an audit action), when."""

    who: str
    action: str
    at: datetime
    detail: dict[str, Any]


@dataclass(frozen=True)
class Changes:
    """The audited writes of other engineers since the version on screen, oldest first, read at `now`."""

    events: tuple[ChangeEvent, ...]
    now: datetime

    def __bool__(self) -> bool:
        return bool(self.events)


async def changes_in(
    db: AsyncSession, account_id: int, session_id: str, since: datetime, me: int, now: datetime
) -> Changes:
    """Other engineers' audited writes to the session since `since` (take-overs, facts, fixes, scripts, status
    changes, chat, posts), oldest first; PSA call rows are left out."""
    rows = (
        await db.execute(
            select(User.display_name, User.login, AuditEvent.action, AuditEvent.created_at, AuditEvent.detail)
            .join(User, User.id == AuditEvent.user_id)
            .where(
                AuditEvent.account_id == account_id,
                AuditEvent.session_id == session_id,
                AuditEvent.created_at > since,  # `since` is the version on screen: its own write is in it
                AuditEvent.user_id != me,
                AuditEvent.action != "psa.call",
            )
            .order_by(AuditEvent.id)
            .limit(200)
        )
    ).all()
    events = tuple(
        ChangeEvent(name or login, action, _aware(at), detail or {}) for name, login, action, at, detail in rows
    )
    return Changes(events, _aware(now))


async def recent_changes(
    store: Store, account_id: int, session_id: str, since: datetime, me: int, now: datetime
) -> Changes:
    async with store.read() as db:
        return await changes_in(db, account_id, session_id, since, me, now)


async def reread(
    sessions: SessionService, session_id: str, before: SessionDetail | None, *, now: datetime
) -> tuple[SessionDetail, Changes | None]:
    """A live re-read: the session and (when a version is on screen) who changed it since, in one read transaction
    (on PostgreSQL every transaction is a few round trips; a loaded server makes each one slow)."""
    actor = sessions.actor
    async with sessions.store.read() as db:
        detail = await sessions.get_in(db, session_id)
        if before is None:
            return detail, None
        changes = await changes_in(db, actor.account_id, session_id, before.summary.updated_at, actor.user_id, now)
    return detail, changes


async def recent_actor(store: Store, account_id: int, session_id: str, since: datetime, me: int) -> str | None:
    """The display name of the last other engineer in the session's audit trail since `since`, or None."""
    changes = await recent_changes(store, account_id, session_id, since, me, since)
    return changes.events[-1].who if changes.events else None


# What each audited write is called in a live message, and which part of the screen it explains (a part explained by
# an event is not repeated from the before/after comparison).
_PHRASES: dict[str, tuple[str, str, str]] = {  # action: (topic, one, several with {n})
    audit.FACT_ADDED: ("facts", "added a fact", "added {n} facts"),
    audit.FACT_EDITED: ("facts", "edited a fact", "edited {n} facts"),
    audit.FACT_DELETED: ("facts", "deleted a fact", "deleted {n} facts"),
    audit.FIX_PROPOSED: ("fix", "proposed a fix", "proposed {n} fixes"),
    audit.FIX_DECIDED: ("fix", "decided on the fix", "decided on {n} fixes"),
    audit.SCRIPT_CREATED: ("fix", "generated a script", "generated {n} scripts"),
    audit.TEMPLATE_DRAFTED: ("fix", "drafted a script template", "drafted {n} script templates"),
    audit.TEMPLATE_BUILT: ("fix", "built a script template", "built {n} script templates"),
    audit.CHAT_MESSAGE: ("chat", "wrote in the chat", "wrote {n} chat messages"),
    audit.STATUS_PREFIX + "pause": ("status", "paused the session", "paused the session"),
    audit.STATUS_PREFIX + "resume": ("status", "resumed the session", "resumed the session"),
    audit.STATUS_PREFIX + "request_escalation": ("status", "requested escalation", "requested escalation"),
    "session.takeover": ("owner", "took this session over", "took this session over"),
    "writeback.resolved": ("status", "posted the resolution note", "posted the resolution note"),
    "writeback.escalated": ("status", "posted the escalation", "posted the escalation"),
    "writeback.resolved_local": ("status", "resolved the session", "resolved the session"),
    "writeback.escalated_local": ("status", "escalated the session", "escalated the session"),
}


def ago(seconds: float) -> str:
    """12 s ago, 3 min ago, 2 h ago; under a second is 'just now'."""
    s = int(max(0.0, seconds))
    if s < 1:
        return "just now"
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago"


def _phrase(action: str, events: list[ChangeEvent]) -> str:
    _topic, one, several = _PHRASES[action]
    text = one if len(events) == 1 else several.format(n=len(events))
    last = events[-1].detail
    if action == audit.FIX_PROPOSED and len(events) == 1 and last.get("title"):
        text += f" ({last['title']})"
    elif action == audit.FIX_DECIDED and len(events) == 1:
        decision = str(last.get("decision", ""))
        text = "dismissed the fix" if decision == "dismissed" else f"chose {decision.replace('_', ' ')} for the fix"
    return text


def who_did_what(changes: Changes) -> tuple[str, set[str]]:
    """'Dana Ortiz edited a fact 12 s ago; bob paused the session just now' and the topics it explains."""
    by_person: dict[str, dict[str, list[ChangeEvent]]] = {}
    for e in changes.events:
        if e.action in _PHRASES:
            by_person.setdefault(e.who, {}).setdefault(e.action, []).append(e)
    sentences, topics = [], set()
    for who, actions in by_person.items():
        phrases = [_phrase(action, events) for action, events in actions.items()]
        topics |= {_PHRASES[action][0] for action in actions}
        latest = max(e.at for events in actions.values() for e in events)
        done = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        sentences.append(f"{who} {done} {ago((changes.now - latest).total_seconds())}")
    return "; ".join(sentences), topics


def _diff(before: SessionDetail, after: SessionDetail) -> list[tuple[str, str]]:
    """What the engineer sees changed, as (topic, text)."""
    parts: list[tuple[str, str]] = []
    b, a = before.summary, after.summary
    if a.owner_login != b.owner_login:
        parts.append(("owner", f"{a.owner_name or a.owner_login} took this session over"))
    if a.status != b.status:
        parts.append(("status", f"status is now {a.status.replace('_', ' ')}"))
    old_facts = {f.id for f in before.facts}
    new_facts = [f for f in after.facts if f.id not in old_facts]
    gone = len(old_facts - {f.id for f in after.facts})
    if new_facts:
        parts.append(("facts", f"{len(new_facts)} new fact{'s' if len(new_facts) != 1 else ''}"))
    if gone:
        parts.append(("facts", f"{gone} fact{'s' if gone != 1 else ''} removed"))
    active_before = next((f.id for f in before.fixes if f.active), None)
    active_after = next((f for f in after.fixes if f.active), None)
    if (active_after.id if active_after else None) != active_before:
        parts.append(("fix", f"new fix: {active_after.title}" if active_after else "the fix was dismissed"))
    if after.message_count > before.message_count:
        parts.append(("chat", "new chat messages"))
    if not parts and a.state_version != b.state_version:
        parts.append(("facts", "facts or fixes were edited"))
    return parts


def describe_change(
    before: SessionDetail,
    after: SessionDetail,
    *,
    by: str | Changes | None = None,
    has_draft: bool = True,
) -> str:
    """What changed between two reads of one session, in one line (empty when nothing the engineer sees changed).
    `by` is the audit trail since `before` (`Changes`: each engineer named with what they did and how long ago) or
    just a name; `has_draft` adds that the engineer's draft is kept."""
    parts = _diff(before, after)
    changes = by if isinstance(by, Changes) else None
    said, explained = who_did_what(changes) if changes else ("", set())
    rest = [text for topic, text in parts if topic not in explained]
    if not said and not rest:
        return ""
    a, b = after.summary, before.summary
    tail = " Your draft is kept." if has_draft else ""
    whose = "" if a.owner_login != b.owner_login else f"{a.owner_login}'s session"
    if said:
        line = said + (f" ({whose})" if whose else "") + (": " + "; ".join(rest) if rest else "")
        return line + "." + tail
    name = by if isinstance(by, str) else None
    if not whose:
        who = ""
    elif name:
        who = f" ({name}, on {whose})"
    else:
        who = f" ({whose})"
    return "Changed by another engineer" + who + ": " + "; ".join(rest) + "." + tail


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
