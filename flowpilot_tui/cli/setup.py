"""Set-up and maintenance commands: demo data, a new account, schema upgrade, config checks, the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from flowpilot_tui.cli.runtime import fail, load_settings, run

if TYPE_CHECKING:
    from flowpilot_tui.config import ConnectWiseConnection

TRY_POSTING = (
    "To try verified posting, run `flowpilot emulator connectwise` in another terminal and add the config it prints;\n"
    "the demo session 'Outlook keeps prompting…' is linked to its ticket #{ticket}."
)


def _cell(text: str) -> str:
    from flowpilot_tui.cli.output import clean

    return clean(text)


def now() -> datetime:
    return datetime.now(UTC)


@click.command()
def demo() -> None:
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
        return f"Seeded {demo_data.DEMO_ACCOUNT!r} for {actor.login} into {settings.db_url}\n" + TRY_POSTING.format(
            ticket=demo_data.DEMO_TICKET
        )

    click.echo(_cell(run(body)))


@click.command()
@click.option("--account", "account_name", required=True, help="Name of the new account.")
@click.option("--display-name", default=None, help="Your display name (defaults to the login).")
def init(account_name: str, display_name: str | None) -> None:
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

    click.echo(_cell(run(body)))


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest version."""
    settings = load_settings()

    async def body() -> str:
        from flowpilot_tui.services.store import Store, head_revision

        store = await Store.open(settings.db_url)
        await store.close()
        from flowpilot_tui.services.store_pg import safe_url

        return f"Database at revision {head_revision()}: {safe_url(settings.db_url)}"

    click.echo(_cell(run(body)))


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.option(
    "--connections",
    "reach",
    is_flag=True,
    help="Also reach every configured PSA: API discovery plus one authenticated read.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
def config_check(reach: bool, as_json: bool) -> None:
    """Validate the config file and environment (and, with --connections, each PSA connection)."""
    from flowpilot_tui.cli.output import cell, emit_json

    settings = load_settings()

    async def body() -> tuple[dict[str, Any], int]:
        from flowpilot_tui.cli.runtime import open_services

        services = await open_services(settings)  # the DB opens (and is upgraded) and the user resolves, or it fails
        actor = services.actor
        await services.close()
        results = [await _probe(name, conn) for name, conn in settings.connections.items()] if reach else []
        failed = [r for r in results if not r["ok"]]
        doc = {
            "ok": not failed,
            "config_path": str(settings.config_path) if settings.config_path else None,
            "config_files": [str(p) for p in settings.config_files],  # every file read, lowest precedence first
            "db_url": settings.db_url,
            "user": settings.user,
            "account": actor.account_name,
            "role": actor.role,
            "llm_provider": settings.llm.provider,
            "connections": results or [{"name": n, "checked": False} for n in settings.connections],
        }
        return doc, (failed[0]["exit_code"] if failed else 0)

    doc, code = run(body, json_errors=as_json)  # a DB or user failure: {"error": ...} (never "ok": true), exit 2
    if as_json:
        emit_json(doc)
    else:
        click.echo(
            cell(
                f"Config OK: {', '.join(doc['config_files']) or 'no settings file (defaults and environment)'} "
                f"(user: {doc['user']}, {doc['role']} of {doc['account']}, "
                f"llm: {doc['llm_provider']}, "
                f"connections: {len(settings.connections)})"
            )
        )
        for r in doc["connections"] if reach else ():
            outcome = f"OK, ConnectWise {r['version']}" if r["ok"] else f"FAILED: {r['error']}"
            click.echo(cell(f"  {r['name']}: {outcome}"))
    if code:
        bad = next(r for r in doc["connections"] if not r["ok"])
        fail(f"connection {bad['name']!r}: {bad['error']}", code)


async def _probe(name: str, connection: ConnectWiseConnection) -> dict[str, Any]:
    """Discovery (for `site`) and an authenticated read, through the same provider writeback uses."""
    from flowpilot_tui.services.errors import DomainError
    from flowpilot_tui.services.psa.factory import build_provider

    result: dict[str, Any] = {"name": name, "checked": True, "provider": connection.provider}
    provider = None
    try:
        provider = build_provider(connection, name=name)
        info = await provider.system_info()
        result.update(ok=True, version=str(info.get("version", "unknown")) if isinstance(info, dict) else "unknown")
    except DomainError as exc:
        result.update(ok=False, error=exc.message, exit_code=exc.exit_code)
    finally:
        if provider is not None:
            await provider.aclose()
    return result


@click.group()
def emulator() -> None:
    """Local stand-ins for external systems, for trying FlowPilot out."""


@emulator.command("connectwise")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option("--quiet", is_flag=True, help="Do not print each request line.")
def emulator_connectwise(port: int, quiet: bool) -> None:
    """Run the ConnectWise emulator with demo tickets and print a config snippet. Ctrl+C stops it."""
    from flowpilot_tui.emulators.connectwise import main as emulator_main

    try:
        code = emulator_main(["--port", str(port), *(["--quiet"] if quiet else [])])
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", 1)
    raise SystemExit(code)
