"""Ticket queue commands: list my PSA tickets, import one as a session, sync a session's ticket notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flowpilot_tui.cli.runtime import with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print a JSON document (machine-readable).")
CONNECTION = click.option("--connection", default=None, help="Configured PSA connection (default: the only one).")


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@click.group()
def tickets() -> None:
    """Your PSA ticket queue: list, import as a session, sync notes."""


@tickets.command("list")
@CONNECTION
@click.option("--board", default=None, help="Only this board (by name).")
@click.option("--status", default=None, help="Only this status (by name).")
@click.option("--search", default=None, help="A ticket number (48213 or #48213) or text in the summary.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 1000), default=25, show_default=True)
@JSON_OPTION
def tickets_list(
    connection: str | None,
    board: str | None,
    status: str | None,
    search: str | None,
    page: int,
    page_size: int,
    as_json: bool,
) -> None:
    """Your open tickets (owner or assigned resource), newest activity first; one PSA page per call."""
    from flowpilot_tui.cli import output
    from flowpilot_tui.services.tickets import age

    async def body(s: Services) -> None:
        name, result = await s.tickets.list_tickets(
            connection=connection, board=board, status=status, search=search, page=page, page_size=page_size
        )
        now = s.clock()
        if as_json:
            output.emit_json(
                {
                    "connection_name": name,
                    "page": result.page,
                    "page_size": result.page_size,
                    "has_more": result.has_more,
                    "items": [
                        {
                            "id": t.id,
                            "summary": t.summary,
                            "company": t.company_name,
                            "status": t.status_name,
                            "priority": t.priority_name,
                            "board": t.board_name,
                            "owner": t.owner,
                            "entered_at": _iso(t.entered),
                            "last_updated": _iso(t.last_updated),
                            "age": age(t, now),
                        }
                        for t in result.items
                    ],
                }
            )
            return
        if not result.items:
            click.echo("No open tickets match." if (board or status or search) else "No open tickets.")
            return
        rows = [
            [
                f"#{t.id}",
                output.cell(t.company_name, 24),
                output.cell(t.status_name, 20),
                output.cell(t.priority_name, 24),
                age(t, now),
                output.cell(t.summary, 60),
            ]
            for t in result.items
        ]
        click.echo(output.table(["TICKET", "COMPANY", "STATUS", "PRIORITY", "AGE", "SUMMARY"], rows))
        if result.has_more:
            click.echo(f"(page {result.page}; use --page {result.page + 1} for more)", err=True)

    with_services(body, json_errors=as_json)


@tickets.command("import")
@click.argument("ticket", type=click.IntRange(1))
@CONNECTION
@JSON_OPTION
def tickets_import(ticket: int, connection: str | None, as_json: bool) -> None:
    """Start a session from a ticket (summary, description, company/contact/site/configurations, notes).

    Importing a ticket that already has a session prints that session instead."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        result = await s.tickets.import_ticket(ticket, connection=connection)
        if as_json:
            output.emit_json({**result.session.to_json(), "created": result.created, "notes": result.notes})
            return
        click.echo(result.session.id)
        if result.created:
            click.echo(f"imported ticket #{ticket}: {result.facts} fact(s), {result.notes} note(s)", err=True)
        else:
            click.echo(f"ticket #{ticket} was already imported; this is its session", err=True)

    with_services(body, json_errors=as_json)


@tickets.command("sync")
@click.argument("session_id")
@JSON_OPTION
def tickets_sync(session_id: str, as_json: bool) -> None:
    """Pull the notes added on the session's ticket since the last sync and show its live status."""
    from flowpilot_tui.cli import output
    from flowpilot_tui.services.tickets import note_message

    async def body(s: Services) -> None:
        result = await s.tickets.sync(session_id)
        if as_json:
            output.emit_json(
                {
                    "session_id": result.session_id,
                    "ticket_id": result.ticket_id,
                    "status": result.status_name,
                    "closed": result.closed,
                    "warning": result.warning,
                    "new_notes": [
                        {
                            "id": n.id,
                            "author": n.author,
                            "visibility": n.visibility,
                            "created_at": _iso(n.created_at),
                            "text": n.text,
                        }
                        for n in result.new_notes
                    ],
                }
            )
            return
        for n in result.new_notes:
            click.echo(output.clean(note_message(result.ticket_id, n)) + "\n")
        click.echo(
            f"ticket #{result.ticket_id}: {output.cell(result.status_name)}; {len(result.new_notes)} new note(s)"
        )
        if result.warning:
            click.echo(f"warning: {output.cell(result.warning)}", err=True)

    with_services(body, json_errors=as_json)
