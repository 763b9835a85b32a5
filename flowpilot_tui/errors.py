"""Typed domain errors (ground floor: imported by config, services and UI alike; imports nothing of the project).

The TUI turns them into notifications and the CLI into exit codes (`exit_code`), so every layer speaks the same
language about what went wrong. Messages are user-facing: never put secrets in them.
"""

from __future__ import annotations

from typing import Any

_DOCUMENTED_FIELDS = ("session_id", "ticket_id", "status_code", "operation")


class DomainError(Exception):
    """Base for errors a user should see as a clear one-line message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message

    def to_json(self) -> dict[str, Any]:
        """Extra fields for the CLI's `{"error": ...}` document; errors that know more override this."""
        fields = vars(self)
        return {name: fields[name] for name in _DOCUMENTED_FIELDS if fields.get(name) is not None}


class InvalidInput(DomainError):
    """The request itself is malformed (empty title, unknown fact kind, ...)."""

    exit_code = 2


class ConfigError(DomainError):
    """Settings file or environment is malformed or inconsistent."""

    exit_code = 2


class NotFound(DomainError):
    """Missing, or belongs to another account: both read the same on purpose."""

    exit_code = 3


class Conflict(DomainError):
    """The state rules forbid it (already resolved, superseded fix, concurrent post)."""

    exit_code = 4


class PsaError(DomainError):
    """The PSA refused, failed or could not be reached."""

    exit_code = 5


class VerificationError(PsaError):
    """The PSA accepted a change but reading it back shows it did not stick."""

    exit_code = 6


class PermissionDenied(DomainError):
    """The current user's role does not allow this action."""

    exit_code = 7
