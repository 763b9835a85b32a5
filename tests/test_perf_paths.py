"""Paying for the model SDK only when a model is called, and streaming in frames rather than per token."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services.assistant import Frames
from flowpilot_tui.services.generation import cache
from flowpilot_tui.services.generation.claude import claude_key
from flowpilot_tui.services.generation.service import GenerationService
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

CHECK = (
    "import sys, atexit;"
    "atexit.register(lambda: sys.stderr.write('SDK_LOADED=%s\\n' % ('anthropic' in sys.modules)));"
    "from flowpilot_tui.cli import main; main()"
)


async def test_cli_preview_cache_hit_never_imports_the_sdk(
    store: Store, engineer: Any, clock: Any, sessions: SessionService, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one backend is enough for a process-level check")
    created = await sessions.create("Outlook crashes for the CFO")
    await sessions.add_fact(created.id, "symptom", "Outlook crashes on start")
    offline = GenerationService(store, engineer, LlmSettings(), clock)
    preview = await offline.preview(created.id, "resolve")
    async with store.write() as db:  # the note Claude wrote earlier for this state, as the cache holds it
        model = LlmSettings().model
        stored = preview.model_copy(update={"generator": "claude", "model": model})
        await cache.store(db, created.id, claude_key(model), stored, clock())
    env = {
        **os.environ,
        "FLOWPILOT_DB_URL": db_url,
        "FLOWPILOT_LLM__PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "sk-test-not-used",
        "FLOWPILOT_LLM__BASE_URL": "http://127.0.0.1:9",  # a model call would fail loudly
    }
    args = [sys.executable, "-c", CHECK, "preview", created.id, "--kind", "resolve", "--json"]
    done = await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["cache_hit"] is True and doc["generator"] == "claude"
    assert "SDK_LOADED=False" in done.stderr


async def test_streamed_deltas_reach_the_ui_in_frames_and_nothing_is_lost() -> None:
    delivered: list[str] = []

    async def on_text(text: str) -> None:
        delivered.append(text)

    frames = Frames(on_text, interval=3600)  # one frame spans the whole burst
    tokens = [f"tok{i} " for i in range(300)]
    for t in tokens:
        await frames.add(t)
    await frames.flush()
    assert "".join(delivered) == "".join(tokens)
    assert len(delivered) == 2  # the first delta at once, the rest in one frame at the end


async def test_a_pending_frame_is_delivered_without_waiting_for_more_text() -> None:
    got = asyncio.Event()
    delivered: list[str] = []

    async def on_text(text: str) -> None:
        delivered.append(text)
        if "".join(delivered) == "ab":
            got.set()

    frames = Frames(on_text, interval=0.01)
    await frames.add("a")
    await frames.add("b")  # inside the frame: held, then sent by the timer
    await asyncio.wait_for(got.wait(), 60)
    assert "".join(delivered) == "ab"


async def test_search_uses_the_title_index_and_keyset_pages_cover_every_match_once(
    sessions: SessionService, clock: Any
) -> None:
    made = []
    for i in range(7):
        made.append((await sessions.create(f"VPN drops at site {i}")).id)
    other = await sessions.create("Printer offline")
    await sessions.create("A 100% full disk")
    seen: list[str] = []
    page = await sessions.list_sessions(search="vpn DROPS", limit=3, with_total=False)
    while True:
        seen += [s.id for s in page.items]
        if not page.has_more:
            break
        assert page.next_after is not None
        page = await sessions.list_sessions(search="vpn DROPS", limit=3, after=page.next_after, with_total=False)
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert (await sessions.list_sessions(search="rinter")).items[0].id == other.id  # substring, like before
    assert (await sessions.list_sessions(search="100%")).total == 1  # '%' is literal
    assert (await sessions.list_sessions(search="0% f")).total == 1
    assert (await sessions.list_sessions(search="nothing like this")).total == 0
    first = await sessions.list_sessions(limit=4, with_total=False)
    assert first.total == -1 and first.has_more


async def test_renamed_and_deleted_sessions_leave_the_title_index(store: Store, sessions: SessionService) -> None:
    from sqlalchemy import delete, update

    from flowpilot_tui.services.models import AISession

    if store.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 index is SQLite's")
    a = await sessions.create("Mailbox full")
    b = await sessions.create("Mailbox quota")
    async with store.write() as db:
        await db.execute(update(AISession).where(AISession.id == a.id).values(title="Teams will not start"))
        await db.execute(delete(AISession).where(AISession.id == b.id))
    assert (await sessions.list_sessions(search="mailbox")).total == 0
    assert [s.id for s in (await sessions.list_sessions(search="teams will")).items] == [a.id]


async def test_session_list_pages_by_keyset_and_shows_every_session_once(db_url: str, clock: Any) -> None:
    """All sessions share one updated_at (fixed clock): the cursor's id tie-break must still give each row once."""
    from textual.coordinate import Coordinate
    from tui_helpers import demo_services, settle

    from flowpilot_tui.app import make_app
    from flowpilot_tui.screens.session_list import SessionList
    from flowpilot_tui.widgets.session_table import SessionTable

    services = await demo_services(db_url, clock)
    try:
        for n in range(110):
            await services.sessions.create(f"Bulk session {n:03d}")
        everyone = (await services.sessions.list_sessions(limit=500)).total
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, SessionList)
            table = screen.query_one(SessionTable)

            def keys() -> list[str]:
                return [
                    str(table.coordinate_to_cell_key(Coordinate(r, 0)).row_key.value) for r in range(table.row_count)
                ]

            pages = [keys()]
            while screen.more:
                await pilot.press("right_square_bracket")
                await settle(pilot)
                pages.append(keys())
            seen = [k for page in pages for k in page]
            assert len(seen) == len(set(seen)) == everyone
            assert [len(p) for p in pages] == [50, 50, everyone - 100]
            assert f"101–{everyone} of {everyone} sessions · page 3/3" in " ".join(
                str(screen.query_one("#pager").render()).split()
            )
            await pilot.press("left_square_bracket")
            await settle(pilot)
            assert keys() == pages[1]  # back: the same page again, from its kept cursor
    finally:
        await services.close()


@pytest.mark.pg_only
async def test_keyset_pages_and_title_search_on_postgresql(sessions: SessionService, clock: Any) -> None:
    """The same paging and search contract on PostgreSQL (row-value cursor, ILIKE)."""
    await test_search_uses_the_title_index_and_keyset_pages_cover_every_match_once(sessions, clock)
