"""ConnectWise Manage provider on `httpx.AsyncClient`.

Why it looks the way it does (see the ConnectWise reference):
- the API base comes from `api_url`, or from `site` + `/login/companyinfo/{company}`; hosted instances move
  codebases, so a 404 triggers one rediscovery and, if the base changed, one retry;
- 429 is always safe to retry (the request was refused) within a bounded number of tries and total wait;
- 5xx / connection errors are retried only for GET and the status PATCH (`replace` is idempotent). The note
  POST is never retried blindly: the caller gets an error with `outcome_unknown` and must read the notes back;
- note flags are fixed here per visibility, so a customer-visible flag can never ride on an escalation note.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowpilot_tui.services.errors import InvalidInput
from flowpilot_tui.services.psa import cw_wire
from flowpilot_tui.services.psa.base import (
    AuditHook,
    BoardStatus,
    NoteVisibility,
    PostedNote,
    PsaCall,
    TicketDetail,
    TicketListPage,
    TicketNote,
    TicketState,
    TimeEntryRef,
    report_call,
)
from flowpilot_tui.services.psa.errors import (
    PsaCallError,
    PsaNotFound,
    PsaServerError,
    PsaTransportError,
    PsaValidationError,
)

if TYPE_CHECKING:  # httpx is imported lazily: it drags in Rich, which services must not load at import time
    import httpx

log = logging.getLogger("flowpilot_tui.psa")
Sleep = Callable[[float], Awaitable[None]]

# UI host → API host for ConnectWise cloud (reference §0).
CLOUD_API_HOSTS = {
    f"{region}.myconnectwise.net": f"api-{region}.myconnectwise.net" for region in ("na", "eu", "au", "aus", "za")
} | {"staging.connectwisedev.com": "api-staging.connectwisedev.com"}
_API_URL = re.compile(r"^(?P<origin>https?://[^/]+)/(?:[^?#]*/)?apis/3\.0/?$")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4  # tries per request, counting the first
    max_total_wait_s: float = 60.0  # sum of all waits for one request
    max_retry_after_s: float = 30.0  # a longer Retry-After is reported instead of waited for
    backoff_s: tuple[float, ...] = (0.5, 1.0, 2.0)  # between 5xx/transport retries of safe requests


def load_httpx() -> Any:
    """httpx without its command-line module. `httpx/__init__` imports `httpx._main` (click, Rich and Pygments) only
    to offer `httpx.main`, which FlowPilot never calls: ~25 ms of every `flowpilot post` process. With the module
    blocked for that one import, httpx falls back to its stub `main`; a later `import httpx._main` works again."""
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # import of it raises ImportError
        try:
            import httpx
        finally:
            del sys.modules["httpx._main"]
    import httpx

    return httpx


def site_origin(site: str) -> str:
    """`na.myconnectwise.net` → `https://api-na.myconnectwise.net`; a URL with a scheme is used as given."""
    site = site.strip().rstrip("/")
    if "://" in site:
        return site
    return "https://" + CLOUD_API_HOSTS.get(site.lower(), site)


class ConnectWiseProvider:
    name = "connectwise"

    def __init__(
        self,
        *,
        company_id: str,
        public_key: str,
        private_key: str,
        client_id: str,
        api_url: str | None = None,
        site: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        connection_name: str = "connectwise",
        audit: AuditHook | None = None,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy = RetryPolicy(),
        status_cache_ttl_s: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if bool(api_url) == bool(site):
            raise ValueError("set exactly one of api_url or site")
        self.company_id = company_id
        self.connection_name = connection_name
        self._audit = audit
        self._sleep = sleep
        self._retry = retry
        self._cache_ttl = status_cache_ttl_s
        self._status_cache: dict[int, tuple[float, list[BoardStatus]]] = {}
        self._tickets: dict[int, TicketState] = {}  # the last state read of each ticket (its board, for a post)
        self._base: str | None = None
        self._origin: str | None = None
        if api_url:
            self._base = api_url.rstrip("/") + "/"
            match = _API_URL.match(self._base)
            self._origin = match["origin"] if match else None  # lets a moved codebase be rediscovered
        else:
            self._origin = site_origin(site or "")
        self._discover_lock = asyncio.Lock()
        httpx = load_httpx()
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(f"{company_id}+{public_key}", private_key),
            headers={"clientId": client_id, "Accept": cw_wire.ACCEPT},
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show credentials
        return f"ConnectWiseProvider({self.connection_name!r}, {self._origin or self._base!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    # ---- the provider interface -----------------------------------------------------------------------------

    async def get_ticket(self, ticket_id: int) -> TicketState:
        data = await self._json(
            "GET",
            f"service/tickets/{int(ticket_id)}",
            f"reading ticket #{ticket_id}",
            ticket_id,
            params={"fields": "id,summary,board,status,company,closedFlag,closedDate,_info"},
        )
        return self._remember(cw_wire.parse_ticket(data))

    def known_ticket(self, ticket_id: int) -> TicketState | None:
        """The ticket as this connection last read it (None if never): its board for a post, without a GET."""
        return self._tickets.get(int(ticket_id))

    def forget_board_statuses(self, board_id: int) -> None:
        """Drop the cached statuses of a board (a status id was refused: the list may be out of date)."""
        self._status_cache.pop(int(board_id), None)

    def remember_ticket(self, ticket: TicketState) -> None:
        """Take a ticket's state read by another process (the shared cache) unless this connection read it since."""
        if ticket.id and ticket.board_id:
            self._tickets.setdefault(int(ticket.id), ticket)

    def remember_board_statuses(self, board_id: int, statuses: list[BoardStatus], ttl_s: float) -> None:
        """Take a board's statuses read by another process (the shared cache), good for `ttl_s` more seconds."""
        cached = self._status_cache.get(int(board_id))
        if (cached is None or cached[0] <= time.monotonic()) and ttl_s > 0:
            self._status_cache[int(board_id)] = (time.monotonic() + ttl_s, list(statuses))

    def cached_board_statuses(self, board_id: int) -> list[BoardStatus] | None:
        """The board's statuses as cached now (None when not cached or expired): what the shared cache stores."""
        cached = self._status_cache.get(int(board_id))
        return list(cached[1]) if cached and cached[0] > time.monotonic() else None

    def _remember(self, ticket: TicketState) -> TicketState:
        if ticket.id and ticket.board_id:
            self._tickets[ticket.id] = ticket
        return ticket

    async def list_board_statuses(self, board_id: int, *, refresh: bool = False) -> list[BoardStatus]:
        cached = self._status_cache.get(board_id)
        if cached and not refresh and cached[0] > time.monotonic():
            return list(cached[1])
        data = await self._json(
            "GET",
            f"service/boards/{int(board_id)}/statuses",
            f"reading the statuses of board #{board_id}",
            None,
            params={"pageSize": 1000, "orderBy": "sortOrder asc"},
        )
        statuses = [cw_wire.parse_status(s, board_id) for s in data if isinstance(s, dict)]
        self._status_cache[board_id] = (time.monotonic() + self._cache_ttl, statuses)
        return list(statuses)

    async def post_note(self, ticket_id: int, text: str, visibility: NoteVisibility) -> PostedNote:
        if not isinstance(visibility, NoteVisibility):
            raise TypeError(f"visibility must be a NoteVisibility, not {visibility!r}")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"The note for ticket #{ticket_id} is empty; nothing was sent")
        operation = f"posting the note to ticket #{ticket_id}"
        data = await self._json(
            "POST",
            f"service/tickets/{int(ticket_id)}/notes",
            operation,
            ticket_id,
            json=cw_wire.note_body(text, visibility),
            safe=False,
        )
        if not isinstance(data, dict) or data.get("id") is None:
            raise PsaServerError(
                f"ConnectWise answered without a note id while {operation}", operation=operation, ticket_id=ticket_id
            )
        return cw_wire.parse_note(data, ticket_id)

    async def list_recent_notes(self, ticket_id: int, limit: int = 25) -> list[PostedNote]:
        data = await self._json(
            "GET",
            f"service/tickets/{int(ticket_id)}/notes",
            f"reading the notes of ticket #{ticket_id}",
            ticket_id,
            params={"orderBy": "id desc", "pageSize": max(1, min(int(limit), 1000))},
        )
        return [cw_wire.parse_note(n, ticket_id) for n in data if isinstance(n, dict)]

    async def set_status(self, ticket_id: int, status_id: int) -> TicketState:
        try:
            data = await self._json(
                "PATCH",
                f"service/tickets/{int(ticket_id)}",
                f"changing the status of ticket #{ticket_id}",
                ticket_id,
                json=cw_wire.status_patch(status_id),
            )
        except PsaValidationError:  # the status id was refused: the cached board list or ticket may be stale
            known = self._tickets.pop(int(ticket_id), None)
            if known is not None:
                self.forget_board_statuses(known.board_id)
            raise
        claim = cw_wire.parse_ticket(data)  # the PSA's claim, not proof: only its board is remembered
        known = self._tickets.get(int(ticket_id))
        if known is not None and claim.board_id and claim.board_id != known.board_id:
            self._tickets.pop(int(ticket_id), None)
        return claim

    # ---- ticket queue and import (issue 14) -------------------------------------------------------------------

    async def list_tickets(
        self, conditions: str, *, page: int = 1, page_size: int = 25, order_by: str = "_info/lastUpdated desc"
    ) -> TicketListPage:
        """One page of tickets matching `conditions` (ConnectWise syntax): one request, never the whole queue."""
        page, page_size = max(1, int(page)), max(1, min(int(page_size), 1000))
        response = await self._api(
            "GET",
            "service/tickets",
            "listing tickets",
            None,
            params={
                "conditions": conditions,
                "orderBy": order_by,
                "page": page,
                "pageSize": page_size,
                "fields": "id,summary,company,status,priority,board,owner,_info",
            },
            json=None,
            safe=True,
        )
        if response.status_code >= 400:
            raise cw_wire.error_for(
                response, operation="listing tickets", ticket_id=None, connection=self.connection_name
            )
        try:
            data = response.json()
        except ValueError:
            data = []
        items = tuple(cw_wire.parse_list_item(t) for t in data if isinstance(t, dict))
        has_more = 'rel="next"' in response.headers.get("Link", "")
        return TicketListPage(items, page, page_size, has_more)

    async def member_exists(self, identifier: str) -> bool:
        quoted = identifier.replace('"', "")
        data = await self._json(
            "GET",
            "system/members",
            f"looking up member {identifier}",
            None,
            params={"conditions": f'identifier="{quoted}"', "fields": "id,identifier", "pageSize": 1},
        )
        return bool(data)

    async def get_ticket_detail(self, ticket_id: int) -> TicketDetail:
        data = await self._json("GET", f"service/tickets/{int(ticket_id)}", f"reading ticket #{ticket_id}", ticket_id)
        configs = await self._json(
            "GET",
            f"service/tickets/{int(ticket_id)}/configurations",
            f"reading the configurations of ticket #{ticket_id}",
            ticket_id,
            params={"pageSize": 100},
        )
        if isinstance(data, dict):
            self._remember(cw_wire.parse_ticket(data))
        return cw_wire.parse_detail(data, configs if isinstance(configs, list) else [])

    async def list_ticket_notes(self, ticket_id: int, *, after_id: int = 0, max_pages: int = 10) -> list[TicketNote]:
        """Notes with an id above `after_id`, oldest first (paged, 100 a page, at most `max_pages`)."""
        out: list[TicketNote] = []
        for page in range(1, max_pages + 1):
            data = await self._json(
                "GET",
                f"service/tickets/{int(ticket_id)}/notes",
                f"reading the notes of ticket #{ticket_id}",
                ticket_id,
                params={"conditions": f"id>{int(after_id)}", "orderBy": "id asc", "page": page, "pageSize": 100},
            )
            rows = [n for n in data if isinstance(n, dict)] if isinstance(data, list) else []
            out.extend(cw_wire.parse_ticket_note(n) for n in rows)
            if len(rows) < 100:
                break
        return out

    # ---- time entries ---------------------------------------------------------------------------------------

    async def post_time_entry(
        self,
        ticket_id: int,
        *,
        member: str,
        start: str,
        end: str,
        notes: str,
        work_type: str,
        billable: str,
    ) -> TimeEntryRef:
        """POST /time/entries charged to the service ticket. Never retried blindly (like a note): read back first."""
        body = {
            "chargeToId": int(ticket_id),
            "chargeToType": "ServiceTicket",
            "member": {"identifier": member},
            "timeStart": start,
            "timeEnd": end,
            "notes": notes,
            "workType": {"name": work_type},
            "billableOption": billable,
            "addToDetailDescriptionFlag": False,  # the resolution note is posted on its own: never copy it
            "addToInternalAnalysisFlag": False,
            "addToResolutionFlag": False,
        }
        data = await self._json(
            "POST", "time/entries", f"adding the time entry to ticket #{ticket_id}", ticket_id, json=body, safe=False
        )
        return cw_wire.parse_time_entry(data if isinstance(data, dict) else {})

    async def list_time_entries(self, ticket_id: int, member: str) -> list[TimeEntryRef]:
        quoted = member.replace('"', "")
        data = await self._json(
            "GET",
            "time/entries",
            f"reading the time entries of ticket #{ticket_id}",
            ticket_id,
            params={
                "conditions": (
                    f'chargeToId={int(ticket_id)} and chargeToType="ServiceTicket" and member/identifier="{quoted}"'
                ),
                "orderBy": "id desc",
                "pageSize": 50,
            },
        )
        return [cw_wire.parse_time_entry(e) for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    async def get_time_entry(self, entry_id: int) -> TimeEntryRef:
        data = await self._json("GET", f"time/entries/{int(entry_id)}", f"reading time entry #{entry_id}", None)
        return cw_wire.parse_time_entry(data if isinstance(data, dict) else {})

    async def system_info(self) -> dict[str, Any]:
        """Connection check: the instance's version (used by a settings 'test connection' action)."""
        return await self._json("GET", "system/info", "checking the connection", None)

    # ---- plumbing -------------------------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        operation: str,
        ticket_id: int | None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        safe: bool = True,
    ) -> Any:
        response = await self._api(method, path, operation, ticket_id, params=params, json=json, safe=safe)
        try:
            return response.json()
        except ValueError:
            raise PsaServerError(
                f"ConnectWise sent an unreadable answer while {operation}",
                operation=operation,
                ticket_id=ticket_id,
                status_code=response.status_code,
                body_sent=True,
            ) from None

    async def _api(
        self,
        method: str,
        path: str,
        operation: str,
        ticket_id: int | None,
        *,
        params: dict[str, Any] | None,
        json: Any,
        safe: bool,
    ) -> httpx.Response:
        """An API call on the current base; after a 404, rediscover the codebase once and retry if it moved."""
        base = await self._discover()
        response = await self._send(method, base + path, operation, ticket_id, params=params, json=json, safe=safe)
        if response.status_code == 404 and self._origin is not None:
            try:
                moved = await self._discover(stale=base)
            except PsaCallError:
                moved = base  # discovery itself failed: report the original 404
            if moved != base:
                log.info("ConnectWise codebase moved; retrying %s %s once", method, path)
                response = await self._send(
                    method, moved + path, operation, ticket_id, params=params, json=json, safe=safe
                )
        if response.status_code >= 400:
            raise cw_wire.error_for(response, operation=operation, ticket_id=ticket_id, connection=self.connection_name)
        return response

    async def _discover(self, *, stale: str | None = None) -> str:
        """The API base. With `stale`, re-read companyinfo unless another task already replaced that base."""
        async with self._discover_lock:
            if self._base is not None and self._base != stale:
                return self._base
            operation = "finding the ConnectWise API address"
            response = await self._send(
                "GET", f"{self._origin}/login/companyinfo/{self.company_id}", operation, None, anonymous=True
            )
            if response.status_code >= 400:
                raise cw_wire.error_for(response, operation=operation, ticket_id=None, connection=self.connection_name)
            try:
                info = response.json()
            except ValueError:
                info = None
            codebase = info.get("Codebase") if isinstance(info, dict) else None
            if not isinstance(codebase, str) or not codebase.strip("/"):
                raise PsaNotFound(
                    f"ConnectWise at {self._origin} does not know company '{self.company_id}' "
                    "(check company_id and site)",
                    operation=operation,
                )
            self._base = f"{self._origin}/{codebase.strip('/')}/apis/3.0/"
            return self._base

    async def _send(
        self,
        method: str,
        url: str,
        operation: str,
        ticket_id: int | None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        safe: bool = True,
        anonymous: bool = False,
    ) -> httpx.Response:
        """One logical request with bounded retries. Returns any HTTP answer except a retried-away 429/5xx."""
        import httpx

        auth: Any = None if anonymous else httpx.USE_CLIENT_DEFAULT  # companyinfo needs no credentials
        not_sent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        policy = self._retry
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._client.request(method, url, params=params, json=json, auth=auth)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, not_sent)
                self._report(method, url, None, started, "transport_error", None)
                delay = self._backoff(attempt)
                if safe and attempt < policy.max_attempts and waited + delay <= policy.max_total_wait_s:
                    waited += delay
                    await self._sleep(delay)
                    continue
                kind = exc.__class__.__name__
                hint = "; it may have reached ConnectWise" if sent and not safe else ""
                raise PsaTransportError(
                    f"No answer from ConnectWise while {operation} ({kind}){hint}",
                    operation=operation,
                    ticket_id=ticket_id,
                    body_sent=sent,
                ) from None
            status = response.status_code
            outcome = "ok" if status < 400 else "rate_limited" if status == 429 else "http_error"
            self._report(method, url, status, started, outcome, response.headers.get("x-cw-request-id"))
            if status == 429:
                delay = cw_wire.retry_after_seconds(response)
                if (
                    attempt < policy.max_attempts
                    and delay <= policy.max_retry_after_s
                    and waited + delay <= policy.max_total_wait_s
                ):
                    waited += delay
                    await self._sleep(delay)
                    continue
            elif status >= 500 and safe:
                delay = self._backoff(attempt)
                if attempt < policy.max_attempts and waited + delay <= policy.max_total_wait_s:
                    waited += delay
                    await self._sleep(delay)
                    continue
            return response

    def _backoff(self, attempt: int) -> float:
        steps = self._retry.backoff_s or (0.0,)
        return steps[min(attempt - 1, len(steps) - 1)]

    def _report(
        self, method: str, url: str, status: int | None, started: float, outcome: str, request_id: str | None
    ) -> None:
        path = urlsplit(url).path
        call = PsaCall(method, path, status, int((time.perf_counter() - started) * 1000), outcome, request_id)
        log.debug("%s %s -> %s (%d ms, %s)", method, path, status, call.duration_ms, outcome)
        report_call(call, self._audit)


__all__ = ["ConnectWiseProvider", "PsaCallError", "RetryPolicy", "site_origin"]
