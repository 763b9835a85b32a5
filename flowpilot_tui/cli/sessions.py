"""Session commands: list, show and create sessions; record facts; propose and decide fixes. All via SessionService."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flowpilot_tui.cli.runtime import with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print a JSON document (machine-readable).")


@click.group()
def sessions() -> None:
    """List, show and create troubleshooting sessions."""


@sessions.command("list")
@click.option("--status", default=None, help="active, paused, requesting_escalation, escalated or resolved.")
@click.option("--search", default=None, help="Match in the title, or a ticket number (#48213).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True, help="Skip this many (paging).")
@click.option("--after", default=None, help="Keyset cursor: next_after of the previous page (faster than --offset).")
@click.option("--queue", is_flag=True, help="The escalation queue: requesting escalation or escalated, oldest first.")
@JSON_OPTION
def sessions_list(
    status: str | None, search: str | None, limit: int, offset: int, after: str | None, queue: bool, as_json: bool
) -> None:
    """Sessions of your account, most recently updated first."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        if queue:
            await _print_queue(s, as_json)
            return
        page = await s.sessions.list_sessions(status=status, search=search, limit=limit, offset=offset, after=after)
        if as_json:
            shape = {k: v for k, v in page.to_json().items() if k != "more"}
            output.emit_json({**shape, "has_more": page.has_more})
            return
        if not page.items:
            click.echo("No sessions match." if (status or search) else "No sessions yet.")
            return
        rows = [
            [
                x.id,
                x.status,
                output.ticket_label(x),
                output.stamp(x.updated_at),
                output.cell(x.owner_login),
                output.cell(x.title, 60),
            ]
            for x in page.items
        ]
        click.echo(output.table(["ID", "STATUS", "TICKET", "UPDATED", "OWNER", "TITLE"], rows))
        if page.has_more:
            click.echo(
                f"({len(page.items)} of {page.total}; use --offset {offset + len(page.items)} for more)", err=True
            )

    with_services(body, json_errors=as_json)


async def _print_queue(s: Services, as_json: bool) -> None:
    from flowpilot_tui.cli import output
    from flowpilot_tui.services.handoff import HandoffService

    now = s.clock()
    items = await HandoffService(s.store, s.actor, s.clock).queue()
    if as_json:
        output.emit_json({"items": [q.to_json(now) for q in items], "total": len(items)})
        return
    if not items:
        click.echo("The escalation queue is empty.")
        return
    rows = [
        [q.summary.id, q.summary.status, f"{q.age_seconds(now) // 60} min", output.cell(q.escalated_by_login),
         output.cell(q.summary.title, 50)]
        for q in items
    ]  # fmt: skip
    click.echo(output.table(["ID", "STATUS", "AGE", "ESCALATED BY", "TITLE"], rows))


@sessions.command("take")
@click.argument("session_id")
@JSON_OPTION
def sessions_take(session_id: str, as_json: bool) -> None:
    """Take over a session from the escalation queue (you become its owner); prints its escalation package."""
    from flowpilot_tui.cli import output
    from flowpilot_tui.services.handoff import HandoffService

    async def body(s: Services) -> None:
        taken = await HandoffService(s.store, s.actor, s.clock).take(session_id)
        if as_json:
            output.emit_json({**output.session_json(taken.detail), "previous_owner_login": taken.previous_owner_login})
            return
        click.echo(f"You now own {session_id} (taken over from {output.cell(taken.previous_owner_login)}).")
        package = taken.detail.escalation_package_markdown or taken.detail.drafts.get("escalate")
        from flowpilot_tui.safe_text import strip_controls

        click.echo(strip_controls(package) if package else "(no escalation package was written yet)")

    with_services(body, json_errors=as_json)


@sessions.command("show")
@click.argument("session_id")
@JSON_OPTION
def sessions_show(session_id: str, as_json: bool) -> None:
    """Facts, the active fix, status, ticket link and state_version of one session."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        detail = await s.sessions.get(session_id)
        if as_json:
            output.emit_json(output.session_json(detail))
        else:
            click.echo(output.session_text(detail))

    with_services(body, json_errors=as_json)


@sessions.command("new")
@click.option("--title", required=True, help="What the customer reported, in a line.")
@click.option("--connection", default=None, help="Configured PSA connection name (with --ticket).")
@click.option("--ticket", type=click.IntRange(1), default=None, help="PSA ticket number (with --connection).")
@click.option(
    "--no-check", is_flag=True, help="Link the ticket without reading it from the PSA first (PSA unreachable)."
)
@JSON_OPTION
def sessions_new(title: str, connection: str | None, ticket: int | None, no_check: bool, as_json: bool) -> None:
    """Start a session, optionally linked to a PSA ticket (read first: a ticket that does not exist is refused)."""
    from flowpilot_tui.cli import output
    from flowpilot_tui.errors import ConfigError, PsaError

    async def body(s: Services) -> None:
        if connection is not None and ticket is not None and not no_check:
            try:
                await s.tickets.check_ticket(connection, ticket)
            except (PsaError, ConfigError) as exc:
                kind = PsaError if isinstance(exc, PsaError) else ConfigError
                raise kind(f"could not check ticket #{ticket}: {exc.message} (--no-check links it anyway)") from exc
        summary = await s.sessions.create(title, connection_name=connection, ticket_id=ticket)
        if as_json:
            output.emit_json(summary.to_json())
        else:
            click.echo(summary.id)

    with_services(body, json_errors=as_json)


@click.group()
def facts() -> None:
    """Record what you found out."""


@facts.command("add")
@click.argument("session_id")
@click.option("--kind", required=True, help="symptom, environment, confirmed, tried or hypothesis.")
@click.option("--text", required=True, help="The fact, in a sentence.")
@click.option("--outcome", default=None, help="For 'tried': what happened.")
@JSON_OPTION
def facts_add(session_id: str, kind: str, text: str, outcome: str | None, as_json: bool) -> None:
    """Add a fact to a session (bumps its state_version)."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        fact = await s.sessions.add_fact(session_id, kind, text, outcome=outcome)
        if as_json:
            output.emit_json(fact.to_json())
        else:
            click.echo(output.cell(f"Added {fact.kind} fact #{fact.id} to session {session_id}"))

    with_services(body, json_errors=as_json)


@click.group()
def fix() -> None:
    """Suggested fixes: propose one, decide on one."""


@fix.command("propose")
@click.argument("session_id")
@click.option("--title", required=True)
@click.option("--rationale", default="", help="Why this should work.")
@click.option("--step", "steps", multiple=True, help="One step; repeat for each step, in order.")
@click.option("--shell", type=click.Choice(["powershell", "bash"]), default=None, help="Shell a script would target.")
@JSON_OPTION
def fix_propose(
    session_id: str, title: str, rationale: str, steps: tuple[str, ...], shell: str | None, as_json: bool
) -> None:
    """Propose a fix; it supersedes the session's active fix."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        fx = await s.sessions.propose_fix(session_id, title, rationale=rationale, steps=steps, target_shell=shell)
        if as_json:
            output.emit_json(output.fix_json(fx))
        else:
            click.echo(output.cell(f"Proposed fix #{fx.id} for session {session_id}"))

    with_services(body, json_errors=as_json)


@fix.command("decide")
@click.argument("session_id")
@click.argument("fix_id", type=int)
@click.option("--decision", required=True, help="one_off, draft_template, build_template or dismissed.")
@JSON_OPTION
def fix_decide(session_id: str, fix_id: int, decision: str, as_json: bool) -> None:
    """Record your decision on a suggested fix."""
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        fx = await s.sessions.decide_fix(session_id, fix_id, decision)
        if as_json:
            output.emit_json(output.fix_json(fx))
        else:
            click.echo(output.cell(f"Fix #{fx.id}: {fx.user_decision}"))

    with_services(body, json_errors=as_json)
