"""Account commands: show the account, set the ConnectWise target statuses, add members. Admin-only writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flowpilot_tui.cli.runtime import fail, with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services

PREFERENCES = ("cw_resolved_status_id", "cw_escalated_status_id")


@click.group()
def account() -> None:
    """Your account: preferences (target statuses) and members."""


@account.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
def account_show(as_json: bool) -> None:
    """The account, your role and its preferences."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        from flowpilot_tui.services import accounts

        prefs = await accounts.get_preferences(s.store, s.actor)
        doc = {
            "account": s.actor.account_name,
            "demo": s.actor.account_is_demo,
            "login": s.actor.login,
            "role": s.actor.role,
            "preferences": prefs,
        }
        if as_json:
            output.emit_json(doc)
            return
        click.echo(output.cell(f"{s.actor.account_name} · you are {s.actor.login} ({s.actor.role})"))
        for key in PREFERENCES:
            click.echo(output.cell(f"  {key} = {prefs.get(key, '(unset: the note is posted, the status left alone)')}"))

    with_services(body, json_errors=as_json)


@account.command("set")
@click.argument("key", type=click.Choice(PREFERENCES))
@click.argument("value")
def account_set(key: str, value: str) -> None:
    """Set a ConnectWise target status id (a number, or `unset`). Admins only."""
    if value != "unset" and not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        # ASCII only: str.isdigit accepts Arabic-Indic and other digits; ConnectWise ids are positive 32-bit ints
        fail(f"{key}: expected a status id (a number from 1 to 999999999) or 'unset', got {value!r}", 2)

    async def body(s: Services) -> None:
        from flowpilot_tui.services import accounts

        await accounts.set_preference(s.store, s.actor, key, None if value == "unset" else int(value))
        click.echo(f"{key} = {value}")

    with_services(body)


@account.command("add-user")
@click.argument("login")
@click.option("--role", type=click.Choice(("admin", "engineer", "viewer")), required=True)
@click.option("--name", "display_name", default=None, help="Display name (defaults to the login).")
def account_add_user(login: str, role: str, display_name: str | None) -> None:
    """Add a member to your account. Admins only."""

    async def body(s: Services) -> None:
        from flowpilot_tui.services import accounts

        await accounts.add_user(s.store, s.actor, login, role, s.clock(), display_name)
        from flowpilot_tui.cli import output

        click.echo(output.cell(f"Added {login} as {role} to {s.actor.account_name}"))

    with_services(body)
