"""What a post will do, and what it did: the words shown in the confirm modal and the outcome notifications.

Why a separate module: the modal, the pane's post worker and the tests must describe a post identically, and the
wording is the safety feature here ("customer-visible", "nothing is sent", "your text is kept"). No Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowpilot_tui.safe_text import one_line
from flowpilot_tui.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    PermissionDenied,
    PsaError,
)
from flowpilot_tui.services.writeback_types import StatusChangeError, StatusVerificationError

if TYPE_CHECKING:
    from flowpilot_tui.services.writeback_types import PostPlan, WritebackOutcome

KIND_LABEL = {"resolve": "RESOLVE — customer-visible", "escalate": "ESCALATE — internal"}
VISIBILITY = {"resolve": "customer-visible Resolution note", "escalate": "internal analysis note"}
LONG_NOTE = 20_000  # characters; the modal warns above this


@dataclass(frozen=True)
class PostPlanView:
    """What confirming will do, in the UI's terms (built from WritebackService.plan)."""

    kind: str
    local: bool
    ticket_id: int | None = None
    connection: str | None = None
    status_id: int | None = None
    status_name: str | None = None
    status_skipped_reason: str | None = None

    @classmethod
    def of(cls, plan: PostPlan) -> PostPlanView:
        return cls(
            kind=plan.kind,
            local=plan.local,
            ticket_id=plan.ticket_id,
            connection=plan.connection_name,
            status_id=plan.target_status_id,
            status_name=plan.target_status_name,
            status_skipped_reason=plan.status_skipped_reason,
        )

    @property
    def status_label(self) -> str | None:
        if self.status_id is None:
            return None
        return f"{one_line(self.status_name)} ({self.status_id})" if self.status_name else f"id {self.status_id}"

    @property
    def customer_visible(self) -> bool:
        return self.kind == "resolve" and not self.local

    def action_text(self) -> str:
        """One paragraph stating exactly what confirming does."""
        if self.local:
            verb = "Resolve" if self.kind == "resolve" else "Escalate"
            return (
                f"{verb} locally: no ticket is linked; nothing is sent. The session is marked {_done(self.kind)} here."
            )
        target = f"ConnectWise ticket #{self.ticket_id}"
        if self.connection:
            target += f" (connection {one_line(self.connection)})"
        if self.kind == "resolve":
            first = f"Post a customer-visible Resolution note to {target}"
        else:
            first = f"Post an internal analysis note (not customer-visible, no notifications) to {target}"
        if self.status_label:
            return f"{first}, then set status {self.status_label} and verify it by re-reading the ticket."
        reason = one_line(self.status_skipped_reason) or "no target status is configured"
        return f"{first}. The ticket status is not changed: {reason}."

    def warning_text(self) -> str:
        if self.local:
            return ""
        if self.kind == "resolve":
            return "The customer can see this note (portal, e-mail) and it may print on invoices."
        return "Only members see this note; the customer is not notified."


def _done(kind: str) -> str:
    return "resolved" if kind == "resolve" else "escalated"


# ---- outcome and failure wording ---------------------------------------------------------------------------


def outcome_text(outcome: WritebackOutcome) -> str:
    """The success notification for a WritebackOutcome."""
    kind, ticket = outcome.outcome, outcome.ticket_id
    if kind.endswith("_local"):
        return (
            "Resolved locally (no ticket linked; nothing was sent)"
            if kind.startswith("resolved")
            else "Escalated locally (no ticket linked; nothing was sent)"
        )
    verb = "Resolved" if kind == "resolved" else "Escalated"
    note = outcome.external_note_id
    note_part = f"note #{note} posted" if note is not None else "note posted"
    if outcome.note_already_posted:
        note_part = f"note #{note} was already on the ticket (not posted again)"
    status_id = outcome.verified_status_id
    if status_id is not None:
        name = one_line(outcome.verified_status_name or "")
        status = f"{name} ({status_id})" if name else f"status id {status_id}"
        return f"{verb} · ConnectWise ticket #{ticket} status verified: {status} · {note_part}"
    reason = one_line(outcome.status_skipped_reason or outcome.message or "") or "no target status"
    return f"{verb} · {note_part[0].upper()}{note_part[1:]} to ConnectWise ticket #{ticket}; status unchanged: {reason}"


KEPT = "The session stays open; your text is kept."


def failure_text(exc: BaseException, kind: str) -> str:
    """What happened and what was NOT done, for an error notification. Never includes a traceback."""
    done = _done(kind)
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
        return f"{message}. The session was not marked {done}; your text is kept."
    if isinstance(exc, (Conflict, PermissionDenied, InvalidInput)):
        return f"Not posted: {message}. Nothing was sent; your text is kept."
    if isinstance(exc, DomainError):
        return f"Could not complete: {message}. {KEPT}"
    return f"Could not complete ({message}). Check the ticket before retrying. {KEPT}"
