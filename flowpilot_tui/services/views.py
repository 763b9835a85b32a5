"""Plain, immutable views of domain rows: what the TUI and CLI render. No ORM objects leave the services."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flowpilot_tui.services.models import AISession, ChatMessage, SessionFact, SessionSuggestedFix


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class _JsonMixin:
    def to_json(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, datetime):
                return _iso(v)
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        return conv(asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class FactView(_JsonMixin):
    id: int
    kind: str
    text: str
    outcome: str | None
    source: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SessionFact) -> FactView:
        return cls(row.id, row.kind, row.text, row.outcome, row.source, row.created_at, row.updated_at)


@dataclass(frozen=True)
class FixView(_JsonMixin):
    id: int
    title: str
    rationale: str
    steps: tuple[str, ...]
    target_shell: str | None
    source: str
    created_at: datetime
    superseded_at: datetime | None
    user_decision: str | None
    decided_at: datetime | None

    @property
    def active(self) -> bool:
        return self.superseded_at is None

    @classmethod
    def of(cls, row: SessionSuggestedFix) -> FixView:
        return cls(
            row.id,
            row.title,
            row.rationale,
            tuple(str(s) for s in row.steps or ()),
            row.target_shell,
            row.source,
            row.created_at,
            row.superseded_at,
            row.user_decision,
            row.decided_at,
        )


@dataclass(frozen=True)
class MessageView(_JsonMixin):
    id: int
    role: str
    content: str
    interrupted: bool
    meta: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def of(cls, row: ChatMessage) -> MessageView:
        return cls(row.id, row.role, row.content, row.interrupted, row.meta, row.created_at)


@dataclass(frozen=True)
class SessionSummary(_JsonMixin):
    id: str
    title: str
    status: str
    owner_login: str
    owner_name: str
    connection_name: str | None
    ticket_id: int | None
    state_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SessionDetail(_JsonMixin):
    summary: SessionSummary
    facts: tuple[FactView, ...]
    fixes: tuple[FixView, ...]  # newest first; the active one (if any) is the first with superseded_at None
    message_count: int
    resolution_note_markdown: str | None
    escalation_package_markdown: str | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    drafts: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def active_fix(self) -> FixView | None:
        return next((f for f in self.fixes if f.active), None)

    def facts_of(self, kind: str) -> list[FactView]:
        return [f for f in self.facts if f.kind == kind]


@dataclass(frozen=True)
class Page(_JsonMixin):
    items: tuple[SessionSummary, ...]
    total: int  # -1 when not counted (list_sessions(with_total=False))
    offset: int
    limit: int
    more: bool | None = None  # known from one extra fetched row
    next_after: str | None = None  # keyset cursor for the next page (list_sessions(after=...))

    @property
    def has_more(self) -> bool:
        return self.more if self.more is not None else self.offset + len(self.items) < self.total


def summary_of(row: AISession, owner_login: str, owner_name: str, connection_name: str | None) -> SessionSummary:
    return SessionSummary(
        row.id,
        row.title,
        row.status,
        owner_login,
        owner_name,
        connection_name,
        row.psa_ticket_id,
        row.state_version,
        row.created_at,
        row.updated_at,
    )
