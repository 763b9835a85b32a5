"""The Anthropic client for the assistant and scripts, and one-line, secret-free descriptions of its errors.

`anthropic` is imported inside the functions: it costs about a second and must not load at app start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowpilot_tui.config import LlmSettings

ClientFactory = Callable[["LlmSettings"], Any]  # returns an `anthropic.AsyncAnthropic`


def is_configured(llm: LlmSettings, factory: ClientFactory | None = None) -> bool:
    """Claude is used only when chosen and a key (or an injected client factory) is there."""
    return llm.provider == "anthropic" and (llm.api_key is not None or factory is not None)


def import_sdk() -> None:
    """Load the SDK (seconds of CPU on a busy machine); call it via `asyncio.to_thread` so the UI keeps running."""
    import anthropic  # noqa: F401


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


def describe_error(exc: BaseException) -> str:
    """What went wrong, for a notification. Never includes request content, headers or the key."""
    import anthropic

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
