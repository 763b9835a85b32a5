"""Persistent domain model (SQLAlchemy 2, typed). Schema changes go through Alembic (`services/migrations`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "engineer", "viewer")
SESSION_STATUSES = ("active", "paused", "requesting_escalation", "escalated", "resolved")
FACT_KINDS = ("symptom", "environment", "confirmed", "tried", "hypothesis")
FIX_DECISIONS = ("one_off", "draft_template", "build_template", "dismissed")
NOTE_KINDS = ("resolve", "escalate")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC in SQLite, hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("login", name="uq_users_login"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    login: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class PSAConnection(Base):
    """A PSA connection by name. Credentials stay in settings/env, never here."""

    __tablename__ = "psa_connections"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_psa_connections_account_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))


class AISession(Base):
    __tablename__ = "ai_sessions"
    __table_args__ = (
        Index("ix_ai_sessions_page", "account_id", "updated_at", "id"),
        Index("ix_ai_sessions_status_page", "account_id", "status", "updated_at", "id"),
        Index("ix_ai_sessions_owner_page", "account_id", "owner_id", "updated_at", "id"),
        Index("ix_ai_sessions_ticket_page", "account_id", "psa_ticket_id", "updated_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30), default="active")
    psa_connection_id: Mapped[int | None] = mapped_column(ForeignKey("psa_connections.id"))
    psa_ticket_id: Mapped[int | None] = mapped_column(Integer)
    state_version: Mapped[int] = mapped_column(Integer, default=1)
    resolution_note_markdown: Mapped[str | None] = mapped_column(Text)
    escalation_package_markdown: Mapped[str | None] = mapped_column(Text)
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    owner: Mapped[User] = relationship(lazy="raise")
    psa_connection: Mapped[PSAConnection | None] = relationship(lazy="raise")


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_session", "session_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # user | assistant | system | tool
    content: Mapped[str] = mapped_column(Text)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class SessionFact(Base):
    __tablename__ = "session_facts"
    __table_args__ = (Index("ix_session_facts_session", "session_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)  # for kind == "tried"
    source: Mapped[str] = mapped_column(String(20), default="engineer")  # engineer | assistant | demo
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SessionSuggestedFix(Base):
    __tablename__ = "suggested_fixes"
    __table_args__ = (Index("ix_suggested_fixes_session", "session_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    rationale: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[Any]] = mapped_column(default=list)
    target_shell: Mapped[str | None] = mapped_column(String(20))  # powershell | bash
    source: Mapped[str] = mapped_column(String(20), default="engineer")
    created_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]
    user_decision: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None]


# --- tables for the workspace, generation, scripts and writeback issues ---------------------------------------


class PreviewCache(Base):
    """Generated previews keyed by (session, kind, state_version, generator key); bounded per session."""

    __tablename__ = "preview_cache"
    __table_args__ = (
        UniqueConstraint("session_id", "kind", "state_version", "generator_key", name="uq_preview_cache_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state_version: Mapped[int] = mapped_column(Integer)
    generator_key: Mapped[str] = mapped_column(String(200))
    generator: Mapped[str] = mapped_column(String(20))  # offline | claude
    model: Mapped[str | None] = mapped_column(String(100))
    markdown: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # usage, flags, fallback reason, redaction count
    created_at: Mapped[datetime]


class Draft(Base):
    """The engineer's edited note per (session, kind): saved while typing, cleared only after a successful post."""

    __tablename__ = "drafts"
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    base_state_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class Script(Base):
    """A script produced for a fix decision. The app shows it; it never runs it."""

    __tablename__ = "scripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"), index=True)
    fix_id: Mapped[int | None] = mapped_column(ForeignKey("suggested_fixes.id"))
    shell: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    generator: Mapped[str] = mapped_column(String(20), default="offline")
    created_at: Mapped[datetime]


class ScriptTemplate(Base):
    __tablename__ = "script_templates"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_script_templates_account_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("ai_sessions.id", ondelete="SET NULL"))
    fix_id: Mapped[int | None] = mapped_column(ForeignKey("suggested_fixes.id"))
    name: Mapped[str] = mapped_column(String(200))
    shell: Mapped[str] = mapped_column(String(20))
    parameters: Mapped[list[Any]] = mapped_column(default=list)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | built
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WritebackJournal(Base):
    """One row per (session, kind, attempt series): intent → note posted → status verified. Never post twice."""

    __tablename__ = "writeback_journal"
    __table_args__ = (Index("ix_writeback_journal_session_kind", "session_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("ai_sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    connection_name: Mapped[str | None] = mapped_column(String(100))
    text_hash: Mapped[str] = mapped_column(String(64))
    marker: Mapped[str | None] = mapped_column(String(64))
    external_note_id: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime | None]
    target_status_id: Mapped[int | None] = mapped_column(Integer)
    verified_status_id: Mapped[int | None] = mapped_column(Integer)
    verified_status_name: Mapped[str | None] = mapped_column(String(100))
    skipped_reason: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEvent(Base):
    """What was done and by whom; PSA calls included. Never holds secrets."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account", "account_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class PsaCache(Base):
    """What a connection's PSA said about slow-changing things, kept across processes (issue 15): a board's statuses
    (`kind` "board_statuses", `key` the board id) and a ticket's board (`kind` "ticket", `key` the ticket id), with
    when it was read. Only a hint: a status id the PSA refuses drops the row and is re-read before one retry."""

    __tablename__ = "psa_cache"
    __table_args__ = (UniqueConstraint("connection_id", "kind", "key", name="uq_psa_cache_entry"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("psa_connections.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime]
