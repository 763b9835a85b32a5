"""Live-update latency: another connection adds a fact; time until this FlowPilot's ChangeFeed reports the session.
Prints median and worst of N (default 20) for SQLite and, when PostgreSQL binaries are present, PostgreSQL.

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


def report(name: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.0f} ms, worst {max(ms):.0f} ms")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite (PRAGMA data_version probe, 250 ms)", asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/b.db", n)))
    from store_backends import PgServer, migrate_template, pg_unavailable_reason

    reason = pg_unavailable_reason()
    if reason:
        print(f"postgresql: skipped ({reason})")
        return
    server = PgServer().start()
    try:
        migrate_template(server)
        report("postgresql (LISTEN/NOTIFY)", asyncio.run(measure(server.url(server.new_database()), n)))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
