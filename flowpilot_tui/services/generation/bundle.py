"""Build the SessionBundle: the one view of a session that generators (and so the model) may see.

Read in one transaction so facts, fixes, scripts and state_version are consistent with each other. Every piece
of free text goes through the redactor here, before anything can leave the machine; the redacted items are kept
on the bundle for the engineer's eyes only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.generation.types import (
    BundleFact,
    BundleFix,
    BundleMessage,
    BundleScript,
    BundleTicket,
    SessionBundle,
)
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import ChatMessage, PSAConnection, Script, SessionFact, SessionSuggestedFix
from flowpilot_tui.services.redact import RedactedItem, redact

CHAT_MESSAGES = 12  # recent turns only: facts carry the substance, the excerpt gives tone and wording
CHAT_CHARS_PER_MESSAGE = 1_500
CHAT_CHARS_TOTAL = 8_000


class _Redactor:
    """Redacts each text and remembers what it removed."""

    def __init__(self) -> None:
        self.items: list[RedactedItem] = []

    def __call__(self, text: str | None) -> str:
        result = redact(text or "")
        self.items += result.items
        return result.text


async def build_bundle(db: AsyncSession, actor: Actor, session_id: str) -> SessionBundle:
    """The redacted bundle for `session_id` (NotFound if missing or in another account)."""
    row = await load_session(db, actor, session_id)
    r = _Redactor()
    connection = None
    if row.psa_connection_id is not None:
        connection = await db.scalar(select(PSAConnection.name).where(PSAConnection.id == row.psa_connection_id))
    ticket = (
        BundleTicket(connection=connection, ticket_id=str(row.psa_ticket_id)) if row.psa_ticket_id is not None else None
    )

    facts = (
        await db.scalars(select(SessionFact).where(SessionFact.session_id == row.id).order_by(SessionFact.id))
    ).all()
    fixes = (
        await db.scalars(
            select(SessionSuggestedFix).where(SessionSuggestedFix.session_id == row.id).order_by(SessionSuggestedFix.id)
        )
    ).all()
    scripts = (await db.scalars(select(Script).where(Script.session_id == row.id).order_by(Script.id))).all()
    recent = (
        await db.scalars(
            select(ChatMessage)
            .where(ChatMessage.session_id == row.id, ChatMessage.role.in_(("user", "assistant")))
            .order_by(ChatMessage.id.desc())
            .limit(CHAT_MESSAGES)
        )
    ).all()

    fix_ids = {fix.id: f"X{fix.id}" for fix in fixes}
    return SessionBundle(
        session_id=row.id,
        title=r(row.title),
        status=row.status,
        state_version=row.state_version,
        ticket=ticket,
        facts=[
            BundleFact(id=f"F{f.id}", kind=f.kind, text=r(f.text), outcome=r(f.outcome) or None, source=f.source)
            for f in facts
        ],
        fixes=[
            BundleFix(
                id=fix_ids[x.id],
                title=r(x.title),
                rationale=r(x.rationale),
                steps=[r(str(s)) for s in x.steps or []],
                target_shell=x.target_shell,
                decision=x.user_decision,
                superseded=x.superseded_at is not None,
            )
            for x in fixes
        ],
        scripts=[
            BundleScript(
                id=f"S{s.id}", shell=s.shell, fix_id=fix_ids.get(s.fix_id) if s.fix_id else None, generator=s.generator
            )
            for s in scripts
        ],
        chat_excerpt=_excerpt(list(reversed(recent)), r),
        redactions=r.items,
    )


def _excerpt(messages: list[ChatMessage], r: _Redactor) -> list[BundleMessage]:
    """Newest messages that fit the budget, oldest first; long ones are cut with a marker."""
    out: list[BundleMessage] = []
    budget = CHAT_CHARS_TOTAL
    for m in reversed(messages):
        text = r(m.content)  # redact before cutting, so a cut can never leave half a secret unrecognised
        if len(text) > CHAT_CHARS_PER_MESSAGE:
            text = text[:CHAT_CHARS_PER_MESSAGE] + " …[cut]"
        if len(text) > budget:
            break
        budget -= len(text)
        out.append(BundleMessage(role=m.role, text=text))
    return list(reversed(out))
