"""Deterministic template generator: the default, with no network and no key.

Same bundle in, byte-identical markdown out (no clock, no randomness, no dict-order surprises), so previews can
be snapshot-tested and cached. Only recorded facts are used; nothing is invented. The customer-visible note
leaves out hypotheses, dismissed or undecided fixes and dead ends (tried steps that did not work).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flowpilot_tui.services.generation.grounding import done_steps, worked
from flowpilot_tui.services.generation.render import RENDER_VERSION, render_escalation, render_resolution
from flowpilot_tui.services.generation.types import (
    NONE_RECORDED,
    BundleFact,
    CitedItem,
    EscalationPackage,
    GeneratedPreview,
    PreviewKind,
    ResolutionNote,
    SessionBundle,
)
from flowpilot_tui.services.redact import redact

__all__ = ["OfflineGenerator", "preview_from_offline", "worked"]

TEMPLATE_VERSION = f"t3{RENDER_VERSION}"

_IMPACT = re.compile(
    r"\b(impact\w*|affect(?:s|ed|ing)?|outage|blocked|all users|whole (?:team|office)|down)\b", re.IGNORECASE
)


def _clean(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def _sentence(parts: list[str]) -> str:
    return "; ".join(_clean(p) for p in parts if _clean(p)) + "."


class OfflineGenerator:
    """Template notes built only from the bundle's recorded facts."""

    name = "offline"
    template_version = TEMPLATE_VERSION
    key = f"offline/{TEMPLATE_VERSION}"

    def escalation(self, b: SessionBundle) -> EscalationPackage:
        symptoms = b.facts_of("symptom")
        if symptoms:
            problem = CitedItem(text=_sentence([f.text for f in symptoms]), fact_ids=[f.id for f in symptoms])
        else:
            problem = CitedItem(text=f"{_clean(b.title)} (session title; no symptoms recorded).")
        hypotheses = b.facts_of("hypothesis")
        hypothesis = (
            CitedItem(text=_sentence([h.text for h in hypotheses]), fact_ids=[h.id for h in hypotheses])
            if hypotheses
            else CitedItem(text=NONE_RECORDED)
        )
        steps: list[CitedItem] = []
        fix = b.current_fix()
        if fix is not None:
            detail = f" ({_clean(fix.rationale)})" if fix.rationale.strip() else ""
            steps.append(CitedItem(text=f"Apply the suggested fix: {_clean(fix.title)}{detail}.", fact_ids=[fix.id]))
            steps += [
                CitedItem(text=f"Fix step {n}: {' '.join(s.split())}", fact_ids=[fix.id])
                for n, s in enumerate(fix.steps, 1)
                if s.strip()
            ]
            steps += [
                CitedItem(text=f"A {s.shell} script for this fix is saved in the session", fact_ids=[s.id])
                for s in b.scripts
                if s.fix_id == fix.id
            ]
        steps += [CitedItem(text=f"Confirm or rule out: {_clean(h.text)}.", fact_ids=[h.id]) for h in hypotheses]
        impact_facts = [
            f for f in b.facts if f.kind in ("symptom", "environment", "confirmed") and _IMPACT.search(f.text)
        ]
        ask = None
        if steps:
            first = "confirm or rule out the current hypothesis, then " if hypotheses else ""
            ask = CitedItem(
                text=f"Please take ownership: {first}work through the suggested next steps in order "
                "and record the outcome of each on the ticket.",
                fact_ids=[h.id for h in hypotheses] or ([fix.id] if fix else []),
            )
        return EscalationPackage(
            problem=problem,
            confirmed=[CitedItem(text=_sentence([f.text]), fact_ids=[f.id]) for f in b.facts_of("confirmed")],
            tried=[CitedItem(text=_tried_text(f), fact_ids=[f.id]) for f in b.facts_of("tried")],
            hypothesis=hypothesis,
            next_steps=steps,
            environment=[CitedItem(text=_sentence([f.text]), fact_ids=[f.id]) for f in b.facts_of("environment")],
            impact=(
                CitedItem(text=_sentence([f.text for f in impact_facts]), fact_ids=[f.id for f in impact_facts])
                if impact_facts
                else None
            ),
            ask=ask,
        )

    def resolution(self, b: SessionBundle) -> ResolutionNote:
        """Each section cites its own facts; a section with nothing recorded stays empty (left out of the note).

        What was done: the tried steps that were not dead ends (outcome worked or unrecorded), else the accepted fix.
        How it was verified: the recorded outcomes of those steps."""
        symptoms = b.facts_of("symptom")
        confirmed = b.facts_of("confirmed")
        done = done_steps(b)
        fix = b.current_fix()
        applied_fix = fix if fix is not None and fix.decision is not None else None
        if done:
            fix_applied = CitedItem(text=_sentence([f.text for f in done]), fact_ids=[f.id for f in done])
        elif applied_fix is not None:
            fix_applied = CitedItem(text=_sentence([applied_fix.title]), fact_ids=[applied_fix.id])
        else:
            fix_applied = CitedItem(text="")
        checked = [f for f in done if (f.outcome or "").strip()]
        return ResolutionNote(
            summary=(
                CitedItem(text=_sentence([f.text for f in symptoms]), fact_ids=[f.id for f in symptoms])
                if symptoms
                else CitedItem(text=_sentence([b.title]))
            ),
            root_cause=CitedItem(text=_sentence([f.text for f in confirmed]), fact_ids=[f.id for f in confirmed])
            if confirmed
            else CitedItem(text=""),
            fix_applied=fix_applied,
            verification=CitedItem(
                text=_sentence([f.outcome or "" for f in checked]) if checked else "", fact_ids=[f.id for f in checked]
            ),
            follow_up=CitedItem(text=""),
        )

    def render(self, kind: PreviewKind, bundle: SessionBundle) -> str:
        """Markdown for `kind`; redacted once more as a last line of defence should a secret slip into the bundle."""
        if kind == "escalate":
            markdown = render_escalation(self.escalation(bundle), bundle)
        else:
            markdown = render_resolution(self.resolution(bundle), bundle)
        return redact(markdown).text

    async def generate(
        self, bundle: SessionBundle, kind: PreviewKind, on_progress: Callable[[str], None] | None = None
    ) -> GeneratedPreview:
        markdown = self.render(kind, bundle)
        if on_progress is not None:
            on_progress(markdown)
        return preview_from_offline(self, bundle, kind, markdown)


def preview_from_offline(
    gen: OfflineGenerator,
    bundle: SessionBundle,
    kind: PreviewKind,
    markdown: str,
) -> GeneratedPreview:
    return GeneratedPreview(
        kind=kind,
        markdown=markdown,
        generator="offline",
        template_version=gen.template_version,
        redaction_count=bundle.redaction_count,
        redactions=list(bundle.redactions),
        state_version=bundle.state_version,
    )


def _tried_text(f: BundleFact) -> str:
    outcome = _clean(f.outcome or "") or "outcome not recorded"
    return f"{_clean(f.text)} — result: {outcome}."
