"""Text widgets that apply every key in the order it was typed.

Why: Textual resolves a widget's own non-priority bindings (Backspace, Delete, arrows, Home/End, Enter in an Input…)
only once the key event has bubbled from the focused widget up to the App, one message queue per ancestor, while
printable keys are inserted at once from the widget's own queue. In a burst (SSH batching, key-ahead, a busy
machine) the characters typed after a Backspace are therefore inserted before it runs, and it deletes the wrong
character ("Not tested" came out "Not tedted"). `OrderedKeys` runs the non-priority bindings from its key handler,
in its queue, so each key acts in turn: the widget's own first, then those of its containers and screen (F2 Save in the
template builder, Esc in a dialog) and, outside a modal, the App's, as Textual's lookup would after bubbling, but before
any key typed later is applied. Priority bindings are untouched (the App runs them before forwarding; use
`after_typed_keys` for those that read the text).

Every text field of the app is an `OrderedInput` or an `OrderedTextArea` (or a subclass of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.widgets import Input, TextArea

from flowpilot_tui.retention import forget_app_watchers

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object  # not a DOMNode: Textual inherits CSS (and component classes) along the first DOMNode base only


class OrderedKeys(_Base):
    """Mixin, listed before the text widget: `class OrderedInput(OrderedKeys, Input)`. Use the two classes below."""

    async def _on_key(self, event: events.Key) -> None:
        if await self.run_binding(event):
            event.stop()
            event.prevent_default()  # the text widget's own handler and the App's binding lookup do not run again

    async def run_binding(self, event: events.Key) -> bool:
        """Run the first enabled non-priority binding for the key, looked up as Textual does after bubbling (this
        widget, its ancestors up to the first modal screen, then the App; the user's keymap applied; an ancestor's
        binding for a key this widget consumes, such as a printable character in an Input, is skipped); True if one
        ran. The chain starts at this widget, not at whatever has focus by now."""
        key, app = event.key, self.app
        keymap = app._keymap
        node: Any
        for node in self.ancestors_with_self:
            bindings = node._bindings.copy()
            if keymap:
                bindings.apply_keymap(keymap)
            for binding in bindings.key_to_bindings.get(key, ()):
                if not binding.priority and await app.run_action(binding.action, node):
                    return True
            if node.is_modal or node.check_consume_key(key, event.character):
                return False
        return False


class OrderedInput(OrderedKeys, Input):
    """A one-line text field whose keys act in the order typed. A multi-line paste is joined with spaces (a plain
    Input keeps only its first line, silently dropping the rest)."""

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        text = " ".join(line.strip() for line in event.text.splitlines() if line.strip())
        if not text:
            return
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)


class OrderedTextArea(OrderedKeys, TextArea):
    """A multi-line text area whose keys act in the order typed, and that is freed once removed."""

    def on_unmount(self) -> None:
        """TextArea's theme watcher kept every closed workspace's and dialog's text areas alive (retention.py)."""
        forget_app_watchers(self)


def after_typed_keys(app: App[Any], callback: Callable[..., object], *args: object) -> None:
    """Run `callback` behind the keys already forwarded to the focused widget.

    A priority binding runs on the App the moment its key is read, while the keys typed just before it still wait in
    the focused widget's queue; the text then misses its last characters (F9 right after typing posted the old
    text). Posting the callback to that same queue runs it after them, in order. Use it for actions that read or
    replace the text (confirm, copy, toggle, regenerate, quit), not for pane switching: keys typed after F2–F5 must
    reach the new pane. Keys the App still holds back (key_gate.py) come first."""
    gate = getattr(app, "key_gate", None)
    if gate is not None and gate.hold(lambda: after_typed_keys(app, callback, *args)):
        return
    target = app.focused
    if target is None:
        app.call_later(callback, *args)
    else:
        target.call_later(callback, *args)
