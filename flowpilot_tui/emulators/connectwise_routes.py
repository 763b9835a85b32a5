"""Route table of the ConnectWise emulator: API path (after `/{codebase}apis/3.0`) → JSON answer.

Handlers run under the state lock and return `Reply`; errors are `CwHttpError` (ConnectWise-shaped bodies).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flowpilot_tui.emulators.connectwise_query import (
    QueryError,
    order,
    page_bounds,
    parse_conditions,
    select_fields,
)
from flowpilot_tui.emulators.connectwise_state import CwHttpError, CwState, invalid

VERSION = "v2025.8.100432"


@dataclass
class Call:
    """One parsed API request as the routes see it."""

    method: str
    api_path: str  # e.g. "/service/tickets/48213"
    query: dict[str, str]
    body: Any
    href_base: str  # absolute API base for `_info` links
    url_base: str  # absolute URL of this path, for `Link` headers


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[CwState, Call, re.Match[str]], Reply]


def _paged(state: CwState, call: Call, records: list[dict[str, Any]]) -> Reply:
    try:
        predicate = parse_conditions(call.query.get("conditions"))
        page, size = page_bounds(call.query.get("page"), call.query.get("pageSize"))
    except QueryError as exc:
        raise invalid("query", str(exc)) from None
    rows = order([r for r in records if predicate(r)], call.query.get("orderBy"))
    chunk = rows[(page - 1) * size : page * size]
    links = []
    last = max(1, -(-len(rows) // size))
    params = {k: v for k, v in call.query.items() if k != "page"}
    for rel, number in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)):
        if 1 <= number <= last and (rel not in ("prev", "next") or number != page):
            links.append(f'<{call.url_base}?{urlencode({**params, "page": number})}>; rel="{rel}"')
    fields = call.query.get("fields")
    return Reply(200, [select_fields(r, fields) for r in chunk], {"Link": ", ".join(links)} if links else {})


def _count(state: CwState, call: Call, records: list[dict[str, Any]]) -> Reply:
    try:
        predicate = parse_conditions(call.query.get("conditions"))
    except QueryError as exc:
        raise invalid("query", str(exc)) from None
    return Reply(200, {"count": sum(1 for r in records if predicate(r))})


def system_info(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return Reply(200, {"version": VERSION, "isCloud": True, "serverTimeZone": "Eastern Standard Time"})


def list_tickets(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _paged(state, call, [state.ticket_json(t, call.href_base) for t in state.tickets.values()])


def count_tickets(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _count(state, call, [state.ticket_json(t, call.href_base) for t in state.tickets.values()])


def get_ticket(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    ticket = state.read_ticket(int(m["id"]))
    return Reply(200, select_fields(state.ticket_json(ticket, call.href_base), call.query.get("fields")))


def patch_ticket(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    ticket, shown = state.patch_ticket(int(m["id"]), call.body)
    body = state.ticket_json(ticket, call.href_base)
    if shown is not None and state.faults.silent_status_ignore:
        body["status"] = {"id": shown.id, "name": shown.name}
        body["closedFlag"] = shown.closed
    return Reply(200, body)


def board_statuses(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    records = [state.status_json(s, call.href_base) for s in state.board_statuses(int(m["id"]))]
    return _paged(state, call, records)


def board_status(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    for s in state.board_statuses(int(m["id"])):
        if s.id == int(m["sid"]):
            return Reply(200, state.status_json(s, call.href_base))
    raise CwHttpError(404, "NotFound", f"Status Id {m['sid']} not found")


def list_notes(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _paged(state, call, [state.note_json(n) for n in state.ticket_notes(int(m["id"]))])


def count_notes(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _count(state, call, [state.note_json(n) for n in state.ticket_notes(int(m["id"]))])


def get_note(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    for n in state.ticket_notes(int(m["id"])):
        if n.id == int(m["nid"]):
            return Reply(200, state.note_json(n))
    raise CwHttpError(404, "NotFound", f"Note Id {m['nid']} not found")


def post_note(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return Reply(201, state.note_json(state.add_note(int(m["id"]), call.body)))


def all_notes(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    if state.faults.allnotes_missing:
        raise CwHttpError(404, "NotFound", "The requested resource was not found")
    records = [{**state.note_json(n), "noteType": "TicketNote"} for n in state.ticket_notes(int(m["id"]))]
    return _paged(state, call, records)


def ticket_configurations(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    ticket = state.ticket(int(m["id"]))
    records = [state.configuration_json(state.configurations[c]) for c in ticket.configuration_ids]
    return _paged(state, call, records)


def get_company(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    company = state.companies.get(int(m["id"]))
    if company is None:
        raise CwHttpError(404, "NotFound", f"Company Id {m['id']} not found")
    return Reply(200, select_fields(state.company_json(company), call.query.get("fields")))


def get_contact(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    for t in state.tickets.values():
        if t.contact_id == int(m["id"]):
            first, _, last = t.contact_name.partition(" ")
            return Reply(200, {"id": t.contact_id, "firstName": first, "lastName": last})
    raise CwHttpError(404, "NotFound", f"Contact Id {m['id']} not found")


def list_members(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _paged(state, call, [state.member_json(x) for x in state.members.values()])


def list_time_entries(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _paged(state, call, [state.time_entry_json(e, call.href_base) for e in state.time_entries.values()])


def count_time_entries(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return _count(state, call, [state.time_entry_json(e, call.href_base) for e in state.time_entries.values()])


def get_time_entry(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    entry = state.time_entries.get(int(m["id"]))
    if entry is None:
        raise CwHttpError(404, "NotFound", f"TimeEntry Id {m['id']} not found")
    return Reply(200, select_fields(state.time_entry_json(entry, call.href_base), call.query.get("fields")))


def post_time_entry(state: CwState, call: Call, m: re.Match[str]) -> Reply:
    return Reply(201, state.time_entry_json(state.add_time_entry(call.body), call.href_base))


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/system/info"), system_info),
    ("GET", re.compile(r"/service/tickets"), list_tickets),
    ("GET", re.compile(r"/service/tickets/count"), count_tickets),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)"), get_ticket),
    ("PATCH", re.compile(r"/service/tickets/(?P<id>\d+)"), patch_ticket),
    ("GET", re.compile(r"/service/boards/(?P<id>\d+)/statuses"), board_statuses),
    ("GET", re.compile(r"/service/boards/(?P<id>\d+)/statuses/(?P<sid>\d+)"), board_status),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)/notes"), list_notes),
    ("POST", re.compile(r"/service/tickets/(?P<id>\d+)/notes"), post_note),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)/notes/count"), count_notes),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)/notes/(?P<nid>\d+)"), get_note),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)/allNotes"), all_notes),
    ("GET", re.compile(r"/service/tickets/(?P<id>\d+)/configurations"), ticket_configurations),
    ("GET", re.compile(r"/company/companies/(?P<id>\d+)"), get_company),
    ("GET", re.compile(r"/company/contacts/(?P<id>\d+)"), get_contact),
    ("GET", re.compile(r"/system/members"), list_members),
    ("GET", re.compile(r"/time/entries"), list_time_entries),
    ("POST", re.compile(r"/time/entries"), post_time_entry),
    ("GET", re.compile(r"/time/entries/count"), count_time_entries),
    ("GET", re.compile(r"/time/entries/(?P<id>\d+)"), get_time_entry),
]


def dispatch(state: CwState, call: Call) -> Reply:
    path_matched = False
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(call.api_path.rstrip("/") or "/")
        if match is None:
            continue
        path_matched = True
        if method == call.method:
            return handler(state, call, match)
    if path_matched:
        raise CwHttpError(
            405, "MethodNotAllowed", f"The requested resource does not support http method '{call.method}'."
        )
    raise CwHttpError(404, "NotFound", "The requested resource was not found")
