"""ScriptViewer and TemplateBuilder in a tiny harness app (Pilot), plus script-viewer snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Button, Input, Select, TextArea

from flowpilot_tui.config import Settings
from flowpilot_tui.screens.script_viewer import ScriptViewer
from flowpilot_tui.screens.template_builder import TemplateBuilder, params_to_text, text_to_params
from flowpilot_tui.services.container import Services
from flowpilot_tui.services.script_render import render_script
from flowpilot_tui.services.scripts import ScriptView
from flowpilot_tui.widgets.script_area import ScriptArea, tokenize

WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def flagged_script() -> ScriptView:
    body = render_script(
        "powershell",
        "Reset the VPN client cache",
        "Stale profile cache after the 6.1 upgrade",
        [
            "Stop the VPN service: `Stop-Service PanGPS`",
            'Delete the cache: `Remove-Item "$env:LOCALAPPDATA\\Palo Alto Networks\\GlobalProtect" -Recurse -Force`',
            "`Start-Service PanGPS`",
            "Reconnect and test `Resolve-DnsName intranet.acme.local`",
        ],
    )
    return ScriptView(7, "session-1", 3, "Reset the VPN client cache", "powershell", body, "offline", WHEN)


def clean_script(title: str = "Flush DNS", body: str | None = None) -> ScriptView:
    body = body if body is not None else render_script("bash", title, "", ["`resolvectl flush-caches`"])
    return ScriptView(8, "session-1", 4, title, "bash", body, "offline", WHEN)


class Harness(App[Any]):
    """Pushes one screen on mount and records what it dismissed with."""

    def __init__(self, make_screen: Any) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.make_screen(), self.results.append)


def notes(app: App[Any]) -> list[tuple[str, str]]:
    return [(n.severity, n.message) for n in app._notifications]


# ---- ScriptViewer ---------------------------------------------------------------------------------------------


async def test_viewer_flags_before_copy_then_copies_on_second_press() -> None:
    script = flagged_script()
    app = Harness(lambda: ScriptViewer(script))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        banner = str(app.screen.query_one("#script-flags").render())
        assert "1 destructive command" in banner and "deletes a folder tree recursively" in banner
        area = app.screen.query_one(ScriptArea)
        assert area.read_only and area.text == script.body
        line_no = next(i for i, line in enumerate(script.body.splitlines(), 1) if line.startswith("Remove-Item"))
        assert f"line {line_no}: Remove-Item" in banner
        await pilot.press("c")
        assert app.clipboard == "" and notes(app)[-1][0] == "warning" and f"line {line_no})" in notes(app)[-1][1]
        await pilot.press("c")
        assert app.clipboard == script.body and "Copied" in notes(app)[-1][1]
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and not isinstance(app.screen, ScriptViewer)


async def test_viewer_is_read_only_and_copies_a_clean_script_at_once() -> None:
    script = clean_script()
    app = Harness(lambda: ScriptViewer(script))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("x", "y")  # typing does nothing in a read-only viewer
        assert app.screen.query_one(ScriptArea).text == script.body
        assert "No destructive commands" in str(app.screen.query_one("#script-flags").render())
        await pilot.press("c")
        assert app.clipboard == script.body


async def test_viewer_shows_untrusted_text_literally_without_escapes() -> None:
    script = clean_script("[bold red]Owned[/] \x1b]52;c;ZXZpbA==\x07fix", "echo hi\x1b[2J\nls\n")
    app = Harness(lambda: ScriptViewer(script))
    async with app.run_test(size=(80, 24)) as pilot:
        title = str(app.screen.query_one("#script-title").render())
        assert "[bold red]Owned[/]" in title and "\x1b" not in title and "ZXZpbA" not in title
        assert app.screen.query_one(ScriptArea).text == "echo hi\nls\n"
        await pilot.press("c")
        assert "\x1b" not in app.clipboard


def test_lexer_marks_comments_strings_variables_and_cmdlets() -> None:
    line = 'Remove-Item "$env:TEMP\\x" -Recurse  # clean up'
    kinds = {line[s:e]: k for s, e, k in tokenize(line, "powershell")}
    assert kinds["Remove-Item"] == "function.call" and kinds['"$env:TEMP\\x"'] == "string"
    assert kinds["-Recurse"] == "keyword.operator" and kinds["# clean up"] == "comment"
    bash = {
        line[s:e]: k for line in ['if [ -n "$HOST" ]; then echo {{Host}}; fi'] for s, e, k in tokenize(line, "bash")
    }
    assert bash["if"] == "keyword" and bash["{{Host}}"] == "tag" and bash["fi"] == "keyword"


async def test_script_area_feeds_textarea_highlights() -> None:
    app = Harness(lambda: ScriptViewer(flagged_script()))
    async with app.run_test(size=(120, 36)):
        area = app.screen.query_one(ScriptArea)
        assert "comment" in {name for _, _, name in area._highlights[1]}
        row = area.text.splitlines().index("Stop-Service PanGPS")
        assert (0, len("Stop-Service"), "function.call") in area._highlights[row]


# ---- snapshots ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_script_viewer_snapshot(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(Harness(lambda: ScriptViewer(flagged_script())), terminal_size=size)


# ---- TemplateBuilder ------------------------------------------------------------------------------------------


@pytest.fixture
async def services(store, engineer, clock, db_url):  # type: ignore[no-untyped-def]
    return Services(Settings(db_url=db_url, user="alice"), store, engineer, clock)


async def draft_template(services: Services):  # type: ignore[no-untyped-def]
    s = await services.sessions.create("Printer offline")
    await services.sessions.add_fact(s.id, "environment", "Windows 11 print server")
    fix = await services.sessions.propose_fix(s.id, "Restart spooler on <Computer>", steps=["Restart-Service Spooler"])
    return s, await services.scripts.save_draft_template(s.id, fix.id)


def test_parameter_lines_round_trip() -> None:
    params = text_to_params("Computer | Target PC | localhost\n\n  User|who  \nFlag")
    assert params == [
        {"name": "Computer", "description": "Target PC", "default": "localhost"},
        {"name": "User", "description": "who", "default": ""},
        {"name": "Flag", "description": "", "default": ""},
    ]
    from flowpilot_tui.services.scripts import TemplateParameter

    assert (
        params_to_text([TemplateParameter("Computer", "Target PC", "localhost"), TemplateParameter("Flag")])
        == "Computer | Target PC | localhost\nFlag"
    )


async def test_builder_edits_and_saves_through_the_service(services) -> None:
    session, tpl = await draft_template(services)
    before = (await services.sessions.get(session.id)).summary.state_version
    app = Harness(lambda: TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = app.screen
        screen.query_one("#tpl-name", Input).value = "Restart print spooler"
        screen.query_one("#tpl-params", TextArea).text = "Computer | Print server | PRN01"
        screen.query_one(
            "#tpl-body", ScriptArea
        ).text = "Restart-Service -Name Spooler -ComputerName {{Computer}}\nRemove-Item C:\\spool -Recurse\n"
        await pilot.pause()
        assert "deletes a folder tree" in str(screen.query_one("#tpl-flags").render())  # live flags
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notes(app)[-1] == ("information", "Template saved: Restart print spooler")
        await pilot.press("escape")  # nothing unsaved: closes at once
        await pilot.pause()
        assert app.results and app.results[0].name == "Restart print spooler"
    stored = await services.scripts.get_template(tpl.id)
    assert (stored.name, stored.status, [p.default for p in stored.parameters]) == (
        "Restart print spooler",
        "built",
        ["PRN01"],
    )
    assert (await services.sessions.get(session.id)).summary.state_version == before + 1


async def test_builder_reports_validation_errors_and_guards_unsaved_edits(services) -> None:
    _, tpl = await draft_template(services)
    app = Harness(lambda: TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = app.screen
        screen.query_one("#tpl-body", ScriptArea).text = "Restart-Service -ComputerName {{Host}}\n"
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        severity, message = notes(app)[-1]
        assert severity == "error" and "{{Host}}" in message
        assert isinstance(app.screen, TemplateBuilder)  # still open, edit kept
        await pilot.press("escape")
        assert isinstance(app.screen, TemplateBuilder) and "Unsaved changes" in notes(app)[-1][1]
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    assert (await services.scripts.get_template(tpl.id)).body == tpl.body


async def test_builder_switches_shell_highlighting(services) -> None:
    _, tpl = await draft_template(services)
    app = Harness(lambda: TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36)) as pilot:
        app.screen.query_one("#tpl-shell", Select).value = "bash"
        await pilot.pause()
        assert app.screen.query_one("#tpl-body", ScriptArea).shell == "bash"


async def test_builder_is_read_only_for_viewers(store, engineer, viewer, clock, db_url) -> None:
    owner = Services(Settings(db_url=db_url, user="alice"), store, engineer, clock)
    _, tpl = await draft_template(owner)
    services = Services(Settings(db_url=db_url, user="victor"), store, viewer, clock)
    app = Harness(lambda: TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        assert app.screen.query_one("#tpl-save", Button).disabled
        assert "can read templates but not change them" in str(app.screen.query_one("#tpl-readonly").render())
        await pilot.press("f2")
        assert notes(app)[-1][0] == "error"
