"""A long Rich renderable drawn line by line: rendered once per width, and only the rows on screen are drawn.

Why not a `Static`: Textual asks a Static for its height in every layout pass and draws the whole renderable to show
the rows in view. A window of 50 chat messages (Markdown included) is ~300 lines, and a workspace opens with several
layout passes (panes filling, a scrollbar appearing), so the same lines were wrapped and drawn 4-6 times per open
(8-15 ms each); the F1 key tables (Rich tables measure every cell) likewise. Here the lines of a width are kept.
Use it for content that is replaced, not edited in place (no text selection inside it).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.geometry import Size

KEEP = 3  # widths kept: with and without a scrollbar, and one resize


class RenderedLines(Widget):
    DEFAULT_CSS = "RenderedLines { height: auto; }"

    def __init__(self, renderable: RenderableType, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.renderable = renderable
        self._lines: OrderedDict[int, list[Strip]] = OrderedDict()

    def lines(self, width: int) -> list[Strip]:
        strips = self._lines.get(width)
        if strips is not None:
            self._lines.move_to_end(width)
            return strips
        app = self.app
        options = app.console_options.update_width(width).update(highlight=False)
        strips = [Strip(line) for line in app.console.render_lines(self.renderable, options, pad=False)]
        self._lines[width] = strips
        while len(self._lines) > KEEP:
            self._lines.popitem(last=False)
        return strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        style = self.rich_style
        lines = self.lines(width)
        if y >= len(lines):
            return Strip.blank(width, style)
        return lines[y].crop_extend(0, width, style).apply_style(style)

    def notify_style_update(self) -> None:
        """A theme change can change the colours baked into the kept lines."""
        self._lines.clear()
        super().notify_style_update()
