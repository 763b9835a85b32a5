"""A hang-up (SSH dropped, terminal window closed) or SIGTERM while a preview edit waits for its autosave: the real
app, in a pseudo-terminal of its own, saves the draft and exits instead of dying with it (the default action of both
signals killed the process and the edit)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from flowpilot_tui.services.sessions import SessionService

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
GUARD_S = 50  # a hang guard only (under the suite timeout): every wait ends once what it waits for is drawn


class Terminal:
    """The app's pseudo-terminal: what it drew (escape sequences removed) and a way to type."""

    def __init__(self, master: int, proc: subprocess.Popen[bytes]) -> None:
        self.master, self.proc, self.raw = master, proc, bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.raw += chunk

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.raw)).decode("utf-8", "replace")

    async def shows(self, needle: str, *, after: int = 0) -> int:
        """Wait until `needle` is drawn (past `after` characters of the output); where it ends."""
        deadline = time.monotonic() + GUARD_S
        while (at := self.text().find(needle, after)) < 0:
            assert self.proc.poll() is None, f"the app exited ({self.proc.returncode}) before showing {needle!r}"
            assert time.monotonic() < deadline, f"{needle!r} never drawn; last output: {self.text()[-400:]!r}"
            await asyncio.sleep(0.05)
        return at + len(needle)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())


@contextmanager
def app_in_a_terminal(db_url: str) -> Iterator[Terminal]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = {
        **os.environ,
        "FLOWPILOT_DB_URL": db_url,
        "FLOWPILOT_UI__AUTOSAVE_S": "3600",  # only the save on the way out can keep the edit
        "FLOWPILOT_UI__CURSOR_BLINK": "false",
        "TERM": "xterm-256color",
        "COLUMNS": "120",  # Textual prefers these to the terminal's own size, and a test runner may set them
        "LINES": "36",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowpilot_tui"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # its own session and controlling terminal, as over SSH
    )
    os.close(slave)
    try:
        yield Terminal(master, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(GUARD_S)
        os.close(master)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
async def test_a_hang_up_saves_the_preview_edit_and_exits(
    db_url: str, engineer: object, sessions: SessionService, sig: signal.Signals
) -> None:
    session = await sessions.create("Hangup check: scanner offline")
    await sessions.add_fact(session.id, "symptom", "The scanner on floor 3 shows offline")
    with app_in_a_terminal(db_url) as term:
        seen = await term.shows("Hangup check")
        term.type("/Hangup\r")  # search, then open the only row
        seen = await term.shows("Hangup check", after=seen)
        term.type("\r")
        seen = await term.shows("The scanner on floor 3", after=seen)  # the workspace, its preview filled
        term.type("\x1b[15~KEPT-AFTER-HANGUP ")  # F5 (the preview editor), then the edit, in one read
        await term.shows("KEPT-AFTER-HANGUP", after=seen)
        os.kill(term.proc.pid, sig)
        code = await asyncio.to_thread(term.proc.wait, GUARD_S)
    assert code == 0, term.text()[-400:]
    draft = await sessions.get_draft(session.id, "resolve")
    assert draft is not None and draft[0].startswith("KEPT-AFTER-HANGUP Issue reported: The scanner"), draft
