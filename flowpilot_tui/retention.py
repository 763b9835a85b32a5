"""Let closed screens go: two places where Textual 8 keeps a removed widget's rendering alive.

Measured with the workspace opened and closed (60 messages, 24 facts): each close left ~30,000 objects behind
(cached strips mostly). That memory is bounded, but a full garbage collection walks all of it: 77 ms after a few
workspaces, 206 ms after more, on the UI thread, at any moment (mid-key, mid-stream).

- TextArea watches the App's theme, and Textual drops such a watcher only when the theme next changes: the text area
  and everything it references stay alive until then. `forget_app_watchers` drops them at unmount.
- `StylesCache.get_inner_outer` is an `lru_cache` on a method: it keeps up to 1,024 widgets' style caches, each with
  the strips of its last render. `release_closed_screens` empties it when the screen changes (it refills at the next
  frame, one entry per visible widget).
"""

from __future__ import annotations

from typing import Any


def forget_app_watchers(node: Any) -> None:
    """Drop the watchers `node` registered on the App (Textual keeps them in the App's `__watchers` table)."""
    watchers = getattr(node.app, "__watchers", None)
    for pairs in (watchers or {}).values():
        pairs[:] = [pair for pair in pairs if pair[0] is not node]


def release_closed_screens(_screen: Any = None) -> None:
    from textual._styles_cache import StylesCache

    cached = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if cached is not None:
        cached()
