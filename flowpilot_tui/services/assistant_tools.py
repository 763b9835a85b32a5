"""Applying what the assistant (tool calls) or the engineer (slash commands) records, inside one open write
transaction, through the session service's `*_in` methods — so the rules (validation, a new fix supersedes the
active one, every write bumps state_version) live in one place.

Each application yields a `tool_result` text for the model and compact cards for the chat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.errors import InvalidInput
from flowpilot_tui.services.models import AISession, SessionFact, SessionSuggestedFix
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.views import MessageView

KIND_LABELS = {
    "symptom": "Symptom",
    "environment": "Environment",
    "confirmed": "Confirmed",
    "tried": "Tried",
    "hypothesis": "Hypothesis",
}
_SHELLS = {"powershell": "powershell", "pwsh": "powershell", "bash": "bash", "sh": "bash", "zsh": "bash"}


@dataclass(frozen=True)
class ToolCard:
    """One compact line in the chat for something recorded. kind: fact | fix | error | help."""

    kind: str
    title: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def cards_of(message: MessageView) -> list[ToolCard]:
    """The cards stored with a chat message (so a reloaded chat shows them again)."""
    raw = (message.meta or {}).get("cards") or []
    return [
        ToolCard(str(c.get("kind", "")), str(c.get("title", "")), str(c.get("detail", "")))
        for c in raw
        if isinstance(c, dict)
    ]


@dataclass(frozen=True)
class Applied:
    content: str  # the tool_result text
    is_error: bool
    cards: list[ToolCard]


def fact_card(fact_id: int, kind: str, text: str, outcome: str | None) -> ToolCard:
    detail = f"{text} → {outcome}" if outcome else text
    return ToolCard("fact", f"{KIND_LABELS.get(kind, kind)} · F{fact_id}", detail)


async def _active_fix_title(db: AsyncSession, row: AISession) -> str | None:
    return await db.scalar(
        select(SessionSuggestedFix.title).where(
            SessionSuggestedFix.session_id == row.id, SessionSuggestedFix.superseded_at.is_(None)
        )
    )


async def record_fact(
    sessions: SessionService, db: AsyncSession, row: AISession, kind: str, text: str, outcome: str | None, source: str
) -> ToolCard:
    fact = await sessions.add_fact_in(db, row, kind, text, outcome=outcome, source=source)
    return fact_card(fact.id, fact.kind, fact.text, fact.outcome)


async def record_fix(
    sessions: SessionService,
    db: AsyncSession,
    row: AISession,
    title: str,
    *,
    rationale: str,
    steps: list[str],
    target_shell: str | None,
    source: str,
) -> ToolCard:
    previous = await _active_fix_title(db, row)
    fix = await sessions.propose_fix_in(
        db, row, title, rationale=rationale, steps=steps, target_shell=target_shell, source=source
    )
    bits = [f"{len(fix.steps)} step{'s' if len(fix.steps) != 1 else ''}"]
    if fix.target_shell:
        bits.append(fix.target_shell)
    if previous:
        bits.append(f"replaces “{previous}”")
    return ToolCard("fix", f"Suggested fix · {fix.title}", " · ".join(bits))


async def _record_facts(sessions: SessionService, db: AsyncSession, row: AISession, data: dict[str, Any]) -> Applied:
    facts = data.get("facts")
    if not isinstance(facts, list) or not facts:
        return Applied("Error: 'facts' must be a non-empty list", True, [])
    existing = {
        (k, t.strip().lower())
        for k, t in (
            await db.execute(select(SessionFact.kind, SessionFact.text).where(SessionFact.session_id == row.id))
        ).all()
    }
    cards: list[ToolCard] = []
    notes: list[str] = []
    for item in facts:
        try:
            if not isinstance(item, dict):
                raise InvalidInput("each fact must be an object with kind and text")
            kind, text = str(item.get("kind", "")), str(item.get("text", ""))
            outcome = item.get("outcome")
            if (kind, text.strip().lower()) in existing:
                notes.append(f"already recorded: {text.strip()}")
                continue
            card = await record_fact(sessions, db, row, kind, text, str(outcome) if outcome else None, "assistant")
            existing.add((kind, text.strip().lower()))
            cards.append(card)
            notes.append(f"recorded {card.title.split(' · ')[-1]} ({kind})")
        except InvalidInput as exc:
            notes.append(f"skipped: {exc.message}")
            cards.append(ToolCard("error", "Fact not recorded", exc.message))
    recorded = sum(1 for c in cards if c.kind == "fact")
    summary = "; ".join(notes)
    return Applied(
        summary[:1].upper() + summary[1:] + ".", recorded == 0 and any(c.kind == "error" for c in cards), cards
    )


async def _propose_fix(sessions: SessionService, db: AsyncSession, row: AISession, data: dict[str, Any]) -> Applied:
    steps = data.get("steps") or []
    if isinstance(steps, str):
        steps = [steps]
    shell = _SHELLS.get(str(data.get("target_shell") or "").strip().lower())
    try:
        card = await record_fix(
            sessions,
            db,
            row,
            str(data.get("title") or ""),
            rationale=str(data.get("rationale") or ""),
            steps=[str(s) for s in steps],
            target_shell=shell,
            source="assistant",
        )
    except InvalidInput as exc:
        return Applied(
            f"Error: fix not recorded: {exc.message}", True, [ToolCard("error", "Fix not recorded", exc.message)]
        )
    return Applied("Recorded as the active suggested fix; the engineer decides what to do with it.", False, [card])


async def apply_tool_use(sessions: SessionService, db: AsyncSession, row: AISession, name: str, data: Any) -> Applied:
    if not isinstance(data, dict):
        return Applied("Error: tool input must be an object", True, [])
    if name == "record_facts":
        return await _record_facts(sessions, db, row, data)
    if name == "propose_fix":
        return await _propose_fix(sessions, db, row, data)
    return Applied(f"Error: unknown tool {name!r}", True, [])
