"""`WindowsDriver` whose console input thread parses with `PasteParser` (see paste_parser.py).

Why a separate module: `textual.drivers.win32` loads kernel32 and msvcrt when it is imported, so only Windows may
import this file (`paste_parser.driver_class` does, on win32 only). Why copies: Textual's `EventMonitor.run` builds
its `XTermParser` from a module-level name, and `WindowsDriver.start_application_mode` builds the `EventMonitor` the
same way, so there is no seam for another parser. Both bodies are Textual 8.2.8's with only those two classes
changed (textual is pinned in pyproject.toml); tests/test_paste.py runs `run` on Linux with the console calls
replaced by a feed of key records.
"""

from __future__ import annotations

import asyncio
from ctypes import byref, wintypes

from textual import constants
from textual.drivers import win32
from textual.drivers._writer_thread import WriterThread
from textual.drivers.windows_driver import WindowsDriver
from textual.message import Message

from flowpilot_tui.paste_parser import PasteParser


class PasteSafeEventMonitor(win32.EventMonitor):
    def _dispatch(self, message: Message) -> None:
        self.process_event(message)  # type: ignore[arg-type]  # the driver's process_message, which takes any Message

    def run(self) -> None:
        """Read console input records and dispatch events (Textual 8.2.8's loop, parsing with `PasteParser`)."""
        exit_requested = self.exit_event.is_set
        parser = PasteParser(debug=constants.DEBUG)

        try:
            read_count = wintypes.DWORD(0)
            hIn = win32.GetStdHandle(win32.STD_INPUT_HANDLE)

            MAX_EVENTS = 1024
            KEY_EVENT = 0x0001
            WINDOW_BUFFER_SIZE_EVENT = 0x0004

            arrtype = win32.INPUT_RECORD * MAX_EVENTS
            input_records = arrtype()
            ReadConsoleInputW = win32.KERNEL32.ReadConsoleInputW
            keys: list[str] = []
            append_key = keys.append

            while not exit_requested():
                for event in parser.tick():
                    self._dispatch(event)

                # Wait for new events
                if win32.wait_for_handles([hIn], 100) is None:
                    continue

                ReadConsoleInputW(hIn, byref(input_records), MAX_EVENTS, byref(read_count))
                read_input_records = input_records[: read_count.value]

                del keys[:]
                new_size: tuple[int, int] | None = None

                for input_record in read_input_records:
                    event_type = input_record.EventType

                    if event_type == KEY_EVENT:
                        key_event = input_record.Event.KeyEvent
                        key = key_event.uChar.UnicodeChar
                        if key_event.bKeyDown:
                            if key_event.dwControlKeyState and key_event.wVirtualKeyCode == 0:
                                continue
                            append_key(key)
                    elif event_type == WINDOW_BUFFER_SIZE_EVENT:
                        size = input_record.Event.WindowBufferSizeEvent.dwSize
                        new_size = (size.X, size.Y)

                if keys:
                    # https://github.com/Textualize/textual/issues/3178: the encode/decode joins surrogate pairs
                    for event in parser.feed("".join(keys).encode("utf-16", "surrogatepass").decode("utf-16")):
                        self._dispatch(event)
                if new_size is not None:
                    self.on_size_change(*new_size)

        except Exception as error:
            self.app.log.error("EVENT MONITOR ERROR", error)


class PasteSafeWindowsDriver(WindowsDriver):
    def start_application_mode(self) -> None:
        """Start application mode (Textual 8.2.8's, with `PasteSafeEventMonitor`)."""
        loop = asyncio.get_running_loop()

        self._restore_console = win32.enable_application_mode()

        assert self._file is not None  # sys.__stdout__, None only without a console
        self._writer_thread = WriterThread(self._file)
        self._writer_thread.start()

        self.write("\x1b[?1049h")  # Enable alt screen
        self._enable_mouse_support()
        self.write("\x1b[?25l")  # Hide cursor
        self.write("\033[?1004h")  # Enable FocusIn/FocusOut.
        self.write("\x1b[>1u")  # https://sw.kovidgoyal.net/kitty/keyboard-protocol/
        self.flush()
        self._enable_bracketed_paste()

        self._event_thread = PasteSafeEventMonitor(loop, self._app, self.exit_event, self.process_message)
        self._event_thread.start()
