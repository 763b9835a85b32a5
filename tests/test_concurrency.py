"""Two processes on one SQLite file: both work, and no state_version bump is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from flowpilot_tui.services.store import Store
    from flowpilot_tui.services.identity import Actor
    from flowpilot_tui.services.sessions import SessionService

    async def main(url, session_id, account_id, user_id, n):
        store = await Store.open(url)
        svc = SessionService(store, Actor(int(account_id), int(user_id), "alice", "alice", "engineer"))
        for i in range(int(n)):
            await svc.add_fact(session_id, "confirmed", f"fact {i} from {sys.argv[-1]}")
        await store.close()

    asyncio.run(main(*sys.argv[1:6]))
    """
)


async def test_two_processes_never_lose_a_bump(sessions, engineer, db_url, tmp_path) -> None:
    s = await sessions.create("Concurrent")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    n = 25
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), db_url, s.id, str(engineer.account_id), str(engineer.user_id), str(n), tag],
            stderr=subprocess.PIPE,
        )
        for tag in ("A", "B")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    detail = await sessions.get(s.id)
    assert len(detail.facts) == 2 * n
    assert detail.summary.state_version == 1 + 2 * n
