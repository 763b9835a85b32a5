#!/usr/bin/env python3
"""TUI speed figures: cold start, the session list with 100,000 sessions, opening a 5,000-message session.

Prints numbers; asserts nothing (speed is measured here, never in tests). Headless Textual, a temp SQLite file,
best of N runs. Usage: .venv/bin/python scripts/bench_tui.py [--sessions 100000] [--messages 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

COLD = r"""
import os, sys, time
t0 = time.perf_counter()
from flowpilot_tui.app import make_app
t_import = time.perf_counter() - t0
import asyncio
from flowpilot_tui.config import Settings
async def main():
    s = Settings(db_url=sys.argv[1], user="bench")
    s.ui.cursor_blink = False
    app = make_app(s)
    async with app.run_test(size=(120, 36)) as pilot:
        deadline = time.monotonic() + 120  # never a hang: a failed open (app exited) or another screen is said
        while type(app.screen).__name__ != "SessionList" or not app.screen.query_one("SessionTable").row_count:
            if app.return_code is not None or not app.is_running or time.monotonic() > deadline:
                sys.exit(f"cold start: no rows (screen {type(app.screen).__name__}, exit {app.return_code})")
            await pilot.pause(0.005)
        await pilot.pause()
    print(f"{t_import * 1000:.0f} {(time.perf_counter() - t0) * 1000:.0f} {len(sys.modules)}")
asyncio.run(main())
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


WORDS = ("Outlook", "VPN", "printer", "DNS", "share", "laptop", "MFA", "Teams", "backup", "firewall")
STATUSES = ("active", "paused", "resolved", "escalated", "requesting_escalation")
MESSAGE = (
    "Checked the event log; nothing new since the last reboot. **Next**: compare the GPO result with `gpresult /r`."
)


def session_rows(actor: Any, count: int, at: Callable[[int], datetime], *, mixed: bool = True) -> list[dict[str, Any]]:
    """Bulk-insert rows for `count` sessions updated at `at(n)`; `mixed`: every status, a ticket on every third."""
    return [
        {
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "account_id": actor.account_id,
            "owner_id": actor.user_id,
            "title": f"{WORDS[n % 10]} issue {n} at site {n % 97}",
            "status": STATUSES[n % 5] if mixed else "active",
            "psa_ticket_id": 100000 + n if mixed and n % 3 == 0 else None,
            "state_version": 1,
            "created_at": at(n),
            "updated_at": at(n),
        }
        for n in range(count)
    ]


def message_rows(session_id: str, count: int, at: Callable[[int], datetime]) -> list[dict[str, Any]]:
    """Alternating user / assistant chat messages of one session, the k-th written at `at(k)`."""
    return [
        {
            "session_id": session_id,
            "role": "user" if k % 2 else "assistant",
            "content": f"{k}: {MESSAGE}",
            "interrupted": False,
            "created_at": at(k),
        }
        for k in range(count)
    ]


async def seed(db_url: str, sessions: int, messages: int) -> tuple[Any, str, str]:
    """An account with `sessions` sessions (bulk insert), one holding `messages` chat messages, one empty."""
    from sqlalchemy import insert

    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.container import open_services
    from flowpilot_tui.services.models import ChatMessage
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    actor = await accounts.create_account(store, "Bench MSP", "bench", START)
    rows = session_rows(actor, sessions, lambda n: START + timedelta(seconds=n))
    await bulk_insert_sessions(store, rows)
    long_id, empty_id = rows[-1]["id"], rows[-2]["id"]
    msgs = message_rows(long_id, messages, lambda k: START + timedelta(seconds=k))
    async with store.write() as db:
        for i in range(0, len(msgs), 5000):
            await db.execute(insert(ChatMessage.__table__), msgs[i : i + 5000])
    await store.close()
    return await open_services(_settings(db_url), clock=lambda: START), long_id, empty_id


async def bulk_insert_sessions(store: Any, rows: list[dict[str, Any]]) -> None:
    """All rows in ONE transaction with the title-index trigger dropped, then the FTS index built in one statement
    and the trigger put back (a trigger firing per row made a 100k seed take minutes), then ANALYZE."""
    from sqlalchemy import insert, text

    from flowpilot_tui.services.models import AISession

    sqlite = store.engine.dialect.name == "sqlite"
    async with store.write() as db:
        trigger = None
        if sqlite:
            trigger = await db.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ai_sessions_fts_insert'")
            )
            if trigger:
                await db.execute(text("DROP TRIGGER ai_sessions_fts_insert"))
        for i in range(0, len(rows), 10_000):
            await db.execute(insert(AISession.__table__), rows[i : i + 10_000])
        if trigger:
            ids = [r["id"] for r in rows]
            await db.execute(
                text(
                    "INSERT INTO ai_sessions_fts(title, session_id) SELECT title, id FROM ai_sessions "
                    "WHERE id >= :lo AND id <= :hi"
                ),
                {"lo": min(ids), "hi": max(ids)},
            )
            await db.execute(text(trigger))
    async with store.write() as db:
        await db.execute(text("ANALYZE" if sqlite else "ANALYZE ai_sessions"))


def _settings(db_url: str) -> Any:
    from flowpilot_tui.config import Settings

    s = Settings(db_url=db_url, user="bench")
    s.user = "bench"
    s.ui.cursor_blink = False
    return s


async def best(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return min(times)


async def service_figures(services: Any, runs: int) -> None:
    s = services.sessions
    print("Session list service (SQL paging):")
    for label, kw in [
        ("first page (50)", {}),
        ("page 1,000 (offset 49,950)", {"offset": 49_950}),
        ("status filter 'paused'", {"status": "paused"}),
        ("search 'printer'", {"search": "printer"}),
        ("search '#100299'", {"search": "#100299"}),
        ("search with no match", {"search": "zzzz no such"}),
    ]:
        print(f"  {label:32s}{ms(await best(runs, lambda kw=kw: s.list_sessions(limit=50, **kw)))}")


async def ui_figures(services: Any, long_id: str, empty_id: str, runs: int) -> None:
    from flowpilot_tui.app import make_app
    from flowpilot_tui.screens.session_list import SessionList
    from flowpilot_tui.screens.workspace import Workspace
    from flowpilot_tui.widgets.chat_log import ChatLog

    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:

        async def settle() -> None:
            for _ in range(2):
                await pilot.pause()
                await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        screen = app.screen
        assert isinstance(screen, SessionList)

        async def page() -> None:
            screen.load(screen.page_offset)
            await settle()

        async def search() -> None:
            screen.query_one("#search").value = "printer issue 4"
            screen.search_submitted()
            await settle()

        print("Session list screen (worker + table render, 120×36):")
        print(f"  {'reload current page':32s}{ms(await best(runs, page))}")
        print(f"  {'search (submit → rows shown)':32s}{ms(await best(runs, search))}")
        print(f"  rows shown: {screen.query_one('SessionTable').row_count}, total matching: {screen.total:,}")

        async def open_ws(session_id: str) -> float:
            """Push → every worker done and the frame refreshed (chat, facts, fix, preview shown)."""
            t0 = time.perf_counter()
            await app.push_screen(Workspace(services, session_id))
            await settle()
            elapsed = time.perf_counter() - t0
            app.pop_screen()
            await settle()
            return elapsed

        async def best_open(session_id: str) -> float:
            return min([await open_ws(session_id) for _ in range(runs)])

        await open_ws(empty_id)  # warm-up: imports (Markdown, TextArea) are paid once, not per open
        t_empty = await best_open(empty_id)
        t_long = await best_open(long_id)
        await app.push_screen(Workspace(services, long_id))
        await settle()
        log = app.screen.query_one(ChatLog)
        widgets = len(log.children)
        shown = len(log.entries)
        print("Open a session (push → history, facts, fix and preview shown, workers done):")
        print(f"  {'empty session':32s}{ms(t_empty)}")
        print(f"  {'5,000-message session':32s}{ms(t_long)}   ratio {t_long / t_empty:.2f}×")
        print(f"  chat log widgets: {widgets} for {shown} messages shown (older ones load on demand)")


def cold_start(db_url: str, runs: int) -> None:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD, db_url], capture_output=True, text=True, check=True)
        results.append(tuple(int(x) for x in out.stdout.split()[-3:]))
    imp, ready, mods = min(results, key=lambda r: r[1])
    print("Cold start (new process, 100k-session DB):")
    print(f"  import flowpilot_tui.app       {imp:7d} ms")
    print(f"  process start → list shown     {ready:7d} ms   ({mods} modules loaded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")  # keep ui_state out of the user's data dir
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()

        async def body() -> None:
            services, long_id, empty_id = await seed(db_url, args.sessions, args.messages)
            took = time.perf_counter() - t0
            print(f"Seeded {args.sessions:,} sessions and a {args.messages:,}-message session in {took:.1f} s")
            try:
                await service_figures(services, args.runs)
                await ui_figures(services, long_id, empty_id, args.runs)
            finally:
                await services.close()

        asyncio.run(body())
        cold_start(db_url, max(3, args.runs // 2))


if __name__ == "__main__":
    main()
