"""Grounding checks on a model's structured reply, done in code rather than trusted to the prompt.

Failures become FlaggedItems: the item stays in the preview, marked, so the engineer sees and fixes it instead of
content vanishing silently.
"""

from __future__ import annotations

from flowpilot_tui.services.generation.grounding import boilerplate, check_claim, done_steps
from flowpilot_tui.services.generation.types import (
    NONE_RECORDED,
    CitedItem,
    EscalationPackage,
    FlaggedItem,
    ResolutionNote,
    SessionBundle,
    says_nothing,
)
from flowpilot_tui.services.redact import find_secrets

# Which kinds of session data each escalation list may rest on (§ "keep facts apart from assumptions").
_ALLOWED = {
    "confirmed": {"confirmed"},
    "tried": {"tried"},
}


def _check_item(
    item: CitedItem,
    section: str,
    index: int | None,
    ids: dict[str, str],
    *,
    citation_required: bool = True,
    bundle: SessionBundle | None = None,
    ground: bool | None = None,
) -> list[FlaggedItem]:
    flags: list[FlaggedItem] = []

    def flag(reason: str) -> None:
        flags.append(FlaggedItem(section=section, index=index, text=item.text, reason=reason))

    if not item.text.strip():
        flag("empty item")
    if item.text.strip() == NONE_RECORDED:
        return flags
    if citation_required and not item.fact_ids:
        flag("no fact cited")
    unknown = [i for i in item.fact_ids if i not in ids]
    if unknown:
        flag(f"cites unknown fact {', '.join(unknown)}")
    allowed = _ALLOWED.get(section)
    if allowed is not None:
        wrong = [i for i in item.fact_ids if i in ids and ids[i] not in allowed]
        if wrong:
            flag(f"cites {', '.join(f'{i} ({ids[i]})' for i in wrong)}, not a {section} fact")
    secret = bool(find_secrets(item.text))
    if secret:
        flag("contains a secret-like string")
    # Grounding is skipped on an item holding a secret: it must be rewritten anyway, and a token flag would quote
    # part of the secret in the reason.
    if bundle is not None and (citation_required if ground is None else ground) and not secret:
        for reason in check_claim(item.text, section, item.fact_ids, bundle):
            flag(reason)
    return flags


def validate_escalation(pkg: EscalationPackage, bundle: SessionBundle) -> list[FlaggedItem]:
    ids = bundle.ids()
    flags = _check_item(pkg.problem, "problem", None, ids, bundle=bundle)
    for section in ("confirmed", "tried", "next_steps", "environment"):
        for i, item in enumerate(getattr(pkg, section)):
            flags += _check_item(item, section, i, ids, bundle=bundle)
    flags += _check_item(pkg.hypothesis, "hypothesis", None, ids, bundle=bundle)
    if pkg.impact is not None:
        flags += _check_item(pkg.impact, "impact", None, ids, bundle=bundle)
    if pkg.ask is not None:
        flags += _check_item(pkg.ask, "ask", None, ids, citation_required=False)
    expected = {
        "confirmed": len(bundle.facts_of("confirmed")),
        "tried": len(bundle.facts_of("tried")),
        "next_steps": int(bundle.current_fix() is not None) + len(bundle.facts_of("hypothesis")),
    }
    for section, recorded in expected.items():
        if recorded and not getattr(pkg, section):
            flags.append(
                FlaggedItem(section=section, reason=f"section empty although {recorded} related item(s) are recorded")
            )
    if bundle.facts_of("hypothesis") and pkg.hypothesis.text.strip() in ("", NONE_RECORDED):
        flags.append(FlaggedItem(section="hypothesis", reason="says none recorded although a hypothesis is recorded"))
    hypothesis_ids = {f.id for f in bundle.facts_of("hypothesis")}
    for i, item in enumerate(pkg.confirmed):
        if hypothesis_ids & set(item.fact_ids):
            flags.append(
                FlaggedItem(section="confirmed", index=i, text=item.text, reason="presents a hypothesis as confirmed")
            )
    return _dedupe(flags)


def validate_resolution(note: ResolutionNote, bundle: SessionBundle) -> list[FlaggedItem]:
    """Each section is checked against the facts IT cites (not the note's union). A section that says nothing is
    left out of the note; that is flagged only when something recorded should have filled it."""
    ids = bundle.ids()
    fix = bundle.current_fix()
    done = done_steps(bundle)
    expected = {
        "fix_applied": len(done) or int(fix is not None and fix.decision is not None),
        "verification": sum(bool((f.outcome or "").strip()) for f in done),
    }
    flags: list[FlaggedItem] = []
    for field, item in note.sections():
        if says_nothing(item.text):
            if field == "summary":
                flags.append(FlaggedItem(section=field, reason="required section is empty"))
            elif expected.get(field):
                flags.append(
                    FlaggedItem(
                        section=field,
                        reason=f"section empty although {expected[field]} related item(s) are recorded",
                    )
                )
            continue
        # the summary may rest on the session title when no symptom is recorded; a follow-up may be generic
        required = not boilerplate(item.text) and (
            field not in ("follow_up", "summary") or (field == "summary" and bool(bundle.facts_of("symptom")))
        )
        flags += _check_item(item, field, None, ids, citation_required=required, bundle=bundle, ground=True)
        internal = [i for i in item.fact_ids if ids.get(i) in ("hypothesis", "fix:dismissed")]
        if internal:
            flags.append(
                FlaggedItem(
                    section=field,
                    text=item.text,
                    reason=f"rests on internal-only items {', '.join(internal)} (hypothesis or dismissed fix)",
                )
            )
    return _dedupe(flags)


def _dedupe(flags: list[FlaggedItem]) -> list[FlaggedItem]:
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for f in flags:
        key = (f.section, f.index, f.reason)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
