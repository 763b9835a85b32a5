"""Typed PSA errors. Each message names the operation and the ticket, and shows every validation error the PSA gave.

Messages never contain the auth header, keys or request bodies. `operation` is a gerund phrase such as
"posting the note to ticket #48213".
"""

from __future__ import annotations

from dataclasses import dataclass

from flowpilot_tui.services.errors import PsaError


@dataclass(frozen=True)
class FieldError:
    """One entry of ConnectWise's `errors[]`."""

    message: str
    field: str | None = None
    code: str | None = None
    resource: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class PsaCallError(PsaError):
    """A PSA call failed. `status_code` is None when no HTTP answer arrived."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        ticket_id: int | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.ticket_id = ticket_id
        self.status_code = status_code
        self.code = code
        self.request_id = request_id

    @property
    def outcome_unknown(self) -> bool:
        """True when a write may have taken effect even though the call failed."""
        return False


class PsaAuthError(PsaCallError):
    """401: wrong company id / keys, or a missing clientId."""


class PsaPermissionError(PsaCallError):
    """403: the API member's security role lacks the right."""


class PsaNotFound(PsaCallError):
    """404 after rediscovery: the ticket/board does not exist (or the URL/codebase is wrong)."""


class PsaValidationError(PsaCallError):
    """400: the PSA refused the data. Never retried unchanged."""

    def __init__(self, message: str, *, errors: tuple[FieldError, ...] = (), **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.errors = errors


class PsaRateLimited(PsaCallError):
    """429 still returned after the bounded retries, or Retry-After longer than we are willing to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class PsaServerError(PsaCallError):
    """5xx. For a POST the PSA may have stored the record before failing."""

    def __init__(self, message: str, *, body_sent: bool = True, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.body_sent = body_sent

    @property
    def outcome_unknown(self) -> bool:
        return self.body_sent


class PsaTransportError(PsaCallError):
    """Timeout, reset or refused connection. `body_sent` says whether the PSA may have received the request."""

    def __init__(self, message: str, *, body_sent: bool, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.body_sent = body_sent

    @property
    def outcome_unknown(self) -> bool:
        return self.body_sent
