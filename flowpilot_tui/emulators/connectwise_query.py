"""The subset of ConnectWise list-query syntax the emulator honours: `conditions`, `orderBy`, `fields`, paging.

`conditions` supports `field op value` clauses joined by `and` (ops `= != < <= > >= contains like`), nested
fields with `/`, quoted strings, numbers, `true`/`false`/`null` and `[DateTime]`. Anything else is malformed and
gets ConnectWise's own error text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MALFORMED = (
    "Expected a boolean value, not a numeric. String values should be enclosed with double or single quotes; "
    "DateTime values should be enclosed in square brackets; numbers should consist of only digits, and optionally "
    "a decimal point and a negation sign."
)
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25

_CLAUSE = re.compile(
    r"""\s*(?P<field>[A-Za-z_][\w/]*)\s*
        (?P<op>!=|<=|>=|=|<|>|\bcontains\b|\blike\b)\s*
        (?P<value>"[^"]*"|'[^']*'|\[[^\]]*\]|-?\d+(?:\.\d+)?|true|false|null)\s*""",
    re.IGNORECASE | re.VERBOSE,
)


class QueryError(ValueError):
    """Malformed query parameter; the message is what ConnectWise would say."""


def lookup(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _literal(raw: str) -> Any:
    low = raw.lower()
    if raw[0] in "\"'":
        return raw[1:-1]
    if raw[0] == "[":
        return raw[1:-1]  # ISO timestamps compare correctly as strings
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    return float(raw) if "." in raw else int(raw)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    op = op.lower()
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    if op in ("contains", "like"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        if op == "contains":
            return expected.lower() in actual.lower()
        pattern = "^" + ".*".join(re.escape(p) for p in expected.lower().split("%")) + "$"
        return re.match(pattern, actual.lower(), re.DOTALL) is not None
    if actual is None or expected is None:
        return False
    try:
        return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]
    except TypeError:
        return False


def parse_conditions(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """Compile a `conditions` string into a predicate, or raise `QueryError`."""
    if not text or not text.strip():
        return lambda _record: True
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise QueryError(MALFORMED)
        clauses.append((match["field"], match["op"], _literal(match["value"])))

    def predicate(record: dict[str, Any]) -> bool:
        return all(_compare(lookup(record, f), op, v) for f, op, v in clauses)

    return predicate


def order(records: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    """Apply `orderBy=field[/sub] [asc|desc]`; default is by id ascending."""
    spec = (order_by or "id asc").strip().split()
    field = spec[0]
    descending = len(spec) > 1 and spec[1].lower() == "desc"
    return sorted(records, key=lambda r: (lookup(r, field) is None, lookup(r, field)), reverse=descending)


def page_bounds(page: str | None, page_size: str | None) -> tuple[int, int]:
    """1-based page and a page size clamped to ConnectWise's hard limit of 1000."""
    try:
        number = max(1, int(page or 1))
        size = int(page_size or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise QueryError(MALFORMED) from None
    return number, min(max(1, size), MAX_PAGE_SIZE)


def select_fields(record: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Honour `fields=id,status/name,_info`: keep only the named (possibly nested) keys."""
    if not fields:
        return record
    out: dict[str, Any] = {}
    for name in (f.strip() for f in fields.split(",")):
        if not name:
            continue
        parts = name.split("/")
        value = lookup(record, name)
        if value is None and parts[0] not in record:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out
