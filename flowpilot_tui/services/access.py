"""Account scoping and the state_version bump, shared by every service that touches a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

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


async def bump_state_version(db: AsyncSession, session_id: str, now: datetime) -> int:
    """Atomic `state_version + 1` in SQL, in the caller's transaction, so concurrent writers never lose a bump."""
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
