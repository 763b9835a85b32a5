"""Closing notes from the shell: preview (same cache as the TUI) and the verified post to the PSA."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flowpilot_tui.cli.runtime import with_services

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services
    from flowpilot_tui.services.generation.types import GeneratedPreview

KIND_OPTION = click.option("--kind", required=True, type=click.Choice(["resolve", "escalate"]),
                           help="resolve: customer-visible note; escalate: internal five-section package.")
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
        p = await s.generation.preview(session_id, kind, regenerate=regenerate)  # type: ignore[arg-type]
        if as_json:
            output.emit_json(preview_json(session_id, p))
        else:
            click.echo(f"{kind} preview · state_version {p.state_version} · {p.header()}", err=True)
            click.echo(output.clean(p.markdown))

    with_services(body, json_errors=as_json)


@click.command()
def post() -> None:
    """Post a note to the session's ticket and verify the status change (not available yet)."""
    from flowpilot_tui.cli.runtime import fail

    fail("post is not available yet", 1)
