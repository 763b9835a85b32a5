"""Audit trail rows: what was done, by whom, on which session, including every PSA call. Never holds secrets.

PSA calls arrive as `PsaCall` records (method, path, status, duration, outcome): no headers, no bodies, so the
ConnectWise auth header cannot reach the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import AuditEvent
from flowpilot_tui.services.psa.base import PsaCall


def add_event(
    db: AsyncSession, actor: Actor, session_id: str | None, action: str, detail: dict[str, Any], now: datetime
) -> None:
    db.add(
        AuditEvent(
            account_id=actor.account_id,
            user_id=actor.user_id,
            session_id=session_id,
            action=action,
            detail=detail,
            created_at=now,
        )
    )


def add_psa_calls(
    db: AsyncSession, actor: Actor, session_id: str, calls: Iterable[PsaCall], now: datetime, **context: Any
) -> None:
    """One `psa.call` row per HTTP exchange; `context` adds e.g. the connection name and ticket id."""
    for call in calls:
        add_event(
            db,
            actor,
            session_id,
            "psa.call",
            {
                "method": call.method,
                "path": call.path,
                "status_code": call.status_code,
                "duration_ms": call.duration_ms,
                "outcome": call.outcome,
                "request_id": call.request_id,
                **context,
            },
            now,
        )
