"""The chat assistant: the engineer's log and slash commands offline, a streaming Claude chat when configured.

Guarantees the UI relies on:
- The engineer's message is stored before anything else happens, so nothing they typed is lost.
- Claude's tool calls are applied only after the final message arrives, together with the reply, in one
  transaction; a cancelled, failed or truncated reply keeps the text that arrived, marked interrupted.
- Errors come back in `TurnResult.error` (never raised) so the UI can notify; cancellation is re-raised after
  the partial reply is saved.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowpilot_tui import heap
from flowpilot_tui.services import slash_commands as slash
from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.assistant_prompt import build_request
from flowpilot_tui.services.assistant_tools import ToolCard, apply_tool_use, cards_of, record_fact, record_fix
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.llm_client import (
    ClientFactory,
    describe_error,
    import_sdk,
    is_configured,
    make_client,
    open_reply_stream,
)
from flowpilot_tui.services.sessions import Clock, SessionService, utcnow
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.views import MessageView

if TYPE_CHECKING:
    from flowpilot_tui.config import LlmSettings

__all__ = ["AssistantService", "ToolCard", "TurnResult", "cards_of"]

OnText = Callable[[str], Awaitable[None]]  # the reply's text in frames; then "" once: the text is complete
FRAME_S = 0.04  # streamed text reaches the UI at most once per frame (40 ms), and always at the end
HISTORY_FETCH = 80  # messages read to build the bounded window (slash-command lines are skipped)


@dataclass(frozen=True)
class TurnResult:
    """What one send produced. `user_message` is None only when nothing was stored (bad input, /help)."""

    reply: MessageView | None = None
    cards: list[ToolCard] = field(default_factory=list)
    interrupted: bool = False
    error: str | None = None
    user_message: MessageView | None = None
    redaction_count: int = 0


class AssistantService:
    def __init__(
        self,
        store: Store,
        actor: Actor,
        llm_settings: LlmSettings,
        clock: Clock = utcnow,
        client_factory: ClientFactory | None = None,
        *,
        sessions: SessionService | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.llm = llm_settings
        self.clock = clock
        self.client_factory = client_factory
        self.sessions = sessions or SessionService(store, actor, clock)
        self._client: Any = None

    # ---- state shown by the UI --------------------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        return not is_configured(self.llm, self.client_factory)

    @property
    def offline_notice(self) -> str:
        if not self.offline:
            return ""
        if self.llm.provider == "anthropic":
            why = 'llm.provider is "anthropic" but ANTHROPIC_API_KEY is not set'
        else:
            why = "no model is configured"
        return (
            f"Assistant offline ({why}). The chat is your log; /fact, /tried, /hypothesis, /env and /fix record "
            'facts and fixes (/help lists them). To enable Claude, set llm.provider = "anthropic" in the '
            "config file and export ANTHROPIC_API_KEY."
        )

    def slash_commands(self) -> list[tuple[str, str]]:
        return slash.slash_commands()

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # ---- a turn -----------------------------------------------------------------------------------------------

    async def send(self, session_id: str, text: str, on_text: OnText | None = None) -> TurnResult:
        if not (text or "").strip():
            return TurnResult(error="Type a message, or a /command (/help lists them)")
        if slash.is_command(text):
            return await self._command(session_id, text)
        try:
            user_msg = await self.sessions.append_message(session_id, "user", slash.unescape(text).strip())
        except DomainError as exc:
            return TurnResult(error=exc.message)
        if self.offline:
            return TurnResult(user_message=user_msg)
        with (
            heap.no_full_collection()
        ):  # until the reply is stored: the text on screen first, the collector's pause after
            return await self._claude_turn(session_id, user_msg, on_text)

    async def _command(self, session_id: str, text: str) -> TurnResult:
        """Record a fact or fix and log the command line, in one transaction."""
        try:
            cmd = slash.parse(text)
            if cmd.name == "/help":
                return TurnResult(cards=[ToolCard("help", line) for line in slash.help_lines()])
            async with self.store.write() as db:
                row = await load_session(db, self.actor, session_id)
                if cmd.kind is not None:
                    card = await record_fact(self.sessions, db, row, cmd.kind, cmd.text, cmd.outcome, "engineer")
                else:
                    card = await record_fix(
                        self.sessions,
                        db,
                        row,
                        cmd.title,
                        rationale="",
                        steps=list(cmd.steps),
                        target_shell=None,
                        source="engineer",
                    )
                msg = await self.sessions.append_message_in(
                    db, row, "user", text.strip(), meta={"command": cmd.name.lstrip("/"), "cards": [card.to_json()]}
                )
        except DomainError as exc:
            return TurnResult(error=exc.message)
        return TurnResult(cards=[card], user_message=msg)

    async def _get_client(self) -> Any:
        """The SDK client, built at the first model call; the SDK import runs in a thread, off the UI loop."""
        if self._client is None:
            if self.client_factory is None:
                await asyncio.to_thread(import_sdk)
            self._client = (self.client_factory or make_client)(self.llm)
        return self._client

    async def _claude_turn(self, session_id: str, user_msg: MessageView, on_text: OnText | None) -> TurnResult:
        try:
            detail = await self.sessions.get(session_id)
            history = await self.sessions.list_messages(session_id, limit=HISTORY_FETCH)
        except DomainError as exc:
            return TurnResult(user_message=user_msg, error=exc.message)
        request = build_request(detail, history, self.llm.model)
        parts: list[str] = []
        frames = Frames(on_text)
        try:
            client = await self._get_client()
            # Raw SSE text deltas (no pydantic event / snapshot per token); the final message is built once.
            async with open_reply_stream(client, request.params) as stream:
                async for chunk in stream.text():
                    parts.append(chunk)
                    await frames.add(chunk)
                await frames.flush()  # the last text is on screen before the reply is stored
                await frames.end()  # "" = no more text: the UI ends the stream now, not after the write below
                final = stream.final
        except asyncio.CancelledError:
            # Esc / a newer send: what arrived goes to the screen and is kept, then the cancellation goes through.
            frames.cancel()
            await asyncio.shield(frames.flush())
            await asyncio.shield(self._save_partial(session_id, "".join(parts), "cancelled"))
            raise
        except Exception as exc:  # API, connection and stream errors (anthropic is imported lazily)
            await frames.flush()
            saved = await self._save_partial(session_id, "".join(parts), "error")
            return TurnResult(
                reply=saved,
                interrupted=saved is not None,
                error=describe_error(exc),
                user_message=user_msg,
                redaction_count=request.redaction_count,
            )
        text = "\n\n".join(b.text for b in final.content if b.type == "text" and b.text)
        if final.stop_reason in (None, "max_tokens"):
            # Truncated stream / length limit: tool inputs may be incomplete, so none are applied.
            reason = "truncated" if final.stop_reason is None else "max_tokens"
            saved = await self._save_partial(session_id, text or "".join(parts), reason)
            error = (
                "The reply was cut off before it finished"
                if reason == "truncated"
                else "The reply hit the length limit and was cut short"
            )
            return TurnResult(
                reply=saved,
                interrupted=True,
                error=error,
                user_message=user_msg,
                redaction_count=request.redaction_count,
            )
        return await self._finish(session_id, user_msg, final, text, request.redaction_count)

    async def _finish(
        self, session_id: str, user_msg: MessageView, final: Any, text: str, redactions: int
    ) -> TurnResult:
        """Store the reply and apply its tool calls in one transaction."""
        uses = [b for b in final.content if b.type == "tool_use"]
        try:
            async with self.store.write() as db:
                row = await load_session(db, self.actor, session_id)
                results, cards = [], []
                for use in uses:
                    applied = await apply_tool_use(self.sessions, db, row, use.name, use.input)
                    results.append({"tool_use_id": use.id, "content": applied.content, "is_error": applied.is_error})
                    cards += applied.cards
                meta = {
                    "tool_uses": [{"id": u.id, "name": u.name, "input": u.input} for u in uses],
                    "tool_results": results,
                    "cards": [c.to_json() for c in cards],
                    "model": final.model,
                    "stop_reason": final.stop_reason,
                    "usage": {"input_tokens": final.usage.input_tokens, "output_tokens": final.usage.output_tokens},
                    "redactions": redactions,
                }
                reply = await self.sessions.append_message_in(db, row, "assistant", text, meta=meta)
        except DomainError as exc:
            saved = await self._save_partial(session_id, text, "not_applied")
            return TurnResult(
                reply=saved,
                interrupted=saved is not None,
                error=f"Reply not applied: {exc.message}",
                user_message=user_msg,
                redaction_count=redactions,
            )
        error = "Claude declined to answer this one" if final.stop_reason == "refusal" else None
        return TurnResult(reply=reply, cards=cards, error=error, user_message=user_msg, redaction_count=redactions)

    async def _save_partial(self, session_id: str, text: str, reason: str) -> MessageView | None:
        """Keep what arrived as an interrupted assistant message (nothing to keep → nothing stored)."""
        if not text.strip():
            return None
        try:
            return await self.sessions.append_message(
                session_id, "assistant", text, interrupted=True, meta={"interrupted_reason": reason}
            )
        except DomainError:
            return None


class Frames:
    """Coalesces streamed deltas: `on_text` gets the text gathered in each frame (at most every FRAME_S), not a
    call per token. A frame that is not followed by more text is delivered by a timer, so nothing waits for the end."""

    def __init__(self, on_text: OnText | None, interval: float = FRAME_S) -> None:
        self.on_text = on_text
        self.interval = interval
        self.pending: list[str] = []
        self.last = -math.inf  # the first text goes at once (loop.time() is seconds since boot: it can be small)
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def add(self, chunk: str) -> None:
        if self.on_text is None or not chunk:
            return
        self.pending.append(chunk)
        loop = asyncio.get_running_loop()
        if loop.time() - self.last >= self.interval:
            await self.flush()
        elif self._timer is None:
            self._timer = loop.call_at(self.last + self.interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.pending or self.on_text is None:
            return
        text = "".join(self.pending)
        self.pending.clear()
        self.last = asyncio.get_running_loop().time()
        await self.on_text(text)

    async def end(self) -> None:
        """The text is complete (the stream ended normally): `on_text("")`, once, after the last frame."""
        if self.on_text is not None:
            await self.on_text("")

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
