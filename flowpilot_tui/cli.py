"""`flowpilot` command line. With no arguments it opens the TUI.

Start-up stays lean: only click and the standard library load before a command runs; settings, the database and
the TUI are imported inside the commands that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from flowpilot_tui import __version__

T = TypeVar("T")

EXIT_CODES_HELP = """Exit codes: 0 ok, 1 unexpected error, 2 usage or config error, 3 not found, 4 conflict,
5 PSA error, 6 PSA accepted but status not verified, 7 permission denied."""


class Ctx:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


def fail(message: str, code: int) -> None:
    click.echo(f"flowpilot: {message}", err=True)
    sys.exit(code)


def run(ctx: click.Context, fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body; domain errors become one stderr line and their exit code."""
    import asyncio

    from flowpilot_tui.services.errors import DomainError

    debug = ctx.find_object(Ctx).debug if ctx.find_object(Ctx) else False
    try:
        return asyncio.run(fn())
    except DomainError as exc:
        if debug:
            raise
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # never a traceback unless asked for
        if debug:
            raise
        fail(f"unexpected error: {exc.__class__.__name__}: {exc} (run with --debug for details)", 1)
    raise AssertionError("unreachable")


def load_settings() -> Any:
    """Settings or a one-line config error with exit code 2."""
    from flowpilot_tui.config import load_settings as _load
    from flowpilot_tui.services.errors import DomainError

    try:
        return _load()
    except DomainError as exc:
        fail(exc.message, exc.exit_code)


def now() -> datetime:
    return datetime.now(UTC)


@click.group(invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", "-V", prog_name="flowpilot")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """FlowPilot TUI: troubleshoot tickets with an assistant, then resolve or escalate with verified writeback."""
    ctx.obj = Ctx(debug)
    if ctx.invoked_subcommand is None:
        settings = load_settings()
        from flowpilot_tui.app import run_app

        sys.exit(run_app(settings))


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed the demo account and sessions into an empty database."""
    settings = load_settings()

    async def body() -> str:
        from flowpilot_tui.services import demo as demo_data
        from flowpilot_tui.services.store import Store

        store = await Store.open(settings.db_url)
        try:
            actor = await demo_data.seed_demo(store, settings.user, now())
        finally:
            await store.close()
        return f"Seeded {demo_data.DEMO_ACCOUNT!r} for {actor.login} into {settings.db_url}"

    click.echo(run(ctx, body))


@main.command()
@click.option("--account", "account_name", required=True, help="Name of the new account.")
@click.option("--display-name", default=None, help="Your display name (defaults to the login).")
@click.pass_context
def init(ctx: click.Context, account_name: str, display_name: str | None) -> None:
    """Create an empty account with the configured user as its admin."""
    settings = load_settings()

    async def body() -> str:
        from flowpilot_tui.services import accounts
        from flowpilot_tui.services.store import Store

        store = await Store.open(settings.db_url)
        try:
            actor = await accounts.create_account(store, account_name, settings.user, now(), display_name=display_name)
        finally:
            await store.close()
        return f"Created account {actor.account_name!r} with {actor.login} as admin"

    click.echo(run(ctx, body))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Upgrade the database schema to the newest version."""
    settings = load_settings()

    async def body() -> str:
        from flowpilot_tui.services.store import Store, head_revision

        store = await Store.open(settings.db_url)
        await store.close()
        return f"Database at revision {head_revision()}: {settings.db_url}"

    click.echo(run(ctx, body))


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config file and environment."""

    async def body() -> str:
        settings = load_settings()
        return f"Config OK: {settings.config_path} (llm: {settings.llm.provider}, connections: {len(settings.connections)})"

    click.echo(run(ctx, body))


if __name__ == "__main__":  # pragma: no cover
    main()
