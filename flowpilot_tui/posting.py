"""What a post will do, and what it did: the words shown in the confirm modal and the outcome notifications.

Why a separate module: the modal, the pane's post worker and the tests must describe a post identically, and the
wording is the safety feature here ("customer-visible", "nothing is sent", "your text is kept"). No Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowpilot_tui.safe_text import one_line
from flowpilot_tui.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    PermissionDenied,
    PsaError,
    VerificationError,
)

if TYPE_CHECKING:
    from flowpilot_tui.services.container import Services

KIND_LABEL = {"resolve": "RESOLVE — customer-visible", "escalate": "ESCALATE — internal"}
VISIBILITY = {"resolve": "customer-visible Resolution note", "escalate": "internal analysis note"}
LONG_NOTE = 20_000  # characters; the modal warns above this


def optional_service(services: Services, name: str) -> Any:
    """`services.<name>` or None when that service is not part of this build (its module is missing)."""
    try:
        return getattr(services, name)
    except (AttributeError, ImportError):
        return None


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


async def plan_post(writeback: Any, session_id: str, kind: str) -> PostPlanView:
    """Ask the writeback service what confirming will do (raises Conflict if the session is already closed)."""
    return from_service_plan(kind, await writeback.plan(session_id, kind))


def from_service_plan(kind: str, plan: Any) -> PostPlanView:
    """Adapt writeback's PostPlan (read by attribute, so a field it lacks reads as unknown, not as a crash)."""
    get = lambda *names: next((getattr(plan, n) for n in names if getattr(plan, n, None) is not None), None)  # noqa: E731
    ticket = get("ticket_id")
    local = bool(get("local")) if get("local") is not None else ticket is None
    status_id = get("status_id", "target_status_id")
    return PostPlanView(
        kind=kind,
        local=local,
        ticket_id=ticket,
        connection=get("connection", "connection_name"),
        status_id=int(status_id) if status_id is not None else None,
        status_name=get("status_name", "target_status_name"),
        status_skipped_reason=get("status_skipped_reason", "skip_reason"),
    )


# ---- outcome and failure wording ---------------------------------------------------------------------------


def outcome_text(outcome: Any) -> str:
    """The success notification for a WritebackOutcome."""
    kind = str(getattr(outcome, "outcome", ""))
    ticket = getattr(outcome, "ticket_id", None)
    if kind.endswith("_local"):
        return (
            "Resolved locally (no ticket linked; nothing was sent)"
            if kind.startswith("resolved")
            else "Escalated locally (no ticket linked; nothing was sent)"
        )
    verb = "Resolved" if kind == "resolved" else "Escalated"
    note = getattr(outcome, "external_note_id", None)
    note_part = f"note #{note} posted" if note is not None else "note posted"
    if getattr(outcome, "note_already_posted", False):
        note_part = f"note #{note} was already on the ticket (not posted again)"
    status_id = getattr(outcome, "verified_status_id", None)
    if status_id is not None:
        name = one_line(getattr(outcome, "verified_status_name", None) or "")
        status = f"{name} ({status_id})" if name else f"status id {status_id}"
        return f"{verb} · ConnectWise ticket #{ticket} status verified: {status} · {note_part}"
    reason = (
        one_line(getattr(outcome, "status_skipped_reason", None) or getattr(outcome, "message", None) or "")
        or "no target status"
    )
    return f"{verb} · {note_part[0].upper()}{note_part[1:]} to ConnectWise ticket #{ticket}; status unchanged: {reason}"


KEPT = "The session stays open; your text is kept."


def failure_text(exc: BaseException, kind: str) -> str:
    """What happened and what was NOT done, for an error notification. Never includes a traceback."""
    done = _done(kind)
    message = one_line(exc.message).rstrip(".") if isinstance(exc, DomainError) else f"unexpected {type(exc).__name__}"
    note = getattr(exc, "external_note_id", None)
    if note is not None:  # the note is on the ticket; only the status step failed
        retry = "retrying will not post the note again."
        observed = getattr(exc, "observed_status_name", None)
        ticket = getattr(getattr(exc, "note", None), "ticket_id", None)
        if isinstance(exc, VerificationError) and observed and ticket:
            return (
                f"Note #{note} was posted but the status change was not verified: ConnectWise accepted the "
                f"change but ticket #{ticket} shows {one_line(observed)}. {KEPT[:-1]}; {retry}"
            )
        if isinstance(exc, VerificationError):
            return f"Note #{note} was posted but the status change was not verified: {message}. {KEPT[:-1]}; {retry}"
        return f"{message}. {KEPT[:-1]}; {retry}"
    if isinstance(exc, PsaError):
        return f"{message}. The session was not marked {done}; your text is kept."
    if isinstance(exc, (Conflict, PermissionDenied, InvalidInput)):
        return f"Not posted: {message}. Nothing was sent; your text is kept."
    if isinstance(exc, DomainError):
        return f"Could not complete: {message}. {KEPT}"
    return f"Could not complete ({message}). Check the ticket before retrying. {KEPT}"
