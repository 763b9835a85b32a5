"""The writeback journal: one row per (session, kind) attempt series, so a note is never posted twice.

States: `intent` (claimed; a POST may be in flight) → `posted` (external id stored) → `done` (status handled,
session flipped). Side states: `not_posted` (the PSA definitely refused: safe to post) and `unknown` (the POST
outcome is unknown: read the ticket's notes back before posting again). A lease (owner + expiry) makes two
concurrent confirms exclusive; it is taken and released in `BEGIN IMMEDIATE` transactions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services.models import WritebackJournal
from flowpilot_tui.services.psa.base import NoteVisibility, PostedNote, normalize_note_text

OPEN_STATES = ("intent", "not_posted", "unknown", "posted")
NEEDS_RECONCILE = ("intent", "unknown")  # a POST may have reached the PSA


def new_marker() -> str:
    return f"fp-{secrets.token_hex(5)}"


def text_to_send(markdown: str, visibility: NoteVisibility, marker: str) -> str:
    """Internal notes carry a short reference line so a lost answer can be matched; customer notes stay clean."""
    if visibility is NoteVisibility.INTERNAL:
        return f"{markdown.rstrip()}\n\n[ref:{marker}]"
    return markdown


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_note_text(text).encode("utf-8")).hexdigest()


def matches(note: PostedNote, visibility: NoteVisibility, marker: str | None, sent_hash: str) -> bool:
    """Is `note` the one we sent? Same visibility, and our marker (internal notes) or the same normalized text."""
    if note.visibility is not visibility:
        return False
    if visibility is NoteVisibility.INTERNAL and marker and f"[ref:{marker}]" in note.text:
        return True
    return text_hash(note.text) == sent_hash


async def open_entry(db: AsyncSession, session_id: str, kind: str) -> WritebackJournal | None:
    return await db.scalar(
        select(WritebackJournal)
        .where(
            WritebackJournal.session_id == session_id,
            WritebackJournal.kind == kind,
            WritebackJournal.state.in_(OPEN_STATES),
        )
        .order_by(WritebackJournal.id.desc())
        .limit(1)
    )


def lease_held(entry: WritebackJournal, now: datetime) -> bool:
    return bool(entry.lease_owner) and entry.lease_until is not None and entry.lease_until > now


def release(
    entry: WritebackJournal, owner: str, now: datetime, *, state: str | None = None, error: str | None = None
) -> bool:
    """Drop our lease (only if we still hold it) and record where we stopped. False if someone else took over."""
    if entry.lease_owner != owner:
        return False
    entry.lease_owner = None
    entry.lease_until = None
    if state is not None:
        entry.state = state
    entry.last_error = error
    entry.updated_at = now
    return True
