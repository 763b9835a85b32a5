"""F1 help: every key, what it does and its binding id (the name to use in the `keymap` setting).

Why generated from the registry: the list always matches the real bindings, including the user's remaps.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from flowpilot_tui import keymap

INTRO = (
    "Remap any key in config.toml, e.g.  [keymap]  \"chat.newline\" = \"ctrl+j,alt+enter\".  "
    "Every key is also in the command palette (ctrl+p). Irreversible steps always ask first."
)


def keys_table(user_map: dict[str, str]) -> Table:
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("Keys", style="bold", no_wrap=True, ratio=2)
    table.add_column("Action", ratio=3)
    table.add_column("Binding id", style="dim", no_wrap=True, ratio=3)
    for scope, title in keymap.SCOPES.items():
        table.add_row(Text(title, style="bold underline"), "", "")
        for key in keymap.of_scope(scope):
            table.add_row(keymap.display(keymap.effective_keys(key, user_map)), key.description, key.id)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        user_map = getattr(getattr(self.app, "settings", None), "keymap", {}) or {}
        with VerticalScroll(id="help-body", classes="dialog wide"):
            yield Static(Text("Keys", style="bold"), classes="title")
            yield Static(Text(INTRO), classes="hint")
            yield Static(keys_table(user_map))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
