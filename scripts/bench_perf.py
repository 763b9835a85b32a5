#!/usr/bin/env python3
"""Issue-15 figures: session search/paging at 100,000 sessions, the CLI preview cache hit vs `sessions show`, and
cold start of the app vs a bare Textual app measured in the same run (ratios printed). Asserts nothing.

Usage: .venv/bin/python scripts/bench_perf.py [--sessions 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_tui import COLD, best, ms, seed  # noqa: E402

BARE = r"""
import time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("ready")
import asyncio
async def main():
    app = Bare()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
    print(f"0 {(time.perf_counter() - t0) * 1000:.0f} 0")
asyncio.run(main())
"""


async def search_figures(services: Any, runs: int) -> None:
    from sqlalchemy import text

    s = services.sessions
    async with services.store.read() as db:  # the keyset cursor of page 1,000 (what 999 "next page" presses reach)
        row = (
            await db.execute(
                text("SELECT updated_at, id FROM ai_sessions ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET 49949")
            )
        ).one()
    from datetime import datetime

    from flowpilot_tui.services.sessions import _encode_cursor

    cursor = _encode_cursor(datetime.fromisoformat(str(row[0])), row[1])
    print("Session list service layer, 100k sessions (best of runs; page + has-more, no count):")
    cases = [
        ("first page", {}),
        ("page 1,000 keyset (after=)", {"after": cursor}),
        ("page 1,000 offset (old way)", {"offset": 49_950}),
        ("status 'paused'", {"status": "paused"}),
        ("owner 'bench'", {"owner": "bench"}),
        ("ticket '#100299'", {"search": "#100299"}),
        ("title 'printer' (FTS)", {"search": "printer"}),
        ("title no match (FTS)", {"search": "zzzz no such"}),
        ("bare digits '4821'", {"search": "4821"}),
    ]
    for label, kw in cases:
        t = await best(runs, lambda kw=kw: s.list_sessions(limit=50, with_total=False, **kw))
        tc = await best(runs, lambda kw=kw: s.list_sessions(limit=50, **kw))
        print(f"  {label:30s}{ms(t)}   with total count {ms(tc)}")


def _run(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


async def prime_preview(services: Any, session_id: str) -> None:
    from flowpilot_tui.config import LlmSettings
    from flowpilot_tui.services.generation import cache
    from flowpilot_tui.services.generation.claude import claude_key
    from flowpilot_tui.services.generation.service import GenerationService

    gen = GenerationService(services.store, services.actor, LlmSettings(), services.clock)
    p = await gen.preview(session_id, "resolve")
    async with services.store.write() as db:
        await cache.store(
            db,
            session_id,
            claude_key(LlmSettings().model),
            p.model_copy(update={"generator": "claude"}),
            services.clock(),
        )


def cli_figures(db_url: str, session_id: str, runs: int) -> None:
    env = {
        **os.environ,
        "FLOWPILOT_DB_URL": db_url,
        "FLOWPILOT_USER": "bench",
        "FLOWPILOT_LLM__PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "sk-bench-not-used",
        "FLOWPILOT_LLM__BASE_URL": "http://127.0.0.1:9",
    }
    cli = [sys.executable, "-m", "flowpilot_tui"]
    show = _run([*cli, "sessions", "show", session_id], env, runs)
    hit = _run([*cli, "preview", session_id, "--kind", "resolve"], env, runs)
    print("CLI (median, new process each, Claude configured):")
    print(f"  sessions show                 {ms(show)}")
    print(f"  preview, cache hit            {ms(hit)}   ratio {hit / show:.2f}x sessions show")


def cold_figures(db_url: str, runs: int) -> None:
    def one(code: str) -> int:
        vals = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True)
            vals.append(int(out.stdout.split()[-2]))
        return sorted(vals)[len(vals) // 2]

    bare, app = one(BARE), one(COLD)
    print("Cold start (median; process start → first screen ready):")
    print(f"  bare Textual app              {bare:7d} ms")
    print(f"  flowpilot (100k list shown)   {app:7d} ms   ratio {app / bare:.2f}x bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        os.environ["FLOWPILOT_CONFIG"] = str(Path(tmp) / "config.toml")
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"

        async def body() -> str:
            services, long_id, _ = await seed(db_url, args.sessions, 50)
            try:
                await search_figures(services, args.runs)
                await prime_preview(services, long_id)
            finally:
                await services.close()
            return long_id

        long_id = asyncio.run(body())
        cli_figures(db_url, long_id, args.runs)
        cold_figures(db_url, max(3, args.runs // 2))


if __name__ == "__main__":
    main()
