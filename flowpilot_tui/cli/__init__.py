"""`flowpilot` command line. With no arguments it opens the TUI.

Start-up stays lean: only click and the standard library load before a command runs; settings, the database,
the services and the TUI are imported inside the commands that need them. The CLI has no logic of its own:
every command calls the same services the TUI calls.
"""

from __future__ import annotations

import sys

import click

from flowpilot_tui import __version__, heap
from flowpilot_tui.cli import account, notes, scripts, sessions, setup, tickets
from flowpilot_tui.cli.runtime import Ctx, load_settings

EXIT_CODES_HELP = """Exit codes: 0 ok, 1 unexpected error, 2 usage or config error (or cancelled), 3 not found,
4 conflict, 5 PSA error, 6 PSA accepted but status not verified, 7 permission denied."""


@click.group(invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", "-V", prog_name="flowpilot")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """FlowPilot TUI: troubleshoot tickets with an assistant, then resolve or escalate with verified writeback.

    Run without a command to open the terminal UI.
    """
    ctx.obj = Ctx(debug)
    if ctx.invoked_subcommand is not None:
        heap.for_short_command()  # importing is most of a command's time (heap.py); the TUI keeps the default
    if ctx.invoked_subcommand is None:
        settings = load_settings()
        from flowpilot_tui.app import run_app

        sys.exit(run_app(settings))


for command in (
    sessions.sessions,
    sessions.facts,
    sessions.fix,
    notes.preview,
    notes.post,
    setup.demo,
    setup.init,
    setup.db,
    setup.config,
    setup.emulator,
    account.account,
    tickets.tickets,
    scripts.scripts,
    scripts.templates,
):
    main.add_command(command)

__all__ = ["main"]
