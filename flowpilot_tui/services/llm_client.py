"""The Anthropic client for the assistant and scripts, and one-line, secret-free descriptions of its errors.

`anthropic` is imported inside the functions: it costs about a second and must not load at app start-up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowpilot_tui import heap

if TYPE_CHECKING:
    from flowpilot_tui.config import LlmSettings

ClientFactory = Callable[["LlmSettings"], Any]  # returns an `anthropic.AsyncAnthropic`


def is_configured(llm: LlmSettings, factory: ClientFactory | None = None) -> bool:
    """Claude is used only when chosen and a key (or an injected client factory) is there."""
    return llm.provider == "anthropic" and (llm.api_key is not None or factory is not None)


def import_sdk() -> None:
    """Load the SDK (seconds of CPU on a busy machine); call it via `asyncio.to_thread` so the UI keeps running.
    Its ~400,000 module-level objects then leave the collector's reach (heap.py: no 0.4 s pauses mid-stream)."""
    import anthropic  # noqa: F401

    heap.freeze_once("model SDK")


def make_client(llm: LlmSettings) -> Any:
    """The real SDK client from settings; SDK retries (429/5xx/connection) follow `llm.max_retries`."""
    from anthropic import AsyncAnthropic

    if llm.api_key is None:
        raise ValueError("no Anthropic API key configured")
    return AsyncAnthropic(
        api_key=llm.api_key.get_secret_value(),
        base_url=llm.base_url,
        timeout=llm.timeout_s,
        max_retries=llm.max_retries,
    )


# ---- the chat stream, parsed cheaply ---------------------------------------------------------------------------
#
# Why not `messages.stream()`: its helper builds a pydantic event per SSE event and re-accumulates a full message
# snapshot for each one (the biggest CPU cost of a streamed reply, on the UI's event loop). Here the SDK still makes
# the request (auth, retries, HTTP status errors → the usual exception classes), but the body is read as raw SSE
# lines: one `json.loads` per event, text deltas handed out as plain strings, tool input JSON joined once at the end.


class StreamBrokeOff(Exception):
    """An `event: error` after HTTP 200 (e.g. overloaded mid-reply); `type` is the API's error type."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type


@dataclass
class StreamedUsage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class StreamedBlock:
    """A content block as the final message has it: `text` for text blocks; `id`, `name`, `input` for tool use."""

    type: str
    text: str = ""
    id: str = ""
    name: str = ""
    input: Any = None
    _parts: list[str] = field(default_factory=list, repr=False)
    _done: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self.type == "text":
            self.text += "".join(self._parts)
        elif self.type == "tool_use":
            raw = "".join(self._parts)
            try:
                self.input = json.loads(raw) if raw.strip() else (self.input or {})
            except ValueError:
                self.input = {}  # only a truncated stream leaves partial JSON; its tool calls are never applied
        self._parts = []


@dataclass
class StreamedMessage:
    """What `get_final_message()` would give, for the fields the assistant reads. `stop_reason` None = the stream
    ended before `message_delta` (truncated)."""

    model: str = ""
    content: list[StreamedBlock] = field(default_factory=list)
    stop_reason: str | None = None
    usage: StreamedUsage = field(default_factory=StreamedUsage)
    started: bool = False


class ReplyStream:
    """Iterate `text()` for the text deltas; `final` is complete once it ends."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self.final = StreamedMessage()

    async def text(self) -> AsyncIterator[str]:
        event = ""
        data: list[str] = []
        async for line in self._response.iter_lines():
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif not line:
                if data:
                    chunk = self._apply(event, "\n".join(data))
                    if chunk:
                        yield chunk
                event, data = "", []
        if data:
            chunk = self._apply(event, "\n".join(data))
            if chunk:
                yield chunk
        for block in self.final.content:  # a truncated stream: keep what arrived
            block.close()

    def _apply(self, event: str, raw: str) -> str | None:
        if not event or event == "ping":  # like the SDK: events without a name are skipped
            return None
        doc = json.loads(raw)
        final = self.final
        if event == "content_block_delta":
            delta = doc.get("delta") or {}
            index = doc.get("index", len(final.content) - 1)
            block = final.content[index] if 0 <= index < len(final.content) else None
            if block is None:
                return None
            if delta.get("type") == "text_delta":
                text = delta.get("text") or ""
                block._parts.append(text)
                return text
            if delta.get("type") == "input_json_delta":
                block._parts.append(delta.get("partial_json") or "")
            return None
        if event == "message_start":
            msg = doc.get("message") or {}
            final.started = True
            final.model = msg.get("model") or ""
            usage = msg.get("usage") or {}
            final.usage = StreamedUsage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
        elif event == "content_block_start":
            b = doc.get("content_block") or {}
            final.content.append(
                StreamedBlock(
                    type=b.get("type", ""),
                    text=b.get("text") or "",
                    id=b.get("id") or "",
                    name=b.get("name") or "",
                    input=b.get("input"),
                )
            )
        elif event == "content_block_stop":
            index = doc.get("index", len(final.content) - 1)
            if 0 <= index < len(final.content):
                final.content[index].close()
        elif event == "message_delta":
            final.stop_reason = (doc.get("delta") or {}).get("stop_reason")
            usage = doc.get("usage") or {}
            if usage.get("output_tokens") is not None:
                final.usage.output_tokens = int(usage["output_tokens"])
            if usage.get("input_tokens") is not None:
                final.usage.input_tokens = int(usage["input_tokens"])
        elif event == "error":
            err = doc.get("error") or {}
            raise StreamBrokeOff(err.get("type") or "error", err.get("message") or "")
        return None


@asynccontextmanager
async def open_reply_stream(client: Any, params: dict[str, Any]) -> AsyncIterator[ReplyStream]:
    """POST /v1/messages with `stream: true` through the SDK (HTTP errors raise as usual, at enter); the SSE body
    is read by `ReplyStream`. Leaving the block closes the response (cancel = connection closed)."""
    async with client.messages.with_streaming_response.create(**params, stream=True) as response:
        yield ReplyStream(response)


def describe_error(exc: BaseException) -> str:
    """What went wrong, for a notification. Never includes request content, headers or the key."""
    import anthropic
    import httpx2

    if isinstance(exc, StreamBrokeOff):
        return f"The reply stream broke off ({exc.type or 'error'})"
    if isinstance(exc, httpx2.TimeoutException):  # a read timeout while the body streams
        return "Claude did not answer in time (timeout)"
    if isinstance(exc, httpx2.TransportError):  # the connection dropped while the body streamed
        return "Claude could not be reached (connection error)"

    if isinstance(exc, anthropic.APITimeoutError):
        return "Claude did not answer in time (timeout)"
    if isinstance(exc, anthropic.APIConnectionError):
        return "Claude could not be reached (connection error)"
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return f"The API key was rejected (HTTP {exc.status_code}); check ANTHROPIC_API_KEY"
    if isinstance(exc, anthropic.RateLimitError):
        return "Rate limited by the API (HTTP 429) after retries; try again shortly"
    if isinstance(exc, anthropic.APIStatusError):
        request = f", request {exc.request_id}" if getattr(exc, "request_id", None) else ""
        if exc.status_code == 200:  # `event: error` after the stream started
            return f"The reply stream broke off ({exc.type or 'error'})"
        if exc.type == "overloaded_error" or exc.status_code == 529:
            return "Claude is overloaded (HTTP 529); try again shortly"
        return f"API error (HTTP {exc.status_code}{', ' + exc.type if exc.type else ''}{request})"
    if isinstance(exc, TypeError) and "authentication" in str(exc).lower():
        return "No API key: set ANTHROPIC_API_KEY"
    return f"Assistant error ({exc.__class__.__name__})"
