"""Facts grouped by kind (symptom, environment, confirmed, tried + outcome, hypothesis) with add/edit/delete keys.

Why an OptionList: one cheap widget, keyboard navigation for free, group headers as disabled rows. The pane only
asks; the workspace opens the editor and calls the service from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.services.models import FACT_KINDS
from flowpilot_tui.services.views import FactView

KIND_TITLE = {
    "symptom": "Symptoms",
    "environment": "Environment",
    "confirmed": "Confirmed",
    "tried": "Tried (outcome)",
    "hypothesis": "Hypotheses",
}


def fact_prompt(fact: FactView) -> Text:
    line = Text("• ")
    line.append_text(plain(fact.text))
    if fact.kind == "tried":
        line.append("\n  → ", style="dim")
        line.append_text(
            plain(fact.outcome or "outcome not recorded", style="italic" if fact.outcome else "dim italic")
        )
    if fact.source != "engineer":
        line.append(f"  [{fact.source}]", style="dim")
    return line


class FactsPane(OptionList):
    # A stable gutter: the option list measures wrapped facts at the width it has when they are set; a scrollbar
    # appearing later narrowed the text without a resize, so the last wrapped line of each fact was cut off.
    DEFAULT_CSS = "FactsPane { scrollbar-gutter: stable; }"
    BINDINGS = keymap.bindings("facts")

    @dataclass
    class Requested(Message):
        """The engineer asked to add (fact None), edit or delete a fact."""

        action: str
        fact: FactView | None
        kind: str | None = None

    def __init__(self, *, can_write: bool, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.can_write = can_write
        self.facts: dict[str, FactView] = {}

    _measured_width: int | None = None  # the width the options' lines were measured at

    def _update_lines(self) -> None:
        if not self._line_cache.lines:
            self._measured_width = self.scrollable_content_region.width
        super()._update_lines()

    def _on_resize(self, event: events.Resize) -> None:  # type: ignore[override]  # Textual dispatches by name
        """A resize that leaves the width the facts were measured and drawn at (a pane's first sizing, a height
        change) keeps them: OptionList's handler (not run then) redrew and re-measured every fact a second time on
        each opening."""
        if self._line_cache.lines and self._measured_width == self.scrollable_content_region.width:
            event.prevent_default()

    def show(self, facts: tuple[FactView, ...], focus_fact: int | None = None) -> None:
        """Replace the content, keeping the highlighted fact (or moving to `focus_fact`, just saved)."""
        current = self.current_fact
        self.facts = {str(f.id): f for f in facts}
        options: list[Option] = []
        for kind in FACT_KINDS:
            of_kind = [f for f in facts if f.kind == kind]
            options.append(
                Option(
                    Text(f"{KIND_TITLE[kind]} ({len(of_kind)})", style="bold underline"),
                    id=f"kind-{kind}",
                    disabled=True,
                )
            )
            if not of_kind:
                options.append(Option(Text("  —", style="dim"), disabled=True))
            options.extend(Option(fact_prompt(f), id=str(f.id)) for f in of_kind)
        self.set_options(options)
        if focus_fact is not None and str(focus_fact) in self.facts:
            self.highlighted = self.get_option_index(str(focus_fact))
        elif current is not None and str(current.id) in self.facts:
            self.highlighted = self.get_option_index(str(current.id))
        elif self.facts:
            self.highlighted = self.get_option_index(next(iter(self.facts)))

    @property
    def current_fact(self) -> FactView | None:
        if self.highlighted is None or not self.option_count:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self.facts.get(option.id or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in keymap.WRITE_ACTIONS["facts"]:
            if not self.can_write:
                return None
            if action in ("edit", "delete") and self.current_fact is None:
                return None
        return True

    def action_add(self) -> None:
        fact = self.current_fact
        self.post_message(self.Requested("add", None, fact.kind if fact else None))

    def action_edit(self) -> None:
        if self.current_fact is not None:
            self.post_message(self.Requested("edit", self.current_fact))

    def action_delete(self) -> None:
        if self.current_fact is not None:
            self.post_message(self.Requested("delete", self.current_fact))
