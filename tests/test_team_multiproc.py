"""Team store under real concurrency on PostgreSQL: separate OS processes (each its own interpreter, engine and
connections) against one database.

- two processes × 100 fact writes → state_version is exact (no lost bump);
- two processes confirming the same post → exactly one note at the ConnectWise emulator;
- two engineers taking over the same session at once → exactly one owner, the other gets a Conflict.

No timing: the children start, say they are ready (a file each), and wait for one "go" file; correctness never
depends on who runs first. Runs on the PostgreSQL backend only (skipped with the reason when PostgreSQL is absent).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from cw_fixtures import PRIVATE_KEY, link_connection
from support import add_member

from flowpilot_tui.services.handoff import QUEUE_STATUSES, HandoffService

pytestmark = pytest.mark.pg_only

PRELUDE = """
import asyncio, json, os, sys
from pathlib import Path
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.store import Store

cfg = json.loads(sys.argv[1])

async def barrier():
    Path(cfg["ready"]).touch()
    while not Path(cfg["go"]).exists():  # the parent creates it once every child is ready
        await asyncio.sleep(0.005)
"""

FACTS = (
    PRELUDE
    + """
from flowpilot_tui.services.sessions import SessionService

async def main():
    store = await Store.open(cfg["db_url"])
    try:
        sessions = SessionService(store, Actor(**cfg["actor"]))
        await barrier()
        for i in range(cfg["n"]):
            await sessions.add_fact(cfg["session_id"], "confirmed", f"{cfg['name']} fact {i}")
        print(json.dumps({"ok": cfg["n"]}))
    finally:
        await store.close()

asyncio.run(main())
"""
)

TAKE = (
    PRELUDE
    + """
from flowpilot_tui.services.handoff import HandoffService

async def main():
    store = await Store.open(cfg["db_url"])
    try:
        handoff = HandoffService(store, Actor(**cfg["actor"]))
        await barrier()
        try:
            taken = await handoff.take(cfg["session_id"], expected_owner_login=cfg["seen_owner"])
            print(json.dumps({"ok": taken.detail.summary.owner_login}))
        except Conflict as exc:
            print(json.dumps({"conflict": str(exc)}))
    finally:
        await store.close()

asyncio.run(main())
"""
)

CONFIRM = (
    PRELUDE
    + """
from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider
from flowpilot_tui.services.writeback import WritebackService

async def main():
    store = await Store.open(cfg["db_url"])
    provider = ConnectWiseProvider(company_id="flowpilot-demo", public_key="fpDemoPublic01",
                                   private_key=cfg["key"], client_id="test-client", site=cfg["site"])
    try:
        service = WritebackService(store, Actor(**cfg["actor"]), lambda name: provider, recheck_after_s=0)
        await barrier()
        try:
            out = await service.post(cfg["session_id"], "resolve", "Recreated the Outlook profile; no prompts.")
            print(json.dumps({"ok": out.external_note_id}))
        except Conflict as exc:
            print(json.dumps({"conflict": str(exc)}))
    finally:
        await provider.aclose()
        await store.close()

asyncio.run(main())
"""
)


async def run_together(code: str, configs: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    """Start one child per config, release them together once all are ready, return each one's JSON answer."""
    go = tmp / "go"
    procs = []
    for i, cfg in enumerate(configs):
        cfg = {**cfg, "ready": str(tmp / f"ready-{i}"), "go": str(go)}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(cfg)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        while not all((tmp / f"ready-{i}").exists() for i in range(len(configs))):
            for p in procs:
                if p.poll() is not None:  # a child died before the barrier: show why
                    _, err = p.communicate()
                    raise AssertionError(f"child exited early ({p.returncode}): {err[-2000:]}")
            await asyncio.sleep(0.01)
        go.touch()
        results = []
        for p in procs:
            out, err = await asyncio.to_thread(p.communicate, timeout=100)
            assert p.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


async def test_two_processes_writing_100_facts_each_leave_state_version_exact(
    db_url, sessions, engineer, tmp_path
) -> None:
    s = await sessions.create("Shared by two processes")
    before = (await sessions.get(s.id)).summary.state_version
    base = {"db_url": db_url, "actor": asdict(engineer), "session_id": s.id, "n": 100}
    results = await run_together(FACTS, [{**base, "name": "a"}, {**base, "name": "b"}], tmp_path)
    assert results == [{"ok": 100}, {"ok": 100}]
    after = await sessions.get(s.id)
    assert len(after.facts) == 200
    assert after.summary.state_version == before + 200  # every write bumped it exactly once
    texts = {f.text for f in after.facts}
    assert {f"a fact {i}" for i in range(100)} | {f"b fact {i}" for i in range(100)} == texts


async def test_two_engineers_taking_over_at_once_from_two_processes_end_with_one_owner(
    db_url, sessions, store, engineer, clock, tmp_path
) -> None:
    s = await sessions.create("Escalate me")
    await sessions.request_escalation(s.id, "needs a senior")
    bob = await add_member(store, engineer, "bob", "engineer", clock)
    carol = await add_member(store, engineer, "carol", "engineer", clock)
    base = {"db_url": db_url, "session_id": s.id, "seen_owner": "alice"}
    results = await run_together(TAKE, [{**base, "actor": asdict(bob)}, {**base, "actor": asdict(carol)}], tmp_path)
    wins = [r["ok"] for r in results if "ok" in r]
    losses = [r["conflict"] for r in results if "conflict" in r]
    assert len(wins) == 1 and len(losses) == 1, results
    detail = await sessions.get(s.id)
    assert detail.summary.owner_login == wins[0] and detail.summary.status in QUEUE_STATUSES
    assert f"{wins[0]} already took this session over at" in losses[0]
    trail = await HandoffService(store, engineer, clock).history(s.id)
    assert [(t["from_login"], t["to_login"]) for t in trail] == [("alice", wins[0])]


async def test_two_processes_confirming_the_same_post_send_one_note(
    db_url, sessions, store, engineer, cw, tmp_path
) -> None:
    await link_connection(store, engineer)
    s = await sessions.create("Outlook prompts", connection_name="demo-cw", ticket_id=48213)
    base = {"db_url": db_url, "actor": asdict(engineer), "session_id": s.id, "site": cw.site_url, "key": PRIVATE_KEY}
    results = await run_together(CONFIRM, [base, base], tmp_path)
    assert all(set(r) <= {"ok", "conflict"} for r in results), results
    notes = {r["ok"] for r in results if "ok" in r}
    assert len(notes) == 1, results  # one wins (the other is refused, or finds that very note already posted)
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1
    assert (await sessions.get(s.id)).summary.status == "resolved"
