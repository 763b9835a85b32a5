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

# Session writes another engineer's FlowPilot reports live ("Dana Ortiz edited a fact 12 s ago"); each is recorded in
# the same transaction as the write, with the actor and the time (every state_version bump records one: access.py).
# Posts are `writeback.<outcome>`, take-overs `session.takeover` (handoff.py).
FACT_ADDED = "fact.add"
FACT_EDITED = "fact.edit"
FACT_DELETED = "fact.delete"
FIX_PROPOSED = "fix.propose"
FIX_DECIDED = "fix.decide"
SCRIPT_CREATED = "script.create"
TEMPLATE_DRAFTED = "template.draft"
TEMPLATE_BUILT = "template.build"
CHAT_MESSAGE = "chat.message"
STATUS_PREFIX = "session."  # session.pause, session.resume, session.request_escalation


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
