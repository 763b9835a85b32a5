"""Terminal input parsing that keeps every paste whole, in order, and inert.

Why: Textual 8.2.8's `XTermParser`, inside a bracketed paste, reads an ESC as the start of a sequence it does not
know and re-emits the sequence as *keys* (after up to 32 characters), while the paste itself ends at that ESC. A log
excerpt with colour codes therefore arrives as a short paste plus a stream of key presses: text out of order, its
line breaks as Enter (which sends a chat message) and a pasted ``\\x11`` as ctrl+q (which quits). Separately, a
format character such as the zero-width joiner of 👩‍💻 arrives as a key whose ``is_printable`` is False (Python's
``str.isprintable``), so no text widget inserts it.

`PasteParser` wraps Textual's parser without copying it:
- bracketed paste: once the start marker has gone through, every character up to the end marker is collected
  here (the inner parser never sees them) and delivered as ONE `events.Paste` holding `safe_text.pasted_text` of
  it: escape sequences removed, line breaks as newlines, other control characters shown as control pictures
  (``␃``, ``␑``, ``␛``), so nothing in a paste can act as a key;
- paste without bracketed paste: a single read in which a line break is followed by more text cannot be typed
  by hand (one keystroke per read, a few at most over SSH), so that read is delivered as one Paste too: its
  line breaks become newlines and never Send; a read that only *ends* in Enter stays key presses (typing
  "hi⏎" fast still sends). A read of MANY_CHARS or more continues as a paste into the next read (the driver
  reads 4 KiB at a time, so a long paste spans reads);
- a format character (Cf, e.g. U+200D, U+200C, U+2060, emoji tag characters) typed as a key is delivered as a
  one-character Paste, which text widgets insert at the cursor in order with the keys around it. Bidi overrides
  and isolates are not delivered (the display strips them anyway).
A bracketed paste whose end marker never arrives is closed after PASTE_IDLE_S seconds without input (what came
is inserted, later input is keys again), so a broken terminal cannot swallow the keyboard.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from textual import events
from textual._parser import ParseEOF, ParseTimeout, Peek1, Read1, TokenCallback
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.message import Message

from flowpilot_tui.safe_text import pasted_text, strip_controls

if TYPE_CHECKING:
    from textual.driver import Driver

PASTE_IDLE_S = 3.0  # a bracketed paste with no input for this long is taken as ended (its end marker was lost)
MANY_CHARS = 1024  # a read this long came from a full 4 KiB buffer: the next read continues the same paste
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))


def is_format_char(ch: str) -> bool:
    """A character that belongs in text but that `str.isprintable` rejects (ZWJ, ZWNJ, word joiner, tags…)."""
    return len(ch) == 1 and unicodedata.category(ch) == "Cf" and ord(ch) not in _BIDI


def looks_pasted(data: str) -> bool:
    """One read holding a line break followed by more text (escape sequences such as mouse reports and lone
    whitespace do not count): no one types that between two reads."""
    at = min((i for i in (data.find("\r"), data.find("\n")) if i != -1), default=-1)
    return at != -1 and bool(strip_controls(data[at + 1 :]).strip())


class PasteParser(XTermParser):
    def __init__(self, debug: bool = False) -> None:
        self._continues_paste = False
        super().__init__(debug)

    def feed(self, data: str) -> Iterable[Message]:
        idle = isinstance(self._awaiting, Read1) and self._awaiting.timeout is None  # not inside a sequence/paste
        if data and idle and BRACKETED_PASTE_START not in data and (self._continues_paste or looks_pasted(data)):
            self._continues_paste = len(data) >= MANY_CHARS
            return self._unbracketed(data)
        self._continues_paste = False
        return super().feed(data)

    def _unbracketed(self, data: str) -> Iterable[Message]:
        while self._tokens:
            yield self._tokens.popleft()
        yield events.Paste(pasted_text(data))

    def parse(self, token_callback: TokenCallback) -> Generator[Read1 | Peek1, str, None]:
        """Drive Textual's parser character by character and take over between the bracketed-paste markers."""

        def inner_token(token: Any) -> None:
            if isinstance(token, events.Paste):
                return  # pastes are collected here; the inner parser only ever sees empty ones
            if isinstance(token, events.Key) and token.character and is_format_char(token.character):
                token_callback(events.Paste(token.character))
                return
            if isinstance(token, events.Key) and token.character and ord(token.character[0]) in _BIDI:
                return
            token_callback(token)

        inner = super().parse(inner_token)
        request = next(inner)
        recent = ""  # the last characters handed to the inner parser, to spot the start marker
        while True:
            try:
                character = yield request
            except ParseTimeout:
                request = inner.throw(ParseTimeout())
                continue
            except ParseEOF:
                _finish(inner)
                return
            request = inner.send(character)
            recent = (recent + character)[-len(BRACKETED_PASTE_START) :]
            if recent != BRACKETED_PASTE_START:
                continue
            recent = ""
            chunks: list[str] = []
            ended = yield from self._collect_paste(chunks)
            token_callback(events.Paste(pasted_text("".join(chunks))))
            if ended is None:  # end of input inside a paste
                _finish(inner)
                return
            for ch in BRACKETED_PASTE_END:  # the inner parser leaves its own (empty) paste state
                request = inner.send(ch)

    def _collect_paste(self, chunks: list[str]) -> Generator[Read1 | Peek1, str, bool | None]:
        """Read up to the end marker into `chunks`; True at the marker, False after PASTE_IDLE_S, None at EOF."""
        end, size = BRACKETED_PASTE_END, len(BRACKETED_PASTE_END)
        while True:
            try:
                character = yield self.read1(PASTE_IDLE_S)
            except ParseTimeout:
                return False
            except ParseEOF:
                return None
            chunks.append(character)
            if character == end[-1] and len(chunks) >= size and "".join(chunks[-size:]) == end:
                del chunks[-size:]
                return True


def _finish(inner: Generator[Read1 | Peek1, str, None]) -> None:
    try:
        inner.throw(ParseEOF())
    except StopIteration:
        pass


WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve and textual-web put in TEXTUAL_DRIVER


def driver_class() -> type[Driver] | None:
    """The driver for this platform, reading input through `PasteParser`: Linux/macOS, Windows, and the web driver
    when TEXTUAL_DRIVER names Textual's. None for any other TEXTUAL_DRIVER: that override wins."""
    import sys

    from textual import constants

    if constants.DRIVER:
        if constants.DRIVER.strip() != WEB_DRIVER:
            return None
        from flowpilot_tui.paste_driver import PasteSafeWebDriver

        return PasteSafeWebDriver
    if sys.platform == "win32":
        from flowpilot_tui.paste_driver_windows import PasteSafeWindowsDriver

        return PasteSafeWindowsDriver
    from flowpilot_tui.paste_driver import PasteSafeDriver

    return PasteSafeDriver
