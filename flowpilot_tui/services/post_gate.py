"""The post gate: what in a confirmed note still needs the engineer's explicit word before it reaches a ticket.

- Review flags are the `[CHECK: reason]` markers the generators leave on items that failed a grounding check.
  A note carrying any cannot be posted unless the flags are accepted (`accept_flags`); the acceptance is audited
  with the user who gave it.
- Secrets: a customer-visible note that looks like it holds one is refused unless `allow_secrets`; an internal
  note needs the same acceptance as a flag (MSP practice: passwords belong in the documentation vault).
- Local resolves/escalates (no ticket linked) pass the same gate (`check_stored`): nothing is sent, but the stored
  note is the record (and the resolution note the customer's note, whether posted now or copied later), so flags
  and secrets need the same acknowledgement and the markers are stripped from what is stored.
- Decision: markers are STRIPPED on post, never refused for. `[CHECK: …]` markers are removed from every posted
  note (after acceptance they have served their purpose); internal citation markers (`[F3, X2]`) are also removed
  from customer-visible notes, while the internal escalation note keeps them for traceability.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from flowpilot_tui.errors import InvalidInput
from flowpilot_tui.services.redact import find_secrets

CHECK_MARKER = re.compile(r"[ \t]*\[CHECK:\s*(?P<reason>[^\]\n]*)\]")
CITATION_MARKER = re.compile(r"[ \t]*\[(?:[FXS]\d+)(?:\s*,\s*[FXS]\d+)*\]")
_HEADING = re.compile(r"^(?:#+\s*(?P<h>.+?)\s*$|(?P<l>[A-Z][A-Za-z' -]{2,40}):\s)")


@dataclass(frozen=True)
class ReviewFlag:
    section: str
    text: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def review_flags(markdown: str) -> list[ReviewFlag]:
    """Every `[CHECK: …]` marker with the section it sits in and the item's text (markers removed)."""
    flags: list[ReviewFlag] = []
    section = "note"
    for line in markdown.splitlines():
        head = _HEADING.match(line)
        if head and head.group("h"):
            section = head.group("h")
        elif head and head.group("l"):
            section = head.group("l")
        reasons = [m.group("reason").strip() for m in CHECK_MARKER.finditer(line)]
        if reasons:
            text = CITATION_MARKER.sub("", CHECK_MARKER.sub("", line)).strip().lstrip("-").strip()
            flags += [ReviewFlag(section, text, r or "check") for r in reasons]
    return flags


def text_to_post(markdown: str, *, customer_visible: bool) -> str:
    """The note as it goes on the ticket: review markers always removed, citation ids removed for customers."""
    text = CHECK_MARKER.sub("", markdown)
    if customer_visible:
        text = CITATION_MARKER.sub("", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def text_to_copy(markdown: str, kind: str) -> str:
    """What Copy puts on the clipboard: the text as it would be posted for this kind (the engineer pastes it into
    a ticket or an email), so review markers never leave, nor fact ids from a customer-visible note."""
    from flowpilot_tui.services.writeback_types import kind_spec

    return text_to_post(markdown, customer_visible=kind_spec(kind).customer_visible)


def secret_kinds(markdown: str) -> list[str]:
    return sorted({f.kind.replace("_", " ") for f in find_secrets(markdown)})


class PostGateRefused(InvalidInput):
    """Open flags or secrets without the explicit acknowledgement; nothing was sent (exit code 2)."""

    def __init__(self, message: str, flags: list[ReviewFlag], secrets: list[str]) -> None:
        super().__init__(message)
        self.flags = flags
        self.secrets = secrets

    def to_json(self) -> dict[str, Any]:
        return {"flags": [f.to_json() for f in self.flags], "secret_kinds": self.secrets}


def check(
    markdown: str, *, customer_visible: bool, label: str, accept_flags: bool, allow_secrets: bool
) -> list[ReviewFlag]:
    """Raise PostGateRefused unless everything open was acknowledged; returns the flags that were accepted."""
    flags = review_flags(markdown)
    secrets = secret_kinds(text_to_post(markdown, customer_visible=customer_visible))
    if secrets and customer_visible and not allow_secrets:
        raise PostGateRefused(
            f"the customer-visible {label} looks like it contains a secret ({', '.join(secrets)}); remove it or pass "
            "--allow-secrets; nothing was posted",
            flags,
            secrets,
        )
    if flags and not accept_flags:
        raise PostGateRefused(
            f"the {label} has {len(flags)} open review flag(s) "
            f"({'; '.join(f'{f.section}: {f.reason}' for f in flags[:3])}{' …' if len(flags) > 3 else ''}); "
            "edit them away or accept them (--accept-flags); nothing was posted",
            flags,
            secrets,
        )
    if secrets and not customer_visible and not accept_flags:
        raise PostGateRefused(
            f"the internal {label} looks like it contains a secret ({', '.join(secrets)}); passwords belong in the "
            "documentation vault, not in ticket notes: remove it or acknowledge it (--accept-flags); "
            "nothing was posted",
            flags,
            secrets,
        )
    accepted = list(flags)
    if secrets and not customer_visible:
        accepted.append(ReviewFlag("note", "", f"contains a secret-like string ({', '.join(secrets)})"))
    return accepted


def check_stored(markdown: str, *, kind: str, accept_flags: bool, allow_secrets: bool) -> list[ReviewFlag]:
    """`check` for a note stored without a ticket: the rules of a posted note of that kind (the resolution note
    counts as customer-visible). The CLI refuses with this before asking; the writeback service applies it."""
    customer = kind == "resolve"
    label = "resolution note" if customer else "internal escalation note"
    return check(
        markdown, customer_visible=customer, label=label, accept_flags=accept_flags, allow_secrets=allow_secrets
    )
