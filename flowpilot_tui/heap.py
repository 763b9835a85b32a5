"""The garbage collector's settings, in one place: FlowPilot holds a large, long-lived heap (Textual, SQLAlchemy and,
once a model is called, the SDK's ~400,000 module-level objects), and a full collection walks all of it — a pause of
0.1-0.4 s of the event loop (several times that on a loaded machine) landing mid-stream, mid-key or mid-update.

- `freeze_once(moment)`: move what is alive now out of the collector's reach (`gc.freeze`), once per moment per
  process (after start-up, after the SDK import). A second app in one process (tests) must not freeze the first
  one's garbage for good; cyclic garbage alive at that moment is never freed.
- `no_full_collection()` / `hold_full_collection()`: no generation-2 pass while one is held (a model turn; in the
  TUI until the reply's final frame is painted: the pass a turn defers, 0.2-0.35 s with a busy core, otherwise
  lands between the last byte and that frame); young ones still run.
- `for_short_command()`: a CLI command is a short process that spends its time importing: rarer young passes.
- `IdleCollector`: in the TUI a full pass runs when the engineer pauses, not in the middle of what a key started.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator

SHORT_COMMAND_THRESHOLD = 50_000  # young-generation allocations between passes in a CLI command (default 700)

_frozen: set[str] = set()
_full_held = 0
_saved_threshold = gc.get_threshold()


def freeze_once(moment: str) -> None:
    if moment not in _frozen:
        _frozen.add(moment)
        gc.collect(1)  # young garbage goes first, so little of it is frozen
        gc.freeze()


def hold_full_collection() -> Callable[[], None]:
    """Hold off generation-2 passes; returns the release (calling it again does nothing)."""
    global _full_held, _saved_threshold
    if _full_held == 0:
        _saved_threshold = gc.get_threshold()
        gc.set_threshold(_saved_threshold[0], _saved_threshold[1], 1_000_000)
    _full_held += 1
    released = False

    def release() -> None:
        global _full_held
        nonlocal released
        if released:
            return
        released = True
        _full_held -= 1
        if _full_held == 0:
            gc.set_threshold(*_saved_threshold)

    return release


@contextlib.contextmanager
def no_full_collection() -> Iterator[None]:
    release = hold_full_collection()
    try:
        yield
    finally:
        release()


def for_short_command() -> None:
    gc.set_threshold(SHORT_COMMAND_THRESHOLD, *gc.get_threshold()[1:])


class IdleCollector:
    """Full collections while the engineer pauses, not in the middle of what a key started.

    CPython starts a full pass after ten passes of the middle generation, whenever that falls: a 3-run bench_ui at
    120×36 (33 timed actions: workspace loads, pane switches, dialog opens) had 18 full passes, 48 ms on average and
    99 ms at most, on the UI thread; with this, none fell inside a timed action. Here each input (`busy()`) holds
    full passes off; `tick()` (called a few times a second) lets them run again once `idle_s` passed without input,
    first running the one CPython would have started meanwhile. A busy stretch so long that `MAX_DEFERRED` times the
    usual number of middle passes went by runs it anyway (the heap must not grow without bound while a key is held).
    """

    MAX_DEFERRED = 10

    def __init__(self, idle_s: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.clock = clock
        self.due_after = gc.get_threshold()[2]  # middle-generation passes between full passes (CPython's threshold)
        self.deferred_runs = 0  # full passes run by tick (the tests count them)
        self._last_input = float("-inf")
        self._release: Callable[[], None] | None = None

    @property
    def holding(self) -> bool:
        return self._release is not None

    def busy(self) -> None:
        """Input arrived: no full pass until the engineer pauses (idle_s 0: CPython's own schedule)."""
        self._last_input = self.clock()
        if self._release is None and self.idle_s > 0:
            self._release = hold_full_collection()

    def tick(self) -> None:
        if self._release is None:
            return
        passes = gc.get_count()[2]  # middle-generation passes since the last full one
        if self.clock() - self._last_input >= self.idle_s:
            release, self._release = self._release, None
            if passes >= self.due_after:
                self._collect()
            release()
        elif passes >= self.due_after * self.MAX_DEFERRED:
            self._collect()

    def close(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()

    def _collect(self) -> None:
        gc.collect()
        self.deferred_runs += 1
