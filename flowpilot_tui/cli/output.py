"""Output for humans and machines. JSON goes to stdout only, one document per command, no colours or progress;
human text has terminal control sequences stripped (text from users, tickets and the model is never trusted)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flowpilot_tui.services.views import FixView, SessionDetail, SessionSummary

# json.dumps leaves DEL and C1 controls (e.g. 0x9b CSI) raw with ensure_ascii=False; escape them too.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def dumps(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(document: Any) -> None:
    click.echo(dumps(document))


def clean(text: str | None) -> str:
    """Multi-line text without terminal controls (keeps newlines and tabs)."""
    from flowpilot_tui.safe_text import strip_controls

    return strip_controls(text or "")


def cell(text: str | None, limit: int = 0) -> str:
    from flowpilot_tui.safe_text import one_line

    return one_line(text, limit)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain left-aligned columns; the last column is not padded."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(widths[i]) for i, v in enumerate(values[:-1])]
        return "  ".join([*parts, values[-1]]).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


# ---- views as JSON ---------------------------------------------------------------------------------------------


def fix_json(fix: FixView) -> dict[str, Any]:
    return {**fix.to_json(), "active": fix.active}


def session_json(detail: SessionDetail) -> dict[str, Any]:
    """`sessions show --json`: the summary fields at the top level, then facts, the active fix and history."""
    active = detail.active_fix
    base = detail.to_json()
    return {
        **detail.summary.to_json(),
        "facts": [f.to_json() for f in detail.facts],
        "active_fix": fix_json(active) if active else None,
        "fixes": [fix_json(f) for f in detail.fixes],
        "message_count": detail.message_count,
        "resolution_note_markdown": detail.resolution_note_markdown,
        "escalation_package_markdown": detail.escalation_package_markdown,
        "resolved_at": base["resolved_at"],
        "escalated_at": base["escalated_at"],
        "drafts": dict(detail.drafts),
    }


# ---- views as text ---------------------------------------------------------------------------------------------


def ticket_label(summary: SessionSummary) -> str:
    if summary.ticket_id is None:
        return "-"
    return f"{cell(summary.connection_name)} #{summary.ticket_id}"


def stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def session_text(detail: SessionDetail) -> str:
    s = detail.summary
    ticket = f"ConnectWise ticket #{s.ticket_id} via {cell(s.connection_name)}" if s.ticket_id else "none (local only)"
    lines = [
        cell(s.title),
        f"  id:            {s.id}",
        f"  status:        {s.status}",
        f"  ticket:        {ticket}",
        f"  owner:         {cell(s.owner_name)} ({cell(s.owner_login)})",
        f"  state_version: {s.state_version}",
        f"  updated:       {stamp(s.updated_at)}",
        "",
        "Facts:" if detail.facts else "Facts: none recorded",
    ]
    for f in detail.facts:
        outcome = f" -> {cell(f.outcome)}" if f.outcome else ""
        lines.append(f"  #{f.id} [{f.kind}] {cell(f.text)}{outcome}")
    fix = detail.active_fix
    lines.append("")
    if fix is None:
        lines.append("Active fix: none")
    else:
        decision = fix.user_decision or "undecided"
        shell = f", {fix.target_shell}" if fix.target_shell else ""
        lines.append(f"Active fix: #{fix.id} {cell(fix.title)} ({decision}{shell})")
        if fix.rationale:
            lines.append(f"  why: {cell(fix.rationale)}")
        lines.extend(f"  {i}. {cell(step)}" for i, step in enumerate(fix.steps, 1))
    older = [f for f in detail.fixes if not f.active]
    if older:
        lines.append(f"Earlier fixes: {len(older)} (see --json)")
    for label, note in (
        ("Resolution note", detail.resolution_note_markdown),
        ("Escalation package", detail.escalation_package_markdown),
    ):
        if note:
            lines += ["", f"{label}:", *("  " + line for line in clean(note).splitlines())]
    return "\n".join(lines)
