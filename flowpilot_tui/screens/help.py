"""F1 help: every key, what it does and its binding id (the name to use in the `keymap` setting).

Why generated from the registry: the list always matches the real bindings, including the user's remaps. Two
columns when wide so the whole list fits one 120×36 screen; stacked and scrollable when narrow.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from flowpilot_tui import keymap
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.rendered_lines import RenderedLines
from flowpilot_tui.widgets.screen_base import FreshScreen

INTRO = (
    'Remap keys in config.toml under [keymap], e.g.  "chat.newline" = "ctrl+j,alt+enter".  Every key is also a '
    "command in the palette (ctrl+p). Posting, deleting and dismissing always ask first or need a modified key."
)
COLUMNS = (
    ("app", "list", "tickets", "queue", "workspace", "script", "template", "redactions"),
    ("chat", "chat_input", "facts", "fix", "preview", "dialog", "confirm_post", "discard_draft"),
)


def keys_table(scope: str, user_map: dict[str, str]) -> Table:
    """One scope: keys and ids never wrap (they are typed into the config); the description takes the rest."""
    table = Table(
        box=None,
        expand=True,
        show_header=False,
        pad_edge=False,
        padding=(0, 1),
        title=Text(keymap.SCOPES[scope], style="bold underline"),
        title_justify="left",
    )
    table.add_column("Keys", style="bold", no_wrap=True, width=17)
    table.add_column("Action", ratio=1)
    table.add_column("Binding id", style="dim", no_wrap=True, width=22)
    for key in keymap.of_scope(scope):
        table.add_row(keymap.display(keymap.effective_keys(key, user_map)), key.description, key.id)
    return table


class HelpScreen(FreshScreen[None]):
    BINDINGS = keymap.bindings("help")
    DEFAULT_CSS = """
    HelpScreen #help-body { padding: 0 1; }
    HelpScreen #help-columns { height: auto; }
    HelpScreen #help-columns > RenderedLines { width: 1fr; margin-right: 1; }
    HelpScreen.-narrow #help-columns { layout: vertical; }
    """

    def __init__(self, user_map: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.user_map = dict(user_map or {})  # the user's remaps, so the table shows the keys that really work

    def compose(self) -> ComposeResult:
        user_map = self.user_map
        with VerticalScroll(id="help-body"):
            yield Static(Text("FlowPilot keys  (Esc closes)", style="bold"))
            yield Static(Text(INTRO), classes="hint")
            with Horizontal(id="help-columns"):
                remaps = tuple(sorted(user_map.items()))  # the tables are a function of the keymap and the remaps
                for column, scopes in enumerate(COLUMNS):
                    tables = Group(*(keys_table(scope, user_map) for scope in scopes))
                    yield RenderedLines(tables, shared=("help", column, remaps))
        yield AppFooter()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < 100, "-narrow")
        self.query_one("#help-body").focus()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < 100, "-narrow")

    def action_close(self) -> None:
        self.dismiss(None)
