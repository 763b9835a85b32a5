"""ConnectWise wire format: note bodies per visibility, lenient parsing of answers, and error-body → typed error.

Parsing is deliberately lenient (missing fields become None/defaults): real instances return data that does not
match the published schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowpilot_tui.services.psa.base import (
    BoardStatus,
    NoteVisibility,
    PostedNote,
    TicketDetail,
    TicketListItem,
    TicketNote,
    TicketState,
    TimeEntryRef,
)
from flowpilot_tui.services.psa.errors import (
    FieldError,
    PsaAuthError,
    PsaCallError,
    PsaNotFound,
    PsaPermissionError,
    PsaRateLimited,
    PsaServerError,
    PsaValidationError,
)

if TYPE_CHECKING:
    import httpx

ACCEPT = "application/vnd.connectwise.com+json; version=2025.8"


def note_body(text: str, visibility: NoteVisibility) -> dict[str, Any]:
    """The only two note shapes FlowPilot ever sends: customer-visible Resolution, or Internal with no e-mails."""
    if visibility is NoteVisibility.RESOLUTION:
        return {
            "text": text,
            "detailDescriptionFlag": False,
            "internalAnalysisFlag": False,
            "resolutionFlag": True,
            "customerUpdatedFlag": False,
        }
    if visibility is NoteVisibility.INTERNAL:
        return {
            "text": text,
            "detailDescriptionFlag": False,
            "internalAnalysisFlag": True,
            "resolutionFlag": False,
            "customerUpdatedFlag": False,
            "processNotifications": False,
        }
    raise TypeError(f"unsupported note visibility: {visibility!r}")


def status_patch(status_id: int) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "status", "value": {"id": int(status_id)}}]


def _ref(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_ticket(data: dict[str, Any]) -> TicketState:
    board, status, company = _ref(data, "board"), _ref(data, "status"), _ref(data, "company")
    return TicketState(
        id=_int(data.get("id")),
        summary=str(data.get("summary") or ""),
        board_id=_int(board.get("id")),
        board_name=str(board.get("name") or ""),
        status_id=_int(status.get("id")),
        status_name=str(status.get("name") or ""),
        closed=data.get("closedFlag") is True,
        company_name=company.get("name"),
        last_updated=_ref(data, "_info").get("lastUpdated"),
    )


def parse_list_item(data: dict[str, Any]) -> TicketListItem:
    info = _ref(data, "_info")
    return TicketListItem(
        id=_int(data.get("id")),
        summary=str(data.get("summary") or ""),
        company_name=str(_ref(data, "company").get("name") or ""),
        status_name=str(_ref(data, "status").get("name") or ""),
        priority_name=str(_ref(data, "priority").get("name") or ""),
        board_name=str(_ref(data, "board").get("name") or ""),
        owner=_ref(data, "owner").get("identifier"),
        entered=_time(info.get("dateEntered")),
        last_updated=_time(info.get("lastUpdated")),
    )


def parse_detail(data: dict[str, Any], configurations: list[Any]) -> TicketDetail:
    names = []
    for c in configurations:
        if isinstance(c, dict) and (c.get("name") or c.get("deviceIdentifier")):
            kind = _ref(c, "type").get("name")
            names.append(f"{c.get('name') or c.get('deviceIdentifier')}" + (f" ({kind})" if kind else ""))
    return TicketDetail(
        id=_int(data.get("id")),
        summary=str(data.get("summary") or ""),
        board_id=_int(_ref(data, "board").get("id")),
        board_name=str(_ref(data, "board").get("name") or ""),
        status_name=str(_ref(data, "status").get("name") or ""),
        closed=data.get("closedFlag") is True,
        closed_by=data.get("closedBy"),
        company_name=_ref(data, "company").get("name"),
        contact_name=_ref(data, "contact").get("name"),
        site_name=data.get("siteName") or _ref(data, "site").get("name"),
        configurations=tuple(names),
    )


def parse_ticket_note(data: dict[str, Any]) -> TicketNote:
    if data.get("resolutionFlag") is True:
        visibility = "resolution"
    elif data.get("internalAnalysisFlag") is True and data.get("detailDescriptionFlag") is not True:
        visibility = "internal"
    else:
        visibility = "discussion"
    author = _ref(data, "contact").get("name") or _ref(data, "member").get("name") or data.get("createdBy") or "?"
    return TicketNote(
        id=_int(data.get("id")),
        text=normalize(str(data.get("text") or "")),
        author=str(author),
        created_at=_time(data.get("dateCreated")),
        visibility=visibility,
    )


def parse_time_entry(data: dict[str, Any]) -> TimeEntryRef:
    try:
        hours = float(data.get("actualHours") or 0)
    except (TypeError, ValueError):
        hours = 0.0
    return TimeEntryRef(
        id=_int(data.get("id")),
        ticket_id=_int(data.get("chargeToId")),
        member=str(_ref(data, "member").get("identifier") or ""),
        start=_time(data.get("timeStart")),
        end=_time(data.get("timeEnd")),
        hours=hours,
        notes=str(data.get("notes") or ""),
    )


def normalize(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def parse_status(data: dict[str, Any], board_id: int) -> BoardStatus:
    return BoardStatus(
        id=_int(data.get("id")),
        name=str(data.get("name") or ""),
        board_id=_int(_ref(data, "board").get("id"), board_id),
        closed=data.get("closedStatus") is True,
        inactive=data.get("inactive") is True,
        sort_order=_int(data.get("sortOrder")),
    )


def parse_note(data: dict[str, Any], ticket_id: int) -> PostedNote:
    customer = data.get("resolutionFlag") is True or data.get("detailDescriptionFlag") is True
    if data.get("resolutionFlag") is True:
        visibility: NoteVisibility | None = NoteVisibility.RESOLUTION
    elif data.get("internalAnalysisFlag") is True and not customer:
        visibility = NoteVisibility.INTERNAL
    else:
        visibility = None
    return PostedNote(
        id=str(data.get("id")),
        ticket_id=_int(data.get("ticketId"), ticket_id),
        text=str(data.get("text") or ""),
        visibility=visibility,
        created_at=_time(data.get("dateCreated")),
    )


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
        date = parsedate_to_datetime(response.headers.get("Date", "")) if response.headers.get("Date") else None
    except (TypeError, ValueError):
        return default
    if date is None:
        return default
    return max(0.0, (when - date).total_seconds())


def _body(response: httpx.Response) -> tuple[str | None, str, tuple[FieldError, ...]]:
    try:
        data = response.json()
    except ValueError:
        snippet = " ".join(response.text.split())[:200]
        return None, snippet or response.reason_phrase, ()
    if not isinstance(data, dict):
        return None, response.reason_phrase, ()
    errors = tuple(
        FieldError(str(e.get("message") or ""), e.get("field"), e.get("code"), e.get("resource"))
        for e in data.get("errors") or []
        if isinstance(e, dict)
    )
    return data.get("code"), str(data.get("message") or response.reason_phrase), errors


def error_for(response: httpx.Response, *, operation: str, ticket_id: int | None, connection: str) -> PsaCallError:
    """One clear message per failure: what we were doing, what ConnectWise said (all errors[]), what to check."""
    status = response.status_code
    code, message, errors = _body(response)
    kw: dict[str, Any] = {
        "operation": operation,
        "ticket_id": ticket_id,
        "status_code": status,
        "code": code,
        "request_id": response.headers.get("x-cw-request-id"),
    }
    if status == 401:
        return PsaAuthError(
            f"ConnectWise rejected the credentials while {operation} (401: {message}); check company_id, "
            f"public_key, the private key variable and client_id of connection '{connection}'",
            **kw,
        )
    if status == 403:
        return PsaPermissionError(
            f"ConnectWise denied {operation}: the API member lacks permission (403: {message})", **kw
        )
    if status == 404:
        return PsaNotFound(f"ConnectWise could not find what was needed for {operation} (404: {message})", **kw)
    if status == 429:
        wait = retry_after_seconds(response)
        return PsaRateLimited(
            f"ConnectWise is rate limiting requests; gave up {operation} (retry in {wait:g} s)", retry_after=wait, **kw
        )
    if status >= 500:
        return PsaServerError(f"ConnectWise failed while {operation} ({status}: {message})", **kw)
    if status in (400, 409, 422):
        details = "; ".join(str(e) for e in errors)
        return PsaValidationError(
            f"ConnectWise rejected {operation} ({status} {code or 'error'}: {message}"
            + (f" — {details})" if details else ")"),
            errors=errors,
            **kw,
        )
    return PsaCallError(f"ConnectWise answered {status} while {operation}: {message}", **kw)
