"""Account scoping and the state_version bump, shared by every service that touches a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flowpilot_tui.services import audit
from flowpilot_tui.services.errors import NotFound
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import AISession


def not_found(session_id: str) -> NotFound:
    # Same text whether the id is missing or belongs to another account: never confirm it exists.
    return NotFound(f"Session {session_id} not found")


async def load_session(db: AsyncSession, actor: Actor, session_id: str) -> AISession:
    row = await db.scalar(
        select(AISession).where(AISession.id == str(session_id), AISession.account_id == actor.account_id)
    )
    if row is None:
        raise not_found(session_id)
    return row


async def bump_state_version(
    db: AsyncSession, actor: Actor, session_id: str, now: datetime, action: str, detail: dict[str, Any]
) -> int:
    """Atomic `state_version + 1` in SQL, in the caller's transaction, so concurrent writers never lose a bump; and
    the audit event saying who made the change (`action`, `detail`), in the same transaction: every change of the
    session's state is one another engineer's FlowPilot can name ("Dana Ortiz edited a fact 12 s ago")."""
    audit.add_event(db, actor, session_id, action, detail, now)
    result = await db.execute(
        update(AISession)
        .where(AISession.id == session_id)
        .values(state_version=AISession.state_version + 1, updated_at=now)
        .returning(AISession.state_version)
        .execution_options(synchronize_session=False)
    )
    version = int(result.scalar_one())
    for obj in list(db.identity_map.values()):
        if isinstance(obj, AISession) and obj.id == session_id:
            # Reflect the new value without marking the row dirty (a later flush must not overwrite the SQL bump).
            set_committed_value(obj, "state_version", version)
            set_committed_value(obj, "updated_at", now)
    return version
