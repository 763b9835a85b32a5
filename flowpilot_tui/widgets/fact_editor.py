"""Modal editor for one fact (kind, text, outcome for "tried").

Why a modal that returns a plain record: the editor never calls services; the workspace saves from a worker,
and on a validation error the engineer's text is still on screen to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from flowpilot_tui import keymap
from flowpilot_tui.services.models import FACT_KINDS
from flowpilot_tui.services.views import FactView
from flowpilot_tui.widgets.facts_pane import KIND_TITLE
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import Dialog


class FactInput(OrderedInput):
    """One line of fact text: keys act in the order typed, a multi-line paste is joined (see ordered_keys)."""


@dataclass(frozen=True)
class FactEdit:
    kind: str
    text: str
    outcome: str


class FactEditor(Dialog[FactEdit | None]):
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])

    def __init__(self, fact: FactView | None = None, kind: str | None = None) -> None:
        super().__init__()
        self.fact = fact
        self.kind = fact.kind if fact else (kind or "symptom")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Edit fact" if self.fact else "Add fact", classes="title")
            yield Select([(KIND_TITLE[k], k) for k in FACT_KINDS], value=self.kind, allow_blank=False, id="kind")
            yield Label("Fact")
            yield FactInput(
                self.fact.text if self.fact else "",
                placeholder="What did you observe, confirm or try?",
                id="text",
                select_on_focus=False,  # a selected text is replaced by the first key typed
            )
            yield Label("Outcome (for tried steps)", id="outcome-label")
            yield FactInput(
                (self.fact.outcome or "") if self.fact else "",
                placeholder="What happened when you tried it?",
                id="outcome",
                select_on_focus=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self._show_outcome(self.kind)
        text = self.query_one("#text", Input)
        text.focus()
        text.cursor_position = len(text.value)  # editing appends: cursor at the end, nothing selected

    @on(Select.Changed, "#kind")
    def kind_changed(self, event: Select.Changed) -> None:
        self._show_outcome(str(event.value))

    def _show_outcome(self, kind: str) -> None:
        for selector in ("#outcome", "#outcome-label"):
            self.query_one(selector).display = kind == "tried"

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def save(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.notify("The fact needs some text", severity="warning")
            self.query_one("#text", Input).focus()
            return
        kind = str(self.query_one("#kind", Select).value)
        outcome = self.query_one("#outcome", Input).value.strip() if kind == "tried" else ""
        self.dismiss(FactEdit(kind, text, outcome))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
