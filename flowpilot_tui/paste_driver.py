"""`LinuxDriver` and `WebDriver` whose input threads parse with `PasteParser` (see paste_parser.py); the Windows one is
in paste_driver_windows.py (its module imports win32 APIs at import time).

Why a copy of each `run_input_thread`: Textual builds the parser inside that method from a module-level name, so there
is no seam to hand it another parser. The bodies are Textual 8.2.8's, with only the parser class changed; textual is
pinned in pyproject.toml, and tests/test_paste.py drives each method (the Linux one over a real pipe, the web one with
the packet stream textual-serve sends).
"""

from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder

from textual import log
from textual._loop import loop_last
from textual._parser import ParseError
from textual.drivers._byte_stream import ByteStream
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver, _ExitInput

from flowpilot_tui.messages import TerminalClosed
from flowpilot_tui.paste_parser import PasteParser


class PasteSafeDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual 8.2.8's loop, parsing with `PasteParser`)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = PasteParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False
        ) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    try:
                        data = read(fileno, 1024 * 4)
                    except OSError:  # EIO: the terminal hung up
                        data = b""
                    if not data:
                        # End of input: the terminal is gone (Textual's loop kept selecting a descriptor that is
                        # always readable and never yields a byte: one core at 100% for a FlowPilot nobody sees).
                        # Only no bytes at all: a read ending inside a UTF-8 character decodes to "" too.
                        closed.set()
                        break
                    text = decode(data, final=final and last)
                    for event in feed(text) if text else ():  # feed("") would mean end of input to the parser
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        closed = threading.Event()  # set by the reader at end of input
        try:
            while not self.exit_event.is_set() and not closed.is_set():
                process_selector_events(selector.select(0.1))
            if closed.is_set():
                self.process_message(TerminalClosed())  # the app saves the drafts and exits
                return
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass


class PasteSafeWebDriver(WebDriver):
    """The driver textual-serve / textual-web start (TEXTUAL_DRIVER=textual.drivers.web_driver:WebDriver)."""

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual 8.2.8's loop, parsing with `PasteParser`)."""
        input_reader = self._input_reader
        parser = PasteParser(debug=self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        # The server sends a stream of bytes: the equivalent of stdin, plus in-band data packets.
        byte_stream = ByteStream()
        try:
            for data in input_reader:
                if data:
                    for packet_type, payload in byte_stream.feed(data):
                        if packet_type == "D":
                            for event in parser.feed(decode(payload)):  # stdin
                                self.process_message(event)
                        else:
                            self._on_meta(packet_type, payload)
                for event in parser.tick():
                    self.process_message(event)
        except _ExitInput:
            pass
        except Exception:
            from traceback import format_exc

            log(format_exc())
        finally:
            input_reader.close()
