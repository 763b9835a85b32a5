"""Footer that rebuilds once per burst of binding changes.

Why: Textual's Footer recomposes on every `refresh_bindings` (focus moves, each loaded pane, each header update);
opening the workspace fired six rebuilds of ~20 keys each, about a third of the open time. Coalescing to one
rebuild per refresh shows the same keys, deterministically (no timers).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class AppFooter(Footer):
    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
