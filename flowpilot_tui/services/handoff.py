"""Escalation handoff: the account's queue (sessions requesting escalation or escalated, oldest first) and taking a
session over (owner changes in one locked write; audited with who and when; viewers may look, not take).

Two engineers taking the same session at once: writes are serialised (SQLite `BEGIN IMMEDIATE`, PostgreSQL
advisory lock), and `take` checks the owner the engineer saw — the second finds the owner already changed and gets a
`Conflict` naming who took it and when. Exactly one owner results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from flowpilot_tui.services import audit
from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import AISession, AuditEvent, User
from flowpilot_tui.services.sessions import Clock, SessionService, utcnow
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.views import SessionDetail, SessionSummary

QUEUE_STATUSES = ("requesting_escalation", "escalated")
TAKEOVER = "session.takeover"


@dataclass(frozen=True)
class QueueItem:
    summary: SessionSummary
    since: datetime  # when it entered the queue (escalated_at, else the last update)
    escalated_by_login: str
    escalated_by_name: str
    reason: str | None

    def age_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.since).total_seconds()))

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "queued_since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age_seconds": self.age_seconds(now),
            "escalated_by_login": self.escalated_by_login,
            "escalated_by_name": self.escalated_by_name,
            "escalation_reason": self.reason,
        }


@dataclass(frozen=True)
class Takeover:
    detail: SessionDetail  # escalation package first: what the new owner reads
    previous_owner_login: str
    at: datetime


class HandoffService:
    def __init__(self, store: Store, actor: Actor, clock: Clock = utcnow) -> None:
        self.store = store
        self.actor = actor
        self.clock = clock
        self.sessions = SessionService(store, actor, clock)

    async def queue(self, *, limit: int = 200) -> list[QueueItem]:
        """Queued sessions, oldest first. "Escalated by" is the owner when it was queued: the first take-over's
        previous owner if the session was taken over since, else the current owner."""
        since = func.coalesce(AISession.escalated_at, AISession.updated_at)
        async with self.store.read() as db:
            rows = (
                await db.execute(
                    select(AISession.id, since, User.login, User.display_name, AISession.escalation_reason)
                    .join(User, User.id == AISession.owner_id)
                    .where(AISession.account_id == self.actor.account_id, AISession.status.in_(QUEUE_STATUSES))
                    .order_by(since.asc(), AISession.id)
                    .limit(max(1, min(limit, 1000)))
                )
            ).all()
            first_from: dict[str, tuple[datetime, str]] = {}
            if rows:
                events = await db.execute(
                    select(AuditEvent.session_id, AuditEvent.created_at, AuditEvent.detail)
                    .where(
                        AuditEvent.account_id == self.actor.account_id,
                        AuditEvent.action == TAKEOVER,
                        AuditEvent.session_id.in_([r[0] for r in rows]),
                    )
                    .order_by(AuditEvent.id)
                )
                for sid, at, detail in events.all():
                    if sid and isinstance(detail, dict) and detail.get("from_login"):
                        first_from.setdefault(sid, (_aware(at), str(detail["from_login"])))
            users = await db.execute(
                select(User.login, User.display_name).where(User.account_id == self.actor.account_id)
            )
            names = {login: name for login, name in users.all()}
            items = []
            for sid, when, login, name, reason in rows:
                summary = await self.sessions._summary(db, sid)
                queued = _aware(when)
                taken = first_from.get(sid)
                if taken is not None and taken[0] >= queued:
                    login, name = taken[1], names.get(taken[1], taken[1])
                items.append(QueueItem(summary, queued, login, name, reason))
        return items

    async def take(self, session_id: str, *, expected_owner_login: str | None = None) -> Takeover:
        """Become the owner of a queued session. `expected_owner_login` is the owner the engineer saw (defaults to
        the owner read just before); if someone took it over in between, `Conflict` says who and when."""
        self.actor.require_writer()
        if expected_owner_login is None:
            expected_owner_login = (await self.sessions.get(session_id)).summary.owner_login
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            owner = await db.get(User, row.owner_id)
            owner_login = owner.login if owner else "?"
            if owner_login != expected_owner_login:
                last = await db.scalar(
                    select(AuditEvent)
                    .where(AuditEvent.session_id == row.id, AuditEvent.action == TAKEOVER)
                    .order_by(AuditEvent.id.desc())
                    .limit(1)
                )
                when = f" at {_aware(last.created_at):%H:%M:%S} UTC" if last else ""
                raise Conflict(f"{owner.display_name if owner else owner_login} already took this session over{when}")
            if row.owner_id == self.actor.user_id:
                raise Conflict("This session is already yours")
            if row.status not in QUEUE_STATUSES:
                raise Conflict(f"Only sessions in the escalation queue can be taken over (this one is {row.status})")
            previous_status = row.status
            row.owner_id = self.actor.user_id
            row.updated_at = now
            audit.add_event(
                db,
                self.actor,
                row.id,
                TAKEOVER,
                {"from_login": owner_login, "to_login": self.actor.login, "previous_status": previous_status},
                now,
            )
        return Takeover(await self.sessions.get(session_id), owner_login, now)

    async def history(self, session_id: str) -> list[dict[str, Any]]:
        """The takeover trail of a session: who took it from whom, and when."""
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            events = (
                await db.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.session_id == row.id, AuditEvent.action == TAKEOVER)
                    .order_by(AuditEvent.id)
                )
            ).all()
        return [{"at": _aware(e.created_at), **(e.detail or {})} for e in events]


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
