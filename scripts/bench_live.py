"""Live-update latency: another connection adds a fact; time until this FlowPilot's ChangeFeed reports the session.
Prints median and worst of N (default 20) for SQLite and, when PostgreSQL binaries are present, PostgreSQL: the feed
alone, and end to end in the TUI (write -> the open workspace redrawn, with the feed / applied / idle stages).
Run `uptime` beside it: the figures depend on the load.

    .venv/bin/python scripts/bench_live.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


async def measure(db_url: str, n: int) -> list[float]:
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.live import ChangeFeed
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    other = await Store.open(db_url)
    actor = await accounts.create_account(store, "Bench MSP", "bench", datetime.now(UTC))
    s = await SessionService(store, actor).create("Bench")
    feed = await ChangeFeed(store, actor.account_id).start()
    writer = SessionService(other, actor)
    out = []
    try:
        for i in range(n):
            await asyncio.sleep(0.1)
            await feed.next_batch(timeout=0.01)  # drain
            t0 = time.perf_counter()
            await writer.add_fact(s.id, "confirmed", f"fact {i}")
            while s.id not in await feed.next_batch(timeout=5):
                pass
            out.append(time.perf_counter() - t0)
    finally:
        await feed.close()
        await other.close()
        await store.close()
    return out


async def measure_tui(db_url: str, n: int) -> dict[str, list[float]]:
    """End to end: another FlowPilot adds a fact; with no key pressed, time until this FlowPilot's open workspace
    (the session list mounted under it, as in use) ...
      feed:    the app's change feed reported the session
      applied: the live handler applied the new state version
      drawn:   the first frame rendered after that (the compositor update the terminal would receive)
      idle:    Pilot.pause() returned after that (the app went idle: the figure of earlier rounds)."""
    from support import FixedClock
    from tui_helpers import demo_services, flat_in, make_settings, open_session, settle

    from flowpilot_tui.app import make_app
    from flowpilot_tui.services.container import open_services

    clock = FixedClock()
    mine = await demo_services(db_url, clock)
    other = await open_services(make_settings(db_url, "demo.colleague"), clock=clock)
    sid = (await other.sessions.list_sessions(search="Outlook keeps")).items[0].id
    out: dict[str, list[float]] = {"feed": [], "applied": [], "drawn": [], "idle": []}
    app: Any = make_app(mine.settings, mine)
    stamps: dict[str, float] = {}
    display = app._display

    def drawn(screen: Any, renderable: Any) -> None:  # the frame the terminal would be sent
        if renderable is not None and "applied" in stamps:
            stamps.setdefault("drawn", time.perf_counter())
        display(screen, renderable)

    app._display = drawn
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            await open_session(pilot, "Outlook keeps")
            await settle(pilot)
            app.live_feed.feed.subscribe(lambda ids: sid in ids and stamps.setdefault("feed", time.perf_counter()))
            for i in range(n):
                await asyncio.sleep(0.1)
                await settle(pilot)
                want = (await other.sessions.get(sid)).summary.state_version + 1
                ws: Any = app.screen
                stamps.clear()
                t0 = time.perf_counter()
                await other.sessions.add_fact(sid, "confirmed", f"fact {i}")
                while ws.detail is None or ws.detail.summary.state_version < want:  # applied by the live handler
                    await asyncio.sleep(0.002)
                stamps["applied"] = time.perf_counter()
                while "drawn" not in stamps:
                    await asyncio.sleep(0.002)
                await pilot.pause()
                stamps["idle"] = time.perf_counter()
                for key in out:
                    out[key].append(stamps.get(key, stamps["applied"]) - t0)
                assert f"v{want}" in flat_in(app, "#ws-header")
    finally:
        await other.close()
        await mine.close()
    return out


def report(name: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.0f} ms, worst {max(ms):.0f} ms")


def report_tui(backend: str, stages: dict[str, list[float]]) -> None:
    report(f"{backend}, TUI write -> workspace redrawn", stages["drawn"])
    for stage in ("feed", "applied", "idle"):
        report(f"  {backend}, TUI write -> {stage}", stages[stage])


def main() -> None:
    from flowpilot_tui.services.live import SQLITE_PROBE_S

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        probe = f"PRAGMA data_version probe, {SQLITE_PROBE_S * 1000:.0f} ms"
        report(f"sqlite ({probe})", asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/b.db", n)))
    with tempfile.TemporaryDirectory() as tmp:
        report_tui("sqlite", asyncio.run(measure_tui(f"sqlite+aiosqlite:///{tmp}/t.db", n)))
    from store_backends import PgServer, migrate_template, pg_unavailable_reason

    reason = pg_unavailable_reason()
    if reason:
        print(f"postgresql: skipped ({reason})")
        return
    server = PgServer().start()
    try:
        migrate_template(server)
        report("postgresql (LISTEN/NOTIFY)", asyncio.run(measure(server.url(server.new_database()), n)))
        report_tui("postgresql", asyncio.run(measure_tui(server.url(server.new_database()), n)))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
