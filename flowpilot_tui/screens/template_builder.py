"""Edit a script template — name, shell, parameters, body — and save it through the script service.

Parameters are edited as lines `Name | description | default` (fast with a keyboard, easy to read back).
Saving runs in a worker; any DomainError (bad name, undeclared `{{Param}}`, duplicate name) is a notification
and the edit stays on screen. Closing with unsaved edits needs a second Esc. The screen dismisses with the last
saved TemplateView (or None), so the opener can refresh the session. Every field applies keys in the order typed, and
F2 saves what was typed before it (see widgets/ordered_keys.py).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, strip_controls
from flowpilot_tui.screens.script_viewer import banner_text
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.services.script_safety import destructive_flags
from flowpilot_tui.widgets.ordered_keys import OrderedInput, OrderedTextArea
from flowpilot_tui.widgets.screen_base import Dialog
from flowpilot_tui.widgets.script_area import ScriptArea


def params_to_text(parameters: Any) -> str:
    return "\n".join(f"{p.name} | {p.description} | {p.default}".rstrip(" |") for p in parameters)


def text_to_params(text: str) -> list[dict[str, str]]:
    """`Name | description | default` per line; blank lines ignored. Validation is the service's job."""
    params = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, rest = line.partition("|")
        description, _, default = rest.partition("|")
        params.append({"name": name.strip(), "description": description.strip(), "default": default.strip()})
    return params


class TemplateBuilder(Dialog[Any]):
    DEFAULT_CSS = """
    TemplateBuilder { align: center middle; }
    TemplateBuilder > #tpl-dialog {
        width: 96%; height: 96%; border: thick $primary; background: $surface; padding: 0 1;
    }
    TemplateBuilder #tpl-title { text-style: bold; }
    TemplateBuilder #tpl-status { color: $text-muted; }
    TemplateBuilder #tpl-row { height: auto; }
    TemplateBuilder #tpl-name { width: 1fr; }
    TemplateBuilder #tpl-shell { width: 22; }
    TemplateBuilder .tpl-label { margin-top: 1; color: $text-muted; }
    TemplateBuilder #tpl-params { height: 5; }
    TemplateBuilder #tpl-body { height: 1fr; }
    TemplateBuilder #tpl-flags { height: auto; max-height: 5; }
    TemplateBuilder #tpl-flags.-danger { background: $error 20%; border-left: thick $error; padding: 0 1; }
    TemplateBuilder #tpl-flags.-clear { color: $text-muted; }
    TemplateBuilder #tpl-buttons { height: auto; align-horizontal: right; }
    TemplateBuilder #tpl-readonly { color: $warning; }
    """
    BINDINGS = keymap.bindings("template")

    def __init__(self, services: Any, template: Any) -> None:
        super().__init__()
        self.services = services
        self.template = template
        self.saved: Any = None
        self._armed_close = False
        self.can_write = services.actor.can_write

    def compose(self) -> ComposeResult:
        t = self.template
        with Vertical(id="tpl-dialog"):
            yield Static(Text(f"Template builder · {one_line(t.name, 80)}"), id="tpl-title")
            yield Static(self._status_text(), id="tpl-status")
            if not self.can_write:
                yield Static(
                    Text(f"Your role ({self.services.actor.role}) can read templates but not change them."),
                    id="tpl-readonly",
                )
            with Horizontal(id="tpl-row"):
                yield OrderedInput(
                    strip_controls(t.name), placeholder="Template name", id="tpl-name", disabled=not self.can_write
                )
                yield Select(
                    [("PowerShell", "powershell"), ("bash", "bash")],
                    value=t.shell,
                    allow_blank=False,
                    id="tpl-shell",
                    disabled=not self.can_write,
                )
            yield Label("Parameters — one per line: Name | description | default", classes="tpl-label")
            yield OrderedTextArea(
                strip_controls(params_to_text(t.parameters)),
                id="tpl-params",
                soft_wrap=False,
                read_only=not self.can_write,
            )
            yield Label("Body — write {{Name}} where a parameter goes", classes="tpl-label")
            yield ScriptArea(
                strip_controls(t.body),
                shell=t.shell,
                id="tpl-body",
                show_line_numbers=True,
                soft_wrap=False,
                read_only=not self.can_write,
            )
            yield Static(id="tpl-flags")
            with Horizontal(id="tpl-buttons"):
                yield Button("Save (F2)", id="tpl-save", variant="primary", disabled=not self.can_write)
                yield Button("Close (Esc)", id="tpl-close")
            yield Footer()

    def _status_text(self) -> Text:
        t = self.saved or self.template
        state = "built" if t.status == "built" else "draft"
        return Text(
            f"{state} · {len(t.parameters)} parameter{'s' if len(t.parameters) != 1 else ''} · "
            "the app never runs scripts"
        )

    def on_mount(self) -> None:
        for area in self.query(TextArea):
            area.cursor_blink = False
        self._show_flags()
        self.query_one("#tpl-name", Input).focus()

    # ---- live feedback ----------------------------------------------------------------------------------------

    def _show_flags(self) -> None:
        flags = destructive_flags(self.query_one("#tpl-body", ScriptArea).text)
        panel = self.query_one("#tpl-flags", Static)
        panel.update(banner_text(flags))
        panel.set_class(bool(flags), "-danger")
        panel.set_class(not flags, "-clear")

    @on(Input.Changed)
    def _field_edited(self) -> None:
        self._armed_close = False

    @on(TextArea.Changed)
    def _body_edited(self, event: TextArea.Changed) -> None:
        self._armed_close = False
        if event.text_area.id == "tpl-body":
            self._show_flags()

    @on(Select.Changed, "#tpl-shell")
    def _shell_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#tpl-body", ScriptArea).shell = event.value

    # ---- save / close -----------------------------------------------------------------------------------------

    def _current(self) -> tuple[str, str, list[dict[str, str]], str]:
        shell = self.query_one("#tpl-shell", Select).value
        return (
            self.query_one("#tpl-name", Input).value,
            shell if isinstance(shell, str) else self.template.shell,
            text_to_params(self.query_one("#tpl-params", TextArea).text),
            self.query_one("#tpl-body", ScriptArea).text,
        )

    def _dirty(self) -> bool:
        t = self.saved or self.template
        name, shell, params, body = self._current()
        stored = [{"name": p.name, "description": p.description, "default": p.default} for p in t.parameters]
        return (name, shell, params, body) != (t.name, t.shell, stored, t.body)

    @on(Button.Pressed, "#tpl-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#tpl-close")
    def _close_pressed(self) -> None:
        self.action_close()

    def action_save(self) -> None:
        if not self.can_write:
            self.notify("Your role cannot change templates", severity="error")
            return
        self._save(*self._current())

    @work(exclusive=True, group="template-save", exit_on_error=False)
    async def _save(self, name: str, shell: str, params: list[dict[str, str]], body: str) -> None:
        try:
            saved = await self.services.scripts.save_template(self.template.id, name, shell, params, body)
        except DomainError as exc:
            self.notify(exc.message, title="Template not saved", severity="error")
            return
        self.saved = saved
        self._armed_close = False
        self.query_one("#tpl-title", Static).update(Text(f"Template builder · {one_line(saved.name, 80)}"))
        self.query_one("#tpl-status", Static).update(self._status_text())
        self.notify(f"Template saved: {one_line(saved.name, 80)}", title="Saved")

    def action_close(self) -> None:
        if self.can_write and self._dirty() and not self._armed_close:
            self._armed_close = True
            self.notify("Unsaved changes: press Esc again to discard them, or F2 to save.", severity="warning")
            return
        self.dismiss(self.saved)
