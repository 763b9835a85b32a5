"""The time entry that rides with a ticket post (issue 14): drafted, journaled, posted once, verified.

Order inside a post: the ticket is read first (a ticket closed by someone else stops everything: ConnectWise refuses
time on a closed ticket, and nothing is sent), then the time entry is posted to `/time/entries` — before the note
and the status change — then the note, then the status. The entry has its own journal row (kind `time`), so a
retry never posts it twice; an unknown outcome (stored but the answer lost) is settled by reading the ticket's time
entries back (same member, start and end). Each posted entry is verified by re-reading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from flowpilot_tui.services import journal
from flowpilot_tui.services.errors import Conflict, PsaError
from flowpilot_tui.services.models import AISession, ChatMessage, WritebackJournal
from flowpilot_tui.services.psa.base import TimeEntryRef
from flowpilot_tui.services.psa.errors import PsaCallError

KIND = "time"


@dataclass(frozen=True)
class TimeSettings:
    member: str
    work_type: str
    billable: str


@dataclass(frozen=True)
class TimeEntryDraft:
    """What the engineer confirms; start/end default to the session's activity today."""

    start: datetime | None = None
    end: datetime | None = None
    notes: str | None = None


@dataclass(frozen=True)
class TimeEntryResult:
    id: int
    hours: float
    resumed: bool  # already on the ticket from an earlier attempt


@dataclass(frozen=True)
class TimePlan:
    """The time entry a post would carry by default (the Confirm & post modal shows it, editable)."""

    settings: TimeSettings | None  # None: no entry is posted, for `skipped_reason`
    start: datetime
    end: datetime
    notes: str
    skipped_reason: str | None = None

    @property
    def hours(self) -> float:
        return hours(self.start, self.end)


def hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def unset_reason(connection: str) -> str:
    return (
        f"time entry settings are not set (connections.{connection}.member_identifier, time_work_type, time_billable)"
    )


class TimeEntryError(PsaError):
    """The time entry could not be posted; nothing else was sent in this attempt."""


class TicketClosedError(Conflict):
    """The ticket was closed (by someone else) before the post: nothing was sent."""


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _minute(value: datetime, *, up: bool) -> datetime:
    floor = value.replace(second=0, microsecond=0)
    return floor + timedelta(minutes=1) if up and floor != value else floor


async def default_window(db: Any, row: AISession, now: datetime) -> tuple[datetime, datetime]:
    """First and last activity today (session start or first message, last message or now), whole minutes."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = await db.scalar(
        select(func.min(ChatMessage.created_at)).where(
            ChatMessage.session_id == row.id,
            ChatMessage.created_at >= today,
            ChatMessage.role.in_(("user", "assistant")),
        )
    )
    start = max(today, min(x for x in (row.created_at, first) if x is not None))
    start, end = _minute(start, up=False), _minute(now, up=True)
    if end <= start:
        end = start + timedelta(minutes=1)
    return start, end


def summary_line(markdown: str, title: str) -> str:
    """A one-line summary of the work for the entry's notes: the note's first prose line, else the title."""
    for line in markdown.splitlines():
        text = line.strip().lstrip("#*->").strip()
        if text and not line.lstrip().startswith("#"):
            return text[:200]
    return title[:200]


def _key(ticket_id: int, member: str, start: str, end: str) -> str:
    return journal.text_hash(f"{ticket_id}|{member.lower()}|{start}|{end}")


def _same(entry: TimeEntryRef, member: str, start: str, end: str) -> bool:
    return (
        entry.member.lower() == member.lower()
        and entry.start is not None
        and entry.end is not None
        and stamp(entry.start) == start
        and stamp(entry.end) == end
    )


async def ensure_time_entry(
    run: Any, settings: TimeSettings, start: datetime, end: datetime, notes: str
) -> TimeEntryResult:
    """Post (or find) this session's time entry on the ticket and verify it. `run` is the writeback `_Run`."""
    svc, provider, ticket_id, session_id = run.svc, run.provider, run.ticket_id, run.session_id
    s, e = stamp(start), stamp(end)
    key = _key(ticket_id, settings.member, s, e)
    now = svc.clock()
    async with svc.store.write() as db:
        entry = await journal.open_entry(db, session_id, KIND)
        if entry is not None and entry.text_hash != key and entry.state in ("not_posted",):
            entry.text_hash = key  # the refused attempt can be replaced by the confirmed one
        if entry is None:
            entry = WritebackJournal(
                session_id=session_id,
                kind=KIND,
                state="intent",
                ticket_id=ticket_id,
                connection_name=run.link.connection_name,
                text_hash=key,
                created_at=now,
                updated_at=now,
            )
            db.add(entry)
            fresh = True
        else:
            fresh = entry.state == "not_posted"
            if fresh:
                entry.state = "intent"
        state, existing_id, entry_key = entry.state, entry.external_note_id, entry.text_hash
        await db.flush()
        entry_id = entry.id
        run._audit(db)

    async def record(state: str, ext: str | None = None, error: str | None = None) -> None:
        async with svc.store.write() as db:
            row = await db.get(WritebackJournal, entry_id)
            if row is not None:
                row.state, row.last_error, row.updated_at = state, error, svc.clock()
                if ext is not None:
                    row.external_note_id, row.posted_at = ext, svc.clock()
            run._audit(db)

    if state == "posted" and existing_id:
        found = await provider.get_time_entry(int(existing_id))
        return TimeEntryResult(found.id, found.hours, True)
    if state in journal.NEEDS_RECONCILE and not fresh:
        match = await _find(provider, ticket_id, settings.member, entry_key, s, e)
        if match is not None:
            await record("posted", str(match.id))
            return TimeEntryResult(match.id, match.hours, True)
    try:
        posted = await provider.post_time_entry(
            ticket_id,
            member=settings.member,
            start=s,
            end=e,
            notes=notes,
            work_type=settings.work_type,
            billable=settings.billable,
        )
    except PsaCallError as exc:
        if not exc.outcome_unknown:
            await record("not_posted", error=str(exc))
            raise TimeEntryError(
                f"ConnectWise refused the time entry for ticket #{ticket_id}: {exc}. Nothing was posted (no note, no "
                "time, no status change); your text is kept. Retry with --no-time to post without time"
            ) from exc
        await record("unknown", error=str(exc))
        try:
            match = await _find(provider, ticket_id, settings.member, key, s, e)
        except PsaCallError:
            match = None
        if match is None:
            raise TimeEntryError(
                f"Could not confirm whether the time entry reached ticket #{ticket_id} ({exc}); nothing else was "
                "posted and your text is kept. A retry reads the ticket's time entries before posting again"
            ) from exc
        posted = match
    await record("posted", str(posted.id))
    check = await provider.get_time_entry(posted.id)  # verify by re-reading it
    if check.ticket_id != ticket_id or not _same(check, settings.member, s, e):
        raise TimeEntryError(
            f"Time entry #{posted.id} does not read back as sent (ticket #{check.ticket_id}, {check.member}); "
            "check it in ConnectWise before retrying. Your text is kept"
        )
    return TimeEntryResult(check.id, check.hours, False)


async def _find(provider: Any, ticket_id: int, member: str, key: str, s: str, e: str) -> TimeEntryRef | None:
    entries = await provider.list_time_entries(ticket_id, member)
    return next((x for x in entries if _same(x, member, s, e)), None)


async def finish(db: Any, session_id: str, now: datetime) -> None:
    """Close the session's open time row together with the post (a later post drafts a new entry)."""
    entry = await journal.open_entry(db, session_id, KIND)
    if entry is not None and entry.state == "posted":
        entry.state, entry.updated_at = "done", now
