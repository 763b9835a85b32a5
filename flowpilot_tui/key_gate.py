"""One key in flight at a time: the App hands a key (or a paste) to the focused widget only once the one before it
has been handled all the way up its bubbling chain.

Why: Textual forwards each key from the App's queue to whatever has focus at that moment and moves on at once. In a
burst (SSH batching, key-ahead, a paste without bracketed paste, a busy machine) every key is forwarded before the
first is applied, so the keys typed after a Tab still land in the field Tab left ("Printer offline" + Tab + "48213"
put the ticket number into the title), and those typed after Enter opens a dialog land behind it. Holding the rest
until the key in flight has been handled makes focus moves, dialogs and bindings act in the order typed.

How it knows a key was handled: a callback queued on the target behind the key runs after it; if the key bubbles
on, the next callback is queued on the parent behind it, up to the App. A key the App handles itself (a priority
binding: F2-F5, F9…) is done once a callback queued on the App behind it runs: Textual moves focus from a callback,
so the keys read with F5 used to reach the pane F5 left. A watchdog releases a key whose chain broke
(a widget removed mid-way drops its queue) so input can never stall.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeGuard

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

STUCK_S = 1.0  # a chain that has not finished by then is taken as broken (the key was still delivered)

Gated = events.Key | events.Paste


class KeyGate:
    """Owned by the App: its `on_event` asks `hold` first, then hands the event to `deliver` (with Textual's own
    handling as `handle`)."""

    def __init__(self, app: App[Any], handle: Callable[[events.Event], Awaitable[None]]) -> None:
        self.app = app
        self.handle = handle
        self.pending: deque[Gated | Callable[[], object]] = deque()
        self.in_flight: Gated | None = None
        self.since = 0.0
        self.watchdog_armed = False

    @staticmethod
    def gates(event: events.Event) -> TypeGuard[Gated]:
        return isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded

    def hold(self, item: Gated | Callable[[], object]) -> bool:
        """True if `item` must wait for the key in flight: it is queued and handed on (an event) or called (a
        callback: a message that must act after everything typed before it, the terminal going away) in order.
        False when nothing is in flight: the caller goes on at once."""
        if self.in_flight is None and not self.pending:
            return False
        self.pending.append(item)
        self._arm_watchdog()
        return True

    async def deliver(self, event: Gated) -> None:
        """Let the App handle `event` (a priority binding, or forwarding to the focused widget) and, if it went to a
        widget, follow it until it is done."""
        target: MessagePump = self.app.focused or self.app.screen
        await self.handle(event)
        while event.is_forwarded and self.pending and self._typed_into(target, event):
            # a run of characters for the text field that has focus goes on at once (an unbracketed paste of 2,000
            # characters took 3.1 s one by one, 1.4 s without the gate): they change nothing but its text, in order
            follower = self.pending[0]
            if not (isinstance(follower, events.Key) and self._typed_into(target, follower)):
                break
            self.pending.popleft()
            event = follower
            await self.handle(event)
        self.in_flight, self.since = event, time.monotonic()
        if not event.is_forwarded:
            # the App ran a priority binding: what it queued on the App (Widget.focus() sets focus from a callback,
            # a screen push mounts from one) runs before the next key is handed on
            if not self.app.call_later(self._release, event):
                self._release(event)
        elif not target.call_later(self._step, event, target):
            self._release(event)

    def _typed_into(self, target: MessagePump, event: Gated) -> bool:
        """A character the focused text field inserts (no binding of its own for it; its containers' and the App's
        bindings do not see keys it consumes)."""
        if not (isinstance(event, events.Key) and event.is_printable) or self.app.focused is not target:
            return False
        widget: Any = target
        if any(binding.priority for binding in widget._bindings.key_to_bindings.get(event.key, ())):
            return False
        return bool(widget.check_consume_key(event.key, event.character))

    def _step(self, event: Gated, node: MessagePump) -> None:
        """`node` has handled `event`: wait for its parent too, up to the App. Always the whole way: a stopped event
        may still reach the App (Textual stops a key at the screen yet hands it to the App, whose `_on_key` runs
        the screen's bindings: `/` focusing the search let the next key land in the table)."""
        parent = node._parent
        if parent is None or node is self.app:
            self._release(event)
        elif not parent.call_later(self._step, event, parent):
            self._release(event)

    def _release(self, event: Gated | None) -> None:
        if event is not None and self.in_flight is not event and self.in_flight is not None:
            return  # a late step of a key the watchdog already released
        self.in_flight = None
        if self.pending and not self.app.call_later(self._next):
            self.pending.clear()  # the App is closing

    async def _next(self) -> None:
        if self.in_flight is not None or not self.pending:
            return
        item = self.pending.popleft()
        if isinstance(item, events.Event):
            await self.deliver(item)
        else:
            item()
            self._release(None)

    def _arm_watchdog(self) -> None:
        if not self.watchdog_armed:
            self.watchdog_armed = True
            self.app.set_timer(STUCK_S, self._watchdog)

    def _watchdog(self) -> None:
        self.watchdog_armed = False
        if self.in_flight is not None and time.monotonic() - self.since >= STUCK_S:
            self._release(None)
        if self.pending:
            self._arm_watchdog()
