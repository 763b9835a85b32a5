"""After a post that found an earlier version of the note on the ticket: say so, show what the confirmed text adds,
and offer to post that difference as a follow-up note (issue 16). Never silently: the offer, then a confirmation.

Dismisses True only after the engineer pressed "Post the difference as a follow-up note" and then confirmed; Esc or
"Not now" at either step dismisses False (nothing is sent). The screen that owns the post flow runs the post.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.services import wording
from flowpilot_tui.services.writeback_types import WritebackOutcome
from flowpilot_tui.widgets.screen_base import Dialog

OFFER = "Post the difference as a follow-up note…"
CONFIRM = "Post the follow-up note"


class FollowUpOffer(Dialog[bool]):
    DEFAULT_CSS = """
    FollowUpOffer { align: center middle; }
    FollowUpOffer > #fu-box {
        width: 90; max-width: 95%; height: auto; max-height: 90%; border: thick $warning; background: $surface;
        padding: 0 1;
    }
    FollowUpOffer #fu-diff { height: auto; max-height: 14; border: round $primary; padding: 0 1; }
    FollowUpOffer #fu-confirm-text { margin-top: 1; }
    FollowUpOffer #fu-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    FollowUpOffer #fu-buttons Button { margin-left: 2; }
    """
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])
    AUTO_FOCUS = "#fu-skip"

    def __init__(self, outcome: WritebackOutcome, kind: str) -> None:
        super().__init__()
        self.outcome, self.kind = outcome, kind
        self.confirming = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fu-box") as box:
            box.border_title = "The ticket holds a different text"
            yield Static(plain(wording.follow_up_offer(self.outcome)), id="fu-why")
            with VerticalScroll(id="fu-diff"):
                yield Static(plain(self.outcome.follow_up_text or ""), id="fu-text")
            confirm = Static(plain(wording.follow_up_confirm(self.kind, self.outcome.ticket_id)), id="fu-confirm-text")
            confirm.display = False
            yield confirm
            with Horizontal(id="fu-buttons"):
                yield Button("Not now (Esc)", id="fu-skip")
                post = Button(OFFER, id="fu-post", variant="warning")
                # Textual ignores Enter on a button for its 0.2 s press effect: Tab, Enter typed ahead at the
                # confirmation (the same button, pressed a moment before) was dropped and nothing was posted.
                post.active_effect_duration = 0
                yield post

    @on(Button.Pressed, "#fu-post")
    def post_pressed(self) -> None:
        if not self.confirming:  # first press: the confirmation, with where the note goes and who can see it
            self.confirming = True
            self.query_one("#fu-confirm-text").display = True
            self.query_one("#fu-post", Button).label = CONFIRM
            self.query_one("#fu-skip", Button).focus()
            return
        self.dismiss(True)

    @on(Button.Pressed, "#fu-skip")
    def action_cancel(self) -> None:
        self.dismiss(False)
