"""Live updates between engineers: which sessions of my account another FlowPilot changed, pushed without a key press.

- PostgreSQL: `LISTEN flowpilot_changes` on a dedicated asyncpg connection; migration 0005 adds a trigger that
  notifies `<account id>:<session id>` on every insert/update of a session row (fact, fix and chat writes bump the
  row; posts, status changes and take-overs update it).
- SQLite: a cheap probe, `PRAGMA data_version` on a dedicated connection (it changes only when *another* connection
  committed); on a change, one indexed query for the sessions updated since the last look.

`ChangeFeed.next_batch()` waits for the next set of changed session ids. `describe_change` turns a before/after pair
of session details into one line for an engineer whose draft sits on a session that changed ("bob took this session
over; 2 new facts"); the draft itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from flowpilot_tui.services.models import AISession, AuditEvent, User
from flowpilot_tui.services.store import Store, sqlite_path
from flowpilot_tui.services.views import SessionDetail

CHANNEL = "flowpilot_changes"
SQLITE_PROBE_S = 0.25  # probe interval; a changed session shows up within this plus one query
# The SQLite probe looks back this far behind the newest updated_at it has seen (another process's clock may lag a
# little); rows are reported once per (updated_at, state_version), so the look-back costs no repeated deliveries.
SQLITE_LOOKBACK = timedelta(seconds=30)

OnChange = Callable[[set[str]], None]


class ChangeFeed:
    """Changes to `account_id`'s sessions made by other connections. Start once, then await `next_batch()` — or
    pass `on_change`, which is called (in the event loop, never blocking) with each coalesced set of changed ids
    instead; a UI posts a message from it and applies the change in one place."""

    def __init__(
        self, store: Store, account_id: int, *, probe_s: float = SQLITE_PROBE_S, on_change: OnChange | None = None
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.probe_s = probe_s
        self.on_change = on_change
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

    def _emit(self, session_id: str) -> None:
        if self.on_change is None:
            self._queue.put_nowait(session_id)
            return
        self._pending.add(session_id)
        if not self._flush_scheduled:  # a burst of notifications becomes one call
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, set()
        if batch and self.on_change is not None and not self.closed:
            self.on_change(batch)

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


async def recent_actor(store: Store, account_id: int, session_id: str, since: datetime, me: int) -> str | None:
    """The display name of the last *other* engineer recorded in the session's audit trail since `since` (take-overs,
    posts, accepted flags); None when the trail does not say."""
    async with store.read() as db:
        row = (
            await db.execute(
                select(User.display_name, User.login)
                .join(AuditEvent, AuditEvent.user_id == User.id)
                .where(
                    AuditEvent.account_id == account_id,
                    AuditEvent.session_id == session_id,
                    AuditEvent.created_at >= since,
                    AuditEvent.user_id != me,
                )
                .order_by(AuditEvent.id.desc())
                .limit(1)
            )
        ).first()
    return (row[0] or row[1]) if row else None


def describe_change(
    before: SessionDetail, after: SessionDetail, *, by: str | None = None, has_draft: bool = True
) -> str:
    """What changed between two reads of one session, in one line (empty when nothing the engineer sees changed).
    `by` names the engineer when known (the audit trail); `has_draft` adds that the engineer's draft is kept."""
    parts: list[str] = []
    b, a = before.summary, after.summary
    if a.owner_login != b.owner_login:
        parts.append(f"{a.owner_name or a.owner_login} took this session over")
    if a.status != b.status:
        parts.append(f"status is now {a.status.replace('_', ' ')}")
    old_facts = {f.id for f in before.facts}
    new_facts = [f for f in after.facts if f.id not in old_facts]
    gone = len(old_facts - {f.id for f in after.facts})
    if new_facts:
        parts.append(f"{len(new_facts)} new fact{'s' if len(new_facts) != 1 else ''}")
    if gone:
        parts.append(f"{gone} fact{'s' if gone != 1 else ''} removed")
    active_before = next((f.id for f in before.fixes if f.active), None)
    active_after = next((f for f in after.fixes if f.active), None)
    if (active_after.id if active_after else None) != active_before:
        parts.append(f"new fix: {active_after.title}" if active_after else "the fix was dismissed")
    if after.message_count > before.message_count:
        parts.append("new chat messages")
    if not parts and a.state_version != b.state_version:
        parts.append("facts or fixes were edited")
    if not parts:
        return ""
    if a.owner_login != b.owner_login:
        who = ""
    elif by:
        who = f" ({by}, on {a.owner_login}'s session)"
    else:
        who = f" ({a.owner_login}'s session)"
    tail = " Your draft is kept." if has_draft else ""
    return "Changed by another engineer" + who + ": " + "; ".join(parts) + "." + tail
