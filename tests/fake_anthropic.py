"""A loopback fake of the Anthropic Messages API, driven by the real SDK over real HTTP.

Why not a mock: the SDK (httpx2) cannot be intercepted by respx, and a socket-level fake exercises retries,
chunked SSE, timeouts and error mapping exactly as production does.

Usage::

    fake = FakeAnthropic().start()                  # or the `fake_anthropic` fixture
    fake.reply(message(tool_use_block("write_x", {...})))   # JSON, or SSE if the request streams
    fake.error(429, "rate_limit_error", "Slow down", headers={"retry-after-ms": "1"})
    client = AsyncAnthropic(base_url=fake.base_url, api_key="test", max_retries=0)
    ...
    fake.requests[-1].body["tool_choice"]; fake.request_count
    fake.stop()

Steps are served FIFO, one per `POST /v1/messages` request; an empty script answers 500 `api_error`.
Every step takes `delay=` (seconds before the status line: use it for timeouts) and `headers=`.
Any step takes `match=` (a predicate on the request body): it then answers only matching requests; each
request takes the first step that accepts it — for apps that send two kinds of request concurrently (a chat
turn and a note preview). SSE steps also take `hold_after=n`: send n events, then stall until `release()`
(or `stop()`) — a stream caught mid-reply, for cancel tests and for watching partial text in the UI.
`POST /v1/messages/count_tokens` is answered without consuming a step. Like the real API, a history whose
assistant `tool_use` is not followed by a user message starting with matching `tool_result` blocks gets a
400 `invalid_request_error` (also without consuming a step).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


# ---- builders for canned replies ---------------------------------------------------------------------------


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id or f"toolu_fake{next(_ids):04d}", "name": name, "input": input}


def message(
    *content: dict[str, Any],
    stop_reason: str | None = None,
    model: str = "claude-sonnet-5-5",
    input_tokens: int = 100,
    output_tokens: int = 50,
) -> dict[str, Any]:
    """A complete Messages API reply; `stop_reason` defaults to tool_use/end_turn from the content."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return {
        "id": f"msg_fake{next(_ids):04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def stream_events(msg: dict[str, Any], *, pieces: int = 3) -> list[tuple[str, dict[str, Any]]]:
    """The SSE event sequence the real API sends for `msg` (text and tool input split into `pieces`)."""
    usage = msg["usage"]
    start = {**msg, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(msg["content"]):
        if block["type"] == "text":
            empty: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _split(block["text"], pieces)]
        else:
            empty = {**block, "input": {}}
            raw = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": p} for p in _split(raw, pieces)]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": empty}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _split(s: str, pieces: int) -> list[str]:
    size = max(1, -(-len(s) // max(1, pieces)))
    return [s[i : i + size] for i in range(0, len(s), size)] or [""]


def error_body(error_type: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": text}, "request_id": "req_fake_error"}


# ---- server ------------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One scripted answer. kind: "message" (JSON or SSE by request), "sse" (raw events), "error"."""

    kind: str
    payload: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    event_delay: float = 0.0
    hold_after: int | None = None
    match: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeAnthropic:
    """Scripted Messages API on 127.0.0.1:<free port>; thread-safe request log."""

    def __init__(self) -> None:
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self.held = threading.Event()  # set while a `hold_after` stream is stalled
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # scripting
    def reply(
        self,
        msg: dict[str, Any],
        *,
        delay: float = 0.0,
        event_delay: float = 0.0,
        headers: dict[str, str] | None = None,
        hold_after: int | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> FakeAnthropic:
        """Serve `msg` as JSON, or as a well-formed SSE stream when the request has `"stream": true`."""
        return self._push(
            Step(
                "message",
                msg,
                headers=headers or {},
                delay=delay,
                event_delay=event_delay,
                hold_after=hold_after,
                match=match,
            )
        )

    def reply_sse(
        self,
        events: list[tuple[str, dict[str, Any]]],
        *,
        delay: float = 0.0,
        event_delay: float = 0.0,
        headers: dict[str, str] | None = None,
        hold_after: int | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> FakeAnthropic:
        """Serve exactly these SSE events (for truncated streams and mid-stream errors)."""
        return self._push(
            Step(
                "sse",
                events,
                headers=headers or {},
                delay=delay,
                event_delay=event_delay,
                hold_after=hold_after,
                match=match,
            )
        )

    def release(self) -> None:
        """Let a stream stalled by `hold_after` continue."""
        self._released.set()

    def truncated(self, msg: dict[str, Any], **kw: Any) -> FakeAnthropic:
        """Stream `msg` but end the body before `message_delta`/`message_stop` (stop_reason stays None)."""
        return self.reply_sse(stream_events(msg)[:-2], **kw)

    def mid_stream_error(
        self,
        msg: dict[str, Any],
        *,
        after: int = 3,
        error_type: str = "overloaded_error",
        text: str = "Overloaded",
        **kw: Any,
    ) -> FakeAnthropic:
        """HTTP 200, `after` events of `msg`, then `event: error`."""
        return self.reply_sse(stream_events(msg)[:after] + [("error", error_body(error_type, text))], **kw)

    def error(
        self,
        status: int,
        error_type: str,
        text: str = "error",
        *,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> FakeAnthropic:
        return self._push(
            Step("error", error_body(error_type, text), status=status, headers=headers or {}, delay=delay, match=match)
        )

    def _push(self, step: Step) -> FakeAnthropic:
        with self._lock:
            self._steps.append(step)
        return self

    @property
    def request_count(self) -> int:
        """Messages requests received (count_tokens not included)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == "/v1/messages")

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._steps)

    # lifecycle
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeAnthropic:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # used by the handler
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _next_step(self, body: dict[str, Any] | None = None) -> Step:
        with self._lock:
            for step in self._steps:
                if step.match is None if body is None else (step.match is None or step.match(body)):
                    self._steps.remove(step)
                    return step
        return Step(
            "error",
            error_body("api_error", "fake server script exhausted"),
            status=500,
            headers={"x-should-retry": "false"},
        )


def tool_result_violation(messages: list[dict[str, Any]]) -> str | None:
    """The real API's rule: each assistant tool_use must be answered at the start of the next user turn."""
    for i, msg in enumerate(messages):
        content = msg.get("content")
        if msg.get("role") != "assistant" or not isinstance(content, list):
            continue
        ids = [b.get("id") for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not ids:
            continue
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        nxt_content = nxt.get("content") if nxt else None
        leading: list[str] = []
        if nxt and nxt.get("role") == "user" and isinstance(nxt_content, list):
            for block in nxt_content:
                if not (isinstance(block, dict) and block.get("type") == "tool_result"):
                    break
                leading.append(block.get("tool_use_id"))
        missing = [x for x in ids if x not in leading]
        if missing:
            return (
                f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                f"in the next message."
            )
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FakeAnthropic

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send_json(400, error_body("invalid_request_error", "body is not JSON"))
        path = self.path.split("?", 1)[0]
        self.owner._record(RecordedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body))
        if not (self.headers.get("authorization") or self.headers.get("x-api-key")):
            return self._send_json(401, error_body("authentication_error", "missing credentials"))
        if path == "/v1/messages/count_tokens":
            return self._send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        if path != "/v1/messages":
            return self._send_json(404, error_body("not_found_error", f"no route {path}"))
        violation = tool_result_violation(body.get("messages") or [])
        if violation:
            return self._send_json(400, error_body("invalid_request_error", violation))
        step = self.owner._next_step(body)
        if step.delay and self.owner._stopping.wait(step.delay):
            return
        try:
            if step.kind == "error":
                self._send_json(step.status, step.payload, step.headers)
            elif step.kind == "message" and body.get("stream") is not True:
                self._send_json(200, step.payload, step.headers)
            else:
                events = stream_events(step.payload) if step.kind == "message" else step.payload
                self._send_sse(events, step.headers, step.event_delay, step.hold_after)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout/cancel): expected
            self.close_connection = True

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_fake_{next(_ids):04d}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_sse(
        self,
        events: list[tuple[str, dict[str, Any]]],
        headers: dict[str, str],
        event_delay: float,
        hold_after: int | None = None,
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", f"req_fake_{next(_ids):04d}")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        for i, (name, data) in enumerate(events):
            if i == hold_after:
                self.owner.held.set()
                self.owner._released.wait()
                self.owner.held.clear()
                if self.owner._stopping.is_set():
                    break
            if event_delay and self.owner._stopping.wait(event_delay):
                break
            chunk = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
