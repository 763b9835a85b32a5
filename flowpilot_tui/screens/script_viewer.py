"""Read-only view of a generated script: destructive-command banner first, highlighted body, copy via OSC 52.

The app never runs scripts. When a script has destructive commands, the first copy only warns and a second
press copies, so the engineer has read the banner before the text leaves the app.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, strip_controls
from flowpilot_tui.widgets.screen_base import Dialog
from flowpilot_tui.widgets.script_area import ScriptArea

SHELL_NAMES = {"powershell": "PowerShell", "bash": "bash"}


def banner_text(flags: list[Any]) -> Text:
    """The flag banner as literal text (commands are untrusted: never markup)."""
    if not flags:
        return Text("No destructive commands found by the pattern check. Still read every line before running it.")
    lines = [f"⚠ {len(flags)} destructive command{'s' if len(flags) != 1 else ''} — read before copying:"]
    lines += [f"  line {f.line_no}: {one_line(f.command, 70)} — {f.reason}" for f in flags]
    return Text("\n".join(lines))


class ScriptViewer(Dialog[None]):
    DEFAULT_CSS = """
    ScriptViewer { align: center middle; }
    ScriptViewer > #script-dialog {
        width: 96%; height: 94%; border: thick $primary; background: $surface; padding: 0 1;
    }
    ScriptViewer #script-title { text-style: bold; }
    ScriptViewer #script-meta { color: $text-muted; }
    ScriptViewer #script-flags { padding: 0 1; margin: 1 0 0 0; height: auto; max-height: 8; }
    ScriptViewer #script-flags.-danger { background: $error 20%; color: $text; border-left: thick $error; }
    ScriptViewer #script-flags.-clear { color: $text-muted; }
    ScriptViewer ScriptArea { height: 1fr; margin-top: 1; }
    """
    BINDINGS = keymap.bindings("script")

    def __init__(self, script: Any) -> None:
        super().__init__()
        self.script = script
        self.body = strip_controls(script.body)
        self.flags = list(script.flags)
        self._armed = False  # a first copy press on a flagged script only warns

    def compose(self) -> ComposeResult:
        s = self.script
        shell = SHELL_NAMES.get(s.shell, s.shell)
        source = "written by Claude" if s.generator == "claude" else "offline template from the fix steps"
        meta = f"{shell} · {source} · never run by FlowPilot"
        if s.fallback_reason:
            meta += f" · Claude not used: {one_line(s.fallback_reason, 80)}"
        with Vertical(id="script-dialog"):
            yield Static(Text(f"One-off script · {one_line(s.title, 90)}"), id="script-title")
            yield Static(Text(meta), id="script-meta")
            flags = Static(banner_text(self.flags), id="script-flags")
            flags.add_class("-danger" if self.flags else "-clear")
            yield flags
            yield ScriptArea(
                self.body, shell=s.shell, read_only=True, show_line_numbers=True, soft_wrap=False, id="script-body"
            )
            yield Footer()

    def on_mount(self) -> None:
        area = self.query_one(ScriptArea)
        area.cursor_blink = False
        area.focus()

    def action_copy(self) -> None:
        if self.flags and not self._armed:
            self._armed = True
            lines = ", ".join(str(f.line_no) for f in self.flags[:6])
            self.notify(
                f"This script has destructive commands (line {lines}). Press c again to copy it anyway.",
                title="Review before copying",
                severity="warning",
            )
            return
        self.app.copy_to_clipboard(self.body)
        count = len(self.body.splitlines())
        self.notify(
            f"Copied {count} lines to the clipboard (OSC 52). If nothing pastes, your terminal blocks "
            "OSC 52: select the text instead.",
            title="Script copied",
        )

    def action_close(self) -> None:
        self.dismiss(None)
