"""The writeback journal: one row per (session, kind) attempt series, so a note is never posted twice.

States: `intent` (claimed; a POST may be in flight) → `posted` (external id stored) → `done` (status handled,
session flipped). Side states: `not_posted` (the PSA definitely refused: safe to post) and `unknown` (the POST
outcome is unknown: read the ticket's notes back before posting again). A lease (owner `host:pid:token` + expiry)
makes two concurrent confirms exclusive; it is taken and released in `BEGIN IMMEDIATE` transactions. The holder
refreshes `updated_at` (its heartbeat) while it posts, so a lease whose holder died is taken over at once (same
host: the pid is gone) or once the heartbeat is older than `writeback.takeover_after_s` (another host).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from datetime import datetime, timedelta
from pathlib import Path

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


def lease_owner_id() -> str:
    """`host:pid:token`: who holds a lease, so a retry can tell a live poster from one that crashed (kill -9)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(8)}"


def holder_gone(owner: str | None) -> bool:
    """True when the lease holder was a process on this host that no longer runs (or is a zombie). A holder on
    another host, or an owner id without host and pid, counts as alive until its lease expires."""
    host, _, rest = (owner or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:24] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    try:  # a killed child its parent has not reaped yet still answers kill(0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def lease_held(entry: WritebackJournal, now: datetime, *, stale_after: timedelta | None = None) -> bool:
    """Someone else is posting this entry right now: an unexpired lease whose holder still runs and, with
    `stale_after`, whose heartbeat (`updated_at`, refreshed by the holder while it posts) is younger than that.
    A dead holder on this host is seen at once; a holder on another host once its heartbeat is older."""
    if not entry.lease_owner or entry.lease_until is None or entry.lease_until <= now:
        return False
    if holder_gone(entry.lease_owner):
        return False
    return stale_after is None or entry.updated_at is None or entry.updated_at + stale_after > now


def posted_text(note_text: str, visibility: NoteVisibility, marker: str | None) -> str:
    """The note as the engineer wrote it: the text on the ticket without our internal reference line."""
    text = note_text
    if visibility is NoteVisibility.INTERNAL and marker:
        text = text.replace(f"\n\n[ref:{marker}]", "").replace(f"[ref:{marker}]", "")
    return text.strip()


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
