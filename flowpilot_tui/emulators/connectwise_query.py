"""The subset of ConnectWise list-query syntax the emulator honours: `conditions`, `orderBy`, `fields`, paging.

`conditions` supports `field op value` clauses joined by `and` / `or` with parentheses (ops `= != < <= > >=
contains like`), nested fields with `/`, quoted strings, numbers, `true`/`false`/`null` and `[DateTime]`.
Anything else is malformed and gets ConnectWise's own error text.
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
    """Compile a `conditions` string into a predicate, or raise `QueryError`.

    Grammar: `expr := term (or term)*`, `term := atom (and atom)*`, `atom := ( expr ) | field op value`; `and`
    binds tighter than `or`, as in ConnectWise. Quoted values may contain the words `and`/`or` and parentheses."""
    if not text or not text.strip():
        return lambda _record: True
    parser = _Parser(text)
    predicate = parser.expr()
    parser.skip()
    if parser.pos != len(text):
        raise QueryError(MALFORMED)
    return predicate


_WORD = re.compile(r"\s*(and|or)\b", re.IGNORECASE)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _word(self, word: str) -> bool:
        match = _WORD.match(self.text, self.pos)
        if match is not None and match[1].lower() == word:
            self.pos = match.end()
            return True
        return False

    def expr(self) -> Callable[[dict[str, Any]], bool]:
        options = [self.term()]
        while self._word("or"):
            options.append(self.term())
        return options[0] if len(options) == 1 else (lambda r: any(p(r) for p in options))

    def term(self) -> Callable[[dict[str, Any]], bool]:
        parts = [self.atom()]
        while self._word("and"):
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def atom(self) -> Callable[[dict[str, Any]], bool]:
        self.skip()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            inner = self.expr()
            self.skip()
            if not self.text.startswith(")", self.pos):
                raise QueryError(MALFORMED)
            self.pos += 1
            return inner
        match = _CLAUSE.match(self.text, self.pos)
        if match is None:
            raise QueryError(MALFORMED)
        end = match.end()
        if end < len(self.text) and not (self.text[end - 1].isspace() or self.text[end] in " )"):
            raise QueryError(MALFORMED)  # e.g. `id=12abc`: the value must end at a boundary
        self.pos = end
        field, op, value = match["field"], match["op"], _literal(match["value"])
        return lambda r: _compare(lookup(r, field), op, value)


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
