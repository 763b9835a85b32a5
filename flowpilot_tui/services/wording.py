"""How a post is worded, for the CLI and the TUI alike: what it will do (plan), what it did (outcome), what failed.

Why one module: the wording is the safety feature here ("customer-visible", "nothing is sent", "your text is kept"),
so the confirm modal, the outcome notifications, `flowpilot post` and the writeback record must say the same thing
the same way. The past-tense verb of a kind ("resolved" / "escalated") comes from its `KindSpec`. No Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowpilot_tui.safe_text import one_line
from flowpilot_tui.services.errors import Conflict, DomainError, InvalidInput, PermissionDenied, PsaError
from flowpilot_tui.services.writeback_types import (
    VISIBILITY,
    StatusChangeError,
    StatusVerificationError,
    kind_spec,
)

if TYPE_CHECKING:
    from datetime import datetime

    from flowpilot_tui.services.writeback_types import PostPlan, WritebackOutcome

KIND_LABEL = {"resolve": "RESOLVE — customer-visible", "escalate": "ESCALATE — internal"}
LONG_NOTE = 20_000  # characters; the confirm modal warns above this
KEPT = "The session stays open; your text is kept."


def done(kind: str) -> str:
    """The past tense of a kind: the status the session gets ("resolved" / "escalated")."""
    return kind_spec(kind).outcome


def verb(kind: str) -> str:
    """The imperative, capitalised: "Resolve" / "Escalate"."""
    return kind_spec(kind).kind.capitalize()


def target(kind: str, ticket_id: int | None) -> str:
    """Where a note of `kind` goes, for the preview header."""
    return "local only" if ticket_id is None else f"ConnectWise ticket #{ticket_id} · {VISIBILITY[kind]}"


def posting_meta(ticket_id: int | None) -> str:
    """The preview header while a post runs: a local close never waits on ConnectWise."""
    if ticket_id is None:
        return "closing locally… (the editor is locked until the session is saved)"
    return "posting… (the editor is locked until ConnectWise answers)"


# ---- the plan --------------------------------------------------------------------------------------------------


def status_label(plan: PostPlan) -> str | None:
    if plan.target_status_id is None:
        return None
    name = plan.target_status_name
    return f"{one_line(name)} ({plan.target_status_id})" if name else f"id {plan.target_status_id}"


def heading(plan: PostPlan) -> str:
    return f"{plan.kind.upper()} — local only" if plan.local else KIND_LABEL[plan.kind]


def plan_action(plan: PostPlan) -> str:
    """One paragraph stating exactly what confirming does."""
    if plan.local:
        return (
            f"{verb(plan.kind)} locally: no ticket is linked; nothing is sent. "
            f"The session is marked {done(plan.kind)} here."
        )
    where = f"ConnectWise ticket #{plan.ticket_id}"
    if plan.connection_name:
        where += f" (connection {one_line(plan.connection_name)})"
    if plan.kind == "resolve":
        first = f"Post a customer-visible Resolution note to {where}"
    else:
        first = f"Post an internal analysis note (not customer-visible, no notifications) to {where}"
    label = status_label(plan)
    if label:
        return f"{first}, then set status {label} and verify it by re-reading the ticket."
    reason = one_line(plan.status_skipped_reason) or "no target status is configured"
    return f"{first}. The ticket status is not changed: {reason}."


def plan_warning(plan: PostPlan) -> str:
    if plan.local:
        return ""
    if plan.kind == "resolve":
        return "The customer can see this note (portal, e-mail) and it may print on invoices."
    return "Only members see this note; the customer is not notified."


def confirm_label(plan: PostPlan) -> str:
    if plan.local:
        return f"{verb(plan.kind)} locally (ctrl+y)"
    return f"Post to ticket #{plan.ticket_id} (ctrl+y)"


def time_action(start: datetime, end: datetime, work_type: str, billable: str, member: str) -> str:
    """The time entry line of the confirm modal: posted first, its hours, not copied into the ticket's notes."""
    hours = round((end - start).total_seconds() / 3600, 2)
    return (
        f"First add a time entry of {hours:g} h ({start:%H:%M}–{end:%H:%M} UTC, {one_line(work_type)}, "
        f"{one_line(billable)}) for member {one_line(member)}; it is not copied into the ticket's notes."
    )


def time_outcome(outcome: WritebackOutcome) -> str:
    """The time entry part of an outcome: the entry and its hours, or why none was posted."""
    if outcome.time_entry_id is not None:
        hours = f" ({outcome.time_entry_hours:g} h)" if outcome.time_entry_hours is not None else ""
        return f"time entry #{outcome.time_entry_id}{hours} posted and verified"
    if outcome.time_skipped_reason:
        return f"no time entry: {one_line(outcome.time_skipped_reason)}"
    return ""


# ---- the outcome -----------------------------------------------------------------------------------------------


def outcome_record(
    label: str,
    note_id: str,
    ticket_id: int,
    *,
    resumed: bool,
    unsent_edits: bool,
    status_name: str | None,
    already: bool,
    skipped: str | None,
) -> str:
    """The one-line record of a ticket post (`WritebackOutcome.message`, printed by `flowpilot post`)."""
    label = label[0].upper() + label[1:]
    head = (
        f"{label} #{note_id} was already on ticket #{ticket_id} (not posted again)"
        if resumed
        else f"{label} #{note_id} posted to ticket #{ticket_id}"
    )
    if unsent_edits:
        head += " (your later edits were not posted; edit the note on the ticket if they matter)"
    if status_name is None:
        return f"{head}; status left unchanged: {skipped}"
    if already:
        return f"{head}; the ticket was already {status_name}"
    return f"{head}; status verified: {status_name}"


def local_record(kind: str) -> str:
    """The record of a local resolve/escalate (no ticket linked)."""
    return f"Session {done(kind)} locally; no ticket is linked, so nothing was sent"


def outcome_text(outcome: WritebackOutcome) -> str:
    """The success notification for a WritebackOutcome."""
    kind = "resolve" if outcome.outcome.startswith("resolved") else "escalate"
    past, ticket = done(kind).capitalize(), outcome.ticket_id
    if outcome.outcome.endswith("_local"):
        return f"{past} locally (no ticket linked; nothing was sent)"
    note = outcome.external_note_id
    note_part = f"note #{note} posted" if note is not None else "note posted"
    if outcome.note_already_posted:
        note_part = f"note #{note} was already on the ticket (not posted again)"
    time = time_outcome(outcome)
    time = f" · {time}" if time else ""
    status_id = outcome.verified_status_id
    if status_id is not None:
        name = one_line(outcome.verified_status_name or "")
        status = f"{name} ({status_id})" if name else f"status id {status_id}"
        return f"{past} · ConnectWise ticket #{ticket} status verified: {status} · {note_part}{time}"
    reason = one_line(outcome.status_skipped_reason or outcome.message or "") or "no target status"
    return (
        f"{past} · {note_part[0].upper()}{note_part[1:]} to ConnectWise ticket #{ticket}; status unchanged: "
        f"{reason}{time}"
    )


def follow_up_offer(outcome: WritebackOutcome) -> str:
    """Why the follow-up note is offered: the note on the ticket is an earlier version of the confirmed text."""
    kind = "resolve" if outcome.outcome.startswith("resolved") else "escalate"
    label = kind_spec(kind).label
    return (
        f"Ticket #{outcome.ticket_id} holds a different text: its {label} #{outcome.external_note_id} is an earlier "
        f"version (it reached the ticket before an earlier attempt stopped), so it was not posted again and your "
        "later edits were not posted. The session keeps the text that is on the ticket. What your text adds:"
    )


def ticket_differs(outcome: WritebackOutcome) -> str:
    """The ticket holds an earlier version of the note and the confirmed text only removes from it."""
    return (
        f"Ticket #{outcome.ticket_id} holds a different text: note #{outcome.external_note_id} is an earlier version "
        "of what you confirmed and was not posted again. Your edits only remove text, so there is nothing to add as "
        "a follow-up note: edit the note on the ticket if they matter. The session keeps the text on the ticket."
    )


def follow_up_confirm(kind: str, ticket_id: int | None) -> str:
    """The confirmation before a follow-up note is posted: where it goes and who can see it."""
    customer = kind_spec(kind).customer_visible
    who = " The customer can see it." if customer else " It is not customer-visible."
    return f"Post the difference above as a new {VISIBILITY[kind]} to ticket #{ticket_id}?{who} Nothing else changes."


# ---- failures --------------------------------------------------------------------------------------------------


def failure_title(kind: str) -> str:
    return f"{verb(kind)} not completed"


def failure_text(exc: BaseException, kind: str) -> str:
    """What happened and what was NOT done, for an error notification. Never includes a traceback."""
    message = one_line(exc.message).rstrip(".") if isinstance(exc, DomainError) else f"unexpected {type(exc).__name__}"
    if isinstance(exc, (StatusVerificationError, StatusChangeError)):  # the note is on the ticket
        note, retry = exc.external_note_id, "retrying will not post the note again."
        if isinstance(exc, StatusVerificationError):
            if exc.observed_status_name:
                return (
                    f"Note #{note} was posted but the status change was not verified: ConnectWise accepted the "
                    f"change but ticket #{exc.note.ticket_id} shows {one_line(exc.observed_status_name)}. "
                    f"{KEPT[:-1]}; {retry}"
                )
            return f"Note #{note} was posted but the status change was not verified: {message}. {KEPT[:-1]}; {retry}"
        return f"{message}. {KEPT[:-1]}; {retry}"
    if isinstance(exc, PsaError):
        return f"{message}. The session was not marked {done(kind)}; your text is kept."
    if isinstance(exc, (Conflict, PermissionDenied, InvalidInput)):
        return f"Not posted: {message}. Nothing was sent; your text is kept."
    if isinstance(exc, DomainError):
        return f"Could not complete: {message}. {KEPT}"
    return f"Could not complete ({message}). Check the ticket before retrying. {KEPT}"
