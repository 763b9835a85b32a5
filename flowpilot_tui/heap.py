"""The garbage collector's settings, in one place: FlowPilot holds a large, long-lived heap (Textual, SQLAlchemy and,
once a model is called, the SDK's ~400,000 module-level objects), and a full collection walks all of it — a pause of
0.1-0.4 s of the event loop (several times that on a loaded machine) landing mid-stream, mid-key or mid-update.

- `freeze_once(moment)`: move what is alive now out of the collector's reach (`gc.freeze`), once per moment per
  process (after start-up, after the SDK import). A second app in one process (tests) must not freeze the first
  one's garbage for good; cyclic garbage alive at that moment is never freed.
- `no_full_collection()`: no generation-2 pass while it is held (a model turn); young ones still run.
- `for_short_command()`: a CLI command is a short process that spends its time importing: rarer young passes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

SHORT_COMMAND_THRESHOLD = 50_000  # young-generation allocations between passes in a CLI command (default 700)

_frozen: set[str] = set()
_full_held = 0
_saved_threshold = gc.get_threshold()


def freeze_once(moment: str) -> None:
    if moment not in _frozen:
        _frozen.add(moment)
        gc.collect(1)  # young garbage goes first, so little of it is frozen
        gc.freeze()


@contextlib.contextmanager
def no_full_collection() -> Iterator[None]:
    global _full_held, _saved_threshold
    if _full_held == 0:
        _saved_threshold = gc.get_threshold()
        gc.set_threshold(_saved_threshold[0], _saved_threshold[1], 1_000_000)
    _full_held += 1
    try:
        yield
    finally:
        _full_held -= 1
        if _full_held == 0:
            gc.set_threshold(*_saved_threshold)


def for_short_command() -> None:
    gc.set_threshold(SHORT_COMMAND_THRESHOLD, *gc.get_threshold()[1:])
