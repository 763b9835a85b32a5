"""Text widgets that apply every key in the order it was typed.

Why: Textual resolves a widget's own non-priority bindings (Backspace, Delete, arrows, Home/End, Enter in an Input…)
only once the key event has bubbled from the focused widget up to the App, one message queue per ancestor, while
printable keys are inserted at once from the widget's own queue. In a burst (SSH batching, key-ahead, a busy
machine) the characters typed after a Backspace are therefore inserted before it runs, and it deletes the wrong
character ("Not tested" came out "Not tedted"). `OrderedKeys` runs the widget's own bindings from its key handler,
in its queue, so each key acts in turn; priority bindings are untouched (the App runs them before forwarding).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object  # not a DOMNode: Textual inherits CSS (and component classes) along the first DOMNode base only


class OrderedKeys(_Base):
    """Mixin, listed before the text widget: `class NoteEditor(OrderedKeys, TextArea)`."""

    async def _on_key(self, event: events.Key) -> None:
        if await self.run_own_binding(event):
            event.stop()
            event.prevent_default()  # the text widget's own handler and the App's binding lookup do not run again

    async def run_own_binding(self, event: events.Key) -> bool:
        """Run the first enabled binding of this widget for the key (after the user's keymap); True if one ran."""
        bindings = self._bindings.copy()
        if self.app._keymap:
            bindings.apply_keymap(self.app._keymap)
        for binding in bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                return True
        return False


def after_typed_keys(app: App[Any], callback: Callable[..., object], *args: object) -> None:
    """Run `callback` behind the keys already forwarded to the focused widget.

    A priority binding runs on the App the moment its key is read, while the keys typed just before it still wait in
    the focused widget's queue; the text then misses its last characters (F9 right after typing posted the old
    text). Posting the callback to that same queue runs it after them, in order. Use it for actions that read or
    replace the text (confirm, copy, toggle, regenerate, quit), not for pane switching: keys typed after F2–F5 must
    reach the new pane."""
    target = app.focused
    if target is None:
        app.call_later(callback, *args)
    else:
        target.call_later(callback, *args)
