"""A loopback ConnectWise Manage emulator: a real HTTP server for tests and for trying FlowPilot without an instance.

Run it: `python -m flowpilot_tui.emulators.connectwise --port 8765` (prints the keys and a config snippet).
In tests: `with ConnectWiseEmulator() as cw: ...` then point a provider at `cw.site_url` or `cw.base_url`, flip
knobs on `cw.faults`, and assert on `cw.requests` and `cw.state`.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flowpilot_tui.emulators.connectwise_faults import Faults, WorkflowOverride
from flowpilot_tui.emulators.connectwise_routes import VERSION, Call, Reply, dispatch
from flowpilot_tui.emulators.connectwise_state import CwHttpError, CwState, Note, seed_demo

__all__ = ["ConnectWiseEmulator", "Faults", "LoggedRequest", "WorkflowOverride", "main"]

DEMO_COMPANY = "flowpilot-demo"
DEMO_PUBLIC_KEY = "fpDemoPublic01"
DEMO_PRIVATE_KEY = "fpDemoPrivate-change-me"
DEMO_CLIENT_ID = "5b0d3f3e-8a4e-4c57-9d0b-6f1f3c2a7e11"


@dataclass(frozen=True)
class LoggedRequest:
    """What the emulator received. Holds raw headers (the test side checks them); never printed."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any

    @property
    def api_path(self) -> str:
        marker = "/apis/3.0"
        return self.path.split(marker, 1)[1] if marker in self.path else self.path


class ConnectWiseEmulator:
    def __init__(
        self,
        *,
        company_id: str = DEMO_COMPANY,
        public_key: str = DEMO_PUBLIC_KEY,
        private_key: str = DEMO_PRIVATE_KEY,
        client_id: str = DEMO_CLIENT_ID,
        codebase: str = "v4_6_release/",
        clock: Callable[[], datetime] | None = None,
        seed: bool = True,
        demo_notes: bool = False,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.company_id = company_id
        self.public_key = public_key
        self.client_id = client_id
        self.codebase = codebase
        self.verbose = verbose
        self._expected_auth = "Basic " + base64.b64encode(f"{company_id}+{public_key}:{private_key}".encode()).decode()
        self.state = CwState(clock or (lambda: datetime.now(UTC)))
        if seed:
            seed_demo(self.state, notes=demo_notes)
        self.requests: list[LoggedRequest] = []
        self._served: dict[str, int] = {}  # API path -> records returned by list GETs
        self._api_count = 0
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> ConnectWiseEmulator:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="cw-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ConnectWiseEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- addresses and test helpers -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return int(self._server.server_address[1])

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def active_codebase(self) -> str:
        return self.faults.codebase_moved or self.codebase

    @property
    def base_url(self) -> str:
        """The API base a client would discover right now (with a trailing slash, as ConnectWise builds it)."""
        return f"{self.site_url}/{self.active_codebase}apis/3.0/"

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.state.faults = value

    def notes_on(self, ticket_id: int) -> list[Note]:
        with self.state.lock:
            return [n for n in self.state.notes.values() if n.ticket_id == ticket_id]

    def api_calls(self, method: str | None = None, contains: str = "") -> list[LoggedRequest]:
        return [r for r in list(self.requests) if (method is None or r.method == method) and contains in r.path]

    def request_count(self, method: str | None = None, contains: str = "") -> int:
        """How many requests arrived (optionally of one method, with `contains` in the path): for 'no full fetch'."""
        return len(self.api_calls(method, contains))

    def rows_served(self, contains: str = "/service/tickets") -> int:
        """Records returned so far by list GETs whose path ends in `contains` (bounded by their pageSize)."""
        return sum(self._served.get(p, 0) for p in self._served if p.endswith(contains))

    def close_ticket_by_other(self, ticket_id: int, *, member: str = "dbrown", status_id: int | None = None) -> None:
        with self.state.lock:
            self.state.close_ticket_by_other(ticket_id, member=member, status_id=status_id)

    def time_entries_on(self, ticket_id: int) -> list[Any]:
        with self.state.lock:
            return [e for e in self.state.time_entries.values() if e.ticket_id == ticket_id]

    # ---- request handling (runs on server threads) ----------------------------------------------------------

    def _company_info(self, company: str) -> Reply:
        if company.lower() != self.company_id.lower():
            return Reply(200, None)
        version = VERSION.removeprefix("v").rsplit(".", 1)[0]
        return Reply(
            200,
            {
                "CompanyName": "FlowPilot Demo MSP",
                "Codebase": self.active_codebase,
                "VersionCode": f"v{version}",
                "VersionNumber": VERSION,
                "CompanyID": self.company_id,
                "IsCloud": True,
            },
        )

    def _check_headers(self, headers: dict[str, str]) -> None:
        if headers.get("authorization") != self._expected_auth:
            raise CwHttpError(
                401, "Unauthorized", "Authentication failed: check the company id, public and private key."
            )
        if self.faults.require_client_id and not headers.get("clientid"):
            raise CwHttpError(
                401, "Unauthorized", "A clientId header is required. Register one at developer.connectwise.com."
            )

    def _fault_before(self, method: str) -> Reply | None:
        faults = self.faults
        self._api_count += 1
        if faults.rate_limit_next > 0 or (faults.rate_limit_every and self._api_count % faults.rate_limit_every == 0):
            faults.rate_limit_next = max(0, faults.rate_limit_next - 1)
            return Reply(
                429, {"code": "TooManyRequests", "message": "Rate limit exceeded"}, {"Retry-After": faults.retry_after}
            )
        if faults.server_error_next > 0 and (
            faults.server_error_methods is None or method in faults.server_error_methods
        ):
            faults.server_error_next -= 1
            return Reply(500, {"code": "ConnectWiseApi", "message": "An error has occurred: Object reference not set"})
        return None

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: Any) -> Reply | None:
        """Answer one request; `None` means drop the connection without an answer."""
        url = urlsplit(raw_path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        self.requests.append(LoggedRequest(method, url.path, query, headers, body))
        if url.path.startswith("/login/companyinfo/") and method == "GET":
            return self._company_info(url.path.removeprefix("/login/companyinfo/"))
        prefix = f"/{self.active_codebase}apis/3.0"
        if not url.path.startswith(prefix + "/"):
            return Reply(404, {"code": "NotFound", "message": "The requested resource was not found"})
        try:
            self._check_headers(headers)
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000)
            hold, only, reply_if = self.faults.hold, self.faults.hold_if, self.faults.hold_reply_if
            if hold is not None and (only(method, url.path) if only else reply_if is None):
                hold.wait(timeout=120)  # released by the test; the bound only keeps a broken test from hanging
                return None
            with self.state.lock:
                early = self._fault_before(method)
                if early is not None:
                    return early
                call = Call(
                    method, url.path[len(prefix) :], query, body, self.site_url + prefix, self.site_url + url.path
                )
                reply = dispatch(self.state, call)
                if method == "GET" and isinstance(reply.body, list):
                    self._served[call.api_path] = self._served.get(call.api_path, 0) + len(reply.body)
        except CwHttpError as exc:
            return Reply(exc.status, exc.body)
        if hold is not None and reply_if is not None and reply_if(method, url.path):
            hold.wait(timeout=120)  # applied; the answer never arrives
            return None
        is_time = call.api_path.rstrip("/").endswith("/time/entries")
        mode = self.faults.time_entry_lost_response if is_time else self.faults.server_timeout_after_store
        if method == "POST" and reply.status == 201 and mode is not None:
            if mode == "500":
                return Reply(500, {"code": "ConnectWiseApi", "message": "An error has occurred: timeout"})
            if mode == "hang":
                time.sleep(self.faults.hang_s)
            return None
        return reply


def _make_handler(emulator: ConnectWiseEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # idle keep-alive connections do not pin threads forever
        disable_nagle_algorithm = True  # headers and body go out in two writes; avoid the 40 ms delayed-ACK stall

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                reply: Reply | None = Reply(
                    400, {"code": "InvalidObject", "message": "The request body is not valid JSON", "errors": []}
                )
            else:
                reply = emulator.handle(self.command, self.path, headers, body)
            if reply is None:
                self.close_connection = True
                return
            payload = json.dumps(reply.body).encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-cw-request-id", str(uuid.uuid4()))
            self.send_header("api-current-version", VERSION.removeprefix("v"))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            if emulator.verbose:  # the request line only: never headers
                sys.stderr.write(f"cw-emulator: {format % args}\n")

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the loopback ConnectWise emulator with demo data.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--company", default=DEMO_COMPANY)
    parser.add_argument("--public-key", default=DEMO_PUBLIC_KEY)
    parser.add_argument("--private-key", default=DEMO_PRIVATE_KEY)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--quiet", action="store_true", help="do not print each request line")
    args = parser.parse_args(argv)
    emu = ConnectWiseEmulator(
        company_id=args.company,
        public_key=args.public_key,
        private_key=args.private_key,
        client_id=args.client_id,
        port=args.port,
        verbose=not args.quiet,
        demo_notes=True,
    ).start()
    tickets = ", ".join(f"#{t.id}" for t in emu.state.tickets.values())
    print(f"ConnectWise emulator listening on {emu.site_url} (API base {emu.base_url})")
    print(
        f"company {args.company}, public key {args.public_key}, private key {args.private_key}, "
        f"clientId {args.client_id}"
    )
    print(f"demo tickets: {tickets}; statuses: 12 = Escalated to L2, 17 = Completed (closed)")
    print("members: asmith (owns #48213, #48216; works #48214), jsmith, dbrown; work types: Remote Support, Onsite\n")
    print("Add to your FlowPilot config.toml:\n")
    print("[connections.demo-cw]")
    print(f'site = "{emu.site_url}"')
    print(f'company_id = "{args.company}"')
    print(f'public_key = "{args.public_key}"')
    print('private_key_env = "CW_DEMO_PRIVATE_KEY"')
    print(f'client_id = "{args.client_id}"')
    print('member_identifier = "asmith"')
    print('time_work_type = "Remote Support"')
    print('time_billable = "Billable"\n')
    try:  # from the line that invites Ctrl+C on, it ends the loop (never a traceback or click's "Aborted!")
        print(f"and export CW_DEMO_PRIVATE_KEY={args.private_key}\nPress Ctrl+C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    try:
        emu.stop()
    except KeyboardInterrupt:  # a second Ctrl+C while stopping: still no traceback
        pass
    print("ConnectWise emulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
