#!/usr/bin/env python3
"""UI responsiveness in one run: pane switch (F2–F5), dialog open and workspace load beside the session list's load.

Prints numbers; asserts nothing (speed is measured here, never in tests). Headless Textual (`app.run_test`), a temp
SQLite file with the demo account plus `--sessions` sessions, and the demo Outlook session grown to `--messages`
chat messages and `--facts` facts. Every action is timed from the key press (or push) until the screen settled:
no message queued, every worker finished, the frame refreshed. Three figures per action:

- wall: elapsed time until settled (includes waiting on the database thread);
- ui: CPU time of the event-loop thread in that span — the work that blocks keys (Textual, our handlers, the
  async service code; the database thread is not counted), robust against a busy second core;
- stall: the longest single stretch the event loop did not turn (what a keystroke would wait for at worst).

Keys are posted to the app the way the terminal driver delivers them (not `pilot.press`, whose idle detection
waits on process CPU time and inflated every wall figure by up to a second); "settled" is Pilot's wait for every
widget's queue plus a forced screen refresh, repeated until no worker runs.

Run it once quiet and once with a CPU burner on the other core (`python3 -c "while True: pass" &`). Usage:
.venv/bin/python scripts/bench_ui.py [--runs 5] [--messages 60] [--facts 24] [--sessions 200] [--sizes 120x36,80x24]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tui import message_rows, session_rows  # noqa: E402

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
IGNORED_WORKERS = ("live",)  # long-lived watchers never "finish"; they are not part of an action


class Stalls:
    """A heartbeat task on the event loop: records the longest gap between two of its turns."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.001)
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._beat())

    def reset(self) -> None:
        self.longest = 0.0

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Figures:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, float, float]]] = {}

    def add(self, label: str, wall: float, ui: float, stall: float) -> None:
        self.rows.setdefault(label, []).append((wall, ui, stall))

    def median(self, label: str) -> tuple[float, float, float]:
        if label not in self.rows:
            return (float("nan"),) * 3
        runs = self.rows[label]
        return tuple(statistics.median(r[i] for r in runs) for i in range(3))  # type: ignore[return-value]

    def print(self, reference: str) -> None:
        ref_wall = self.median(reference)[0]
        ref_ui = self.median(reference)[1]
        print(f"{'action (median of runs)':44s}{'wall':>10s}{'ui':>10s}{'stall':>10s}   vs list load (wall, ui)")
        for label in self.rows:
            wall, ui, stall = self.median(label)
            ratio = ""
            if label.startswith("workspace") or label == reference:
                ratio = f"{wall / ref_wall:5.2f}×  {ui / ref_ui:5.2f}×"
            print(f"  {label:42s}{wall * 1000:8.0f}ms{ui * 1000:8.0f}ms{stall * 1000:8.0f}ms   {ratio}")


async def seed(db_url: str, sessions: int, messages: int, facts: int) -> tuple[Any, str]:
    from sqlalchemy import insert, select

    from flowpilot_tui.services import demo
    from flowpilot_tui.services.container import open_services
    from flowpilot_tui.services.models import AISession, ChatMessage, SessionFact
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    actor = await demo.seed_demo(store, "bench", NOW)
    async with store.write() as db:
        outlook = (await db.execute(select(AISession).where(AISession.psa_ticket_id == 48213))).scalar_one()
        sid = outlook.id
        outlook.psa_ticket_id = None  # local: Confirm & post opens without a PSA to plan against
        outlook.psa_connection_id = None
        rows = session_rows(actor, sessions, lambda n: NOW - timedelta(days=2, seconds=n), mixed=False)
        if rows:
            await db.execute(insert(AISession.__table__), rows)
        msgs = message_rows(sid, messages, lambda k: NOW - timedelta(hours=1) + timedelta(seconds=k))
        if msgs:
            await db.execute(insert(ChatMessage.__table__), msgs)
        kinds = ("symptom", "environment", "confirmed", "tried", "hypothesis")
        fact_rows = [
            {
                "session_id": sid,
                "kind": kinds[k % 5],
                "text": f"Fact {k}: the mailbox profile on the user's laptop was checked against the tenant settings",
                "outcome": "no change" if kinds[k % 5] == "tried" else None,
                "source": "engineer",
                "created_at": NOW - timedelta(minutes=30) + timedelta(seconds=k),
                "updated_at": NOW - timedelta(minutes=30) + timedelta(seconds=k),
            }
            for k in range(facts)
        ]
        if fact_rows:
            await db.execute(insert(SessionFact.__table__), fact_rows)
    await store.close()
    from flowpilot_tui.config import Settings

    settings = Settings(db_url=db_url, user="bench")
    settings.user = "bench"
    settings.ui.cursor_blink = False
    return await open_services(settings, clock=lambda: NOW), sid


async def run(args: argparse.Namespace, db_url: str) -> None:
    from flowpilot_tui.app import make_app

    services, sid = await seed(db_url, args.sessions, args.messages, args.facts)
    figures = Figures()
    sizes = [(int(w), int(h)) for w, h in (size.split("x") for size in args.sizes.split(","))]
    try:
        for size in sizes:
            app = make_app(services.settings, services)
            async with app.run_test(size=size) as pilot:
                await Bench(app, pilot, figures, f"{size[0]}×{size[1]}").run(services, sid, args.runs)
    finally:
        await services.close()
    print(
        f"{args.runs} runs; demo account + {args.sessions} sessions; workspace: {args.messages} messages, "
        f"{args.facts} extra facts"
    )
    for tag in (f"{w}×{h}" for w, h in sizes):
        print(f"\n[{tag}]")
        sub = Figures()
        sub.rows = {k.removesuffix(f" ({tag})"): v for k, v in figures.rows.items() if k.endswith(f"({tag})")}
        sub.print("session list load (push)")


class Bench:
    def __init__(self, app: Any, pilot: Any, figures: Figures, tag: str) -> None:
        self.app, self.pilot, self.figures, self.tag = app, pilot, figures, tag
        self.stalls = Stalls()

    async def pause(self) -> None:
        """Every widget processed what was queued, and the screen refreshed (no idle detection: see the top)."""
        await self.pilot._wait_for_screen()
        await asyncio.sleep(0)
        self.app.screen._on_timer_update()
        await self.pilot._wait_for_screen()

    async def press(self, key: str) -> None:
        """Deliver one key as the terminal driver does (Pilot.press also waits until the process looks idle)."""
        from textual import events

        self.app.post_message(events.Key(key, key if len(key) == 1 else None))

    async def settle(self) -> None:
        app = self.app
        for _ in range(100):
            await self.pause()
            busy = [
                w for w in app.workers if not w.is_finished and not any(g in (w.group or "") for g in IGNORED_WORKERS)
            ]
            if not busy:
                await self.pause()
                return
            if all(w.group == "post" for w in busy):  # the post flow waits on its dialog: that is "settled"
                await self.pause()
                return
            for w in busy:
                try:
                    await asyncio.wait_for(asyncio.shield(w.wait()), 2.0)
                except Exception:  # noqa: BLE001, S112 - superseded (cancelled) or still waiting: look again
                    continue
        raise RuntimeError(f"workers kept running: {[w.name for w in app.workers if not w.is_finished]}")

    async def idle_until(self, ready: Callable[[], bool]) -> None:
        """Wait without polling the screen while the app waits on I/O (a worker reading the database): each settle
        costs the UI thread a walk of every widget, and repeating it every millisecond put the harness's own CPU
        into the `ui` figure (confirm & post read 180-640 ms depending on how long the plan's read took)."""
        app = self.app
        screen, workers = app.screen, {w for w in app.workers if not w.is_finished}
        for _ in range(2000):  # at most ~2 s, then settle once more
            await asyncio.sleep(0.001)
            if ready() or app.screen is not screen or any(w.is_finished for w in workers):
                return
            if screen._dirty_widgets or screen._layout_required:  # something to paint: settle measures it
                return

    async def timed(self, label: str, act: Callable[[], Awaitable[object]], ready: Callable[[], bool]) -> None:
        self.stalls.reset()
        self.app.idle_gc.busy()  # a push stands for the key that opens the screen (Enter in the list): input
        t0, c0 = time.perf_counter(), time.thread_time()
        await act()
        for _ in range(300):
            await self.settle()
            if ready():
                break
            await self.idle_until(ready)
        else:
            print(f"  {self.tag} {label}: did not happen (skipped)", file=sys.stderr, flush=True)
            return
        wall, ui = time.perf_counter() - t0, time.thread_time() - c0
        self.figures.add(f"{label} ({self.tag})", wall, ui, self.stalls.longest)
        print(f"  {self.tag} {label}: {wall * 1000:.0f} ms (ui {ui * 1000:.0f} ms)", file=sys.stderr, flush=True)

    async def run(self, services: Any, sid: str, runs: int) -> None:
        from flowpilot_tui.screens.session_list import SessionList
        from flowpilot_tui.screens.workspace import Workspace

        app = self.app
        self.stalls.start()
        await self.settle()
        # the first workspace open pays one-off imports (Markdown, TextArea): not part of the figures
        await app.push_screen(Workspace(services, sid))
        await self.settle()
        app.pop_screen()
        await self.settle()
        for _ in range(runs):
            await self.timed(
                "session list load (push)",
                lambda: app.push_screen(SessionList(services)),
                lambda: isinstance(app.screen, SessionList) and app.screen.total > 0,
            )
            app.pop_screen()
            await self.settle()
            await self.timed(
                "workspace load (push → all panes)",
                lambda: app.push_screen(Workspace(services, sid)),
                lambda: _workspace_ready(app),
            )
            # harness baseline: a key nothing is bound to, timed the same way (press → settled)
            await self.timed("baseline: unbound key (harness cost)", lambda: self.press("f12"), lambda: True)
            for key, pane in (("f3", "facts"), ("f4", "fix"), ("f5", "preview"), ("f2", "chat")):
                await self.timed(f"pane switch {key.upper()} → {pane}", lambda key=key: self.press(key), lambda: True)
            workspace = app.screen
            for key, name, before in (
                ("f1", "help", None),
                ("f8", "ask escalation", None),
                ("a", "fact editor", "f3"),
                ("f9", "confirm & post", None),
                ("ctrl+p", "command palette", None),
            ):
                if before:
                    await self.press(before)
                    await self.settle()
                await self.timed(
                    f"dialog open: {name}", lambda key=key: self.press(key), lambda ws=workspace: app.screen is not ws
                )
                for _ in range(3):  # the palette may need a second Esc
                    if app.screen is workspace:
                        break
                    await self.press("escape")
                    await self.settle()
            await self.press("f2")
            await self.settle()
            app.pop_screen()
            await self.settle()
        self.stalls.stop()


def _workspace_ready(app: Any) -> bool:
    from flowpilot_tui.screens.workspace import Workspace

    screen = app.screen
    return isinstance(screen, Workspace) and screen.detail is not None and screen.current.loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--facts", type=int, default=24)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--sizes", default="120x36,80x24", help="terminal sizes, comma separated (WxH)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")  # keep ui_state out of the user's data dir
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        asyncio.run(run(args, f"sqlite+aiosqlite:///{tmp}/bench.db"))


if __name__ == "__main__":
    main()
