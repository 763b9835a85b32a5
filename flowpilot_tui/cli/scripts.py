"""Script and template commands: print what the assistant wrote so an engineer on an SSH host can copy or pipe it.

Bodies are printed without terminal controls (they came from a model or a colleague); destructive commands are
named on stderr so a pipe into a shell still gets only the script on stdout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flowpilot_tui.cli.runtime import with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.scripts import Flag, ScriptView, TemplateView

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print a JSON document (machine-readable).")


def _flags_json(flags: list[Flag]) -> list[dict[str, Any]]:
    return [{"line": f.line_no, "command": f.command, "reason": f.reason} for f in flags]


def _script_json(x: ScriptView) -> dict[str, Any]:
    return {
        "id": x.id,
        "session_id": x.session_id,
        "fix_id": x.fix_id,
        "fix_title": x.title,
        "shell": x.shell,
        "generator": x.generator,
        "created_at": x.created_at.isoformat(),
        "body": x.body,
        "flags": _flags_json(x.flags),
    }


def _template_json(t: TemplateView) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "shell": t.shell,
        "status": t.status,
        "parameters": [{"name": p.name, "description": p.description, "default": p.default} for p in t.parameters],
        "session_id": t.session_id,
        "updated_at": t.updated_at.isoformat(),
        "body": t.body,
        "flags": _flags_json(t.flags),
    }


def _warn_flags(flags: list[Flag]) -> None:
    from flowpilot_tui.cli import output

    for f in flags:
        line = f"flowpilot: review line {f.line_no}: {output.cell(f.reason)}: {output.cell(f.command, 80)}"
        click.echo(line, err=True)


@click.group()
def scripts() -> None:
    """One-off scripts written for a session's suggested fixes."""


@scripts.command("list")
@click.argument("session_id")
@JSON_OPTION
def scripts_list(session_id: str, as_json: bool) -> None:
    """Scripts of one session, oldest first."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        items = await s.scripts.list_scripts(session_id)
        if as_json:
            output.emit_json({"session_id": session_id, "scripts": [_script_json(x) for x in items]})
            return
        if not items:
            click.echo("No scripts in this session.")
            return
        rows = [
            [str(x.id), x.shell, output.stamp(x.created_at), str(len(x.flags)), output.cell(x.title, 60)] for x in items
        ]
        click.echo(output.table(["ID", "SHELL", "CREATED", "FLAGS", "FIX"], rows))

    with_services(body, json_errors=as_json)


@scripts.command("new")
@click.argument("session_id")
@click.argument("fix_id", type=int)
@JSON_OPTION
def scripts_new(session_id: str, fix_id: int, as_json: bool) -> None:
    """Write a one-off script for a fix (as the TUI's "one-off script" decision does) and print it."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        script = await s.scripts.one_off(session_id, fix_id)
        if as_json:
            output.emit_json({**_script_json(script), "fallback_reason": script.fallback_reason})
            return
        if script.fallback_reason:
            click.echo(f"flowpilot: offline script: {output.cell(script.fallback_reason)}", err=True)
        _warn_flags(script.flags)
        click.echo(output.clean(script.body))

    with_services(body, json_errors=as_json)


@scripts.command("show")
@click.argument("session_id")
@click.argument("script_id", type=int)
@JSON_OPTION
def scripts_show(session_id: str, script_id: int, as_json: bool) -> None:
    """Print one script's body (only the body on stdout, so it can be piped or redirected)."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        script = await s.scripts.get_script(session_id, script_id)
        if as_json:
            output.emit_json(_script_json(script))
            return
        _warn_flags(script.flags)
        click.echo(output.clean(script.body))

    with_services(body, json_errors=as_json)


@click.group()
def templates() -> None:
    """Reusable script templates of your account."""


@templates.command("list")
@JSON_OPTION
def templates_list(as_json: bool) -> None:
    """Templates by name."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        items = await s.scripts.list_templates()
        if as_json:
            output.emit_json({"templates": [_template_json(t) for t in items]})
            return
        if not items:
            click.echo("No templates yet.")
            return
        rows = [
            [str(t.id), t.status, t.shell, ", ".join(p.name for p in t.parameters) or "-", output.cell(t.name, 60)]
            for t in items
        ]
        click.echo(output.table(["ID", "STATUS", "SHELL", "PARAMETERS", "NAME"], rows))

    with_services(body, json_errors=as_json)


@templates.command("new")
@click.argument("session_id")
@click.argument("fix_id", type=int)
@JSON_OPTION
def templates_new(session_id: str, fix_id: int, as_json: bool) -> None:
    """Save a draft template from a fix (the TUI's "draft template" decision); build it in the TUI."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        tpl = await s.scripts.save_draft_template(session_id, fix_id)
        if as_json:
            output.emit_json(_template_json(tpl))
            return
        click.echo(f"Template #{tpl.id} saved as a draft: {output.cell(tpl.name)}")

    with_services(body, json_errors=as_json)


@templates.command("show")
@click.argument("template_id", type=int)
@JSON_OPTION
def templates_show(template_id: int, as_json: bool) -> None:
    """Print one template's body with its {{placeholders}}."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        tpl = await s.scripts.get_template(template_id)
        if as_json:
            output.emit_json(_template_json(tpl))
            return
        _warn_flags(tpl.flags)
        click.echo(output.clean(tpl.body))

    with_services(body, json_errors=as_json)
