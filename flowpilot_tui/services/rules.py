"""Session status rules, in one place: the session service, writeback, TUI and CLI all ask here."""

from __future__ import annotations

from flowpilot_tui.services.errors import Conflict

RESOLVE_FROM = frozenset({"active", "paused", "requesting_escalation", "escalated"})
ESCALATE_FROM = frozenset({"active", "paused", "resolved"})
PAUSE_FROM = frozenset({"active", "requesting_escalation"})
RESUME_FROM = frozenset({"paused", "requesting_escalation"})
REQUEST_ESCALATION_FROM = frozenset({"active", "paused"})

# action -> (allowed source statuses, resulting status)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "resolve": (RESOLVE_FROM, "resolved"),
    "escalate": (ESCALATE_FROM, "escalated"),
    "pause": (PAUSE_FROM, "paused"),
    "resume": (RESUME_FROM, "active"),
    "request_escalation": (REQUEST_ESCALATION_FROM, "requesting_escalation"),
}


def target_status(action: str, current: str) -> str:
    """The status `action` leads to from `current`, or `Conflict` if the rules forbid it."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        shown = current.replace("_", " ")
        if action in ("resolve", "escalate") or current == target:
            raise Conflict(f"Session is already {shown}")
        raise Conflict(f"Cannot {action.replace('_', ' ')} a session that is {shown}")
    return target


def allowed(action: str, status: str) -> bool:
    return status in TRANSITIONS[action][0]
