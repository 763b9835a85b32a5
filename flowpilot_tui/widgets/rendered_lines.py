"""A long Rich renderable drawn line by line: rendered once per width, and only the rows on screen are drawn.

Why not a `Static`: Textual asks a Static for its height in every layout pass and draws the whole renderable to show
the rows in view. A window of 50 chat messages (Markdown included) is ~300 lines, and a workspace opens with several
layout passes (panes filling, a scrollbar appearing), so the same lines were wrapped and drawn 4-6 times per open
(8-15 ms each); the F1 key tables (Rich tables measure every cell) likewise. Here the lines of a width are kept.
Use it for content that is replaced, not edited in place (no text selection inside it).

Content that is the same on every open (the F1 tables) names a `shared` key: its lines are kept across instances
(per width and theme), so the second open of that screen draws no table at all.
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
SHARED_KEEP = 12  # shared renders kept (a few screens × widths × themes)
_shared: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()


class RenderedLines(Widget):
    DEFAULT_CSS = "RenderedLines { height: auto; }"

    def __init__(self, renderable: RenderableType, *, classes: str = "", shared: object = None) -> None:
        super().__init__(classes=classes)
        self.renderable = renderable
        self.shared = shared  # a key naming this exact content (hashable), or None: see the module docstring
        self._lines: OrderedDict[int, list[Strip]] = OrderedDict()

    def lines(self, width: int) -> list[Strip]:
        strips = self._lines.get(width)
        if strips is not None:
            self._lines.move_to_end(width)
            return strips
        app = self.app
        key = None if self.shared is None else (self.shared, width, app.theme, app.ansi_color)
        strips = _shared.get(key) if key is not None else None
        if strips is None:
            options = app.console_options.update_width(width).update(highlight=False)
            strips = [Strip(line) for line in app.console.render_lines(self.renderable, options, pad=False)]
            if key is not None:
                _shared[key] = strips
                while len(_shared) > SHARED_KEEP:
                    _shared.popitem(last=False)
        elif key is not None:
            _shared.move_to_end(key)
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
