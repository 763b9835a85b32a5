"""Messages workers post to their screen: workers never touch widgets, one owner applies each result.

Why dataclasses: they are plain records, easy to assert on in tests (`run_test(message_hook=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.identity import Actor
    from flowpilot_tui.services.store import Store
    from flowpilot_tui.services.views import MessageView, Page, SessionDetail, SessionSummary
    from flowpilot_tui.services.writeback_types import WritebackOutcome


class TerminalClosed(Message):
    """The terminal is gone (SSH dropped, the terminal window closed without a hang-up signal reaching us): the input
    thread read end-of-file or EIO. The app saves what was typed and exits instead of reading a dead terminal."""


@dataclass
class ServicesReady(Message):
    """The database is open and the configured user resolved (or first-run set-up finished)."""

    actor: Actor
    services: Services


@dataclass
class FirstRunNeeded(Message):
    """The database has no account yet: offer demo data or an empty account."""

    store: Store


@dataclass
class PageLoaded(Message):
    page: Page
    status: str | None
    search: str


@dataclass
class SessionCreated(Message):
    summary: SessionSummary


@dataclass
class SessionLoaded(Message):
    """A fresh `SessionDetail` after opening or after any write (state_version moved)."""

    detail: SessionDetail
    focus_fact: int | None = None  # a fact just added/edited: highlight and scroll to it
    opening: Message | None = None  # on opening: what the screen read beside it (the chat history), same frame
    preview: Message | None = None  # on opening, when it needs no model: the preview's text, same frame


@dataclass
class HistoryLoaded(Message):
    """A window of chat history, oldest first; `earlier` means it goes above what is shown."""

    messages: list[MessageView]
    has_more: bool
    earlier: bool = False


@dataclass
class ReplyChunk(Message):
    text: str


@dataclass
class ReplyFinished(Message):
    """The assistant turn ended (completed, interrupted or failed); `cards` are compact tool-call lines."""

    text: str
    interrupted: bool = False
    error: str | None = None
    cards: list[tuple[str, str]] = field(default_factory=list)
    unsent: str = ""  # the engineer's text when it was not stored: put back into the input


@dataclass
class ServiceFailed(Message):
    """A service call failed with a user-facing message; shown as an error notification, nothing crashes."""

    message: str


@dataclass
class ServiceDone(Message):
    """A write succeeded; `message` says what changed (an information notification)."""

    message: str


@dataclass
class NotePosted(Message):
    """A post (or local resolve/escalate) succeeded; bubbles from the session's screen to the app."""

    outcome: WritebackOutcome
    kind: str
    session_id: str
