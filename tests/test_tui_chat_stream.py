"""Streaming chat in the workspace against the loopback fake Anthropic server (real SDK), incl. Esc to cancel."""

from __future__ import annotations

import pytest
from fake_anthropic import FakeAnthropic, message, text_block, tool_use_block
from sqlalchemy import select
from support import FixedClock
from textual.widgets import Markdown
from tui_helpers import demo_services, flat_in, open_session, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.services.models import ChatMessage, SessionFact
from flowpilot_tui.widgets.chat_log import ChatLog

OUTLOOK = "Outlook keeps"


@pytest.fixture
async def online(db_url: str, clock: FixedClock, fake_anthropic: FakeAnthropic):  # type: ignore[no-untyped-def]
    llm = {"provider": "anthropic", "api_key": "test-key", "base_url": fake_anthropic.base_url, "max_retries": 0}
    services = await demo_services(db_url, clock, llm=llm)
    yield services
    await services.close()


def generator_falls_back(fake: FakeAnthropic) -> None:
    """The preview asks Claude for the Resolve note when the workspace opens: fail it (offline fallback) so the
    scripted reply goes to the chat."""
    fake.error(500, "api_error", "preview generation is not under test here")


async def last_message(services):  # type: ignore[no-untyped-def]
    async with services.store.read() as db:
        return await db.scalar(select(ChatMessage).order_by(ChatMessage.id.desc()))


async def test_streamed_reply_renders_markdown_and_tool_cards(online, fake_anthropic: FakeAnthropic) -> None:
    reply = message(
        text_block("**Check** the `token` cache, then [bold]this[/bold] stays literal."),
        tool_use_block("record_facts", {"facts": [{"kind": "confirmed", "text": "Token cache is 3 days old"}]}),
    )
    generator_falls_back(fake_anthropic)
    fake_anthropic.reply(reply)
    app = make_app(online.settings, online)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        assert "Assistant: claude" in flat_in(app, "#assistant-status")
        await pilot.press(*"What next?", "enter")
        await settle(pilot)
        log = app.screen.query_one(ChatLog)
        reply_md = log.query_one(".reply", Markdown)
        assert reply_md.source.startswith("**Check** the `token` cache")
        chat = flat_in(app, "#chat-log")
        assert "Check the token cache, then [bold]this[/bold] stays literal." in chat
        assert "Token cache is 3 days old" in chat  # the tool card
        assert not log.streaming
        stored = await last_message(online)
        assert stored.role == "assistant" and not stored.interrupted
        async with online.store.read() as db:
            assert await db.scalar(select(SessionFact).where(SessionFact.text == "Token cache is 3 days old"))


async def test_escape_cancels_the_reply_and_keeps_the_partial_text(online, fake_anthropic: FakeAnthropic) -> None:
    generator_falls_back(fake_anthropic)
    fake_anthropic.reply(message(text_block("First I would check the adapter, then the resolver.")), hold_after=3)
    app = make_app(online.settings, online)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press(*"What next?", "enter")
        log = app.screen.query_one(ChatLog)
        await wait_until(pilot, lambda: log.streaming)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not log.streaming)
        fake_anthropic.release()
        await settle(pilot)
        assert "First I would che" in flat_in(app, "#chat-log")
        assert "(interrupted — partial reply kept)" in flat_in(app, "#chat-log")
        assert app.screen.__class__.__name__ == "Workspace"  # Esc cancelled the reply, it did not leave
        stored = await last_message(online)
        assert stored.role == "assistant" and stored.interrupted and stored.content == "First I would che"


async def test_a_long_streamed_reply_ends_complete_on_screen_and_in_the_store(
    online, fake_anthropic: FakeAnthropic
) -> None:
    """200 small deltas (code fence included): the Markdown ends with exactly the reply, the store has the same."""
    from fake_anthropic import stream_events

    body = "Steps:\n\n```powershell\nipconfig /flushdns\nGet-DnsClientServerAddress\n```\n\n" + " ".join(
        f"word{i}" for i in range(150)
    )
    generator_falls_back(fake_anthropic)
    fake_anthropic.reply_sse(stream_events(message(text_block(body)), pieces=200))
    app = make_app(online.settings, online)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press(*"What next?", "enter")
        log = app.screen.query_one(ChatLog)
        await wait_until(pilot, lambda: not log.streaming and log.entries[-1][0] == "assistant", "reply finished")
        await settle(pilot)
        assert log.query_one(".reply", Markdown).source == body
        assert log.entries[-1] == ("assistant", body)
        assert "word149" in flat_in(app, "#chat-log")
        stored = await last_message(online)
        assert stored.content == body and not stored.interrupted


async def test_reply_stream_appends_once_per_frame_and_keeps_every_chunk() -> None:
    """Chunks written within one frame become one Markdown append; stop() adds what is left."""
    from textual.app import App

    from flowpilot_tui.widgets.chat_log import ReplyStream

    class One(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield Markdown("")

    app = One()
    async with app.run_test() as pilot:
        md = app.query_one(Markdown)
        stream = ReplyStream(md, frame_s=3600)  # a frame longer than the test: nothing is sent by the clock
        stream.write("first ")
        await wait_until(pilot, lambda: stream.appends == 1, "first append")
        for i in range(100):
            stream.write(f"t{i} ")
        await pilot.pause()
        assert stream.appends == 1  # the rest waits for the next frame
        await stream.stop()
        assert stream.appends == 2
        assert md.source == "first " + "".join(f"t{i} " for i in range(100))


async def test_reply_stream_sends_whole_blocks_to_the_markdown_and_shows_the_open_one_in_the_tail() -> None:
    """While streaming, the Markdown gets whole blocks only (a blank line outside a code fence ends one); the block
    being written is on screen in the tail. At the end the Markdown holds every chunk and the tail is gone."""
    from textual.app import App
    from textual.widgets import Static

    from flowpilot_tui.widgets.chat_log import ReplyStream

    class One(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield Markdown("")
            yield Static("", id="tail")

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        md, tail = app.query_one(Markdown), app.query_one("#tail", Static)
        stream = ReplyStream(md, 0.0, tail, block_s=0.0)
        stream.write("First paragraph.\n\n```sh\nipconfig /all\n\nnslookup intra")
        await wait_until(pilot, lambda: "nslookup intra" in flat_in(app, "#tail"), "open block in the tail")
        assert md.source == "First paragraph.\n\n"  # the fence (blank line inside) is still open: not split
        assert tail.display
        stream.write("net\n```\n\nLast **words**")
        await wait_until(pilot, lambda: "Last words" in flat_in(app, "#tail"), "the next open block (as Markdown)")
        assert md.source.endswith("```\n\n") and "nslookup intranet" in md.source
        await stream.stop()
        assert md.source == "First paragraph.\n\n```sh\nipconfig /all\n\nnslookup intranet\n```\n\nLast **words**"
        assert not tail.display


async def test_no_full_collection_runs_between_the_last_byte_and_the_final_frame(
    online, fake_anthropic: FakeAnthropic
) -> None:
    """A full garbage collection is a 0.2-0.35 s pause on a busy core: held off while the reply streams and until
    the frame with its final text is painted, then allowed again (also when the engineer leaves mid-stream)."""
    import gc

    normal = gc.get_threshold()
    generator_falls_back(fake_anthropic)
    fake_anthropic.reply(message(text_block("First I would check the adapter, then the resolver.")), hold_after=3)
    app = make_app(online.settings, online)
    app.idle_gc.idle_s = 0  # the keys' own hold (heap.IdleCollector, tested on its own) would mask the reply's
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press(*"What next?", "enter")
        log = app.screen.query_one(ChatLog)
        await wait_until(pilot, lambda: fake_anthropic.held.is_set(), "the reply stalls mid-stream")
        assert gc.get_threshold()[2] > normal[2]  # held while streaming
        full = "First I would check the adapter, then the resolver."
        held_at_final_frame: list[bool] = []  # per frame painted once the Markdown holds the whole reply
        display = app._display

        def recording(screen, update):  # type: ignore[no-untyped-def]
            display(screen, update)
            replies = log.query(".reply")
            if update is not None and replies and replies.last(Markdown).source == full:
                held_at_final_frame.append(gc.get_threshold()[2] > normal[2])

        app._display = recording  # type: ignore[method-assign]
        fake_anthropic.release()
        await wait_until(pilot, lambda: not log.streaming and bool(held_at_final_frame), "the final frame")
        await settle(pilot)
        assert log.query_one(".reply", Markdown).source == full
        assert "the resolver." in flat_in(app, "#chat-log")
        assert held_at_final_frame[:1] == [True]  # the service's turn was over by then; its hold alone was not
        assert gc.get_threshold() == normal  # allowed again once the final frame is on screen


async def test_leaving_mid_stream_lets_full_collections_run_again(online, fake_anthropic: FakeAnthropic) -> None:
    import gc

    normal = gc.get_threshold()
    generator_falls_back(fake_anthropic)
    fake_anthropic.reply(message(text_block("First I would check the adapter, then the resolver.")), hold_after=3)
    app = make_app(online.settings, online)
    app.idle_gc.idle_s = 0  # the keys' own hold (heap.IdleCollector, tested on its own) would mask the reply's
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press(*"What next?", "enter")
        log = app.screen.query_one(ChatLog)
        await wait_until(pilot, lambda: log.streaming and fake_anthropic.held.is_set(), "the reply stalls")
        assert gc.get_threshold()[2] > normal[2]
        await pilot.press("escape", "escape")  # cancel the reply, then leave the workspace
        await wait_until(pilot, lambda: app.screen.__class__.__name__ != "Workspace", "back at the list")
        fake_anthropic.release()
        await settle(pilot)
        assert gc.get_threshold() == normal
