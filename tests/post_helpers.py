"""Helpers for the Confirm & post tests (preview harness and workspace alike): open the modal, read what it says,
read the notifications, seed a draft before the app starts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.widgets import Button, Static
from tui_helpers import settle, wait_until

from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.services.container import Services


def modal_text(screen: ConfirmPost) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static) if not isinstance(w, Button))


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def open_modal(pilot: Any) -> ConfirmPost:
    """F9 once the screen has settled, then the modal as the engineer sees it."""
    await settle(pilot)
    await pilot.press("f9")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmPost), "confirm modal")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmPost)
    return pilot.app.screen


def with_draft(session_id: str, kind: str, text: str, base: int = 12) -> Callable[[Services], Awaitable[None]]:
    """A `prepare` hook for PreviewHarness: the draft is in the DB before the pane loads."""

    async def prepare(services: Services) -> None:
        await services.sessions.save_draft(session_id, kind, text, base)

    return prepare
