#!/usr/bin/env python3
"""Issue-15 figures, each next to a bare Textual app measured in the same run, with the other core kept busy by a
CPU burner (started and stopped by this script; `--no-burner` to skip):

- session search / deep page at 100,000 sessions: service layer, and Enter → rows on screen (Pilot, frame hook);
- CLI `preview` cache hit vs `sessions show` (new process each, median);
- cold start vs a bare Textual app; workspace open vs a bare screen push;
- key-press latency mid-stream and last-byte → final text on screen, against the fake Anthropic server
  (tests/fake_anthropic.py, in its own process, streaming ~300 tokens/s), vs a minimal Textual app streaming the
  same tokens into a Markdown widget.

"On screen" = the first frame Textual composes (App._display) after the effect is in the widget tree.
Prints numbers; asserts nothing. Usage: .venv/bin/python scripts/bench_perf.py [--sessions 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_tui import COLD, seed  # noqa: E402

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

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

# The fake Anthropic server in its own process (the real API is remote: its threads must not share our GIL).
# It records when the last text delta left (time.monotonic is system-wide on Linux) and answers GET /stats.
SERVER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import fake_anthropic as fa

PIECES, DELAY, RUNS = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
STATS = {"last_text": None, "streams": 0}

def send_sse(self, events, headers, event_delay, hold_after=None):
    self.send_response(200)
    self.send_header("content-type", "text/event-stream")
    self.send_header("transfer-encoding", "chunked")
    self.end_headers()
    for name, data in events:
        if event_delay:
            time.sleep(event_delay)
        chunk = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()
        if name == "content_block_delta" and data["delta"].get("type") == "text_delta":
            STATS["last_text"] = time.monotonic()
    self.wfile.write(b"0\r\n\r\n")
    self.wfile.flush()
    STATS["streams"] += 1

def do_GET(self):
    data = json.dumps(STATS).encode()
    self.send_response(200)
    self.send_header("content-type", "application/json")
    self.send_header("content-length", str(len(data)))
    self.end_headers()
    self.wfile.write(data)

fa._Handler._send_sse = send_sse
fa._Handler.do_GET = do_GET
para = ("Since the VPN connects but **DNS fails**, check the resolver order with `ipconfig /all`, then flush "
        "the cache. If the adapter metric puts the tunnel last, internal names go to the ISP resolver.\n\n"
        "- Compare the DNS suffix list with the GPO\n- Run `nslookup intranet.corp` against 10.0.0.10\n\n")
text = "## What to check\n\n" + para * 10
msg = fa.message(fa.text_block(text))
def chat(body):
    return body.get("stream") is True and (body.get("tool_choice") or {}).get("type") != "tool"
fake = fa.FakeAnthropic()
for _ in range(RUNS):
    fake.reply_sse(fa.stream_events(msg, pieces=PIECES), event_delay=DELAY, match=chat)
for _ in range(200):
    fake.error(500, "api_error", "not under test", headers={"x-should-retry": "false"}, match=lambda b: not chat(b))
fake.start()
print(fake.base_url, json.dumps(text), flush=True)
sys.stdin.read()
fake.stop()
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def med(values: list[float]) -> float:
    return statistics.median(values)


def ratio(a: float, b: float) -> str:
    return f"{a / b:5.2f}x bare" if b > 0 else "  n/a"


async def median_of(runs: int, fn: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return med(times)


async def settle(pilot: Any, app: Any) -> None:
    """Until no worker runs (a superseded exclusive worker ends cancelled: not a failure here)."""
    from textual.worker import WorkerCancelled, WorkerError

    for _ in range(50):
        await pilot.pause()
        running = [w for w in app.workers if not w.is_finished]
        if not running:
            await pilot.pause()
            return
        for worker in running:
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerError):
                pass


class Frames:
    """Hooks App._display: `wait(probe)` resolves with the monotonic time of the first composed frame at which
    `probe()` holds (the effect is in the tree AND a frame carrying it was rendered)."""

    def __init__(self, app: Any) -> None:
        self.waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or not self.waiters:
                return
            now = time.monotonic()
            for waiter in list(self.waiters):
                probe, fut = waiter
                if not fut.done() and probe():
                    self.waiters.remove(waiter)
                    fut.set_result(now)

        app._display = display

    def wait(self, probe: Callable[[], bool]) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((probe, fut))
        return fut


def press(app: Any, char: str) -> float:
    """Send one key the way a terminal does (through the driver), without waiting; returns the send time."""
    from textual import events

    t0 = time.monotonic()
    app._driver.send_message(events.Key(char, char))
    return t0


# ---- session list at 100k -----------------------------------------------------------------------------------


def deep_cursor_of(services: Any, n: int = 49_949) -> Any:
    async def get() -> str:
        from datetime import datetime

        from sqlalchemy import text

        from flowpilot_tui.services.sessions import _encode_cursor

        async with services.store.read() as db:  # the cursor 999 "next page" presses reach
            row = (
                await db.execute(
                    text("SELECT updated_at, id FROM ai_sessions ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET :n"),
                    {"n": n},
                )
            ).one()
        return _encode_cursor(datetime.fromisoformat(str(row[0])), row[1])

    return get()


SEARCHES = [
    ("first page", {}),
    ("status 'paused'", {"status": "paused"}),
    ("owner 'bench'", {"owner": "bench"}),
    ("ticket '#100299'", {"search": "#100299"}),
    ("title 'printer' (FTS)", {"search": "printer"}),
    ("title no match (FTS)", {"search": "zzzz no such"}),
    ("bare digits '4821'", {"search": "4821"}),
]


async def service_figures(services: Any, cursor: str, runs: int) -> None:
    s = services.sessions
    cases = [*SEARCHES, ("page 1,000 keyset (after=)", {"after": cursor})]
    print("Session list, service layer, 100k sessions (median; one query for page + has-more, no count):")
    for label, kw in cases:
        t = await median_of(runs, lambda kw=kw: s.list_sessions(limit=50, with_total=False, **kw))
        print(f"  {label:30s}{ms(t)}")
    t = await median_of(runs, lambda: s.list_sessions(limit=50, offset=49_950, with_total=False))
    print(f"  {'page 1,000 by OFFSET (old way)':30s}{ms(t)}")


async def screen_figures(services: Any, cursor: str, runs: int) -> None:
    """Enter in the search box → rows on screen; next page at page 1,000 → rows on screen; vs a bare DataTable."""
    from textual.app import App
    from textual.widgets import DataTable, Input

    from flowpilot_tui.app import make_app
    from flowpilot_tui.screens.session_list import SessionList
    from flowpilot_tui.widgets.session_table import SessionTable

    app = make_app(services.settings, services)
    results: dict[str, list[float]] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        frames = Frames(app)
        while not (isinstance(app.screen, SessionList) and app.screen.query_one(SessionTable).row_count):
            await pilot.pause(0.01)
        screen = app.screen
        table = screen.query_one(SessionTable)

        def first_row() -> str | None:
            if not table.row_count:
                return None
            return table.coordinate_to_cell_key((0, 0)).row_key.value

        async def shown(expect: str | None, start: Callable[[], None]) -> float:
            fut = frames.wait(lambda: first_row() == expect)
            t0 = time.monotonic()
            start()
            return await asyncio.wait_for(fut, 60) - t0

        search_input = screen.query_one("#search", Input)
        first_page_id = first_row()

        def type_search(term: str) -> None:
            """The text as typed before Enter. Set without its Changed message: posted after our direct call to
            search_submitted, it armed the 0.3 s debounce, whose load(0) went back to page 1 (and cancelled a page
            being read) — the page waited for never showed."""
            with screen.prevent(Input.Changed):
                search_input.value = term

        for label, kw in SEARCHES:
            if "status" in kw or "owner" in kw:
                continue
            term = kw.get("search", "")
            page = await services.sessions.list_sessions(search=term or None, limit=50, with_total=False)
            expect = page.items[0].id if page.items else None
            vals = []
            for _ in range(runs):
                type_search("something else entirely")  # a different page first, so each run changes rows
                other = await services.sessions.list_sessions(search="something else entirely", limit=1)
                await shown(other.items[0].id if other.items else None, screen.search_submitted)
                type_search(term)
                vals.append(await shown(expect, screen.search_submitted))
            results[f"search {label}"] = vals
        type_search("")
        if first_row() != first_page_id:
            await shown(first_page_id, screen.search_submitted)
        deep = await services.sessions.list_sessions(limit=50, after=cursor, with_total=False)
        before = await deep_cursor_of(services, 49_899)  # the last row of page 998
        page999 = await services.sessions.list_sessions(limit=50, after=before, with_total=False)
        vals = []
        for _ in range(runs):
            if hasattr(screen, "cursors"):  # keyset: the cursors "next page" pressed 998 times leaves behind
                screen.cursors = [None, *([before] * 998)]
                await shown(page999.items[0].id, screen.load)
                vals.append(await shown(deep.items[0].id, screen.action_next_page))
            else:  # offset paging (before issue 15)
                vals.append(await shown(deep.items[0].id, lambda: screen.load(49_950)))
                await shown(page999.items[0].id, lambda: screen.load(49_900))
        results["next page at page 1,000"] = vals

    rows = [(f"#{n}", f"Printer issue {n}", "active", "Bench", "Nov 24 09:00") for n in range(100)]

    class BareList(App[None]):
        def compose(self) -> Any:
            yield DataTable(id="t")

        def on_mount(self) -> None:
            t = self.query_one(DataTable)
            t.add_columns("Ticket", "Title", "Status", "Owner", "Updated")
            self.flip = 0

        def swap(self) -> None:
            t = self.query_one(DataTable)
            t.clear()
            self.flip ^= 1
            for r in rows[self.flip * 50 : self.flip * 50 + 50]:
                t.add_row(*r, key=r[0])

    bare = BareList()
    bare_vals = []
    async with bare.run_test(size=(120, 36)) as pilot:
        frames = Frames(bare)
        t = bare.query_one(DataTable)
        await pilot.pause()
        for _ in range(runs * 2):
            want = rows[(bare.flip ^ 1) * 50][0]
            fut = frames.wait(
                lambda want=want: t.row_count > 0 and t.coordinate_to_cell_key((0, 0)).row_key.value == want
            )
            t0 = time.monotonic()
            bare.swap()
            bare_vals.append(await asyncio.wait_for(fut, 60) - t0)
    b = med(bare_vals)
    print("Session list, rows on screen (median; action → first frame showing the new rows, 120×36):")
    print(f"  {'bare DataTable, 50 rows swapped':34s}{ms(b)}")
    for label, vals in results.items():
        print(f"  {label:34s}{ms(med(vals))}   {ratio(med(vals), b)}   (max {max(vals) * 1000:.0f} ms)")


# ---- workspace open -----------------------------------------------------------------------------------------


async def workspace_figures(services: Any, session_id: str, runs: int) -> None:
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.screen import Screen
    from textual.widgets import Markdown, Static, TextArea

    from flowpilot_tui.app import make_app
    from flowpilot_tui.screens.workspace import Workspace

    messages = await services.sessions.list_messages(session_id, limit=50)

    app = make_app(services.settings, services)
    vals = []
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        for i in range(runs + 1):
            t0 = time.perf_counter()
            await app.push_screen(Workspace(services, session_id))
            await settle(pilot, app)
            if i:  # the first open pays one-off imports (Markdown, TextArea)
                vals.append(time.perf_counter() - t0)
            app.pop_screen()
            await settle(pilot, app)

    class BareScreen(Screen[None]):
        def compose(self) -> Any:
            with VerticalScroll():
                yield Static("\n\n".join(m.content for m in messages[:-1]))
                yield Markdown(messages[-1].content)
            yield TextArea()

    class BareApp(App[None]):
        pass

    bare = BareApp()
    bvals = []
    async with bare.run_test(size=(120, 36)) as pilot:
        for i in range(runs + 1):
            t0 = time.perf_counter()
            await bare.push_screen(BareScreen())
            await settle(pilot, bare)
            if i:
                bvals.append(time.perf_counter() - t0)
            bare.pop_screen()
            await settle(pilot, bare)
    print("Workspace open (median; push → history, facts, fix, preview shown, workers done):")
    print(f"  {'bare screen (Static+Markdown+TextArea)':40s}{ms(med(bvals))}")
    print(f"  {'flowpilot workspace, 50-message session':40s}{ms(med(vals))}   {ratio(med(vals), med(bvals))}")


# ---- streaming ----------------------------------------------------------------------------------------------


def stats(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(base_url + "/stats", timeout=10) as r:
        return json.loads(r.read())


async def stream_keys(
    app: Any, frames: Frames, typed: Callable[[], str], streaming: Callable[[], bool], presses: int, gap: float
) -> list[float]:
    """Press 'x' every `gap` s while the reply streams; each latency is send → first frame showing it."""
    out = []
    for _ in range(presses):
        if not streaming():
            break
        n = typed().count("x")
        fut = frames.wait(lambda n=n: typed().count("x") > n)
        t0 = press(app, "x")
        out.append(await asyncio.wait_for(fut, 120) - t0)
        await asyncio.sleep(gap)
    return out


async def bare_stream_run(base_url: str, full: str, presses: int, gap: float) -> tuple[list[float], float]:
    """The issue's baseline: a minimal Textual app streaming the same tokens (SDK text_stream → MarkdownStream)."""
    from anthropic import AsyncAnthropic
    from textual.app import App
    from textual.widgets import Markdown, TextArea

    class BareChat(App[None]):
        done = False
        started = False

        def compose(self) -> Any:
            yield Markdown("", id="md")
            yield TextArea(id="in")

        async def go(self) -> None:
            md = self.query_one(Markdown)
            stream = Markdown.get_stream(md)
            client = AsyncAnthropic(base_url=base_url, api_key="bench", max_retries=0)
            try:
                async with client.messages.stream(
                    model="claude-sonnet-5-5", max_tokens=4000, messages=[{"role": "user", "content": "hi"}]
                ) as s:
                    async for t in s.text_stream:
                        self.started = True
                        await stream.write(t)
            finally:
                await stream.stop()
                await client.close()
            self.done = True
            md.refresh()  # a frame that carries `done` (the last text may be painted already: then none came)

    app = BareChat()
    async with app.run_test(size=(120, 36)) as pilot:
        frames = Frames(app)
        app.query_one(TextArea).focus()
        await pilot.pause()
        md = app.query_one(Markdown)
        final = frames.wait(lambda: app.done and md.source == full)
        app.run_worker(app.go())
        while not app.started:
            await asyncio.sleep(0.01)
        keys = await stream_keys(app, frames, lambda: app.query_one(TextArea).text, lambda: not app.done, presses, gap)
        t_screen = await asyncio.wait_for(final, 120)
    return keys, t_screen - stats(base_url)["last_text"]


async def app_stream_run(db_url: str, base_url: str, full: str, presses: int, gap: float) -> tuple[list[float], float]:
    from flowpilot_tui.app import make_app
    from flowpilot_tui.config import Settings
    from flowpilot_tui.screens.workspace import Workspace
    from flowpilot_tui.services.container import open_services
    from flowpilot_tui.widgets.chat_input import ChatInput
    from flowpilot_tui.widgets.chat_log import ChatLog

    settings = Settings(
        db_url=db_url,
        llm={"provider": "anthropic", "api_key": "bench", "base_url": base_url, "max_retries": 0},
        ui={"cursor_blink": False, "animations": "none"},
    )
    settings.user = "bench"
    services = await open_services(settings)
    session = await services.sessions.create("VPN connects but no DNS")
    app = make_app(settings, services)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            frames = Frames(app)
            await settle(pilot, app)
            await app.push_screen(Workspace(services, session.id))
            await settle(pilot, app)
            box = app.screen.query_one(ChatInput)
            log = app.screen.query_one(ChatLog)
            box.focus()
            box.text = "What next?"
            await pilot.pause()
            final = frames.wait(lambda: log.last_reply == full)  # the stream ended on screen with the whole text
            await pilot.press("enter")
            while not log.streaming:
                await asyncio.sleep(0.01)
            keys = await stream_keys(app, frames, lambda: box.text, lambda: log.streaming, presses, gap)
            t_screen = await asyncio.wait_for(final, 120)
    finally:
        await services.close()
    return keys, t_screen - stats(base_url)["last_text"]


async def stream_figures(db_url: str, runs: int, pieces: int, delay: float) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(HERE.parent / "tests"), str(pieces), str(delay), str(2 * runs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url, text_json = server.stdout.readline().split(" ", 1)
        full = json.loads(text_json)
        presses, gap = max(5, int(pieces * delay / 0.35)), 0.25
        bare_keys: list[float] = []
        app_keys: list[float] = []
        bare_lag: list[float] = []
        app_lag: list[float] = []
        for _ in range(runs):  # interleaved: bare, app, bare, app …
            k, lag = await bare_stream_run(base_url, full, presses, gap)
            bare_keys += k
            bare_lag.append(lag)
            k, lag = await app_stream_run(db_url, base_url, full, presses, gap)
            app_keys += k
            app_lag.append(lag)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    rate = 1 / delay if delay else float("inf")
    print(f"Streaming ({pieces} text deltas at ~{rate:.0f}/s from the fake server; keys pressed mid-stream):")
    bk, ak = med(bare_keys), med(app_keys)
    print(f"  key → on screen, bare Markdown app   median {ms(bk)}  p90 {ms(pct(bare_keys, 0.9))}  n={len(bare_keys)}")
    print(
        f"  key → on screen, flowpilot           median {ms(ak)}  p90 {ms(pct(app_keys, 0.9))}  n={len(app_keys)}"
        f"   {ratio(ak, bk)}"
    )
    bl, al = med(bare_lag), med(app_lag)
    print(f"  last byte → final text, bare         median {ms(bl)}  max {ms(max(bare_lag))}")
    print(f"  last byte → final text, flowpilot    median {ms(al)}  max {ms(max(app_lag))}   {ratio(al, bl)}")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# ---- processes ------------------------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return med(times)


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
    show, hit = [], []
    for _ in range(runs):  # interleaved
        show.append(_run([*cli, "sessions", "show", session_id], env, 1))
        hit.append(_run([*cli, "preview", session_id, "--kind", "resolve"], env, 1))
    print("CLI (median, new process each, Claude configured, 100k-session DB):")
    print(f"  sessions show                 {ms(med(show))}")
    print(f"  preview, cache hit            {ms(med(hit))}   ratio {med(hit) / med(show):.2f}x sessions show")


def cold_figures(db_url: str, runs: int) -> None:
    bare, app = [], []
    for _ in range(runs):  # interleaved
        for code, out in ((BARE, bare), (COLD, app)):
            try:
                done = subprocess.run(
                    [sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True, timeout=300
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                tail = (exc.stderr or "")[-600:] if isinstance(exc.stderr, str) else ""
                print(f"  cold start run failed ({exc.__class__.__name__}): {tail.strip()}", flush=True)
                continue
            out.append(int(done.stdout.split()[-2]))
    if not bare or not app:
        print("Cold start: no figures (every run failed, see above)")
        return
    b, a = med(bare), med(app)
    print("Cold start (median; process start → first screen ready):")
    print(f"  bare Textual app              {b:7.0f} ms")
    print(f"  flowpilot (100k list shown)   {a:7.0f} ms   {ratio(a, b)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pieces", type=int, default=750, help="text deltas per streamed reply")
    parser.add_argument("--delay", type=float, default=1 / 300, help="seconds between streamed events")
    parser.add_argument("--no-burner", action="store_true", help="do not keep the other core busy")
    parser.add_argument("--only", default="", help="comma list of: service,screen,workspace,stream,cli,cold")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    def want(part: str) -> bool:
        return not only or part in only

    burner = None if args.no_burner else subprocess.Popen([sys.executable, "-c", "while True: pass"])
    kept = os.environ.get("FLOWPILOT_BENCH_BURNER")  # the parent run's burner keeps running for this child
    state = f"pid {burner.pid}" if burner is not None else (f"the parent's (pid {kept})" if kept else "off")
    print(f"CPU burner: {state}; {os.cpu_count()} cores", flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
            os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
            os.environ["FLOWPILOT_CONFIG"] = str(Path(tmp) / "config.toml")
            db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"

            async def body() -> str:
                t0 = time.perf_counter()
                services, long_id, _ = await seed(db_url, args.sessions, 50)
                print(f"Seeded {args.sessions:,} sessions in {time.perf_counter() - t0:.1f} s", flush=True)
                try:
                    cursor = await deep_cursor_of(services) if want("service") or want("screen") else ""
                    if want("service"):
                        await service_figures(services, cursor, args.runs)
                    if want("screen"):
                        await screen_figures(services, cursor, args.runs)
                    if want("workspace"):
                        await workspace_figures(services, long_id, args.runs)
                    if want("cli"):
                        await prime_preview(services, long_id)
                finally:
                    await services.close()
                if want("stream") and only == {"stream"}:
                    await stream_figures(db_url, max(2, args.runs // 2), args.pieces, args.delay)
                return long_id

            long_id = asyncio.run(body())
            if want("stream") and only != {"stream"}:
                # In a process of its own, as the app runs: after the sections above, this interpreter holds
                # their apps' leftovers (the last byte -> final text figure was 216 ms here vs 43-67 ms alone).
                sys.stdout.flush()
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--only",
                        "stream",
                        "--no-burner",
                        "--sessions",
                        str(args.sessions),
                        "--runs",
                        str(args.runs),
                        "--pieces",
                        str(args.pieces),
                        "--delay",
                        str(args.delay),
                    ],
                    check=False,
                    env={**os.environ, "FLOWPILOT_BENCH_BURNER": str(burner.pid) if burner is not None else ""},
                )
            if want("cli"):
                cli_figures(db_url, long_id, args.runs)
            if want("cold"):
                cold_figures(db_url, max(3, args.runs // 2))
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    main()
