"""Full garbage collections wait for the engineer's pause (heap.IdleCollector): none while input keeps arriving,
the one that was due right when they pause, and one anyway after a very long busy stretch."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flowpilot_tui import heap


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def full_passes() -> Iterator[list[int]]:
    """Counts generation-2 collections (ours or CPython's), with CPython's default thresholds meanwhile."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            seen.append(1)

    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    gc.collect()
    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*saved)


def middle_passes(at_least: int) -> list[list[int]]:
    """Allocate long-lived containers until the middle generation has been collected `at_least` times."""
    kept: list[list[int]] = []
    while gc.get_count()[2] < at_least:
        kept.extend([i] for i in range(1000))
    return kept


def test_no_full_pass_while_input_arrives_and_the_due_one_runs_at_the_pause(full_passes: list[int]) -> None:
    clock = Clock()
    collector = heap.IdleCollector(0.5, clock)
    collector.busy()
    kept = middle_passes(collector.due_after + 2)  # CPython would have run a full pass by now
    collector.tick()
    clock.now += 0.3
    collector.busy()  # another key: the pause starts again
    clock.now += 0.4
    collector.tick()
    assert full_passes == [] and collector.holding
    clock.now += 0.2  # 0.6 s since the last key
    collector.tick()
    assert full_passes == [1] and collector.deferred_runs == 1
    assert not collector.holding and gc.get_threshold() == (700, 10, 10)  # CPython's schedule again
    del kept


def test_a_very_long_busy_stretch_collects_anyway(full_passes: list[int]) -> None:
    clock = Clock()
    collector = heap.IdleCollector(0.5, clock)
    collector.busy()
    kept = middle_passes(collector.due_after * heap.IdleCollector.MAX_DEFERRED)
    collector.busy()
    collector.tick()
    assert full_passes == [1] and collector.holding  # still busy: the hold stays for what follows
    collector.close()
    assert gc.get_threshold() == (700, 10, 10)
    del kept


def test_a_pause_with_nothing_due_only_releases(full_passes: list[int]) -> None:
    clock = Clock()
    collector = heap.IdleCollector(0.5, clock)
    collector.busy()
    clock.now += 1
    collector.tick()
    assert full_passes == [] and not collector.holding and gc.get_threshold() == (700, 10, 10)


def test_zero_leaves_the_schedule_to_python(full_passes: list[int]) -> None:
    collector = heap.IdleCollector(0, Clock())
    collector.busy()
    assert not collector.holding and gc.get_threshold() == (700, 10, 10)


async def test_the_tui_holds_full_passes_from_a_key_until_the_engineer_pauses(db_url, clock) -> None:
    from tui_helpers import demo_services, settle

    from flowpilot_tui.app import make_app

    normal = gc.get_threshold()
    services = await demo_services(db_url, clock)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert any(timer.name == "idle-gc" for timer in app._timers)  # tick() runs a few times a second
        await pilot.press("down")
        assert app.idle_gc.holding and gc.get_threshold()[2] > normal[2]
        real = app.idle_gc.clock
        app.idle_gc.clock = lambda: real() + 10  # ten seconds without a key
        app.idle_gc.tick()
        assert not app.idle_gc.holding and gc.get_threshold() == normal
        await pilot.press("down")
    await services.close()
    assert gc.get_threshold() == normal  # a key's hold ends with the app
