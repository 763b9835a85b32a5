"""Command palette provider: every registered binding of the current screen, so any key is also a command.

Why from the keymap registry: the palette, the help screen and the bindings cannot drift apart, and a command
whose action is unavailable here (e.g. a write for a viewer) is simply not offered.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from flowpilot_tui import keymap


class FlowPilotCommands(Provider):
    def _entries(self) -> Iterator[tuple[str, str, Any]]:
        """(title, help, callback) for each binding whose scope is live on the screen and currently allowed."""
        screen = self.screen
        targets: dict[str, DOMNode] = {"app": self.app}
        scopes: dict[str, str | None] = getattr(screen, "PALETTE_SCOPES", {})
        for scope, selector in scopes.items():
            if selector is None:
                targets[scope] = screen
            else:
                found = screen.query(selector)
                if found:
                    targets[scope] = found.first()
        user_map = getattr(getattr(self.app, "settings", None), "keymap", {}) or {}
        for key in keymap.KEYS:
            node = targets.get(key.scope)
            if node is None or key.id == "app.commands":
                continue
            _ns, name, params = parse(key.action)
            if not node.check_action(name, params):
                continue
            where = keymap.SCOPES[key.scope].split(" (")[0]
            keys = keymap.display(keymap.effective_keys(key, user_map))
            yield f"{where}: {key.description}", f"{keys}  ·  {key.id}", partial(self.app.run_action, key.action, node)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = max(matcher.match(title), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
