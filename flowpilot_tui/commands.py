"""Command palette provider: every registered binding of the current screen, so any key is also a command.

Why from the keymap registry: the palette, the help screen and the bindings cannot drift apart, and a command
whose action is unavailable here (e.g. a write for a viewer) is simply not offered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any, ClassVar, Protocol, runtime_checkable

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from flowpilot_tui import keymap


@runtime_checkable
class PaletteScoped(Protocol):
    """A screen that says which registry scopes are live on it: scope -> CSS selector of the node (None: the
    screen itself)."""

    PALETTE_SCOPES: ClassVar[Mapping[str, str | None]]


# Offered by Textual's own system commands (also in the palette): listing them here too showed each twice.
SYSTEM_ACTIONS = frozenset({"quit", "change_theme"})


class FlowPilotCommands(Provider):
    def _entries(self) -> Iterator[tuple[str, str, Any]]:
        """(title, help, callback) for each binding whose scope is live on the screen and currently allowed."""
        screen = self.screen
        targets: dict[str, DOMNode] = {"app": self.app}
        scopes = screen.PALETTE_SCOPES if isinstance(screen, PaletteScoped) else {}
        for scope, selector in scopes.items():
            if selector is None:
                targets[scope] = screen
            else:
                found = screen.query(selector)
                if found:
                    targets[scope] = found.first()
        from flowpilot_tui.app import FlowPilotApp

        user_map = self.app.settings.keymap if isinstance(self.app, FlowPilotApp) else {}
        for key in keymap.KEYS:
            node = targets.get(key.scope)
            if node is None or key.id == "app.commands" or key.action in SYSTEM_ACTIONS:
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
