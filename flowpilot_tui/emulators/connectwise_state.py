"""In-memory ConnectWise data (companies, boards, statuses, tickets, notes, members, time entries) and the domain
rules the emulator applies.

Operations return wire-shaped JSON or raise `CwHttpError` with a ConnectWise-shaped body, so the HTTP layer only
routes. Domain-level fault knobs (status quirks, CRLF notes) are applied here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flowpilot_tui.emulators.connectwise_faults import Faults

Clock = Callable[[], datetime]
API_MEMBER = {"id": 176, "identifier": "flowpilot.api", "name": "FlowPilot API"}
NO_FLAG_MESSAGE = "Please choose where to display the notes in order to save this record."
NOTE_FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


class CwHttpError(Exception):
    """An HTTP error answer with a ConnectWise-shaped JSON body."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message}
        if errors is not None:
            self.body["errors"] = errors


def invalid(resource: str, message: str, errors: list[dict[str, str]] | None = None) -> CwHttpError:
    return CwHttpError(400, "InvalidObject", message, errors if errors is not None else [])


@dataclass
class Status:
    id: int
    board_id: int
    name: str
    sort_order: int
    closed: bool = False
    inactive: bool = False


@dataclass
class Board:
    id: int
    name: str


@dataclass
class Company:
    id: int
    identifier: str
    name: str


@dataclass
class Ticket:
    id: int
    summary: str
    board_id: int
    status_id: int
    company_id: int
    contact_name: str
    entered: datetime
    severity: str = "Medium"
    impact: str = "Medium"
    closed_flag: bool = False
    closed_date: datetime | None = None
    closed_by: str | None = None
    last_updated: datetime | None = None
    updated_by: str = "jsmith"
    owner: str | None = None  # member identifier
    resources: str = ""  # ConnectWise's comma-separated member identifiers
    priority: str = "Priority 3 - Normal Response"
    site_name: str | None = "Main"
    contact_id: int = 2
    configuration_ids: list[int] = field(default_factory=list)
    # (status id, reads left, due time) of a pending workflow rule
    pending_override: tuple[int, int, datetime | None] | None = None


@dataclass
class Note:
    id: int
    ticket_id: int
    text: str
    flags: dict[str, bool]
    process_notifications: bool
    customer_updated: bool
    created: datetime
    author: dict[str, Any] | None = None  # a member reference; None = the API member
    contact_name: str | None = None  # set when the customer wrote it (portal, e-mail)


@dataclass
class Member:
    id: int
    identifier: str
    name: str
    inactive: bool = False

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "identifier": self.identifier, "name": self.name}


@dataclass
class Configuration:
    id: int
    name: str
    type_name: str
    company_id: int


@dataclass
class TimeEntry:
    id: int
    ticket_id: int
    member: Member
    start: datetime
    end: datetime
    notes: str
    work_type: str
    billable: str
    entered: datetime


WORK_TYPES = {1: "Remote Support", 2: "Onsite", 3: "Admin"}
BILLABLE_OPTIONS = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
CLOSED_TIME_MESSAGE = "Time entries are not allowed on a closed ticket."


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class CwState:
    """Everything the emulated instance knows. Guard every access with `lock` (the server is threaded)."""

    clock: Clock
    faults: Faults = field(default_factory=Faults)
    companies: dict[int, Company] = field(default_factory=dict)
    boards: dict[int, Board] = field(default_factory=dict)
    statuses: dict[int, Status] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    next_note_id: int = 5001
    members: dict[str, Member] = field(default_factory=dict)  # by identifier
    configurations: dict[int, Configuration] = field(default_factory=dict)
    time_entries: dict[int, TimeEntry] = field(default_factory=dict)
    next_time_entry_id: int = 9001
    lock: threading.RLock = field(default_factory=threading.RLock)

    # ---- building -------------------------------------------------------------------------------------------

    def add_company(self, id: int, identifier: str, name: str) -> Company:
        self.companies[id] = Company(id, identifier, name)
        return self.companies[id]

    def add_board(self, id: int, name: str) -> Board:
        self.boards[id] = Board(id, name)
        return self.boards[id]

    def add_status(self, id: int, board_id: int, name: str, *, closed: bool = False, inactive: bool = False) -> Status:
        order = sum(1 for s in self.statuses.values() if s.board_id == board_id)
        self.statuses[id] = Status(id, board_id, name, order, closed, inactive)
        return self.statuses[id]

    def add_ticket(
        self,
        id: int,
        summary: str,
        *,
        board_id: int,
        status_id: int,
        company_id: int,
        contact: str = "Jordan Doe",
        owner: str | None = None,
        resources: str = "",
        updated: datetime | None = None,
    ) -> Ticket:
        now = self.clock()
        self.tickets[id] = Ticket(
            id,
            summary,
            board_id,
            status_id,
            company_id,
            contact,
            updated or now,
            last_updated=updated or now,
            owner=owner,
            resources=resources,
            closed_flag=self.statuses[status_id].closed if status_id in self.statuses else False,
        )
        return self.tickets[id]

    def add_member(self, id: int, identifier: str, name: str, *, inactive: bool = False) -> Member:
        self.members[identifier.lower()] = Member(id, identifier, name, inactive)
        return self.members[identifier.lower()]

    def add_configuration(self, id: int, name: str, type_name: str, company_id: int) -> Configuration:
        self.configurations[id] = Configuration(id, name, type_name, company_id)
        return self.configurations[id]

    def add_ticket_note(
        self,
        ticket_id: int,
        text: str,
        *,
        flag: str = "detailDescriptionFlag",
        member: str | None = None,
        contact: str | None = None,
        created: datetime | None = None,
    ) -> Note:
        """A note someone else wrote (a member in the PSA, or the customer), as seed data or between two syncs."""
        flags = {name: name == flag for name in NOTE_FLAGS}
        author = self.members[member.lower()].ref() if member else None
        note = Note(self.next_note_id, ticket_id, text, flags, True, False, created or self.clock(), author, contact)
        self.notes[note.id] = note
        self.next_note_id += 1
        return note

    def close_ticket_by_other(self, ticket_id: int, *, member: str = "dbrown", status_id: int | None = None) -> None:
        """Someone closes the ticket in ConnectWise (e.g. between FlowPilot's import and its post)."""
        ticket = self.ticket(ticket_id)
        closed = [s for s in self.board_statuses(ticket.board_id) if s.closed]
        status = self.statuses[status_id] if status_id is not None else closed[-1]
        self._set_status(ticket, status, by=member)

    def move_ticket(self, ticket_id: int, board_id: int, status_id: int, *, member: str = "dbrown") -> None:
        """Someone moves the ticket to another board (its status set changes with it)."""
        ticket = self.ticket(ticket_id)
        ticket.board_id = board_id
        self._set_status(ticket, self.statuses[status_id], by=member)

    def seed_queue(self, count: int, *, member: str = "asmith", first_id: int = 100001) -> None:
        """`count` open tickets for `member` (a big queue), newest activity on the highest id."""
        base = self.clock()
        companies = sorted(self.companies)
        summaries = ("Mailbox full", "Printer jam on floor 2", "New starter laptop", "Password reset", "Slow Wi-Fi")
        for i in range(count):
            ticket_id = first_id + i
            summary = f"{summaries[i % len(summaries)]} ({ticket_id})"
            self.add_ticket(
                ticket_id,
                summary,
                board_id=1,
                status_id=(1, 2, 5)[i % 3],
                company_id=companies[i % len(companies)],
                owner=member if i % 2 == 0 else "jsmith",
                resources="" if i % 2 == 0 else f"jsmith, {member}",
                updated=base + timedelta(seconds=i + 1),
            )

    # ---- JSON shapes ----------------------------------------------------------------------------------------

    def status_json(self, s: Status, href_base: str) -> dict[str, Any]:
        return {
            "id": s.id,
            "name": s.name,
            "board": {"id": s.board_id, "name": self.boards[s.board_id].name},
            "sortOrder": s.sort_order,
            "displayOnBoard": True,
            "inactive": s.inactive,
            "closedStatus": s.closed,
            "timeEntryNotAllowed": False,
            "defaultFlag": s.sort_order == 0,
            "escalationStatus": "Resolved" if s.closed else "NoEscalation",
            "_info": {"status_href": f"{href_base}/service/boards/{s.board_id}/statuses/{s.id}"},
        }

    def ticket_json(self, t: Ticket, href_base: str) -> dict[str, Any]:
        status = self.statuses[t.status_id]
        board = self.boards[t.board_id]
        company = self.companies[t.company_id]
        return {
            "id": t.id,
            "summary": t.summary,
            "recordType": "ServiceTicket",
            "board": {
                "id": board.id,
                "name": board.name,
                "_info": {"board_href": f"{href_base}/service/boards/{board.id}"},
            },
            "status": {
                "id": status.id,
                "name": status.name,
                "_info": {"status_href": f"{href_base}/service/boards/{status.board_id}/statuses/{status.id}"},
            },
            "company": {"id": company.id, "identifier": company.identifier, "name": company.name},
            "contact": {"id": t.contact_id, "name": t.contact_name},
            "siteName": t.site_name,
            "site": {"id": 1, "name": t.site_name} if t.site_name else None,
            "owner": self.members[t.owner.lower()].ref() if t.owner and t.owner.lower() in self.members else None,
            "resources": t.resources or None,
            "priority": {"id": 3, "name": t.priority},
            "severity": t.severity,
            "impact": t.impact,
            "customerUpdatedFlag": False,
            "processNotifications": None,
            "closedFlag": t.closed_flag,
            "closedDate": iso(t.closed_date),
            "closedBy": t.closed_by,
            "_info": {
                "dateEntered": iso(t.entered),
                "lastUpdated": iso(t.last_updated),
                "updatedBy": t.updated_by,
                "notes_href": f"{href_base}/service/tickets/{t.id}/notes",
            },
        }

    def note_json(self, n: Note) -> dict[str, Any]:
        text = n.text
        if self.faults.crlf_notes:
            text = "\r\n".join(line + "  " for line in text.split("\n"))
        return {
            "id": n.id,
            "ticketId": n.ticket_id,
            "text": text,
            **n.flags,
            "issueFlag": False,
            "member": None if n.contact_name else dict(n.author or API_MEMBER),
            "contact": {"id": 2, "name": n.contact_name} if n.contact_name else None,
            "customerUpdatedFlag": n.customer_updated,
            "processNotifications": n.process_notifications,
            "dateCreated": iso(n.created),
            "createdBy": n.contact_name or (n.author or API_MEMBER)["identifier"],
            "internalFlag": n.contact_name is None,
            "externalFlag": n.contact_name is not None,
            "_info": {"lastUpdated": iso(n.created), "updatedBy": (n.author or API_MEMBER)["identifier"]},
        }

    def member_json(self, m: Member) -> dict[str, Any]:
        return {**m.ref(), "firstName": m.name.split()[0], "inactiveFlag": m.inactive}

    def configuration_json(self, c: Configuration) -> dict[str, Any]:
        company = self.companies[c.company_id]
        return {
            "id": c.id,
            "deviceIdentifier": c.name,
            "name": c.name,
            "type": {"id": 1, "name": c.type_name},
            "company": {"id": company.id, "identifier": company.identifier, "name": company.name},
        }

    def company_json(self, c: Company) -> dict[str, Any]:
        return {"id": c.id, "identifier": c.identifier, "name": c.name, "status": {"id": 1, "name": "Active"}}

    def time_entry_json(self, e: TimeEntry, href_base: str) -> dict[str, Any]:
        ticket = self.tickets.get(e.ticket_id)
        company = self.companies[ticket.company_id] if ticket else None
        hours = round((e.end - e.start).total_seconds() / 3600, 2)
        work_type_id = next((k for k, v in WORK_TYPES.items() if v == e.work_type), 0)
        return {
            "id": e.id,
            "company": {"id": company.id, "identifier": company.identifier, "name": company.name} if company else None,
            "chargeToId": e.ticket_id,
            "chargeToType": "ServiceTicket",
            "ticket": {"id": e.ticket_id, "summary": ticket.summary if ticket else ""},
            "member": e.member.ref(),
            "timeStart": iso(e.start),
            "timeEnd": iso(e.end),
            "actualHours": hours,
            "hoursDeduct": 0.0,
            "billableOption": e.billable,
            "workType": {"id": work_type_id, "name": e.work_type},
            "notes": e.notes,
            "addToDetailDescriptionFlag": False,
            "addToInternalAnalysisFlag": False,
            "addToResolutionFlag": False,
            "dateEntered": iso(e.entered),
            "enteredBy": API_MEMBER["identifier"],
            "_info": {"lastUpdated": iso(e.entered), "updatedBy": API_MEMBER["identifier"]},
        }

    # ---- reads ----------------------------------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise CwHttpError(404, "NotFound", f"Ticket Id {ticket_id} not found")
        return ticket

    def read_ticket(self, ticket_id: int) -> Ticket:
        """A client GET: this is where a pending workflow rule becomes visible."""
        ticket = self.ticket(ticket_id)
        if ticket.pending_override:
            to_id, reads_left, due = ticket.pending_override
            if (due is not None and self.clock() >= due) or (due is None and reads_left <= 0):
                self._set_status(ticket, self.statuses[to_id], by="workflow")
                ticket.pending_override = None
            elif due is None:
                ticket.pending_override = (to_id, reads_left - 1, None)
        return ticket

    def board_statuses(self, board_id: int) -> list[Status]:
        if board_id not in self.boards:
            raise CwHttpError(404, "NotFound", f"Board Id {board_id} not found")
        return [s for s in self.statuses.values() if s.board_id == board_id]

    def ticket_notes(self, ticket_id: int) -> list[Note]:
        self.ticket(ticket_id)
        return [n for n in self.notes.values() if n.ticket_id == ticket_id]

    # ---- writes ---------------------------------------------------------------------------------------------

    def add_note(self, ticket_id: int, body: Any) -> Note:
        self.ticket(ticket_id)
        if not isinstance(body, dict):
            raise invalid("serviceNote", "serviceNote object is invalid")
        flags = {name: body.get(name) is True for name in NOTE_FLAGS}
        if not any(flags.values()):
            raise invalid(
                "serviceNote",
                "serviceNote object is invalid",
                [
                    {
                        "code": "InvalidObject",
                        "message": NO_FLAG_MESSAGE,
                        "resource": "serviceNote",
                        "field": "detailDescriptionFlag",
                    }
                ],
            )
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid(
                "serviceNote",
                "serviceNote object is invalid",
                [
                    {
                        "code": "NullOrEmpty",
                        "message": "Text may not be empty.",
                        "resource": "serviceNote",
                        "field": "text",
                    }
                ],
            )
        note = Note(
            self.next_note_id,
            ticket_id,
            text,
            flags,
            body.get("processNotifications", True) is not False,
            body.get("customerUpdatedFlag") is True,
            self.clock(),
        )
        self.notes[note.id] = note
        self.next_note_id += 1
        return note

    def add_time_entry(self, body: Any) -> TimeEntry:
        """POST /time/entries: validated like ConnectWise does (ticket, member, times, work type; closed tickets)."""
        if not isinstance(body, dict):
            raise invalid("timeEntry", "timeEntry object is invalid")

        def refuse(field_name: str, message: str, code: str = "InvalidField") -> CwHttpError:
            return invalid(
                "timeEntry",
                "timeEntry object is invalid",
                [{"code": code, "message": message, "resource": "timeEntry", "field": field_name}],
            )

        if body.get("chargeToType") != "ServiceTicket":
            raise refuse("chargeToType", "chargeToType must be ServiceTicket for a service ticket.")
        try:
            ticket = self.ticket(int(body.get("chargeToId")))  # type: ignore[arg-type]
        except (TypeError, ValueError, CwHttpError):
            raise refuse("chargeToId", f"Ticket {body.get('chargeToId')!r} not found.") from None
        member_ref: dict[str, Any] = body["member"] if isinstance(body.get("member"), dict) else {}
        identifier = str(member_ref.get("identifier") or "")
        member = self.members.get(identifier.lower())
        if member is None or member.inactive:
            raise refuse("member", f"Member {identifier or '(none)'} not found or inactive.")
        start, end = parse_time(body.get("timeStart")), parse_time(body.get("timeEnd"))
        if start is None:
            raise refuse("timeStart", "timeStart is required.", "NullOrEmpty")
        if end is None or end <= start:
            raise refuse("timeEnd", "timeEnd must be after timeStart.")
        work_type: dict[str, Any] = body["workType"] if isinstance(body.get("workType"), dict) else {}
        work_name = str(work_type.get("name") or "Remote Support")
        if work_name not in WORK_TYPES.values():
            raise refuse("workType", f"Work type {work_name} not found.")
        billable = str(body.get("billableOption") or "Billable")
        if billable not in BILLABLE_OPTIONS:
            raise refuse("billableOption", f"billableOption must be one of {', '.join(BILLABLE_OPTIONS)}.")
        if self.faults.close_before_time_entry:
            self.close_ticket_by_other(ticket.id)  # someone closes it just before our entry arrives
        if ticket.closed_flag and self.faults.time_entry_closed_reject:
            raise refuse("chargeToId", CLOSED_TIME_MESSAGE)
        entry = TimeEntry(
            self.next_time_entry_id,
            ticket.id,
            member,
            start,
            end,
            str(body.get("notes") or ""),
            work_name,
            billable,
            self.clock(),
        )
        self.time_entries[entry.id] = entry
        self.next_time_entry_id += 1
        return entry

    def patch_ticket(self, ticket_id: int, ops: Any) -> tuple[Ticket, Status | None]:
        """Apply a JSON-Patch status change. Returns the ticket and the status the *response* should show."""
        ticket = self.ticket(ticket_id)
        if not isinstance(ops, list) or not ops:
            raise invalid("ticket", "ticket object is invalid: the request body must be a JSON-Patch array")
        target: Status | None = None
        for op in ops:
            target = self._status_from_op(op) or target
        if target is None:
            return ticket, None
        self._check_transition(ticket, target)
        if self.faults.silent_status_ignore:
            return ticket, target  # claims success, stores nothing
        self._set_status(ticket, target, by=str(API_MEMBER["identifier"]))
        override = self.faults.workflow_override
        if override and override.from_status_id in (None, target.id):
            due = (
                self.clock() + timedelta(seconds=override.after_seconds) if override.after_seconds is not None else None
            )
            ticket.pending_override = (override.to_status_id, override.after_reads, due)
        return ticket, target

    def _status_from_op(self, op: Any) -> Status | None:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise invalid("ticket", "the operation is not valid")
        path = str(op.get("path", "")).strip("/")
        value = op.get("value")
        if path == "status" and isinstance(value, dict):
            raw = value.get("id")
        elif path == "status/id":
            raw = value
        else:
            raise invalid("ticket", "the path source is not valid")
        try:
            status_id = int(str(raw))  # some integrations send "17"
        except (TypeError, ValueError):
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "message": "Status id must be a number.",
                        "resource": "ticket",
                        "field": "status",
                    }
                ],
            ) from None
        status = self.statuses.get(status_id)
        if status is None:
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "message": f"Status {status_id} not found.",
                        "resource": "ticket",
                        "field": "status",
                    }
                ],
            )
        return status

    def _check_transition(self, ticket: Ticket, target: Status) -> None:
        faults = self.faults
        if faults.forbid_status_change:
            raise CwHttpError(403, "Forbidden", "You do not have permission to perform this action.")
        if target.board_id != ticket.board_id and not faults.foreign_status_accept:
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "message": "The status is not valid for this board.",
                        "resource": "ticket",
                        "field": "status",
                    }
                ],
            )
        if target.inactive and faults.inactive_status_reject:
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "message": f"Status {target.name} is inactive.",
                        "resource": "ticket",
                        "field": "status",
                    }
                ],
            )
        current = self.statuses[ticket.status_id]
        if faults.intermediate_status_required and target.closed and current.name != "Completed":
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "resource": "ticket",
                        "field": "status",
                        "message": (
                            "You do not have permission to close tickets from this status; move it to Completed first."
                        ),
                    }
                ],
            )
        if faults.revalidation_fail:
            raise invalid(
                "ticket",
                "ticket object is invalid",
                [
                    {
                        "code": "InvalidField",
                        "message": "Contact is inactive.",
                        "resource": "ticket",
                        "field": "contact",
                    },
                    {
                        "code": "InvalidField",
                        "message": "Site must be selected.",
                        "resource": "ticket",
                        "field": "site",
                    },
                ],
            )

    def _set_status(self, ticket: Ticket, status: Status, *, by: str) -> None:
        now = self.clock()
        ticket.status_id = status.id
        ticket.closed_flag = status.closed
        ticket.closed_date = now if status.closed else None
        ticket.closed_by = by if status.closed else None
        ticket.last_updated = now
        ticket.updated_by = by


def seed_demo(state: CwState, *, notes: bool = False) -> None:
    """The demo instance: one service board with a realistic status set, a project board, and a few tickets.

    Members `asmith` (Alice Smith), `jsmith` and `dbrown` own or work the tickets. With `notes`, the tickets also
    carry the customer's initial description and a few discussion/internal notes (the try-out instance)."""
    state.add_member(150, "asmith", "Alice Smith")
    state.add_member(151, "jsmith", "John Smith")
    state.add_member(152, "dbrown", "Dana Brown")
    state.add_company(250, "Contoso", "Contoso Ltd")
    state.add_company(251, "Fabrikam", "Fabrikam Dental Group")
    state.add_company(252, "Northwind", "Northwind Traders")
    state.add_board(1, "Service Desk")
    state.add_status(1, 1, "New")
    state.add_status(2, 1, "In Progress")
    state.add_status(5, 1, "Waiting on Customer")
    state.add_status(12, 1, "Escalated to L2")
    state.add_status(17, 1, "Completed", closed=True)
    state.add_status(18, 1, "Closed", closed=True)
    state.add_status(19, 1, "Scheduled (retired)", inactive=True)
    state.add_board(2, "Projects")
    state.add_status(30, 2, "Planning")
    state.add_status(31, 2, "Done", closed=True)
    state.add_ticket(
        48213,
        "Outlook keeps prompting for password after M365 migration",
        board_id=1,
        status_id=2,
        company_id=250,
        contact="John Doe",
        owner="asmith",
    )
    state.add_ticket(
        48214,
        "VPN connects but internal DNS names do not resolve",
        board_id=1,
        status_id=1,
        company_id=251,
        contact="Priya Shah",
        owner="jsmith",
        resources="jsmith, asmith",
    )
    state.add_ticket(
        48215,
        "Front desk printer shows offline for all users",
        board_id=1,
        status_id=5,
        company_id=252,
        contact="Marco Ruiz",
        owner="jsmith",
    )
    state.add_ticket(
        48216,
        "File server share slow after weekend patching",
        board_id=1,
        status_id=2,
        company_id=250,
        contact="Ana Lima",
        owner="asmith",
    )
    state.add_ticket(
        48217,
        "Migrate reception PCs to Windows 11",
        board_id=2,
        status_id=30,
        company_id=251,
        contact="Priya Shah",
        owner="asmith",
    )
    state.add_configuration(700, "FAB-VPN-FW01", "Firewall", 251)
    state.add_configuration(701, "FAB-DC01", "Windows Server", 251)
    state.add_configuration(702, "CON-LT-0412", "Laptop", 250)
    state.tickets[48214].configuration_ids = [700, 701]
    state.tickets[48214].site_name = "Fabrikam Dental - Riverside"
    state.tickets[48213].configuration_ids = [702]
    if notes:
        seed_demo_notes(state)


def seed_demo_notes(state: CwState) -> None:
    state.add_ticket_note(
        48213,
        "Since the move to Microsoft 365 on Friday Outlook asks for my password every few minutes. "
        "OWA in the browser works fine.",
        contact="John Doe",
    )
    state.add_ticket_note(
        48213,
        "Checked the account in Entra: no lockouts, MFA registered.",
        flag="internalAnalysisFlag",
        member="jsmith",
    )
    state.add_ticket_note(
        48214,
        "Since this morning the VPN connects but \\\\fab-dc01\\share and the intranet do not open by name. "
        "Ping by IP works.",
        contact="Priya Shah",
    )
    state.add_ticket_note(48214, "Called Priya: affects all remote staff at Riverside.", member="jsmith")
    state.add_ticket_note(
        48214,
        "Firewall firmware was updated on Saturday (change CHG-2231).",
        flag="internalAnalysisFlag",
        member="dbrown",
    )
    state.add_ticket_note(
        48216, "Copying a 1 GB file to \\\\con-fs01\\projects takes 10 minutes since Monday.", contact="Ana Lima"
    )
