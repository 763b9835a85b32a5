"""Footer that rebuilds only when the keys it shows change, and only while its screen is the one on top.

Why: Textual's Footer recomposes on every `refresh_bindings` (focus moves, each loaded pane, each header update);
a recompose mounts ~20 key widgets and restyles them, so every F2–F5 paid for a footer that showed the same keys.
Here a burst of changes is coalesced into one check after the refresh, and the check compares what would be shown
(key, label, enabled) with what is shown: equal means no rebuild. Deterministic (no timers).

Context: a screen's footer stays painted under a modal dialog; it is hidden while another screen is on top (so a
dialog never appears to offer the list's keys) and shown again when its screen is back on top.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class AppFooter(Footer):
    _rebuild_pending = False
    _shown: tuple[Any, ...] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def on_unmount(self) -> None:
        super().on_unmount()
        self.app.screen_change_signal.unsubscribe(self)

    def _screen_changed(self, top: Screen) -> None:
        """Hidden (not removed: no relayout, nothing to rebuild) while another screen is on top of ours."""
        self.visible = top is self.screen

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def signature(self) -> tuple[Any, ...]:
        """What the footer would show now: each shown binding's key, label, action and enabled state."""
        return tuple(
            (binding.key, self.app.get_key_display(binding), binding.description, binding.action, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        shown = self.signature()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
