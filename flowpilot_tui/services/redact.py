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

_PASSWORD_KEYS = r"pass(?:word|wd|phrase|code)?|pwd|pw"
_SECRET_KEYS = (
    r"client[_-]?secret|secret(?:[_-]?key)?|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token"
    r"|refresh[_-]?token|token|account[_-]?key|shared[_-]?access[_-]?key|aws_secret_access_key|private[_-]?key"
    r"|sig|signature"
)
# Helpdesk labels for password-like values: the plain ones, Wi-Fi keys and PSKs, passphrases, PINs, temporary
# access passes and BitLocker recovery keys, optionally qualified ("VPN password", "local admin pw").
_QUALIFIER = (
    r"(?:(?:local\s+)?admin(?:istrator)?|user|account|vpn|wi-?fi|wireless|wlan|guest|network|new|old|temp(?:orary)?"
    r"|initial|default|root|sa|db|database|domain|email|mail|portal|router|firewall|switch|nas|bios|uefi|one-?time)"
)
_PW_LABEL = (
    rf"(?:{_QUALIFIER}\s+)?(?:{_PASSWORD_KEYS}|pin)"
    r"|(?:wi-?fi|wireless|wlan|wpa[23]?|network|security|guest)\s+key|pre-?shared[\s-]key|psk"
    r"|temporary\s+access\s+pass(?:\s*\(TAP\))?|(?-i:TAP)"
)
_RECOVERY_LABEL = r"(?:bitlocker\s+)?recovery\s+(?:key|password)|bitlocker\s+key"
_FREEFORM = re.compile(r"passphrase|psk|pre-?shared|wi-?fi|wireless|wlan|wpa|network|security|guest", re.IGNORECASE)
_STRICT_SEP = r"\s*(?::|=>?)\s*"
_PHRASE_SEP = (
    r"\s+-\s+|\s+(?:is|was|will\s+be|should\s+be|has\s+been|had\s+been)\s+(?:now\s+|still\s+|temporarily\s+)?"
    r"(?:(?:re)?set\s+to\s+|changed\s+to\s+|updated\s+to\s+)?|\s+(?:(?:re)?set|changed|updated)\s+to\s+"
)
_VALUE = r"(?P<v>\"[^\"\n]+\"|'[^'\n]+'|`[^`\n]+`|[^\s;\"',`]+)"
# `password: x`, `pwd=x`, `"password": "x"`, `Password=x;` (ADO), `password is x`, `password for jsmith is x`,
# `the Wi-Fi key was x`, `recovery key: 123456-…`.
_LABELLED = re.compile(
    rf"(?<![A-Za-z0-9$])(?P<key>{_RECOVERY_LABEL}|{_PW_LABEL}|{_SECRET_KEYS})[\"']?"
    r"(?:\s+(?:for|of|on)\s+(?P<who>[^\n:;=.]{1,48}?))?"
    r"(?:\s+(?:you|i|we|they|he|she)\s+(?:gave|sent|provided|used|set|shared|mentioned|gave\s+me)(?:\s+(?:me|us|you))?)?"
    rf"(?:(?P<strict>{_STRICT_SEP})|(?P<phrase>{_PHRASE_SEP})){_VALUE}",
    re.IGNORECASE,
)
# Environment-variable style: PGPASSWORD=x, MYSQL_PWD=x, DB_PASS=x, GITHUB_TOKEN=x.
_ENV_VAR = re.compile(
    r"\b[A-Z][A-Z0-9_]*(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_KEY|APIKEY)\s*=\s*"
    r"(?P<v>\"[^\"\n]+\"|'[^'\n]+'|[^\s;\"',]+)"
)
# "Reset the VPN password to x", "set her password to x", "reset jsmith to x".
_SET_PASSWORD_TO = re.compile(
    r"\b(?:re)?set\b[^.\n]{0,40}?\b(?:pass(?:word|wd|phrase|code)?|pin|psk|key)\s+(?:to|as)\s+"
    r"(?P<v>\"[^\"\n]+\"|'[^'\n]+'|[^\s;\"',]+)",
    re.IGNORECASE,
)
_RESET_USER_TO = re.compile(
    r"\breset\s+(?:the\s+)?(?:account\s+|user\s+)?(?:for\s+)?[A-Za-z][\w.\\@-]{1,40}\s+to\s+(?P<v>[^\s;\"',]+)",
    re.IGNORECASE,
)
# creds: admin:Pa55 · login jsmith / Winter24! · credentials svc_backup/Xy9!q
_CREDS = re.compile(
    r"\b(?:creds|credentials|login|logon|sign-?in|account)\b\s*(?:[:=-]|is|are|was|were)?\s*"
    r"(?P<u>[A-Za-z][\w.\\@-]{0,60}?)\s*(?::|\s/\s|/)\s*(?P<v>[^\s/;,\"']{4,})",
    re.IGNORECASE,
)
# DOMAIN\jsmith / Winter24!  ·  jsmith@contoso.com / Pa55w0rd
_USER_SLASH_PASS = re.compile(r"(?<!\S)(?P<u>[A-Za-z][\w.\\@-]{1,60})\s+/\s+(?P<v>[^\s/;,\"']{6,})(?!\S)")
_CRED_CONTEXT = re.compile(r"\b(?:user(?:name)?|account|login|logon|creds|credentials|admin|sign[- ]?in)\b", re.I)
# BitLocker recovery password shape: eight groups of six digits.
_RECOVERY_SHAPE = re.compile(r"(?<![\d-])\d{6}(?:-\d{6}){7}(?![\d-])")
# Commands that take a password as a positional argument or flag.
_ARG = r"(?P<v>\"[^\"\n]+\"|'[^'\n]+'|[^\s\"']+)"
_COMMANDS = [
    # net user NAME PASS [/add] (a `*` asks for it interactively)
    re.compile(r"\bnet(?:\.exe)?\s+user\s+(?:\"[^\"\n]+\"|[^\s/\"]+)\s+(?!/|\*(?:\s|$))" + _ARG, re.IGNORECASE),
    # cmdkey /pass:X, xfreerdp /p:X, runas-style /password:X
    re.compile(r"(?<!\S)/(?:pass(?:word)?|p):" + _ARG, re.IGNORECASE),
    # mysql -pPASS (a bare -p prompts)
    re.compile(
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb(?:-dump)?)\b[^\n|]*?(?<=\s)-p"
        + _ARG.replace("(?P<v>", "(?P<v>(?!\\s)")
    ),
    # curl -u user:PASS / --user user:PASS
    re.compile(r"\bcurl\b[^\n|]*?\s(?:-u|--user)\s*[\"']?[^:\s\"']+:(?P<v>[^\s\"']+)"),
    # psexec/paexec -p PASS, sshpass -p PASS, plink/pscp -pw PASS
    re.compile(
        r"\b(?:psexec(?:64)?|paexec|sshpass|plink|pscp|psftp)(?:\.exe)?\b[^\n|]*?\s-pw?\s+(?!-)" + _ARG, re.IGNORECASE
    ),
    # sqlcmd/bcp/osql -P PASS
    re.compile(r"\b(?:sqlcmd|bcp|osql|isql)(?:\.exe)?\b[^\n|]*?\s-P\s*(?!-)" + _ARG),
    # ldapsearch/ldapmodify -w PASS
    re.compile(r"\bldap\w+\b[^\n|]*?\s-w\s+(?!-)" + _ARG),
    # smbclient -U user%PASS, rpcclient, mount.cifs
    re.compile(r"\b(?:smbclient|rpcclient|smbmap|net\s+rpc)\b[^\n|]*?\s-U\s+[\"']?[^%\s\"']+%(?P<v>[^\s\"']+)"),
    # PowerShell: ConvertTo-SecureString 'PASS' -AsPlainText; -Password PASS; -AccountPassword PASS
    re.compile(r"ConvertTo-SecureString\s+(?:-String\s+)?(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s$(][^\s)]*)", re.IGNORECASE),
    re.compile(
        r"(?<=\s)--?(?:new|old|account)?pass(?:word|wd)?\s+(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s$(\-'\"][^\s)]*)",
        re.IGNORECASE,
    ),
    # echo PASS | sudo -S, echo PASS | passwd --stdin
    re.compile(r"\becho\s+(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s|$]+)\s*\|\s*(?:sudo\s+-S|passwd\b|chpasswd)"),
]
# net use [X:] \\host\share PASS /user:… (the password may also follow the /user switch)
_NET_USE = re.compile(r"\bnet(?:\.exe)?\s+use\b(?P<args>[^\n|&]*)", re.IGNORECASE)

# Values that describe a password rather than being one ("password: reset", "password is incorrect").
_NOT_A_VALUE = {
    "reset",
    "expired",
    "expires",
    "expiring",
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
    "sent",
    "emailed",
    "texted",
    "provided",
    "given",
    "shared",
    "rotated",
    "issued",
    "generated",
    "escrowed",
    "backed",
    "available",
    "attached",
    "see",
    "via",
    "by",
    "from",
    "with",
    "and",
    "or",
    "for",
    "of",
    "at",
    "to",
    "never",
    "already",
    "due",
    "complex",
    "weak",
    "strong",
    "long",
    "short",
    "different",
    "vault",
    "documented",
    "recorded",
    "removed",
    "disabled",
    "enabled",
    "it",
    "this",
    "that",
    "their",
    "his",
    "her",
    "your",
    "my",
    "our",
    "used",
    "needed",
    "asked",
    "requested",
    "prompted",
    "entered",
    "typed",
    "cached",
    "remembered",
    "forgotten",
    "reused",
    "case-sensitive",
    "masked",
    "confirmed",
    "verified",
    "tested",
    "works",
    "failed",
    "fails",
    "good",
    "bad",
    "ready",
    "pending",
    "length",
    "history",
    "age",
    "count",
    "attempts",
    "retry",
    "retries",
    "reset.",
    "written",
    "kept",
    "held",
    "stale",
    "mismatch",
    "mismatched",
    "correctly",
    "as",
    "is",
    "was",
    "be",
    "{redacted}",
    "xxx",
    "xxxx",
    "****",
    "*****",
    "******",
    "********",
}
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/_=-])")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F-]+$")
_WORDLIKE_SEGMENT = re.compile(r"^[A-Z]?[a-z]{2,}(?:[A-Z][a-z]{2,})*[0-9]*$")
# Places where a long random-looking token is an identifier, not a secret: URLs (meeting links, share links),
# mail Message-IDs and address local parts. Labelled secrets inside them (`?sig=`, `token=`) are still caught.
_ID_CONTEXT = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://\S+|<[^<>\s@]{1,200}@[^<>\s]{1,200}>|[^\s<>@]{1,200}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)
_WORD_AFTER = re.compile(r"[ \t]+(?P<t>[^\s;,\"'`]+)")
_STOP_WORDS = {
    "for",
    "and",
    "then",
    "on",
    "to",
    "from",
    "user",
    "username",
    "login",
    "via",
    "at",
    "in",
    "with",
    "or",
    "the",
    "a",
    "an",
    "is",
    "was",
    "see",
    "stored",
    "kept",
    "saved",
    "changed",
    "rotated",
    "reset",
    "set",
    "not",
    "no",
}

_PRIORITY = {
    "private_key": 6,
    "connection_string": 5,
    "recovery_key": 5,
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
    for m in _RECOVERY_SHAPE.finditer(text):
        candidates.append((m.start(), m.end(), "recovery_key"))
    for m in _LABELLED.finditer(text):
        key = " ".join(m.group("key").lower().split())
        kind = _label_kind(key)
        strict = m.group("strict") is not None
        freeform = bool(_FREEFORM.search(key))
        span = _value_span(m, strict=strict or kind == "recovery_key", key=key)
        if span is None and strict and freeform:
            span = _phrase_value(text, m)
        elif span is not None and strict and kind != "recovery_key":
            span = (span[0], _continue_value(text, span[1], freeform=freeform))
        if span is not None:
            candidates.append((*span, kind))
    for m in _ENV_VAR.finditer(text):
        span = _value_span(m, strict=True)
        if span is not None:
            name = m.group().split("=")[0].upper()
            candidates.append((*span, "password" if "PASS" in name or "PWD" in name else "secret"))
    for pattern in (_SET_PASSWORD_TO, _RESET_USER_TO, _CREDS):
        for m in pattern.finditer(text):
            span = _value_span(m, strict=False, strong=pattern is not _SET_PASSWORD_TO)
            if span is not None:
                candidates.append((*span, "password"))
    for m in _USER_SLASH_PASS.finditer(text):
        user = m.group("u")
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        if any(c in user for c in "\\@._") or _CRED_CONTEXT.search(line):
            span = _value_span(m, strict=False, strong=True)
            if span is not None:
                candidates.append((*span, "password"))
    for pattern in _COMMANDS:
        for m in pattern.finditer(text):
            span = _value_span(m, strict=True)
            if span is not None:
                candidates.append((*span, "password"))
    for m in _NET_USE.finditer(text):
        candidates += _net_use_password(m)
    protected = [m.span() for m in _ID_CONTEXT.finditer(text)]
    for m in _CANDIDATE.finditer(text):
        if looks_random(m.group()) and not any(s <= m.start() and m.end() <= e for s, e in protected):
            candidates.append((m.start(), m.end(), "high_entropy"))
    return _resolve(text, candidates)


def _label_kind(key: str) -> str:
    if "recovery" in key or "bitlocker" in key:
        return "recovery_key"
    if re.fullmatch(_SECRET_KEYS, key, re.IGNORECASE):
        return "secret"
    return "password"


def _net_use_password(m: re.Match[str]) -> list[tuple[int, int, str]]:
    """`net use [X:|*] \\\\host\\share [PASS|*] [/switches]`: any bare argument after the share is the password."""
    args = m.group("args")
    base = m.start("args")
    seen_share = False
    out: list[tuple[int, int, str]] = []
    for tok in re.finditer(r"\"[^\"\n]*\"|\S+", args):
        value = tok.group()
        bare = value.strip('"')
        if bare.startswith("\\\\"):
            seen_share = True
            continue
        if not seen_share or bare.startswith("/") or bare in ("*", "") or bare.startswith(PLACEHOLDER_PREFIX):
            continue
        if bare.startswith(("(", "#", "&", ";")):
            break  # prose or another command follows
        if bare.startswith(("$", "%")) or not (value.startswith('"') or password_like(bare)):
            continue
        start = base + tok.start() + (1 if value.startswith('"') else 0)
        out.append((start, start + len(bare), "password"))
    return out


def password_like(value: str, *, strong: bool = False) -> bool:
    """Could this token be a password rather than a word? Mixed character classes, or a long digit string."""
    v = value.strip()
    if len(v) < (6 if strong else 4):
        return False
    upper = any(c.isupper() for c in v)
    lower = any(c.islower() for c in v)
    digit = any(c.isdigit() for c in v)
    symbol = any(not c.isalnum() for c in v.rstrip(".!?"))
    if strong:
        return sum((upper, lower, digit, symbol)) >= 3
    if v.isdigit():
        return len(v) >= 6
    if digit and (upper or lower):
        return True
    if symbol and (upper or lower or digit) and not re.fullmatch(r"[A-Za-z]+(?:[-'][A-Za-z]+)*", v.rstrip(".!?")):
        return True
    return upper and lower and any(c.isupper() for c in v[1:])


def _value_span(m: re.Match[str], *, strict: bool, strong: bool = False, key: str = "") -> tuple[int, int] | None:
    start, end = m.span("v")
    value = m.group("v")
    quoted = value[0] in "\"'`" and len(value) >= 2 and value[-1] == value[0]
    if quoted:
        start, end, value = start + 1, end - 1, value[1:-1]
    stripped = value.rstrip(".),") if not quoted else value
    end -= len(value) - len(stripped)
    value = stripped
    if not value or value.startswith(PLACEHOLDER_PREFIX) or value.lower() in _NOT_A_VALUE:
        return None
    if set(value) <= {"*", "x", "X", "•", "."}:  # already masked by the writer
        return None
    if value.startswith(("$", "%", "{{", "<", "(")):
        return None  # a variable, template parameter or placeholder, not the secret itself
    if key in ("pwd",) and re.match(r"^(?:/|~|[A-Za-z]:\\)", value):
        return None  # PWD=/home/bob is the shell's working directory, not a password
    if key == "pin" and not value.isdigit():
        return None
    if key in ("sig", "signature") and len(value) < 16:
        return None
    if not (strict or quoted) and not password_like(value, strong=strong):
        return None
    return start, end


def _phrase_value(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """A passphrase of ordinary words ("correct horse battery staple"): three or more words after the label."""
    start = m.start("v")
    first = m.group("v").lower()
    if first in _STOP_WORDS or m.group("v").startswith((PLACEHOLDER_PREFIX, "$", "(", "<")):
        return None
    end = _continue_value(text, m.end("v"), freeform=True)
    return (start, end) if len(text[start:end].split()) >= 3 else None


def _continue_value(text: str, end: int, *, freeform: bool) -> int:
    """After `label: first-token`, take following tokens that are part of the same secret ("Summer 2024!"); for
    passphrases and Wi-Fi keys whole words too ("correct horse battery staple"), up to a delimiter."""
    taken = 0
    limit = 8 if freeform else 3
    while taken < limit:
        m = _WORD_AFTER.match(text, end)
        if m is None:
            break
        token = m.group("t")
        if token[0] in "([{<" or token.lower().rstrip(".,") in _STOP_WORDS or token.startswith(PLACEHOLDER_PREFIX):
            break
        if not freeform and not password_like(token) and not any(not c.isalnum() for c in token.rstrip(".")):
            break
        if freeform and re.search(r"[.!?]$", token) is None and re.fullmatch(r"[\w!@#$%^&*+=~-]+[.,]?", token) is None:
            break
        stripped = token.rstrip(".,")
        end = m.start("t") + len(stripped)
        taken += 1
        if stripped != token:  # a sentence or list ends here
            break
    return end


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
