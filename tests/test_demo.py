"""Demo data: a full, labelled workspace on first run; never seeded over existing data."""

from __future__ import annotations

import pytest

from flowpilot_tui.services import demo
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.models import FACT_KINDS
from flowpilot_tui.services.sessions import SessionService


async def test_seed_demo_gives_a_full_workspace(store, clock) -> None:
    actor = await demo.seed_demo(store, "alice", clock())
    assert actor.account_is_demo and "demo" in actor.account_name.lower()
    svc = SessionService(store, actor, clock)
    page = await svc.list_sessions()
    assert 3 <= page.total <= 4
    assert len({s.status for s in page.items}) >= 3
    assert any(s.ticket_id and s.connection_name == demo.DEMO_CONNECTION for s in page.items)
    details = [await svc.get(s.id) for s in page.items]
    assert {f.kind for d in details for f in d.facts} == set(FACT_KINDS)
    rich = max(details, key=lambda d: len(d.fixes))
    assert rich.active_fix is not None and len(rich.fixes) >= 2
    assert any(f.user_decision for f in rich.fixes if not f.active)


async def test_demo_refuses_a_database_with_data(store, engineer, clock) -> None:
    with pytest.raises(Conflict, match="only seeded into an empty database"):
        await demo.seed_demo(store, "bob", clock())
