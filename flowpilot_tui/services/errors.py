"""The domain errors, as the services import them; they are defined on the ground floor (`flowpilot_tui.errors`) so
that `config` can raise `ConfigError` without importing the services package."""

from flowpilot_tui.errors import (
    ConfigError,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PsaError,
    VerificationError,
)

__all__ = [
    "ConfigError",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "PsaError",
    "VerificationError",
]
