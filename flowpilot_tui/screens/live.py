"""Live updates on a screen: another engineer's change shows up without a key press.

Why this shape: the app owns one `LiveFeed` — one `ChangeFeed` (one PostgreSQL LISTEN connection, or one SQLite
`PRAGMA data_version` probe) however many screens follow changes. A screen holds a `LiveWatch`, which subscribes the
screen to the app's feed on mount and unsubscribes it on unmount. The feed is opened by a short app worker when the
first screen subscribes; from then on the feed's own task calls back with the changed session ids, which become a
`SessionsChanged` message posted to every subscribed screen — nothing but a screen's handler touches a widget. No
long-running Textual worker is left behind (tests wait for workers to finish).

`OwnWrites` tells a change this FlowPilot made from another engineer's: a screen counts the write workers it starts;
a live read that overlapped one of them is applied silently, never announced as someone else's change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import WorkerState

from flowpilot_tui.safe_text import one_line

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.live import ChangeFeed, Changes
    from flowpilot_tui.services.views import SessionDetail


@dataclass
class SessionsChanged(Message):
    """Sessions of this account changed in the database (possibly by this FlowPilot itself)."""

    ids: frozenset[str]
    initial: bool = False  # the feed just started: re-read once (a change may have landed before it listened)


@dataclass
class LiveRead(Message):
    """A live re-read of the open session; `by` is who changed what since the version on screen (the audit trail);
    `token` is the own-write state when the change arrived."""

    detail: SessionDetail
    by: Changes | str | None
    token: tuple[int, bool]


class LiveFeed:
    """The app's one change feed; every subscribed screen gets each batch as a `SessionsChanged` message."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.feed: ChangeFeed | None = None
        self.services: Services | None = None
        self.screens: list[Screen[Any]] = []
        self._opening = False
        self._closed = False

    def subscribe(self, screen: Screen[Any], services: Services) -> None:
        if screen not in self.screens:
            self.screens.append(screen)
        if self._closed or (services is self.services and (self.feed is not None or self._opening)):
            return  # already open (a change after this point reaches the screen) or opening (it gets `initial`)
        self.services = services
        self._opening = True
        self.app.run_worker(self._open(services), name="live-open", group="live-open", exit_on_error=False)

    def unsubscribe(self, screen: Screen[Any]) -> None:
        if screen in self.screens:
            self.screens.remove(screen)

    async def _open(self, services: Services) -> None:
        try:
            await self._start(services)
        finally:
            if services is self.services:
                self._opening = False

    async def _start(self, services: Services) -> None:
        from flowpilot_tui.services.live import ChangeFeed

        old, self.feed = self.feed, None
        if old is not None:  # the app's services changed (first run): follow the new database
            await old.close()
        feed = ChangeFeed(services.store, services.actor.account_id, on_change=self._deliver)
        try:
            await feed.start()
        except asyncio.CancelledError:
            await feed.close()
            raise
        except Exception as exc:  # noqa: BLE001 - live updates are a convenience: say so once, keep working
            await feed.close()
            self.app.notify(
                f"Live updates are off ({one_line(exc.__class__.__name__)}); press F5 / ctrl+r to refresh.",
                severity="warning",
                markup=False,
            )
            return
        if self._closed or services is not self.services:
            await feed.close()
            return
        self.feed = feed
        for screen in list(self.screens):
            screen.post_message(SessionsChanged(frozenset(), initial=True))

    def _deliver(self, ids: set[str]) -> None:
        if self._closed:
            return
        batch = frozenset(ids)
        for screen in list(self.screens):
            screen.post_message(SessionsChanged(batch))

    async def close(self) -> None:
        self._closed = True
        self.screens.clear()
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.close()


class LiveWatch:
    """A screen's subscription to the app's `LiveFeed` (an app without one gets a feed of the screen's own)."""

    def __init__(self, screen: Screen[Any], services: Services) -> None:
        self.screen = screen
        self.services = services
        self.hub: LiveFeed | None = None
        self._own_hub = False

    @property
    def feed(self) -> ChangeFeed | None:
        return self.hub.feed if self.hub is not None else None

    def start(self) -> None:
        if self.hub is not None:
            return
        hub = getattr(self.screen.app, "live_feed", None)
        if not isinstance(hub, LiveFeed):
            hub, self._own_hub = LiveFeed(self.screen.app), True
        self.hub = hub
        hub.subscribe(self.screen, self.services)

    async def close(self) -> None:
        hub = self.hub
        if hub is None:
            return
        hub.unsubscribe(self.screen)
        if self._own_hub:
            await hub.close()


class OwnWrites:
    """Counts the write workers a screen starts (by group) so a live change can be told apart from our own."""

    def __init__(self, screen: Screen[Any], groups: frozenset[str]) -> None:
        self.screen = screen
        self.groups = groups
        self.started = 0

    def note(self, group: str) -> None:
        if group in self.groups:
            self.started += 1

    def busy(self) -> bool:
        return any(
            w.node is self.screen and w.group in self.groups and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.screen.app.workers
        )

    def token(self) -> tuple[int, bool]:
        return (self.started, self.busy())

    def overlapped(self, token: tuple[int, bool]) -> bool:
        """A write of ours was running when the change arrived, or started since: the change may be ours."""
        return token[1] or token[0] != self.started or self.busy()


def on_top(screen: Screen[Any]) -> bool:
    """The screen is the one the engineer is looking at. Not `Screen.is_current`: that is also true for the screen
    directly below the top one (Textual counts it as a possibly visible background), so the session list under an
    open workspace re-read its page and its count on every change."""
    try:
        return screen.app.screen is screen
    except Exception:  # noqa: BLE001 - no screen stack (the app is closing): not on top
        return False


def visible_change(before: SessionDetail | None, after: SessionDetail) -> bool:
    """Anything a pane shows differs (a live re-read that changes nothing is not applied at all)."""
    if before is None:
        return True
    b, a = before.summary, after.summary
    return (
        (b.state_version, b.status, b.owner_login, b.updated_at, b.ticket_id, b.title)
        != (a.state_version, a.status, a.owner_login, a.updated_at, a.ticket_id, a.title)
        or before.message_count != after.message_count
        or before.facts != after.facts
        or before.fixes != after.fixes
    )
