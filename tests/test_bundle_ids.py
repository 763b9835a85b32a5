"""Fact ids in generated notes are stable and match what the chat cards show (F + the fact's id)."""

from __future__ import annotations

from flowpilot_tui.services.generation.bundle import build_bundle


async def test_fact_ids_survive_deletes_and_match_the_fact(sessions, store, engineer) -> None:
    s = await sessions.create("DNS over VPN")
    first = await sessions.add_fact(s.id, "symptom", "Names fail over VPN")
    second = await sessions.add_fact(s.id, "confirmed", "nslookup against 10.20.0.10 works")
    async with store.read() as db:
        before = {f.text: f.id for f in (await build_bundle(db, engineer, s.id)).facts}
    await sessions.delete_fact(s.id, first.id)
    async with store.read() as db:
        after = {f.text: f.id for f in (await build_bundle(db, engineer, s.id)).facts}
    assert before[second.text] == after[second.text] == f"F{second.id}"
    assert first.text not in after
