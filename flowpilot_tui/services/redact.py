"""Find and mask secrets before text leaves the machine (model prompts) or reaches a customer.

Why a hand-written detector: it has to run offline, be deterministic (placeholders feed cache keys and
byte-identical offline notes) and, just as important, leave alone the identifiers an engineer needs —
ticket numbers, hostnames, IPs, GUIDs, KB numbers, error codes, file paths, versions and Windows SIDs.

Decisions:
- GUIDs and pure-hex strings (hashes, certificate thumbprints) are kept: they are almost always ids the
  next engineer needs. A hex secret is still caught when it is labelled (`api_key=...`, `secret: ...`).
- Only the secret value is masked; the label stays (`password: [REDACTED:password]`), so the text still
  reads and the model knows a password existed.
- Placeholders name only the kind, never a hash of the value: nothing about the secret leaks and the
  same input always yields the same output.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

PLACEHOLDER_PREFIX = "[REDACTED:"


@dataclass(frozen=True)
class RedactedItem:
    """One masked secret; `start`/`end` index the *original* text."""

    kind: str
    original: str
    placeholder: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """Redacted text plus what was removed (the list stays local: it holds the secrets)."""

    text: str
    items: list[RedactedItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)


def placeholder(kind: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{kind}]"


# Higher priority wins when two findings overlap (a PEM block beats the entropy check inside it).
_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----.*?(?:-----END \1PRIVATE KEY\2-----|\n\s*\n|\Z)",
    re.DOTALL,
)
_URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@]*:(?P<v>[^\s@/]+)@[^\s]+")
_PREFIXED = [
    ("api_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}")),
    ("api_key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("api_key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("api_key", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("api_key", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("api_key", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("api_key", re.compile(r"\bxox[bpas]-[A-Za-z0-9-]{10,}")),
    ("api_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
]
_AUTH_HEADER = re.compile(r"\b(?:Bearer|Basic)\s+(?P<v>[A-Za-z0-9._~+/-]{12,}=*)", re.IGNORECASE)

_PASSWORD_KEYS = r"pass(?:word|wd|phrase)?|pwd|pw"
_SECRET_KEYS = (
    r"client[_-]?secret|secret(?:[_-]?key)?|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token"
    r"|refresh[_-]?token|token|account[_-]?key|shared[_-]?access[_-]?key|aws_secret_access_key|private[_-]?key"
)
# `password: x`, `pwd=x`, `"password": "x"`, `Password=x;` (ADO), `password is x`.
_KEY_VALUE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<key>{_PASSWORD_KEYS}|{_SECRET_KEYS})[\"']?"
    r"(?:\s*[:=]\s*|\s+(?:is|(?:was\s+|is\s+)?(?:re)?set\s+to|(?:was\s+)?changed\s+to)\s+)"
    r"(?P<v>\"[^\"\n]+\"|'[^'\n]+'|[^\s;\"',]+)",
    re.IGNORECASE,
)
# "Reset the VPN password to x", "set her password to x".
_SET_PASSWORD_TO = re.compile(
    r"\b(?:re)?set\b[^.\n]{0,40}?\bpass(?:word|wd)\s+(?:to|as)\s+(?P<v>\"[^\"\n]+\"|'[^'\n]+'|[^\s;\"',]+)",
    re.IGNORECASE,
)
# Values that describe a password rather than being one ("password: reset", "password is incorrect").
_NOT_A_VALUE = {
    "reset",
    "expired",
    "expires",
    "changed",
    "change",
    "required",
    "incorrect",
    "wrong",
    "correct",
    "invalid",
    "valid",
    "set",
    "unset",
    "none",
    "null",
    "n/a",
    "na",
    "unknown",
    "known",
    "policy",
    "prompt",
    "field",
    "manager",
    "protected",
    "locked",
    "same",
    "the",
    "a",
    "an",
    "not",
    "now",
    "still",
    "being",
    "also",
    "too",
    "stored",
    "saved",
    "in",
    "on",
    "managed",
    "blank",
    "empty",
    "hidden",
    "redacted",
    "true",
    "false",
    "yes",
    "no",
    "sync",
    "synced",
    "missing",
    "ok",
    "fine",
    "working",
    "accepted",
    "rejected",
    "updated",
    "<hidden>",
    "***",
}
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-])")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F-]+$")
_WORDLIKE_SEGMENT = re.compile(r"^[A-Z]?[a-z]{2,}(?:[A-Z][a-z]{2,})*[0-9]*$")

_PRIORITY = {
    "private_key": 6,
    "connection_string": 5,
    "api_key": 4,
    "jwt": 4,
    "bearer_token": 3,
    "password": 2,
    "secret": 2,
    "high_entropy": 1,
}


def find_secrets(text: str) -> list[RedactedItem]:
    """Every secret-like span in `text`, in order, without changing it (used to flag final customer text)."""
    candidates: list[tuple[int, int, str]] = []
    for m in _PEM.finditer(text):
        candidates.append((m.start(), m.end(), "private_key"))
    for m in _URL_CREDENTIALS.finditer(text):
        if not m.group("v").startswith(PLACEHOLDER_PREFIX):
            candidates.append((m.start("v"), m.end("v"), "connection_string"))
    for kind, pattern in _PREFIXED:
        candidates.extend((m.start(), m.end(), kind) for m in pattern.finditer(text))
    for m in _AUTH_HEADER.finditer(text):
        candidates.append((m.start("v"), m.end("v"), "bearer_token"))
    for m in _KEY_VALUE.finditer(text):
        span = _value_span(m)
        if span is not None:
            kind = "password" if re.fullmatch(_PASSWORD_KEYS, m.group("key"), re.IGNORECASE) else "secret"
            candidates.append((*span, kind))
    for m in _SET_PASSWORD_TO.finditer(text):
        span = _value_span(m)
        if span is not None:
            candidates.append((*span, "password"))
    for m in _CANDIDATE.finditer(text):
        if looks_random(m.group()):
            candidates.append((m.start(), m.end(), "high_entropy"))
    return _resolve(text, candidates)


def redact(text: str) -> Redaction:
    """Replace each secret with a deterministic `[REDACTED:<kind>]` placeholder."""
    items = find_secrets(text)
    if not items:
        return Redaction(text, [])
    parts: list[str] = []
    pos = 0
    for item in items:
        parts.append(text[pos : item.start])
        parts.append(item.placeholder)
        pos = item.end
    parts.append(text[pos:])
    return Redaction("".join(parts), items)


def looks_random(token: str) -> bool:
    """High-entropy, mixed letters and digits, and not built from words (paths, CamelCase identifiers)."""
    core = token.rstrip("=")
    if len(core) < 20 or _GUID.match(core) or _HEX.match(core):
        return False
    if not (any(c.isdigit() for c in core) and any(c.isalpha() for c in core)):
        return False
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core)) and len(core) < 32:
        return False
    if core.startswith("/") or "//" in core:
        return False
    if _wordlike_share(core) >= 0.4:
        return False
    if _shannon(core) < 3.5:
        return False
    return _long_run_fraction(core) <= 0.5


def _value_span(m: re.Match[str]) -> tuple[int, int] | None:
    start, end = m.span("v")
    value = m.group("v")
    if value[0] in "\"'":
        start, end, value = start + 1, end - 1, value[1:-1]
    stripped = value.rstrip(".)")
    end -= len(value) - len(stripped)
    value = stripped
    if not value or value.startswith(PLACEHOLDER_PREFIX) or value.lower() in _NOT_A_VALUE:
        return None
    if set(value) <= {"*", "x", "X", "•", "."}:  # already masked by the writer
        return None
    if m.re is _KEY_VALUE and m.group("key").lower() == "pwd" and re.match(r"^(?:/|~|[A-Za-z]:\\)", value):
        return None  # PWD=/home/bob is the shell's working directory, not a password
    return start, end


def _resolve(text: str, candidates: list[tuple[int, int, str]]) -> list[RedactedItem]:
    """Keep the highest-priority, then longest, finding where spans overlap."""
    ordered = sorted(candidates, key=lambda c: (-_PRIORITY[c[2]], -(c[1] - c[0]), c[0]))
    taken: list[tuple[int, int, str]] = []
    for start, end, kind in ordered:
        if end <= start or any(start < t_end and t_start < end for t_start, t_end, _ in taken):
            continue
        taken.append((start, end, kind))
    taken.sort()
    return [RedactedItem(kind, text[s:e], placeholder(kind), s, e) for s, e, kind in taken]


def _wordlike_share(s: str) -> float:
    """Share of characters in word-like segments between `/`, `-`, `_` (paths, printer and product names)."""
    segments = re.split(r"[/_-]", s)
    if len(segments) < 2:
        return 0.0
    return sum(len(seg) for seg in segments if _WORDLIKE_SEGMENT.match(seg)) / len(s)


def _shannon(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _char_class(ch: str) -> str:
    return "u" if ch.isupper() else "l" if ch.islower() else "d" if ch.isdigit() else "o"


def _long_run_fraction(s: str) -> float:
    """Share of characters in same-class runs of 4+: high for words and numbers, low for random keys."""
    covered = 0
    run = 1
    for i in range(1, len(s) + 1):
        if i < len(s) and _char_class(s[i]) == _char_class(s[i - 1]):
            run += 1
            continue
        if run >= 4:
            covered += run
        run = 1
    return covered / len(s)
