"""Closing notes from the shell: preview (same cache as the TUI) and the verified post to the PSA."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

from flowpilot_tui.cli.runtime import Cancelled, ConfirmationRequired, fail, refuse, with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.generation.types import GeneratedPreview

KIND_OPTION = click.option(
    "--kind",
    required=True,
    type=click.Choice(["resolve", "escalate"]),
    help="resolve: customer-visible note; escalate: internal five-section package.",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print a JSON document (machine-readable).")


def preview_json(session_id: str, p: GeneratedPreview) -> dict[str, Any]:
    """`preview --json`. Redacted originals are never included: only how many items were masked."""
    return {
        "session_id": session_id,
        "kind": p.kind,
        "cache_hit": p.from_cache,
        "generator": p.generator,
        "model": p.model,
        "template_version": p.template_version,
        "state_version": p.state_version,
        "fallback_reason": p.fallback_reason,
        "redaction_count": p.redaction_count,
        "flagged_items": [f.model_dump() for f in p.flagged_items],
        "created_at": p.created_at.isoformat().replace("+00:00", "Z") if p.created_at else None,
        "markdown": p.markdown,
    }


@click.command()
@click.argument("session_id")
@KIND_OPTION
@click.option("--regenerate", is_flag=True, help="Ignore the cached preview and generate a new one.")
@JSON_OPTION
def preview(session_id: str, kind: str, regenerate: bool, as_json: bool) -> None:
    """Generate (or reuse the cached) resolve note / escalation package for the session's current state.

    The markdown goes to stdout and a one-line header (generator, redactions, cache) to stderr, so
    `flowpilot preview ID --kind resolve > note.md` gives a file to edit and pass to `post --file`.
    """
    from flowpilot_tui.cli import output

    async def body(s: Services) -> None:
        p = await s.generation.preview(session_id, kind, regenerate=regenerate, with_redactions=False)  # type: ignore[arg-type]
        if as_json:
            output.emit_json(preview_json(session_id, p))
        else:
            click.echo(output.cell(f"{kind} preview · state_version {p.state_version} · {p.header()}"), err=True)
            click.echo(output.clean(p.markdown))

    with_services(body, json_errors=as_json)


@click.command()
@click.argument("session_id")
@KIND_OPTION
@click.option(
    "--file",
    "source",
    default=None,
    type=click.File("r", encoding="utf-8", lazy=False),
    help="The final markdown to post; '-' reads it from stdin. Or --use-draft.",
)
@click.option("--use-draft", is_flag=True, help="Post the draft saved in the TUI (instead of --file).")
@click.option(
    "--ignore-draft",
    is_flag=True,
    help="Post --file although the session has a different draft of this note saved in the TUI.",
)
@click.option("--yes", is_flag=True, help="Post without asking. Required when stdin is not a terminal.")
@click.option(
    "--allow-secrets",
    is_flag=True,
    help="Post a customer-visible note even though it looks like it contains a password or key.",
)
@JSON_OPTION
@click.option(
    "--accept-flags",
    is_flag=True,
    help="Post although the note has open [CHECK: …] review flags (or, internal notes, secret-like strings); "
    "the accepted flags are listed in the JSON and recorded in the audit trail with your user.",
)
@click.option(
    "--time",
    "time_window",
    default=None,
    metavar="HH:MM-HH:MM",
    help="The time entry's start and end today (UTC); default: the session's first and last activity today.",
)
@click.option("--time-notes", default=None, help="The time entry's notes (default: a one-line summary of the note).")
@click.option("--no-time", is_flag=True, help="Post without a time entry.")
@click.option(
    "--post-follow-up",
    is_flag=True,
    help="When an earlier version of the note is already on the ticket (a retry after a crash or failure), post "
    "what this text adds as a follow-up note; also works on a session that is already resolved/escalated.",
)
def post(
    session_id: str,
    kind: str,
    source: TextIO | None,
    yes: bool,
    allow_secrets: bool,
    accept_flags: bool,
    as_json: bool,
    time_window: str | None = None,
    time_notes: str | None = None,
    no_time: bool = False,
    post_follow_up: bool = False,
    use_draft: bool = False,
    ignore_draft: bool = False,
) -> None:
    """Resolve or escalate: post the note to the linked ticket, change the status and re-read it to verify.

    Without a linked ticket the session is resolved/escalated locally and nothing is sent. Retrying after a
    failure resumes where it stopped and never posts the same note twice.
    """
    from flowpilot_tui.cli import output
    from flowpilot_tui.services import wording

    interactive = not yes
    if (source is None) == (not use_draft):
        refuse(
            "give the note with --file PATH|- or post the TUI's saved draft with --use-draft (one of them)",
            as_json=as_json,
        )
    if interactive and not sys.stdin.isatty():
        refuse("refusing to post without --yes: stdin is not a terminal, so nobody can confirm", as_json=as_json)
    markdown = _read(source) if source is not None else ""

    async def body(s: Services) -> None:
        nonlocal markdown
        from flowpilot_tui.services.errors import Conflict, InvalidInput

        saved = await s.sessions.get_draft(session_id, kind)  # not found (other account) fails here
        draft = saved[0] if saved else None
        if use_draft:
            if not draft or not draft.strip():
                raise InvalidInput(f"--use-draft: the session has no saved {kind} draft")
            markdown = draft
        elif draft and draft.strip() != markdown.strip() and not ignore_draft:
            raise ConfirmationRequired(
                f"the session has a {kind} draft edited in the TUI ({len(draft.strip()):,} characters) that differs "
                "from the file; post the draft with --use-draft, or the file with --ignore-draft"
            )

        try:
            plan = await s.writeback.plan(session_id, kind)  # not found / state rules fail here, before anything else
        except Conflict:
            if not post_follow_up:
                raise
            return await follow_up(s)  # already resolved/escalated: only the difference goes out
        if plan.customer_visible and not allow_secrets:
            _refuse_secrets(markdown)
        from flowpilot_tui.services import post_gate

        if not plan.local:  # refuse before asking: open review flags / secrets need explicit acknowledgement
            post_gate.check(
                markdown,
                customer_visible=plan.customer_visible,
                label=plan.visibility,
                accept_flags=accept_flags,
                allow_secrets=allow_secrets,
            )
        else:  # no ticket: the stored note passes the same gate
            post_gate.check_stored(markdown, kind=kind, accept_flags=accept_flags, allow_secrets=allow_secrets)
        if interactive:
            s.actor.require_writer()
            plan = await s.writeback.plan(session_id, kind, with_status_name=True)  # the words the TUI modal shows
            detail = await s.sessions.get(session_id)
            click.echo(
                output.clean(
                    "\n".join(
                        [
                            f"Session: {output.cell(detail.summary.title, 80)} ({detail.summary.status}); "
                            f"{len(markdown.strip()):,} characters",
                            wording.plan_action(plan),
                            *filter(None, [wording.plan_warning(plan)]),
                        ]
                    )
                ),
                err=True,
            )
            if not click.confirm("Post it?", default=False, err=True):
                raise Cancelled("cancelled; nothing was posted")
        outcome = await s.writeback.post(
            session_id,
            kind,
            markdown,
            accept_flags=accept_flags,
            allow_secrets=allow_secrets,
            time_entry=_time_draft(time_window, time_notes, s.clock()),
            no_time=no_time,
            post_follow_up=post_follow_up,
            on_progress=None if as_json else progress,
        )
        if as_json:
            output.emit_json(outcome.to_json())
        else:
            click.echo(output.cell(outcome.message))
            if outcome.time_skipped_reason and not no_time and not plan.local:
                click.echo(f"no time entry: {output.cell(outcome.time_skipped_reason)}", err=True)
            if outcome.follow_up_text and not outcome.follow_up_note_id:
                click.echo("add --post-follow-up to post what your text adds as a follow-up note", err=True)

    def progress(line: str) -> None:
        if sys.stderr.isatty():
            click.echo(output.cell(line), err=True)

    async def follow_up(s: Services) -> None:
        if not yes:
            raise ConfirmationRequired("refusing to post a follow-up note without --yes")
        outcome = await s.writeback.post_follow_up(
            session_id, kind, markdown, accept_flags=accept_flags, allow_secrets=allow_secrets
        )
        if as_json:
            output.emit_json(outcome.to_json())
        else:
            click.echo(output.cell(outcome.message))

    with_services(body, json_errors=as_json)


def _time_draft(window: str | None, notes: str | None, now: Any) -> Any:
    """`--time 09:10-10:05` (today, UTC) and `--time-notes` as a TimeEntryDraft; None = the defaults."""
    from flowpilot_tui.services.time_entry import TimeEntryDraft

    if window is None and notes is None:
        return None
    start = end = None
    if window is not None:
        try:
            a, b = (part.strip() for part in window.split("-", 1))
            start, end = (
                now.replace(hour=int(x[:2]), minute=int(x[3:5]), second=0, microsecond=0)
                for x in (a.zfill(5), b.zfill(5))
            )
        except ValueError:
            fail(f"--time {window!r}: use HH:MM-HH:MM, e.g. 09:10-10:05", 2)
        if end <= start:
            fail(f"--time {window!r}: the end must be after the start", 2)
    return TimeEntryDraft(start, end, notes)


def _read(source: TextIO) -> str:
    try:
        return source.read().removeprefix("\ufeff")  # a UTF-8 BOM (Windows editors) is not part of the note
    except UnicodeDecodeError:
        fail(f"cannot read {getattr(source, 'name', 'the file')}: not UTF-8 text", 2)


def _refuse_secrets(markdown: str) -> None:
    """A customer-visible note that looks like it holds a secret needs an explicit --allow-secrets."""
    from flowpilot_tui.services.errors import InvalidInput
    from flowpilot_tui.services.redact import find_secrets

    found = find_secrets(markdown)
    if found:
        kinds = ", ".join(sorted({f.kind.replace("_", " ") for f in found}))
        raise InvalidInput(
            f"the customer-visible note looks like it contains {len(found)} secret(s) ({kinds}); "
            "remove them or pass --allow-secrets; nothing was posted"
        )
