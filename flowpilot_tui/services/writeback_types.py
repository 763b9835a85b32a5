"""Writeback result and error types, shared by the service, the TUI and the CLI (`to_json` for `--json`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flowpilot_tui.services.errors import InvalidInput, PsaError, VerificationError
from flowpilot_tui.services.psa.base import NoteVisibility

OUTCOMES = ("resolved", "escalated", "resolved_local", "escalated_local")
VISIBILITY = {"resolve": "customer-visible Resolution note", "escalate": "internal analysis note"}


@dataclass(frozen=True)
class KindSpec:
    kind: str
    visibility: NoteVisibility
    status_pref: str  # account preference holding the target status id
    label: str  # "resolution note" / "internal escalation note"
    markdown_field: str
    time_field: str
    outcome: str
    local_outcome: str

    @property
    def customer_visible(self) -> bool:
        return self.visibility is NoteVisibility.RESOLUTION


KINDS = {
    "resolve": KindSpec(
        "resolve",
        NoteVisibility.RESOLUTION,
        "cw_resolved_status_id",
        "resolution note",
        "resolution_note_markdown",
        "resolved_at",
        "resolved",
        "resolved_local",
    ),
    "escalate": KindSpec(
        "escalate",
        NoteVisibility.INTERNAL,
        "cw_escalated_status_id",
        "internal escalation note",
        "escalation_package_markdown",
        "escalated_at",
        "escalated",
        "escalated_local",
    ),
}


def kind_spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidInput(f"Unknown writeback kind {kind!r}; use resolve or escalate") from None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True)
class WritebackOutcome:
    outcome: str  # one of OUTCOMES
    session_id: str
    ticket_id: int | None
    external_note_id: str | None
    posted_at: datetime | None
    verified_status_id: int | None
    verified_status_name: str | None
    status_skipped_reason: str | None
    note_already_posted: bool  # this call resumed: the note was on the ticket from an earlier attempt
    message: str  # one human line
    accepted_flags: list[dict[str, str]] = field(default_factory=list)  # review flags/secrets acknowledged
    time_entry_id: int | None = None  # the ConnectWise time entry posted with the note (verified by re-reading)
    time_entry_hours: float | None = None
    time_skipped_reason: str | None = None  # why no time entry was posted (unset settings, --no-time)
    # a retry found an earlier version of the note on the ticket: what the confirmed text adds to it, as the text
    # of a follow-up note (posted with `post_follow_up` / `flowpilot post --post-follow-up`, never silently)
    follow_up_text: str | None = None
    follow_up_note_id: str | None = None  # the follow-up note posted for it
    # the note already on the ticket is an earlier version of the confirmed text (the session keeps the ticket's);
    # with no `follow_up_text` the edits only remove text, which only an edit on the ticket itself can do
    ticket_text_differs: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["posted_at"] = _iso(self.posted_at)
        return data


@dataclass(frozen=True)
class NoteRef:
    """A note that is on the ticket."""

    session_id: str
    ticket_id: int
    external_note_id: str
    posted_at: datetime | None


class _NotePosted:
    """The note is on the ticket but the status step failed: the CLI reports the note id, the TUI keeps the draft."""

    note: NoteRef

    @property
    def external_note_id(self) -> str:
        return self.note.external_note_id

    def to_json(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": str(self),
            "session_id": self.note.session_id,
            "ticket_id": self.note.ticket_id,
            "external_note_id": self.note.external_note_id,
            "posted_at": _iso(self.note.posted_at),
            "status_verified": False,
        }


class StatusVerificationError(_NotePosted, VerificationError):
    """ConnectWise accepted the change but reading the ticket back shows another status."""

    def __init__(
        self, message: str, *, note: NoteRef, observed_status_id: int, observed_status_name: str, target_status_id: int
    ) -> None:
        super().__init__(message)
        self.note = note
        self.observed_status_id = observed_status_id
        self.observed_status_name = observed_status_name
        self.target_status_id = target_status_id


class StatusChangeError(_NotePosted, PsaError):
    """The status could not be changed (refused, unreachable, or the target status is not usable on the board)."""

    def __init__(self, message: str, *, note: NoteRef) -> None:
        super().__init__(message)
        self.note = note


class NoteOutcomeUnknown(PsaError):
    """The POST may or may not have created the note and the notes could not be checked; retrying checks first."""

    def __init__(self, message: str, *, session_id: str, ticket_id: int) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.ticket_id = ticket_id


@dataclass(frozen=True)
class PostPlan:
    """What a confirmed post will do, stated for the engineer before anything is sent."""

    kind: str
    local: bool
    ticket_id: int | None
    connection_name: str | None
    visibility: str  # "customer-visible Resolution note" | "internal analysis note" | "local only"
    customer_visible: bool
    target_status_id: int | None
    status_skipped_reason: str | None
    target_status_name: str | None = None  # read from the ticket's board when asked (`plan(with_status_name=True)`)

    @classmethod
    def of(
        cls, spec: KindSpec, ticket_id: int | None, connection: str | None, target: int | None, skipped: str | None
    ) -> PostPlan:
        local = ticket_id is None or connection is None
        customer = spec.customer_visible
        visibility = "local only" if local else VISIBILITY[spec.kind]
        return cls(spec.kind, local, ticket_id, connection, visibility, customer and not local, target, skipped)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
