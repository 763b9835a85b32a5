"""Pastes and typed text fed as raw terminal input through the app's real parser (PasteParser), then delivered the way
the driver delivers them: the exact text stored, in order, nothing acting as a key, and the app never quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from textual import events
from textual.message import Message
from tui_helpers import make_settings, settle, wait_until
from typing_harness import new_session_dialog, slowed_loop, until_drained

from flowpilot_tui.app import make_app
from flowpilot_tui.paste_parser import PasteParser, driver_class
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.fact_editor import FactEditor

START, END = "\x1b[200~", "\x1b[201~"
LOG = "error: \x1b[31mdisk full\x1b[0m on /var\r\x1b]52;c;ZXZpbA==\x07next \x11 line \x03\tend\r"
LOG_TEXT = "error: disk full on /var\nnext ␑ line ␃\tend\n"  # colours/OSC removed, ctrl+q / ctrl+c shown visibly


def parse(*reads: str) -> list[Message]:
    parser = PasteParser()
    out: list[Message] = []
    for data in reads:
        out.extend(parser.feed(data))
    return out


def described(tokens: list[Message]) -> list[tuple[str, str]]:
    def one(t: Message) -> tuple[str, str]:
        if isinstance(t, events.Paste):
            return ("paste", t.text)
        return ("key", t.key) if isinstance(t, events.Key) else ("other", type(t).__name__)

    return [one(t) for t in tokens]


# ---- the parser ----------------------------------------------------------------------------------------------


def test_bracketed_paste_with_escapes_and_controls_is_one_paste_however_it_is_split() -> None:
    data = "a" + START + LOG + END + "b"
    expected = [("key", "a"), ("paste", LOG_TEXT), ("key", "b")]
    assert described(parse(data)) == expected
    assert described(parse(*data)) == expected  # one character per read: the markers are split everywhere
    assert described(parse(data[:9], data[9:40], data[40:])) == expected


def test_textual_parser_alone_turns_such_a_paste_into_keys() -> None:
    """The failure this parser exists for (if Textual fixes it, PasteParser can go)."""
    from textual._xterm_parser import XTermParser

    tokens = list(XTermParser().feed(START + LOG + END))
    assert any(isinstance(t, events.Key) and t.key == "ctrl+q" for t in tokens)


def test_a_read_with_a_line_break_followed_by_text_is_an_unbracketed_paste() -> None:
    assert described(parse("first line\rsecond \x11\rthird")) == [("paste", "first line\nsecond ␑\nthird")]
    assert described(parse("h", "i", "\r")) == [("key", "h"), ("key", "i"), ("key", "enter")]  # typed
    assert described(parse("hi\r")) == [("key", "h"), ("key", "i"), ("key", "enter")]  # fast, but ends in Enter
    tokens = parse("\r\x1b[<35;10;5M")  # Enter and a mouse report in one read: still a key and a mouse move
    assert described(tokens) == [("key", "enter"), ("other", "MouseMove")]


def test_a_long_unbracketed_paste_continues_across_reads() -> None:
    long = ("x" * 70 + "\r") * 20
    assert described(parse(long, "tail\r")) == [("paste", long.replace("\r", "\n")), ("paste", "tail\n")]


def test_a_paste_whose_end_marker_never_comes_closes_when_input_pauses() -> None:
    parser = PasteParser()
    assert list(parser.feed(START + "abc")) == []
    parser._timeout_time = 0  # the idle limit has passed (no clock in the test)
    assert described(list(parser.tick())) == [("paste", "abc")]
    assert described(list(parser.feed("x"))) == [("key", "x")]


def test_a_typed_zero_width_joiner_is_delivered_as_text() -> None:
    tokens = parse(*"👩\u200d💻")
    assert described(tokens) == [("key", "woman"), ("paste", "\u200d"), ("key", "personal_computer")]
    assert described(parse(START + "👩\u200d💻" + END)) == [("paste", "👩\u200d💻")]


# ---- in the app ------------------------------------------------------------------------------------------------


def terminal(app: Any, parser: PasteParser, *reads: str) -> None:
    """What the driver's input thread does with each read: parse, then hand every message to the driver."""
    for data in reads:
        for message in parser.feed(data):
            app._driver.process_message(message)


async def _user_messages(services: Services, sid: str) -> list[str]:
    return [m.content for m in await services.sessions.list_messages(sid, limit=50) if m.role == "user"]


@contextlib.asynccontextmanager
async def in_chat(store: Any, engineer: Any, clock: Any, db_url: str, title: str) -> AsyncIterator[tuple[Any, ...]]:
    """(services, session, app, pilot, chat pane): a new session's workspace, opened from the list."""
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create(title)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        yield services, session, app, pilot, await _chat(pilot, app)


async def _chat(pilot: Any, app: Any) -> ChatPane:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, Workspace)
    return app.screen.query_one(ChatPane)


async def test_a_hostile_bracketed_paste_lands_whole_in_the_chat_input_and_never_quits(store, engineer, clock, db_url):
    async with in_chat(store, engineer, clock, db_url, "Disk full") as (services, session, app, pilot, chat):
        parser = PasteParser()
        with slowed_loop():
            terminal(app, parser, "see: ", START + LOG[:30], LOG[30:] + END, "!")  # split over reads, typing around
            await until_drained(pilot, lambda: chat.input.text == "see: " + LOG_TEXT + "!", "chat text")
        assert app.is_running and isinstance(app.screen, Workspace)
        assert await _user_messages(services, session.id) == []  # the pasted line breaks did not send
        terminal(app, parser, "\r")
        await wait_until(pilot, lambda: chat.input.text == "", "sent")
        await settle(pilot)
        assert await _user_messages(services, session.id) == ["see: " + LOG_TEXT + "!"]


async def test_an_unbracketed_paste_does_not_send_early(store, engineer, clock, db_url):
    async with in_chat(store, engineer, clock, db_url, "Disk full") as (services, session, app, pilot, chat):
        parser = PasteParser()
        with slowed_loop():
            terminal(app, parser, "df -h\r/dev/sda1 100%\rtmpfs 1%", *"ok\r")  # a paste, then typed "ok" + Enter
            await until_drained(pilot, lambda: chat.input.text == "", "sent")
            await settle(pilot)
        assert await _user_messages(services, session.id) == ["df -h\n/dev/sda1 100%\ntmpfs 1%ok"]


async def test_emoji_with_zero_width_joiner_is_stored_as_typed(store, engineer, clock, db_url):
    async with in_chat(store, engineer, clock, db_url, "Laptop") as (services, session, app, pilot, chat):
        parser = PasteParser()
        typed = "dev 👩\u200d💻 and 🏳\ufe0f\u200d🌈 flag"
        terminal(app, parser, *typed)  # typed one key per read
        terminal(app, parser, " + " + START + "👨\u200d👩\u200d👧" + END)  # and pasted
        await until_drained(pilot, lambda: chat.input.text == typed + " + 👨\u200d👩\u200d👧", "chat text")
        terminal(app, parser, "\r")
        await wait_until(pilot, lambda: chat.input.text == "", "sent")
        await settle(pilot)
        assert await _user_messages(services, session.id) == [typed + " + 👨\u200d👩\u200d👧"]


async def test_a_multi_line_paste_into_a_fact_is_joined_not_cut(store, engineer, clock, db_url):
    async with in_chat(store, engineer, clock, db_url, "Outlook prompts") as (
        services,
        session,
        app,
        pilot,
        _chat_pane,
    ):
        await pilot.press("f3")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, FactEditor), "fact editor")
        terminal(app, PasteParser(), "seen: " + START + "prompt 1\r\x1b[1mprompt 2\x1b[0m\r" + END, "\r")
        await wait_until(pilot, lambda: not isinstance(app.screen, FactEditor), "saved")
        await settle(pilot)
        assert [f.text for f in (await services.sessions.get(session.id)).facts] == ["seen: prompt 1 prompt 2"]


# ---- the driver ---------------------------------------------------------------------------------------------------


class DriverOverPipe:
    """The driver the app picks, its input thread reading a real pipe; messages it hands the app land in `got`
    (`seen_z` is set once a "z" key arrived)."""

    def __init__(self) -> None:
        self.got: list[Message] = []
        self.seen_z = threading.Event()
        got, seen_z = self.got, self.seen_z

        class FakeApp:  # the driver hands each message to the app's loop with `_post_message`
            async def _post_message(self, message: Message) -> bool:
                got.append(message)
                if isinstance(message, events.Key) and message.key == "z":
                    seen_z.set()
                return True

        cls = driver_class()
        assert cls is not None
        self.read_fd, self.write_fd = os.pipe()
        self.driver = cls(FakeApp())  # type: ignore[arg-type]
        self.driver.fileno = self.read_fd
        self.thread = threading.Thread(target=self.driver.run_input_thread, daemon=True)

    async def wait_for_z(self) -> None:
        assert await asyncio.to_thread(self.seen_z.wait, 30), "the input thread did not deliver the keys"

    def close_terminal(self) -> None:
        os.close(self.write_fd)
        self.write_fd = -1


@contextlib.contextmanager
def driver_over_pipe() -> Iterator[DriverOverPipe]:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    pipe = DriverOverPipe()
    try:
        pipe.thread.start()
        yield pipe
    finally:
        pipe.driver.exit_event.set()  # (ends the loop however the test went, so a failing run does not spin on)
        pipe.thread.join(30)
        if pipe.write_fd >= 0:
            os.close(pipe.write_fd)
        os.close(pipe.read_fd)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


async def test_the_app_reads_its_terminal_through_paste_parser_end_to_end() -> None:
    """The driver the app picks runs its input thread over a real file descriptor with PasteParser."""
    from flowpilot_tui.app import FlowPilotApp

    assert FlowPilotApp.get_driver_class(object.__new__(FlowPilotApp)) is driver_class()
    with driver_over_pipe() as pipe:
        os.write(pipe.write_fd, (START + LOG + END + "z").encode())
        await pipe.wait_for_z()
    assert described(pipe.got) == [("paste", LOG_TEXT), ("key", "z")]


async def test_the_input_thread_ends_and_tells_the_app_when_the_terminal_goes_away() -> None:
    """End of input (SSH dropped, terminal closed without a hang-up signal reaching us) ends the input thread with
    TerminalClosed; Textual's loop kept selecting the always-readable descriptor, one core at 100% forever."""
    from flowpilot_tui.messages import TerminalClosed

    with driver_over_pipe() as pipe:
        os.write(pipe.write_fd, "é z".encode())
        await pipe.wait_for_z()
        pipe.close_terminal()
        await asyncio.to_thread(pipe.thread.join, 60)
        alive = pipe.thread.is_alive()
    assert not alive, "the input thread kept reading a closed terminal"
    assert isinstance(pipe.got[-1], TerminalClosed)
    assert [m.character for m in pipe.got if isinstance(m, events.Key)] == ["é", " ", "z"]


async def test_a_paste_into_the_preview_is_posted_exactly(store, engineer, clock, db_url):
    from flowpilot_tui.screens.confirm_post import ConfirmPost
    from flowpilot_tui.services import post_gate
    from flowpilot_tui.widgets.preview_pane import PreviewPane

    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Disk full on the file server")
    await services.sessions.add_fact(session.id, "symptom", "users cannot save files")
    app = make_app(services.settings, services)
    async with app.run_test(size=(99, 36)) as pilot:
        await _chat(pilot, app)
        await pilot.press("f5")
        pane = app.screen.query_one(PreviewPane)
        await wait_until(pilot, lambda: pane.editable and bool(pane.editor_text), "preview loaded")
        await settle(pilot)
        lines = pane.editor_text.split("\n")
        expected = "\n".join([lines[0] + " Log: " + LOG_TEXT + "(end)", *lines[1:]])
        with slowed_loop():  # End, typing, the paste, typing, then F9 at once: one read each, as a terminal sends
            terminal(app, PasteParser(), "\x1b[F", *" Log: ", START + LOG + END, *"(end)", "\x1b[20~")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmPost), "confirm modal")
        modal = app.screen
        assert isinstance(modal, ConfirmPost) and modal.text == expected
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmPost), "posted")
        await settle(pilot)
        stored = (await services.sessions.get(session.id)).resolution_note_markdown
        assert stored == post_gate.text_to_post(expected, customer_visible=True).rstrip()  # fact ids are not posted
        assert " Log: " + LOG_TEXT + "(end)" in stored


# ---- the web and Windows drivers ----------------------------------------------------------------------------------


def _packet(kind: str, payload: bytes) -> bytes:
    """One packet of what textual-serve writes to the app's stdin: type, 4-byte big-endian size, payload."""
    return kind.encode() + len(payload).to_bytes(4, "big") + payload


async def test_the_web_driver_reads_textual_serve_packets_through_paste_parser(monkeypatch: Any) -> None:
    import json

    from textual import constants

    from flowpilot_tui.app import FlowPilotApp
    from flowpilot_tui.paste_driver import PasteSafeWebDriver
    from flowpilot_tui.paste_parser import WEB_DRIVER

    monkeypatch.setattr(constants, "DRIVER", WEB_DRIVER)  # as textual-serve / textual-web start the app
    assert driver_class() is PasteSafeWebDriver
    assert FlowPilotApp.get_driver_class(object.__new__(FlowPilotApp)) is PasteSafeWebDriver
    with monkeypatch.context() as other:  # any other TEXTUAL_DRIVER still wins
        other.setattr(constants, "DRIVER", "textual.drivers.headless_driver:HeadlessDriver")
        from textual.drivers.headless_driver import HeadlessDriver

        assert FlowPilotApp.get_driver_class(object.__new__(FlowPilotApp)) is HeadlessDriver

    got: list[Message] = []
    done = threading.Event()

    class FakeApp:  # the driver hands parsed input to `_post_message` and meta events to `post_message`
        async def _post_message(self, message: Message) -> bool:
            got.append(message)
            if isinstance(message, events.Key) and message.key == "z":
                done.set()
            return True

        def post_message(self, message: Message) -> bool:
            got.append(message)
            return True

    stdin = (START + LOG + END + "z").encode()
    stream = _packet("D", stdin[:17]) + _packet("M", json.dumps({"type": "focus"}).encode()) + _packet("D", stdin[17:])

    class Reader:  # the browser's bytes as the input reader yields them: split anywhere, even inside a packet
        def __iter__(self) -> Any:
            return iter([stream[i : i + 7] for i in range(0, len(stream), 7)])

        def close(self) -> None:
            pass

    from textual.drivers import web_driver

    monkeypatch.setattr(web_driver, "InputReader", Reader)  # instead of reading the test's own stdin
    driver = PasteSafeWebDriver(FakeApp())  # type: ignore[arg-type]
    await asyncio.to_thread(driver.run_input_thread)
    assert await asyncio.to_thread(done.wait, 30), "the input thread did not deliver the keys"
    assert [d for d in described(got) if d != ("other", "AppFocus")] == [("paste", LOG_TEXT), ("key", "z")]


@pytest.fixture
def windows_driver_module(monkeypatch: Any) -> Iterator[Any]:
    """flowpilot_tui.paste_driver_windows imported on any platform: off Windows, msvcrt and kernel32 are stand-ins
    (the module only needs them to load; the test replaces the console calls it makes)."""
    import ctypes
    import importlib
    import sys
    import types

    import textual.drivers

    import flowpilot_tui

    names = ("textual.drivers.win32", "textual.drivers.windows_driver", "flowpilot_tui.paste_driver_windows")
    if sys.platform != "win32":

        class Kernel32:
            def __getattr__(self, name: str) -> Any:
                function = types.SimpleNamespace()  # argtypes / restype are set on it at import
                setattr(self, name, function)
                return function

        monkeypatch.setitem(sys.modules, "msvcrt", types.ModuleType("msvcrt"))
        monkeypatch.setattr(ctypes, "WinDLL", lambda *args, **kwargs: Kernel32(), raising=False)
        for name in names:
            monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        yield importlib.import_module("flowpilot_tui.paste_driver_windows")
    finally:
        if sys.platform != "win32":
            for name in names:
                sys.modules.pop(name, None)
            for package, attr in ((textual.drivers, "win32"), (textual.drivers, "windows_driver")):
                if hasattr(package, attr):
                    delattr(package, attr)
            if hasattr(flowpilot_tui, "paste_driver_windows"):
                delattr(flowpilot_tui, "paste_driver_windows")


def test_the_windows_driver_reads_console_input_through_paste_parser(windows_driver_module: Any, monkeypatch: Any):
    import sys

    from textual import constants

    module = windows_driver_module
    win32 = module.win32
    monkeypatch.setattr(constants, "DRIVER", None)
    with monkeypatch.context() as on_windows:
        on_windows.setattr(sys, "platform", "win32")
        assert driver_class() is module.PasteSafeWindowsDriver

    reads = [*(START + LOG[:20]), LOG[20:] + END, "z"]  # key records as ReadConsoleInputW returns them
    exit_event = threading.Event()

    def read_console_input(handle: Any, records: Any, size: int, count: Any) -> int:
        chars = reads.pop(0)
        for i, ch in enumerate(chars):
            record = records._obj[i]
            record.EventType = 0x0001  # KEY_EVENT
            key = record.Event.KeyEvent
            key.bKeyDown, key.dwControlKeyState, key.wVirtualKeyCode = 1, 0, 0x41
            key.uChar.UnicodeChar = ch
        count._obj.value = len(chars)
        if not reads:
            exit_event.set()
        return 1

    monkeypatch.setattr(win32, "GetStdHandle", lambda handle: 7)
    monkeypatch.setattr(win32, "wait_for_handles", lambda handles, timeout: handles[0])
    monkeypatch.setattr(win32.KERNEL32, "ReadConsoleInputW", read_console_input)
    got: list[Message] = []
    monitor = module.PasteSafeEventMonitor(None, None, exit_event, got.append)
    monitor.run()  # the thread's body, here in the test's thread
    assert described(got) == [("paste", LOG_TEXT), ("key", "z")]


# ---- the other fields: one-line fields join a paste, the template body keeps it, in order with typed keys -----------


async def test_a_hostile_multi_line_paste_into_the_new_session_title_is_one_clean_line(store, engineer, clock, db_url):
    async with new_session_dialog(store, engineer, clock, db_url) as (services, app, pilot):
        with slowed_loop():  # typed, a Backspace, the paste, then Enter: one read each, as a terminal sends them
            terminal(app, PasteParser(), *"Disk:x", "\x7f", START + "full\r\x1b[31m/var\x1b[0m 100%\r\x11" + END, "\r")
            await wait_until(pilot, lambda: isinstance(app.screen, Workspace), "workspace of the new session")
            await settle(pilot)
        assert [s.title for s in (await services.sessions.list_sessions()).items] == ["Disk:full /var 100% ␑"]


async def test_a_paste_into_the_template_body_lands_in_order_with_the_typed_keys(store, engineer, clock, db_url):
    from textual.app import App
    from textual.widgets import TextArea

    from flowpilot_tui.screens.template_builder import TemplateBuilder

    services = Services(make_settings(db_url), store, engineer, clock)
    s = await services.sessions.create("Printer offline")
    fix = await services.sessions.propose_fix(s.id, "Clear the spool folder", steps=["Remove-Item spool"])
    tpl = await services.scripts.save_draft_template(s.id, fix.id)

    class Harness(App[Any]):
        def on_mount(self) -> None:
            self.push_screen(TemplateBuilder(services, tpl))

    app = Harness()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TemplateBuilder)
        body = screen.query_one("#tpl-body", TextArea)
        body.text = ""
        body.focus()
        await pilot.pause()
        pasted = "Stop-Service Spooler\r\x1b[1mRemove-Item C:\\spool\\*\x1b[0m\r"
        with slowed_loop():
            terminal(
                app, PasteParser(), *"# clear spooo", "\x7f", "l\r", START + pasted + END, *"Start-Servcie", "\x7f"
            )
            terminal(app, PasteParser(), *"\x7f\x7fice Spooler", "\x1b[12~")  # F2 right behind
            await until_drained(pilot, lambda: screen.saved is not None, "template saved")
            await settle(pilot)
        expected = "# clear spool\nStop-Service Spooler\nRemove-Item C:\\spool\\*\nStart-Service Spooler"
        assert body.text == expected
        assert (await services.scripts.get_template(tpl.id)).body == expected
