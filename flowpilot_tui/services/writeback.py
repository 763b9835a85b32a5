"""Resolve / escalate a session: post the note to the linked ticket, change and verify its status, flip the session.

Order (reference §4.6, §5.5): claim the (session, kind) journal entry and commit the intent → POST the note →
commit its external id → change the status and re-read to verify → flip the session, store the markdown, clear
the draft, close the journal entry (one commit). Every step that talks to the PSA is resumable: a retry after any
failure continues where it stopped and never posts the same note twice. A POST whose outcome is unknown is settled
by reading the ticket's newest notes back before anything is posted again. Sessions without a ticket are flipped
locally and nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowpilot_tui.services import audit, journal, post_gate, rules, wording, writeback_cache
from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.errors import Conflict, DomainError, InvalidInput
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import Account, AISession, Draft, PSAConnection, WritebackJournal
from flowpilot_tui.services.psa.base import PostedNote, PsaCall, PsaProvider, collect_calls
from flowpilot_tui.services.psa.errors import PsaCallError
from flowpilot_tui.services.sessions import Clock, utcnow
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.time_entry import (
    TicketClosedError,
    TimeEntryDraft,
    TimeEntryResult,
    TimePlan,
    TimeSettings,
    default_window,
    ensure_time_entry,
    summary_line,
    unset_reason,
)
from flowpilot_tui.services.time_entry import finish as finish_time
from flowpilot_tui.services.writeback_status import Progress, StatusResult, apply_status
from flowpilot_tui.services.writeback_types import (
    KindSpec,
    NoteOutcomeUnknown,
    NoteRef,
    PostPlan,
    StatusChangeError,
    StatusVerificationError,
    WritebackOutcome,
    kind_spec,
)

__all__ = [
    "NoteOutcomeUnknown",
    "StatusChangeError",
    "StatusVerificationError",
    "WritebackOutcome",
    "WritebackService",
]

MAX_NOTE = 20_000
RECENT_NOTES = 50
FOLLOW_UP_SUFFIX = "_followup"  # journal kind of a follow-up note ("resolve_followup"): its own never-twice entry
log = logging.getLogger("flowpilot_tui.writeback")
Providers = Callable[[str], PsaProvider]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class _Link:
    ticket_id: int | None
    connection_name: str | None
    target_status_id: int | None
    skipped_reason: str | None


@dataclass
class _Claim:
    id: int
    state: str
    fresh: bool  # nothing can have been sent for this entry yet
    marker: str
    text_hash: str
    external_note_id: str | None
    posted_at: datetime | None


class WritebackService:
    def __init__(
        self,
        store: Store,
        actor: Actor,
        providers: Providers,
        clock: Clock = utcnow,
        *,
        sleep: Sleep = asyncio.sleep,
        recheck_after_s: float = 2.0,
        lease_s: float = 180.0,
        takeover_after_s: float = 30.0,
        time_settings: Callable[[str], TimeSettings | None] | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.providers = providers
        self.clock = clock
        self.sleep = sleep
        self.recheck_after_s = recheck_after_s  # setting writeback.recheck_delay_s
        self.lease = timedelta(seconds=lease_s)
        # a holder refreshes its lease every takeover_after_s / 3 while posting; one silent longer than
        # takeover_after_s (another host, a reused pid) is taken over (setting writeback.takeover_after_s)
        self.takeover_after = timedelta(seconds=takeover_after_s)
        self.heartbeat_s = max(0.05, takeover_after_s / 3)
        self.time_settings = time_settings  # connection name -> member/work type/billable, None when unset

    async def post(
        self,
        session_id: str,
        kind: str,
        markdown: str,
        *,
        time_entry: TimeEntryDraft | None = None,
        no_time: bool = False,
        accept_flags: bool = False,
        allow_secrets: bool = False,
        post_follow_up: bool = False,
        on_progress: Progress | None = None,
    ) -> WritebackOutcome:
        """Resolve or escalate `session_id` with the engineer's confirmed `markdown`. See the module docstring.

        `on_progress` gets one short line per step ("posting the note…", "verifying the status…"). When a retry finds
        an earlier version of the note on the ticket, the outcome says so and carries the difference
        (`follow_up_text`); with `post_follow_up` that difference is posted at once as a follow-up note.

        A note for a ticket passes the post gate first (services/post_gate.py): open `[CHECK: …]` flags and
        secrets in an internal note need `accept_flags`, secrets in a customer-visible note `allow_secrets`;
        review markers (and, for customers, citation ids) are stripped from what is posted."""
        self.actor.require_writer()
        spec = kind_spec(kind)
        text = (markdown or "").strip()
        if not text:
            raise InvalidInput(f"The {spec.label} is empty; nothing was sent")
        if len(text) > MAX_NOTE:
            raise InvalidInput(f"The {spec.label} is too long ({len(text):,} characters; the limit is {MAX_NOTE:,})")
        link = await self._link(session_id, spec)
        if link.ticket_id is None or link.connection_name is None:
            return await self._complete_local(
                session_id, spec, text, accept_flags=accept_flags, allow_secrets=allow_secrets
            )
        accepted = await self._gate(session_id, spec, text, accept_flags=accept_flags, allow_secrets=allow_secrets)
        text = post_gate.text_to_post(text, customer_visible=spec.customer_visible)
        if not text:
            raise InvalidInput(f"The {spec.label} is empty once review markers are removed; nothing was sent")
        provider = self.providers(link.connection_name)
        with collect_calls() as calls:
            run = _Run(self, session_id, spec, text, link, provider, calls)
            run.time_draft, run.no_time, run.progress = time_entry, no_time, on_progress
            outcome = await run.execute()
        outcome = replace(outcome, accepted_flags=[f.to_json() for f in accepted])
        if post_follow_up and outcome.follow_up_text:
            follow = await self.post_follow_up(
                session_id, kind, text, on_progress=on_progress, accept_flags=accept_flags, allow_secrets=allow_secrets
            )
            outcome = replace(
                outcome,
                follow_up_note_id=follow.follow_up_note_id,
                follow_up_text=follow.follow_up_text,
                message=f"{outcome.message}. {follow.message}",
            )
        return outcome

    async def post_follow_up(
        self,
        session_id: str,
        kind: str,
        markdown: str,
        *,
        on_progress: Progress | None = None,
        accept_flags: bool = False,
        allow_secrets: bool = False,
    ) -> WritebackOutcome:
        """Post what `markdown` adds to the note already on the ticket as a follow-up note (same visibility).

        For a session already resolved/escalated whose stored note (what is on the ticket) differs from the text
        the engineer confirmed. Never twice (its own journal entry); the session then stores both notes."""
        self.actor.require_writer()
        spec = kind_spec(kind)
        text = (markdown or "").strip()
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            stored, status = getattr(row, spec.markdown_field), row.status
        if status != rules.target_status(spec.kind, "active") or not stored:
            raise Conflict(f"A follow-up note needs a {spec.label} on the ticket first; post the {spec.label} itself")
        # compared as posted: the stored note is the ticket's text (review markers and, for customers, fact ids
        # already removed), so the confirmed text is compared without them too, or every cited line would differ
        body = follow_up_difference(stored, post_gate.text_to_post(text, customer_visible=spec.customer_visible))
        if body is None:
            raise InvalidInput(
                f"Nothing to follow up: the text adds nothing to the {spec.label} on the ticket "
                "(edits that only remove text must be made on the ticket itself)"
            )
        link = await self._link(session_id, spec, check_rules=False)
        if link.ticket_id is None or link.connection_name is None:
            raise Conflict("The session is not linked to a ticket; there is no note to follow up")
        # the gate reads the confirmed text itself (its open flags are gone from `body`); the same consent as `post`
        await self._gate(session_id, spec, text, accept_flags=accept_flags, allow_secrets=allow_secrets)
        provider = self.providers(link.connection_name)
        with collect_calls() as calls:
            run = _Run(
                self, session_id, follow_up_spec(spec), body, replace(link, target_status_id=None), provider, calls
            )
            run.follow_up_of, run.no_time, run.progress = stored, True, on_progress
            return await run.execute()

    async def _gate(
        self, session_id: str, spec: KindSpec, text: str, *, accept_flags: bool, allow_secrets: bool
    ) -> list[post_gate.ReviewFlag]:
        """Refuse open flags/secrets without acknowledgement; audit what was accepted and by whom."""
        accepted = post_gate.check(
            text,
            customer_visible=spec.customer_visible,
            label=spec.label,
            accept_flags=accept_flags,
            allow_secrets=allow_secrets,
        )
        if accepted:
            async with self.store.write() as db:
                row = await load_session(db, self.actor, session_id)
                detail = {
                    "kind": spec.kind,
                    "accepted_by": self.actor.user_id,
                    "flags": [f.to_json() for f in accepted],
                }
                audit.add_event(db, self.actor, row.id, "writeback.flags_accepted", detail, self.clock())
        return accepted

    async def plan(self, session_id: str, kind: str, *, with_status_name: bool = False) -> PostPlan:
        """What `post` would do, in words: the confirmation modal states exactly this. Nothing is written; with
        `with_status_name` the target status's name is read from the ticket's board (unknown if that read fails)."""
        spec = kind_spec(kind)
        link = await self._link(session_id, spec)
        plan = PostPlan.of(spec, link.ticket_id, link.connection_name, link.target_status_id, link.skipped_reason)
        if with_status_name and plan.target_status_id is not None and link.connection_name and link.ticket_id:
            plan = replace(plan, target_status_name=await self._status_name(link, plan.target_status_id))
        return plan

    async def time_plan(self, session_id: str, kind: str, markdown: str = "") -> TimePlan:
        """The time entry `post` would carry by default: settings, the session's first and last activity today and a
        one-line summary of `markdown` (the Confirm & post modal shows it, editable). Nothing is written."""
        link = await self._link(session_id, kind_spec(kind))
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            start, end = await default_window(db, row, self.clock())
            title = row.title
        notes = summary_line(markdown, title)
        if link.ticket_id is None or link.connection_name is None:
            return TimePlan(None, start, end, notes, "no ticket is linked")
        settings = self.time_settings(link.connection_name) if self.time_settings else None
        return TimePlan(settings, start, end, notes, None if settings else unset_reason(link.connection_name))

    async def _status_name(self, link: _Link, status_id: int) -> str | None:
        """The board status's name, or None when the PSA cannot say right now (the post itself will report)."""
        assert link.connection_name is not None and link.ticket_id is not None
        try:
            provider = self.providers(link.connection_name)
            ticket = await provider.get_ticket(link.ticket_id)
            statuses = await provider.list_board_statuses(ticket.board_id)
        except DomainError:
            return None
        return next((s.name for s in statuses if s.id == status_id), None)

    async def _link(self, session_id: str, spec: KindSpec, *, check_rules: bool = True) -> _Link:
        async with self.store.read() as db:
            row = await load_session(db, self.actor, session_id)
            if check_rules:
                rules.target_status(spec.kind, row.status)
            if row.psa_ticket_id is None or row.psa_connection_id is None:
                return _Link(None, None, None, None)
            name = await db.scalar(
                select(PSAConnection.name).where(
                    PSAConnection.id == row.psa_connection_id, PSAConnection.account_id == self.actor.account_id
                )
            )
            prefs = await db.scalar(select(Account.preferences).where(Account.id == self.actor.account_id)) or {}
        raw = prefs.get(spec.status_pref)
        target, reason = None, None
        if raw in (None, ""):
            reason = f"no target status is configured ({spec.status_pref} is not set)"
        else:
            try:
                target = int(raw)
            except (TypeError, ValueError):
                reason = f"{spec.status_pref} is not a status id ({raw!r})"
        return _Link(row.psa_ticket_id, name, target, reason)

    async def _complete_local(
        self, session_id: str, spec: KindSpec, text: str, *, accept_flags: bool = False, allow_secrets: bool = False
    ) -> WritebackOutcome:
        """No ticket linked: nothing is sent, but the stored note passes the same post gate as a posted one. Open
        flags and secrets need the same acknowledgement; review markers are stripped, and citation ids too from the
        resolution note (it is the customer's note, whether posted now or copied later); acceptance is audited in
        the same transaction as the flip."""
        customer = spec.customer_visible
        accepted = post_gate.check_stored(text, kind=spec.kind, accept_flags=accept_flags, allow_secrets=allow_secrets)
        text = post_gate.text_to_post(text, customer_visible=customer)
        if not text:
            raise InvalidInput(f"The {spec.label} is empty once review markers are removed; nothing was stored")
        now = self.clock()
        async with self.store.write() as db:
            row = await load_session(db, self.actor, session_id)
            if row.psa_ticket_id is not None:
                raise Conflict("The session was linked to a ticket meanwhile; confirm again to post to it")
            flip_session(db, row, spec, text, now)
            await db.execute(delete(Draft).where(Draft.session_id == row.id, Draft.kind == spec.kind))
            if accepted:
                detail = {
                    "kind": spec.kind,
                    "accepted_by": self.actor.user_id,
                    "flags": [f.to_json() for f in accepted],
                    "local": True,
                }
                audit.add_event(db, self.actor, row.id, "writeback.flags_accepted", detail, now)
            audit.add_event(db, self.actor, row.id, f"writeback.{spec.local_outcome}", {"sent": False}, now)
        return WritebackOutcome(
            spec.local_outcome,
            session_id,
            None,
            None,
            None,
            None,
            None,
            None,
            False,
            wording.local_record(spec.kind),
            accepted_flags=[f.to_json() for f in accepted],
        )


def follow_up_spec(spec: KindSpec) -> KindSpec:
    return replace(spec, kind=spec.kind + FOLLOW_UP_SUFFIX, label=f"follow-up to the {spec.label}")


def follow_up_difference(on_ticket: str, edited: str) -> str | None:
    """The lines `edited` adds to the note on the ticket, as a follow-up note's text; None when it adds nothing."""
    from flowpilot_tui.services.psa.base import normalize_note_text

    old = normalize_note_text(on_ticket).splitlines()
    new = normalize_note_text(edited).splitlines()
    added = [line[2:] for line in difflib.ndiff(old, new) if line.startswith("+ ")]
    body = "\n".join(added).strip()
    return f"Follow-up:\n\n{body}" if body else None


def flip_session(db: AsyncSession, row: AISession, spec: KindSpec, text: str, now: datetime) -> None:
    """The session-side effect of a completed writeback (rules checked again inside the caller's transaction)."""
    row.status = rules.target_status(spec.kind, row.status)
    setattr(row, spec.markdown_field, text)
    setattr(row, spec.time_field, now)
    row.updated_at = now


class _Run:
    """One `post` call against a linked ticket: holds the lease and the PSA calls still to be audited."""

    def __init__(
        self,
        svc: WritebackService,
        session_id: str,
        spec: KindSpec,
        text: str,
        link: _Link,
        provider: PsaProvider,
        calls: list[PsaCall],
    ) -> None:
        self.svc, self.session_id, self.spec, self.text, self.link = svc, session_id, spec, text, link
        self.ticket_id: int = link.ticket_id  # type: ignore[assignment]
        self.provider, self.calls = provider, calls
        self.owner = journal.lease_owner_id()  # host:pid:token, so a crashed holder's lease is taken over at once
        self.audited = 0
        self.unsent_edits = False  # a resumed post whose note on the ticket is an earlier version of the text
        self.time_draft: TimeEntryDraft | None = None
        self.no_time = False
        self.time_result: TimeEntryResult | None = None
        self.time_skipped: str | None = None
        self.ticket_text: str | None = None  # what is on the ticket, when it differs from `text` (the session keeps it)
        self.progress: Progress | None = None
        self.follow_up_of: str | None = None  # a follow-up note: the stored text it adds to (no status, no flip)
        self.primed_board: int | None = None  # the ticket's board as the shared PSA cache knew it

    # ---- orchestration ----------------------------------------------------------------------------------------

    async def execute(self) -> WritebackOutcome:
        claim = await self._claim()
        stop_beating = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(claim, stop_beating), name="writeback-heartbeat")
        try:
            await self._time_entry(claim)
            note, resumed = await self._ensure_note(claim)
            status: StatusResult | None = None
            if self.link.target_status_id is not None:
                await self._prime_cache()
                status = await apply_status(
                    self.provider,
                    note,
                    self.link.target_status_id,
                    pref_name=self.spec.status_pref,
                    sleep=self.svc.sleep,
                    recheck_after_s=self.svc.recheck_after_s,
                    progress=self.progress,
                )
            await _stop_heartbeat(beat, stop_beating)
            outcome = await self._finish(claim, note, resumed, status)
        except (StatusVerificationError, StatusChangeError) as exc:
            await _stop_heartbeat(beat, stop_beating)
            await self._stop(claim, state="posted", error=str(exc), event="writeback.status_failed")
            await self._keep_cache()
            raise
        except BaseException as exc:
            await _stop_heartbeat(beat, stop_beating)
            await self._stop(claim, state=None, error=str(exc) or type(exc).__name__, event="writeback.failed")
            raise
        await self._keep_cache()
        return outcome

    async def _prime_cache(self) -> None:
        """What other FlowPilot processes learnt about this ticket's board and its statuses (best effort)."""
        try:
            async with self.svc.store.read() as db:
                self.primed_board = await writeback_cache.prime(
                    db,
                    self.svc.actor.account_id,
                    self.link.connection_name or "",
                    self.provider,
                    self.ticket_id,
                    self.svc.clock(),
                )
        except Exception:  # noqa: BLE001 - a cache miss only costs two reads
            log.debug("reading the PSA cache failed", exc_info=True)

    async def _keep_cache(self) -> None:
        """Share what this post read (the ticket's board, the board's statuses) or dropped (best effort)."""
        if self.link.target_status_id is None:
            return
        try:
            async with self.svc.store.write() as db:
                await writeback_cache.store(
                    db,
                    self.svc.actor.account_id,
                    self.link.connection_name or "",
                    self.provider,
                    self.ticket_id,
                    self.calls,
                    self.svc.clock(),
                    primed_board=self.primed_board,
                )
        except Exception:  # noqa: BLE001 - the post itself is done; the next one reads again
            log.debug("writing the PSA cache failed", exc_info=True)

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    async def _heartbeat(self, claim: _Claim, stop: asyncio.Event) -> None:
        """While this post runs, refresh the lease every `heartbeat_s` (real time): a holder that stops beating
        (killed on another host, a hung process) is taken over after `takeover_after_s`, not the whole lease.
        It stops between beats when `stop` is set, never inside one (see `_stop_heartbeat`)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.svc.heartbeat_s)
            if stop.is_set():
                return
            try:
                if not await self.beat(claim):
                    return
            except Exception:  # noqa: BLE001 - a missed beat only shortens how long others wait
                log.debug("writeback heartbeat failed", exc_info=True)

    async def beat(self, claim: _Claim) -> bool:
        """One heartbeat: push the lease forward. False when someone else holds the entry now."""
        now = self.svc.clock()
        async with self.svc.store.write() as db:
            entry = await db.get(WritebackJournal, claim.id)
            if entry is None or entry.lease_owner != self.owner:
                return False
            entry.updated_at, entry.lease_until = now, now + self.svc.lease
        return True

    async def _claim(self) -> _Claim:
        now = self.svc.clock()
        async with self.svc.store.write() as db:  # BEGIN IMMEDIATE: one claimant at a time across processes
            row = await load_session(db, self.svc.actor, self.session_id)
            if self.follow_up_of is None:
                rules.target_status(self.spec.kind, row.status)
            elif getattr(row, self.spec.markdown_field) != self.follow_up_of:
                raise Conflict(f"The note on the ticket changed meanwhile; nothing was sent (the {self.spec.label})")
            entry = await journal.open_entry(db, row.id, self.spec.kind)
            if entry is not None and journal.lease_held(entry, now, stale_after=self.svc.takeover_after):
                raise Conflict(
                    f"The {self.spec.label} for this session is being posted by another FlowPilot right now; "
                    "wait for it to finish (nothing was sent from here)"
                )
            if entry is None:
                entry = WritebackJournal(
                    session_id=row.id,
                    kind=self.spec.kind,
                    state="intent",
                    ticket_id=self.ticket_id,
                    connection_name=self.link.connection_name,
                    text_hash="",
                    created_at=now,
                    updated_at=now,
                )
                db.add(entry)
                fresh = True
                self._set_text(entry)
            else:
                fresh = entry.state == "not_posted"
                if fresh:  # the PSA refused the earlier attempt: post the current text
                    entry.state = "intent"
                    self._set_text(entry)
            entry.lease_owner, entry.lease_until, entry.updated_at = self.owner, now + self.svc.lease, now
            await db.flush()
            return _Claim(
                entry.id,
                entry.state,
                fresh,
                entry.marker or "",
                entry.text_hash,
                entry.external_note_id,
                entry.posted_at,
            )

    async def _time_entry(self, claim: _Claim) -> None:
        """The time entry goes first (before the note and the status change): see services/time_entry.py."""
        name = self.link.connection_name or ""
        settings = self.svc.time_settings(name) if self.svc.time_settings else None
        if self.no_time:
            self.time_skipped = "no time entry was asked for (--no-time)"
            return
        if settings is None:
            self.time_skipped = unset_reason(name)
            return
        if claim.state != "posted":  # nothing of this post is on the ticket yet: check nobody closed it meanwhile
            ticket = await self.provider.get_ticket(self.ticket_id)
            if ticket.closed:
                raise TicketClosedError(
                    f"Ticket #{self.ticket_id} is closed in ConnectWise (status {ticket.status_name}), probably by "
                    "someone else since you opened it; ConnectWise refuses time on a closed ticket. Nothing was "
                    "posted; your text is kept. Reopen the ticket, or post with --no-time to add the note only"
                )
        draft = self.time_draft or TimeEntryDraft()
        async with self.svc.store.read() as db:
            row = await load_session(db, self.svc.actor, self.session_id)
            start, end = await default_window(db, row, self.svc.clock())
            title = row.title
        start, end = draft.start or start, draft.end or end
        if end <= start:
            raise InvalidInput("The time entry ends before it starts; nothing was sent")
        notes = (draft.notes or summary_line(self.text, title)).strip()[:500]
        self.time_result = await ensure_time_entry(self, settings, start, end, notes)

    def _set_text(self, entry: WritebackJournal) -> None:
        entry.marker = journal.new_marker()
        entry.text_hash = journal.text_hash(self._sent_text(entry.marker))

    def _sent_text(self, marker: str) -> str:
        return journal.text_to_send(self.text, self.spec.visibility, marker)

    # ---- the note -------------------------------------------------------------------------------------------

    async def _ensure_note(self, claim: _Claim) -> tuple[NoteRef, bool]:
        """The note on the ticket for this entry: already recorded, found by reading back, or posted now."""
        if claim.state == "posted" and claim.external_note_id:
            self.unsent_edits = journal.text_hash(self._sent_text(claim.marker)) != claim.text_hash
            if self.unsent_edits:
                await self._read_ticket_text(claim)
            return self._ref(claim.external_note_id, claim.posted_at), True
        if claim.state in journal.NEEDS_RECONCILE and not claim.fresh:
            found = await self._find(claim)
            if found is not None:
                # the earlier text reached the ticket (e.g. the poster crashed mid-upload): compare, never silently
                self.unsent_edits = journal.text_hash(self._sent_text(claim.marker)) != claim.text_hash
                if self.unsent_edits:
                    self.ticket_text = journal.posted_text(found.text, self.spec.visibility, claim.marker)
                return await self._record_posted(claim, found.id), True
            await self._update(claim, state="intent", new_text=True)
        return await self._post(claim), False

    async def _read_ticket_text(self, claim: _Claim) -> None:
        """The text of the already-posted note, so the session stores what is on the ticket (best effort)."""
        try:
            recent = await self.provider.list_recent_notes(self.ticket_id, RECENT_NOTES)
        except DomainError:
            return
        note = next((n for n in recent if str(n.id) == claim.external_note_id), None)
        if note is not None:
            self.ticket_text = journal.posted_text(note.text, self.spec.visibility, claim.marker)

    async def _post(self, claim: _Claim) -> NoteRef:
        sent = self._sent_text(claim.marker)
        self._say(f"posting the {self.spec.label} to ticket #{self.ticket_id}…")
        try:
            note = await self.provider.post_note(self.ticket_id, sent, self.spec.visibility)
        except PsaCallError as exc:
            if not exc.outcome_unknown:
                await self._update(claim, state="not_posted", error=str(exc))
                raise
            await self._update(claim, state="unknown", error=str(exc))
            note = await self._settle_unknown(claim, sent, exc)
        return await self._record_posted(claim, note.id)

    async def _settle_unknown(self, claim: _Claim, sent: str, first: PsaCallError) -> PostedNote:
        """The POST may have created the note: look for it; only if it is not there, post once more."""
        unknown = NoteOutcomeUnknown(
            f"Could not confirm whether the {self.spec.label} reached ticket #{self.ticket_id} ({first}); "
            "a retry checks the ticket's notes before posting again",
            session_id=self.session_id,
            ticket_id=self.ticket_id,
        )
        try:
            found = await self._find(claim)
        except PsaCallError as exc:
            raise unknown from exc
        if found is not None:
            return found
        try:
            return await self.provider.post_note(self.ticket_id, sent, self.spec.visibility)
        except PsaCallError as exc:
            if exc.outcome_unknown:
                raise unknown from exc
            await self._update(claim, state="not_posted", error=str(exc))
            raise

    async def _find(self, claim: _Claim) -> PostedNote | None:
        self._say(f"checking ticket #{self.ticket_id}'s notes for an earlier attempt…")
        recent = await self.provider.list_recent_notes(self.ticket_id, RECENT_NOTES)
        return next(
            (n for n in recent if journal.matches(n, self.spec.visibility, claim.marker, claim.text_hash)), None
        )

    def _ref(self, note_id: str, posted_at: datetime | None) -> NoteRef:
        return NoteRef(self.session_id, self.ticket_id, note_id, posted_at)

    # ---- journal writes (each its own commit) ---------------------------------------------------------------

    async def _update(self, claim: _Claim, *, state: str, error: str | None = None, new_text: bool = False) -> None:
        async with self.svc.store.write() as db:
            entry = await self._entry(db, claim)
            entry.state, entry.last_error, entry.updated_at = state, error, self.svc.clock()
            if new_text:  # the earlier note is not on the ticket: from now on we post (and look for) this text
                self._set_text(entry)
                claim.marker, claim.text_hash = entry.marker or "", entry.text_hash
            claim.state = state
            self._audit(db)

    async def _record_posted(self, claim: _Claim, note_id: str) -> NoteRef:
        now = self.svc.clock()
        async with self.svc.store.write() as db:
            entry = await self._entry(db, claim)
            entry.state, entry.external_note_id, entry.posted_at = "posted", str(note_id), now
            entry.last_error, entry.updated_at = None, now
            self._audit(db)
        claim.state, claim.external_note_id, claim.posted_at = "posted", str(note_id), now
        return self._ref(str(note_id), now)

    async def _entry(self, db: AsyncSession, claim: _Claim) -> WritebackJournal:
        entry = await db.get(WritebackJournal, claim.id)
        if entry is None or entry.lease_owner != self.owner:
            raise Conflict(f"Another FlowPilot took over posting the {self.spec.label}; nothing more is sent from here")
        return entry

    async def _stop(self, claim: _Claim, *, state: str | None, error: str, event: str) -> None:
        """Release the lease and record where we stopped, so a retry resumes from there."""
        now = self.svc.clock()
        try:
            async with self.svc.store.write() as db:
                self._audit(db)
                entry = await db.get(WritebackJournal, claim.id)
                if entry is not None and journal.release(entry, self.owner, now, state=state, error=error[:2000]):
                    audit.add_event(
                        db,
                        self.svc.actor,
                        self.session_id,
                        event,
                        {
                            "kind": self.spec.kind,
                            "ticket_id": self.ticket_id,
                            "journal_state": entry.state,
                            "external_note_id": entry.external_note_id,
                            "error": error[:500],
                        },
                        now,
                    )
        except Exception:  # the lease expires on its own; the original error matters more
            pass

    async def _finish(
        self, claim: _Claim, note: NoteRef, resumed: bool, status: StatusResult | None
    ) -> WritebackOutcome:
        now = self.svc.clock()
        skipped = self.link.skipped_reason if status is None else None
        async with self.svc.store.write() as db:
            entry = await self._entry(db, claim)
            row = await load_session(db, self.svc.actor, self.session_id)
            if self.follow_up_of is not None:  # the session stores both notes, as the ticket shows them
                setattr(row, self.spec.markdown_field, f"{self.follow_up_of.rstrip()}\n\n{self.text}")
                row.updated_at = now
            else:
                flip_session(db, row, self.spec, self.ticket_text or self.text, now)  # what is on the ticket
                await db.execute(delete(Draft).where(Draft.session_id == row.id, Draft.kind == self.spec.kind))
            entry.state = "done"
            entry.target_status_id = self.link.target_status_id
            entry.verified_status_id = status.status_id if status else None
            entry.verified_status_name = status.status_name if status else None
            entry.skipped_reason = skipped
            journal.release(entry, self.owner, now, state="done")
            await finish_time(db, self.session_id, now)
            self._audit(db)
            audit.add_event(
                db,
                self.svc.actor,
                self.session_id,
                f"writeback.{self.spec.outcome}",
                {
                    "ticket_id": self.ticket_id,
                    "external_note_id": note.external_note_id,
                    "resumed": resumed,
                    "verified_status_id": entry.verified_status_id,
                    "status_skipped_reason": skipped,
                },
                now,
            )
        return WritebackOutcome(
            self.spec.outcome,
            self.session_id,
            self.ticket_id,
            note.external_note_id,
            note.posted_at,
            status.status_id if status else None,
            status.status_name if status else None,
            skipped,
            resumed,
            self._message(note, resumed, status, skipped) + self._time_message(),
            time_entry_id=self.time_result.id if self.time_result else None,
            time_entry_hours=self.time_result.hours if self.time_result else None,
            time_skipped_reason=None if self.time_result else self.time_skipped,
            follow_up_text=self._difference(),
            follow_up_note_id=note.external_note_id if self.follow_up_of is not None else None,
            ticket_text_differs=self.unsent_edits and self.follow_up_of is None,
        )

    def _difference(self) -> str | None:
        if self.follow_up_of is not None:
            return self.text
        if not self.unsent_edits or self.ticket_text is None:
            return None
        return follow_up_difference(self.ticket_text, self.text)

    def _time_message(self) -> str:
        if self.follow_up_of is not None:
            return ""
        if self.time_result is None:
            return f"; no time entry: {self.time_skipped}" if self.no_time else ""  # unset: time_skipped_reason
        t = self.time_result
        verb = "was already on the ticket" if t.resumed else "posted and verified"
        return f"; time entry #{t.id} ({t.hours:g} h) {verb}"

    def _message(self, note: NoteRef, resumed: bool, status: StatusResult | None, skipped: str | None) -> str:
        if self.follow_up_of is not None:
            verb = "was already on" if resumed else "posted to"
            label = self.spec.label[0].upper() + self.spec.label[1:]
            return f"{label} #{note.external_note_id} {verb} ticket #{self.ticket_id}; the session keeps both notes"
        record = self._record(note, status, resumed, skipped)
        if self.unsent_edits:
            record += (
                ". The text you confirmed differs from the note on the ticket; the session keeps the ticket's text. "
                "Post the difference as a follow-up note if it matters"
            )
            if self._difference() is None:
                record += " (your edits add nothing new; edit the note on the ticket to remove text)"
        return record

    def _record(self, note: NoteRef, status: StatusResult | None, resumed: bool, skipped: str | None) -> str:
        return wording.outcome_record(
            self.spec.label,
            note.external_note_id,
            self.ticket_id,
            resumed=resumed,
            unsent_edits=self.unsent_edits,
            status_name=status.status_name if status else None,
            already=bool(status and status.already),
            skipped=skipped,
        )

    def _audit(self, db: AsyncSession) -> None:
        pending = self.calls[self.audited :]
        self.audited = len(self.calls)
        audit.add_psa_calls(
            db,
            self.svc.actor,
            self.session_id,
            pending,
            self.svc.clock(),
            connection=self.link.connection_name,
            ticket_id=self.ticket_id,
            kind=self.spec.kind,
        )


async def _stop_heartbeat(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Let the heartbeat finish the beat it is in, then end. Cancelling it instead could cut a beat between SQLite's
    BEGIN IMMEDIATE and its COMMIT: the connection then keeps the write lock, and the post's own next write waits
    out the busy timeout and fails with "database is locked" (seen under load)."""
    stop.set()
    with contextlib.suppress(Exception):
        await task
