"""RenderedLines (chat history windows, F1 key tables) keep the lines of a width: a resize must still re-wrap them,
and only what fits the new width is drawn."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from tui_helpers import screen_lines, wait_until

from flowpilot_tui.widgets.rendered_lines import RenderedLines

WORDS = " ".join(f"word{n:02d}" for n in range(40))  # 279 characters


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield RenderedLines(Text(WORDS), classes="history")


async def test_a_resize_rewraps_the_kept_lines() -> None:
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        block = app.query_one(RenderedLines)
        await wait_until(pilot, lambda: block.size.height > 0, "first layout")
        narrow = block.size.height
        assert narrow >= 279 // 40 + 1 and "word00" in screen_lines(app)[0]
        await pilot.resize_terminal(100, 20)
        await wait_until(pilot, lambda: block.size.height < narrow, "re-wrapped at 100 columns")
        lines = [line.rstrip() for line in screen_lines(app)[: block.size.height]]
        assert " ".join(lines).split() == WORDS.split()  # every word once, in order, nothing cut at the old width
