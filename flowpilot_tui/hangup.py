"""A hang-up (SIGHUP: the SSH connection dropped, the terminal window closed) or SIGTERM (a shutdown, `kill`) ends
the app as a vanished terminal does: the keys read so far are applied, every draft is saved, then it exits.

Why: both signals' default action kills the process at once, so a preview edit still waiting for its autosave
(`ui.autosave_s` after the last key) was lost; an unsent chat line is kept too (workspace.py). The handler
only posts `TerminalClosed`; the App does the rest on its own loop (app.py).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from flowpilot_tui.messages import TerminalClosed

SIGNALS = tuple(s for s in (getattr(signal, "SIGHUP", None), getattr(signal, "SIGTERM", None)) if s is not None)


def install(post: Callable[[TerminalClosed], object]) -> Callable[[], None]:
    """Route the signals to `post` on the running loop; returns the undo (where a loop cannot take signal handlers,
    Windows or a loop off the main thread, the defaults stay)."""
    loop = asyncio.get_running_loop()
    taken = []
    for sig in SIGNALS:
        try:
            loop.add_signal_handler(sig, lambda: post(TerminalClosed()))
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        taken.append(sig)

    def undo() -> None:
        for sig in taken:
            loop.remove_signal_handler(sig)

    return undo
