#!/usr/bin/env python3
"""Writeback figures (issues 15 and 16): HTTP requests per verified post against the ConnectWise emulator, and the
time from a kill -9 at several points of a `flowpilot post` to the end of the immediate retry. Asserts nothing.

Usage: .venv/bin/python scripts/bench_recovery.py [--runs 3] [--skip-kill]

`count_requests_per_verified_post()` is importable (scripts/bench_perf.py prints it too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTE = "## Resolution\n\nRecreated the Outlook profile; no password prompts for 30 minutes.\n"
TICKET = 48213


async def _count(mode: str, *, recheck_delay_s: float) -> int:
    """API requests (discovery excluded) of one verified resolve post (note + status, no time entry).

    mode: "warm" — after the confirm dialog's read in the same process (TUI, interactive CLI); "linked" — a fresh
    `post --yes` process, the first post on this connection, the session linked to the ticket in another process
    (a link reads the ticket and its board's statuses into the shared PSA cache, services/writeback_cache.py);
    "fresh_shared" — a fresh `post --yes` process after other processes posted on the same board and read this
    ticket (sync or live status); "cold" — a fresh process, nothing known (linked while ConnectWise was
    unreachable, so unchecked)."""
    from flowpilot_tui.emulators.connectwise import (
        DEMO_CLIENT_ID,
        DEMO_PRIVATE_KEY,
        DEMO_PUBLIC_KEY,
        ConnectWiseEmulator,
    )
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.store import Store
    from flowpilot_tui.services.tickets import TicketService
    from flowpilot_tui.services.writeback import WritebackService

    async def no_sleep(_s: float) -> None:
        return None

    with tempfile.TemporaryDirectory() as tmp, ConnectWiseEmulator() as cw:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        now = datetime.now(UTC)
        actor = await accounts.create_account(
            store, "Bench MSP", "bench", now, preferences={"cw_resolved_status_id": 17}
        )
        await accounts.sync_connections(store, actor, [("demo-cw", "connectwise")])
        sessions = SessionService(store, actor)
        s = await sessions.create("Outlook prompts", connection_name="demo-cw", ticket_id=TICKET)

        def process() -> ConnectWiseProvider:  # a new provider: what a new `flowpilot` process starts with
            return ConnectWiseProvider(
                company_id=cw.company_id,
                public_key=DEMO_PUBLIC_KEY,
                private_key=DEMO_PRIVATE_KEY,
                client_id=DEMO_CLIENT_ID,
                site=cw.site_url,
                connection_name="demo-cw",
            )

        def writeback(provider: ConnectWiseProvider) -> WritebackService:
            return WritebackService(store, actor, lambda _n: provider, sleep=no_sleep, recheck_after_s=recheck_delay_s)

        try:
            if mode == "linked":
                linker = process()
                tickets = TicketService(store, actor, lambda _n: linker, cast(Any, {"demo-cw": None}))
                await tickets.check_ticket("demo-cw", TICKET)  # what the link dialog / `sessions new` runs
                await linker.aclose()
            if mode == "fresh_shared":
                other = await sessions.create("VPN DNS", connection_name="demo-cw", ticket_id=48214)
                earlier = process()
                await writeback(earlier).post(other.id, "resolve", NOTE)  # another post on the same board
                await earlier.aclose()
                linker = process()
                tickets = TicketService(store, actor, lambda _n: linker, cast(Any, {"demo-cw": None}))
                await tickets.live_status(s.id)  # this ticket read by another process (as linking or sync do)
                await linker.aclose()
            provider = process()
            wb = writeback(provider)
            if mode == "warm":  # what the confirm dialog reads first (TUI, interactive CLI): the ticket and its board
                await wb.plan(s.id, "resolve", with_status_name=True)
            before = cw.request_count() - cw.request_count(contains="/login/companyinfo")
            await wb.post(s.id, "resolve", NOTE)
            after = cw.request_count() - cw.request_count(contains="/login/companyinfo")
            await provider.aclose()
        finally:
            await store.close()
        return after - before


def count_requests_per_verified_post() -> dict[str, int]:
    """HTTP requests one verified post makes, per `_count` mode, with the default delayed re-check and with it off
    (`writeback.recheck_delay_s = 0`)."""
    out = {}
    for mode in ("warm", "linked", "fresh_shared", "cold"):
        out[mode] = asyncio.run(_count(mode, recheck_delay_s=2.0))
        out[f"{mode}_no_recheck"] = asyncio.run(_count(mode, recheck_delay_s=0))
    return out


def print_request_counts() -> None:
    c = count_requests_per_verified_post()
    print("Requests per verified post (note + status, no time entry; API requests at the emulator):")
    rows = (
        ("warm", "after the confirm dialog's read (TUI, interactive CLI)"),
        ("linked", "fresh `post --yes`, first post on the connection, linked elsewhere"),
        ("fresh_shared", "fresh `post --yes` process, ticket + board in the shared cache"),
        ("cold", "fresh `post --yes`, nothing known (an unchecked link)"),
    )
    for key, label in rows:
        print(f"  {label + ':':<70} {c[key]}  (re-check off: {c[key + '_no_recheck']})")


KILL_POINTS = ("before-send", "after-note-post", "before-patch", "after-patch", "before-verify")


def _hold(cw: Any, point: str) -> tuple[Any, Any, Any]:
    """(hold_if, hold_reply_if, ready) for a kill point, as in tests/test_hardening.py."""

    def ticket(p: str) -> bool:
        return p.endswith(f"/service/tickets/{TICKET}")

    def patched() -> bool:
        return cw.state.tickets[TICKET].status_id == 17

    def verify_arrived() -> bool:
        calls = [(r.method, ticket(r.path)) for r in cw.api_calls()]
        return ("PATCH", True) in calls and ("GET", True) in calls[calls.index(("PATCH", True)) :]

    return {
        "before-send": (None, None, lambda: bool(cw.api_calls())),
        "after-note-post": (None, lambda m, p: m == "POST" and p.endswith("/notes"), lambda: bool(cw.notes_on(TICKET))),
        "before-patch": (lambda m, p: m == "PATCH", None, lambda: bool(cw.api_calls("PATCH"))),
        "after-patch": (None, lambda m, p: m == "PATCH", patched),
        "before-verify": (lambda m, p: m == "GET" and ticket(p) and patched(), None, verify_arrived),
    }[point]


def _flowpilot(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowpilot_tui", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _in_process(env: dict[str, str], *args: str, input: str) -> subprocess.CompletedProcess[str]:
    """The retry inside this (already warm) interpreter: what a running TUI or a long-lived worker pays."""
    from click.testing import CliRunner

    from flowpilot_tui.cli import main

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("FLOWPILOT_", "ANTHROPIC_"))}
    try:
        result = CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)
    finally:
        os.environ.update(saved)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def kill_figures(point: str, recheck_delay_s: float, *, in_process: bool = False) -> tuple[float, float]:
    """kill -9 a `flowpilot post` at `point`, then run the retry at once (a new `flowpilot post` process, or
    `in_process`): (kill → retry done, retry alone) in seconds."""
    from flowpilot_tui.emulators.connectwise import (
        DEMO_CLIENT_ID,
        DEMO_COMPANY,
        DEMO_PRIVATE_KEY,
        DEMO_PUBLIC_KEY,
        ConnectWiseEmulator,
    )

    with tempfile.TemporaryDirectory() as tmp, ConnectWiseEmulator() as cw:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'[connections.demo-cw]\nsite = "{cw.site_url}"\ncompany_id = "{DEMO_COMPANY}"\n'
            f'public_key = "{DEMO_PUBLIC_KEY}"\nprivate_key_env = "CW_DEMO_PRIVATE_KEY"\n'
            f'client_id = "{DEMO_CLIENT_ID}"\n\n[writeback]\nrecheck_delay_s = {recheck_delay_s}\n'
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FLOWPILOT_", "ANTHROPIC_"))},
            "FLOWPILOT_CONFIG": str(config),
            "FLOWPILOT_SYSTEM_CONFIG": str(Path(tmp) / "none.toml"),
            "FLOWPILOT_DB_URL": f"sqlite+aiosqlite:///{tmp}/fp.db",
            "FLOWPILOT_USER": "alice",
            "CW_DEMO_PRIVATE_KEY": DEMO_PRIVATE_KEY,
        }
        _flowpilot(env, "demo")
        items = json.loads(_flowpilot(env, "sessions", "list", "--json").stdout)["items"]
        sid = next(i["id"] for i in items if i["title"].lower().startswith("outlook"))
        only, reply, ready = _hold(cw, point)
        cw.faults.hold = held = threading.Event()
        cw.faults.hold_if, cw.faults.hold_reply_if = only, reply
        args = ("post", sid, "--kind", "resolve", "--file", "-", "--yes", "--json")
        p = subprocess.Popen(
            [sys.executable, "-m", "flowpilot_tui", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert p.stdin is not None
        p.stdin.write(NOTE)
        p.stdin.close()
        deadline = time.monotonic() + 60
        while not ready():
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the post ended before the kill point {point}")
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        p.wait()
        cw.faults.hold = cw.faults.hold_if = cw.faults.hold_reply_if = None
        held.set()
        start, cpu = time.monotonic(), _child_cpu()
        result = (_in_process if in_process else _flowpilot)(env, *args, input=NOTE)
        done = time.monotonic()
        CPU.append(_child_cpu() - cpu)
        doc = json.loads(result.stdout) if result.returncode == 0 else {}
        notes = cw.notes_on(TICKET)
        if result.returncode != 0 or len(notes) != 1 or doc.get("verified_status_id") != 17:
            raise RuntimeError(f"{point}: retry failed: {result.returncode} {result.stderr.strip()} notes={len(notes)}")
        return done - killed, done - start


CPU: list[float] = []  # CPU seconds of each retry process (less sensitive to a busy machine than wall time)


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baseline(runs: int) -> dict[str, tuple[float, float]]:
    """CLI start-up every retry pays, as (wall, CPU) medians: a `flowpilot --version` process (interpreter + click)
    and one that imports what `flowpilot post` loads before its first request (settings, database, services,
    writeback, the ConnectWise client)."""
    post_imports = (
        "import flowpilot_tui.cli, flowpilot_tui.cli.notes, flowpilot_tui.config, flowpilot_tui.services.container, "
        "flowpilot_tui.services.writeback, flowpilot_tui.services.post_gate, flowpilot_tui.services.redact; "
        "from flowpilot_tui.services.psa.connectwise import load_httpx; load_httpx(); "
        "import sqlalchemy.dialects.sqlite.aiosqlite"
    )
    commands = {
        "--version": [sys.executable, "-m", "flowpilot_tui", "--version"],
        "post imports": [sys.executable, "-c", post_imports],
    }
    out = {}
    for name, command in commands.items():
        walls, cpus = [], []
        for _ in range(runs):
            t, cpu = time.monotonic(), _child_cpu()
            subprocess.run(command, capture_output=True, check=True)
            walls.append(time.monotonic() - t)
            cpus.append(_child_cpu() - cpu)
        out[name] = (statistics.median(walls), statistics.median(cpus))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="kill/retry rounds per kill point (median printed)")
    parser.add_argument("--skip-kill", action="store_true", help="only the request counts")
    args = parser.parse_args()
    print_request_counts()
    if args.skip_kill:
        return 0
    print(f"\nCLI start-up (median of {max(5, args.runs)} processes):")
    for name, (wall, cpu) in baseline(max(5, args.runs)).items():
        print(f"  {name:<14} {wall * 1000:6.0f} ms wall, {cpu * 1000:6.0f} ms CPU")
    print(f"  (load average at start: {os.getloadavg()[0]:.1f})")
    for delay in (2.0, 0.0):
        print(
            f"\nkill -9 during `flowpilot post`, then the same command at once (writeback.recheck_delay_s = {delay:g}):"
        )
        print(f"  {'kill point':<16} {'kill -> done (median, max)':>28} {'retry process alone':>22} {'retry CPU':>10}")
        for point in KILL_POINTS:
            CPU.clear()
            figures = [kill_figures(point, delay) for _ in range(args.runs)]
            total = [f[0] for f in figures]
            alone = [f[1] for f in figures]
            print(
                f"  {point:<16} {statistics.median(total):>15.2f} s, {max(total):>5.2f} s"
                f" {statistics.median(alone):>19.2f} s {statistics.median(CPU):>8.2f} s"
            )
    kill_figures("before-patch", 0.0, in_process=True)  # warm the interpreter (imports) once, not measured
    print("\nThe same, the retry in this already running interpreter (the TUI's case; recheck_delay_s = 0):")
    for point in KILL_POINTS:
        total = [kill_figures(point, 0.0, in_process=True)[0] for _ in range(args.runs)]
        print(f"  {point:<16} {statistics.median(total):>15.2f} s, {max(total):>5.2f} s")
    print("\nEvery retry ended with exactly one note, status Completed verified, session resolved (else it raises).")
    print("Another host's lease: taken over once its heartbeat is older than writeback.takeover_after_s (30 s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
