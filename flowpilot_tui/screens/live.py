"""Live updates on a screen: another engineer's change shows up without a key press.

Why this shape: a screen owns one `LiveWatch`. A short worker opens the account's `ChangeFeed` (PostgreSQL
LISTEN/NOTIFY, or the SQLite `PRAGMA data_version` probe); from then on the feed's own task calls back with the
changed session ids, which become a `SessionsChanged` message posted to the screen — nothing but the screen's handler
touches a widget. No long-running Textual worker is left behind (tests wait for workers to finish), and the feed is
closed when the screen unmounts.

`OwnWrites` tells a change this FlowPilot made from another engineer's: a screen counts the write workers it starts;
a live read that overlapped one of them is applied silently, never announced as someone else's change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import WorkerState

from flowpilot_tui.safe_text import one_line

if TYPE_CHECKING:
    from textual.screen import Screen

    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.live import ChangeFeed
    from flowpilot_tui.services.views import SessionDetail


@dataclass
class SessionsChanged(Message):
    """Sessions of this account changed in the database (possibly by this FlowPilot itself)."""

    ids: frozenset[str]
    initial: bool = False  # the feed just started: re-read once (a change may have landed before it listened)


@dataclass
class LiveRead(Message):
    """A live re-read of the open session; `token` is the own-write state when the change arrived."""

    detail: SessionDetail
    by: str | None
    token: tuple[int, bool]


class LiveWatch:
    """One ChangeFeed for one screen; its batches are posted to the screen as `SessionsChanged`."""

    def __init__(self, screen: Screen[Any], services: Services) -> None:
        self.screen = screen
        self.services = services
        self.feed: ChangeFeed | None = None
        self._started = False
        self._closed = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.screen.run_worker(self._open(), name="live-open", group="live-open", exit_on_error=False)

    async def _open(self) -> None:
        from flowpilot_tui.services.live import ChangeFeed

        feed = ChangeFeed(self.services.store, self.services.actor.account_id, on_change=self._deliver)
        try:
            await feed.start()
        except Exception as exc:  # noqa: BLE001 - live updates are a convenience: say so once, keep working
            await feed.close()
            self.screen.notify(
                f"Live updates are off ({one_line(exc.__class__.__name__)}); press F5 / ctrl+r to refresh.",
                severity="warning",
                markup=False,
            )
            return
        if self._closed:
            await feed.close()
            return
        self.feed = feed
        self.screen.post_message(SessionsChanged(frozenset(), initial=True))

    def _deliver(self, ids: set[str]) -> None:
        if not self._closed:
            self.screen.post_message(SessionsChanged(frozenset(ids)))

    async def close(self) -> None:
        self._closed = True
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.close()


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
