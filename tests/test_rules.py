"""The session state machine, every (status, action) pair, through the service where the service owns the action."""

from __future__ import annotations

import pytest

from flowpilot_tui.services import rules
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.models import SESSION_STATUSES, AISession

EXPECTED = {
    # action: {from_status: resulting status or None for Conflict}
    "resolve": {
        "active": "resolved",
        "paused": "resolved",
        "requesting_escalation": "resolved",
        "escalated": "resolved",
        "resolved": None,
    },
    "escalate": {
        "active": "escalated",
        "paused": "escalated",
        "resolved": "escalated",
        "escalated": None,
        "requesting_escalation": None,
    },
    "pause": {
        "active": "paused",
        "requesting_escalation": "paused",
        "paused": None,
        "escalated": None,
        "resolved": None,
    },
    "resume": {
        "paused": "active",
        "requesting_escalation": "active",
        "active": None,
        "escalated": None,
        "resolved": None,
    },
    "request_escalation": {
        "active": "requesting_escalation",
        "paused": "requesting_escalation",
        "requesting_escalation": None,
        "escalated": None,
        "resolved": None,
    },
}
PAIRS = [(a, s) for a in EXPECTED for s in SESSION_STATUSES]


def test_table_covers_every_pair() -> None:
    assert all(set(v) == set(SESSION_STATUSES) for v in EXPECTED.values())


@pytest.mark.parametrize(("action", "status"), PAIRS)
def test_rules_table(action: str, status: str) -> None:
    expected = EXPECTED[action][status]
    if expected is None:
        with pytest.raises(Conflict):
            rules.target_status(action, status)
    else:
        assert rules.target_status(action, status) == expected


@pytest.mark.parametrize("status", ["resolved"])
def test_already_resolved_message(status: str) -> None:
    with pytest.raises(Conflict, match="Session is already resolved"):
        rules.target_status("resolve", status)


def test_escalated_twice_message() -> None:
    with pytest.raises(Conflict, match="Session is already escalated"):
        rules.target_status("escalate", "escalated")


@pytest.mark.parametrize(("action", "status"), [p for p in PAIRS if p[0] in ("pause", "resume", "request_escalation")])
async def test_service_applies_rules(sessions, store, action: str, status: str) -> None:
    created = await sessions.create("Printer offline")
    async with store.write() as db:
        (await db.get(AISession, created.id)).status = status
    expected = EXPECTED[action][status]
    if expected is None:
        with pytest.raises(Conflict):
            await getattr(sessions, action)(created.id)
        assert (await sessions.get(created.id)).summary.status == status
    else:
        result = await getattr(sessions, action)(created.id)
        assert result.status == expected
        assert (await sessions.get(created.id)).summary.status == expected
