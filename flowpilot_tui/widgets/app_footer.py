"""Footer: the screen's keys on one line, drawn by one widget, redrawn only when the keys it shows change.

Why one widget: Textual's Footer recomposes on every `refresh_bindings` (each focus move, each loaded pane) and a
recompose mounts and styles ~15 key widgets (plus their data binds and their layout); the workspace's panes offer
different keys, so every F2–F5 paid for that. Here the keys are one line of text: a change of keys is one repaint.
A burst of binding changes is coalesced into one check after the refresh, and what would be shown (key, label,
enabled) is compared with what is shown: equal means nothing happens. Deterministic (no timers).

It looks like Textual's Footer (same component classes and theme variables, the palette key on the right) and a
click on a key presses it, as there.

Context: a screen's footer stays painted under a modal dialog; it is blank while another screen is on top (so a
dialog never appears to offer the list's keys) and shows its keys again when its screen is back on top. Blank, not
hidden: hiding is a layout of the screen beneath (its scrollbars repaint), which made a dialog draw its dimmed
backdrop twice while opening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen


class FooterItem(NamedTuple):
    key: str
    key_display: str
    description: str
    action: str
    enabled: bool


class AppFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer-key--separator"}
    DEFAULT_CSS = """
    AppFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .footer-key--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--separator { color: $foreground 20%; }
    }
    """

    _rebuild_pending = False
    covered = False  # another screen is on top of ours: draw no keys

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: tuple[FooterItem, ...] = ()  # the keys shown (left to right)
        self.palette: FooterItem | None = None  # the command palette key, on the right
        self._spans: list[tuple[int, int, FooterItem]] = []  # where each key was drawn (for clicks)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)
        self.app.screen_change_signal.unsubscribe(self)

    def _screen_changed(self, top: Screen) -> None:
        covered = top is not self.screen
        if covered != self.covered:
            self.covered = covered
            self.refresh()  # a repaint of one line, no layout

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def signature(self) -> tuple[tuple[FooterItem, ...], FooterItem | None]:
        """What the footer would show now: one item per action shown (its first key), and the palette key."""
        app, active = self.app, self.screen.active_bindings

        def item(binding: Binding, enabled: bool) -> FooterItem:
            return FooterItem(binding.key, app.get_key_display(binding), binding.description, binding.action, enabled)

        by_action: dict[str, FooterItem] = {}
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = item(binding, enabled)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = item(binding, enabled)
        return tuple(by_action.values()), palette

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        items, palette = self.signature()
        if (items, palette) == (self.items, self.palette):
            return
        self.items, self.palette = items, palette
        self.refresh()

    @property
    def text(self) -> str:
        """The keys as the engineer reads them (also what tests see)."""
        return self.render().plain

    def _item(self, item: FooterItem) -> Text:
        key = self.get_component_rich_style("footer-key--key")
        description = self.get_component_rich_style("footer-key--description")
        text = Text.assemble((f" {item.key_display} ", key), (f"{item.description} ", description))
        if not item.enabled:
            text.stylize(Style(dim=True))
        return text

    def render(self) -> Text:
        if self.covered:
            self._spans = []
            return Text()
        width = self.size.width
        right = Text()
        if self.palette is not None:  # as Textual draws it: "▏^p Commands " at the right edge
            right.append("▏", self.get_component_rich_style("footer-key--separator"))
            right.append(self.palette.key_display, self.get_component_rich_style("footer-key--key"))
            right.append(f" {self.palette.description}", self.get_component_rich_style("footer-key--description"))
            if not self.palette.enabled:
                right.stylize(Style(dim=True))
            right.append(" ")
        room = max(width - right.cell_len, 0)
        line, spans = Text(), []
        for item in self.items:
            if line.cell_len >= room:
                break
            start = line.cell_len
            line.append_text(self._item(item))
            spans.append((start, min(line.cell_len, room), item))
        line.truncate(room, overflow="crop", pad=True)
        if self.palette is not None:
            spans.append((room + 1, width, self.palette))
        self._spans = spans
        return line + right

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end:
                if item.enabled:
                    self.app.simulate_key(item.key)
                else:
                    self.app.bell()
                return
