"""Who is acting. Every service call is made on behalf of one `Actor`, scoped to their account."""

from __future__ import annotations

from dataclasses import dataclass

from flowpilot_tui.services.errors import PermissionDenied

WRITER_ROLES = frozenset({"admin", "engineer"})


@dataclass(frozen=True)
class Actor:
    account_id: int
    user_id: int
    login: str
    display_name: str
    role: str
    account_name: str = ""
    account_is_demo: bool = False

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES

    def require_writer(self) -> None:
        if not self.can_write:
            raise PermissionDenied(f"Your role ({self.role}) can read sessions but not change them")
