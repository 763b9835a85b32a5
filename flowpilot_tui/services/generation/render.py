"""Markdown rendering shared by both generators: the app owns the headings, generators only fill fields.

Escalation packages are internal, so items show their fact ids (`[F1, F3]`) for traceability. Resolution notes
are customer-visible (and may print on an invoice): plain labelled paragraphs; each section shows the ids it cites
(`[F1]`) in the editor, and the post gate (services/post_gate.py) strips them, with any review marker, from what
reaches the ticket or the stored note. A section with nothing to say is left out rather than telling a customer
"Not recorded". Flagged items are kept and marked `[CHECK: reason]` so nothing is silently dropped.
"""

from __future__ import annotations

from flowpilot_tui.services.generation.grounding import boilerplate
from flowpilot_tui.services.generation.types import (
    NONE_RECORDED,
    CitedItem,
    EscalationPackage,
    FlaggedItem,
    ResolutionNote,
    SessionBundle,
    says_nothing,
)

RENDER_VERSION = "r2"  # r2: per-section citations in the resolution note, empty sections left out
ESCALATION_HEADINGS = (
    ("problem", "Problem"),
    ("confirmed", "What we've confirmed"),
    ("tried", "What we've tried"),
    ("hypothesis", "Current hypothesis"),
    ("next_steps", "Suggested next steps"),
)
RESOLUTION_LABELS = (
    ("summary", "Issue reported"),
    ("root_cause", "What we found"),
    ("fix_applied", "What we did"),
    ("verification", "How we verified"),
    ("follow_up", "Follow-up"),
)


def _marks(flags: list[FlaggedItem], section: str, index: int | None) -> str:
    reasons = [f.reason for f in flags if f.section == section and f.index == index]
    return "".join(f" [CHECK: {r}]" for r in reasons)


def _cited(item: CitedItem, flags: list[FlaggedItem], section: str, index: int | None) -> str:
    text = " ".join(item.text.split()) or "(empty)"
    refs = f" [{', '.join(item.fact_ids)}]" if item.fact_ids else ""
    return f"{text}{refs}{_marks(flags, section, index)}"


def ticket_line(bundle: SessionBundle) -> str:
    t = bundle.ticket
    if t is None or not t.ticket_id:
        return "Ticket: none linked"
    where = f" ({t.connection})" if t.connection else ""
    return f"Ticket: #{t.ticket_id}{where}"


def render_escalation(pkg: EscalationPackage, bundle: SessionBundle, flags: list[FlaggedItem] | None = None) -> str:
    flags = flags or []
    out = [f"Escalation: {' '.join(bundle.title.split())}", ticket_line(bundle)]
    if pkg.environment:
        out.append("Environment:")
        out += [f"- {_cited(e, flags, 'environment', i)}" for i, e in enumerate(pkg.environment)]
    if pkg.impact is not None:
        out.append(f"Impact: {_cited(pkg.impact, flags, 'impact', None)}")
    for section, heading in ESCALATION_HEADINGS:
        out += ["", f"## {heading}"]
        value = getattr(pkg, section)
        if isinstance(value, list):
            if value:
                bullet = "{n}. " if section == "next_steps" else "- "
                out += [bullet.format(n=i + 1) + _cited(v, flags, section, i) for i, v in enumerate(value)]
            else:
                out.append(NONE_RECORDED + _marks(flags, section, None))
        else:
            out.append(_cited(value, flags, section, None))
    if pkg.ask is not None:
        out += ["", f"Ask for the next engineer: {_cited(pkg.ask, flags, 'ask', None)}"]
    return "\n".join(out) + "\n"


def render_resolution(note: ResolutionNote, bundle: SessionBundle, flags: list[FlaggedItem] | None = None) -> str:
    flags = flags or []
    out: list[str] = []
    for field, label in RESOLUTION_LABELS:
        item: CitedItem = getattr(note, field)
        text = " ".join(item.text.split())
        marks = _marks(flags, field, None)
        if says_nothing(text):
            if marks:  # e.g. "required section is empty": kept so the engineer sees what to fill in
                out.append(f"{label}: (empty){marks}")
            continue
        refs = f" [{', '.join(item.fact_ids)}]" if item.fact_ids and not boilerplate(text) else ""
        out.append(f"{label}: {text}{refs}{marks}")
    note_marks = _marks(flags, "note", None)
    if note_marks:
        out.append(note_marks.strip())
    return "\n\n".join(out) + "\n"
