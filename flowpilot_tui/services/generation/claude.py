"""Claude generator: a forced tool call returns structured sections; the app validates, flags and renders them.

Any API error, interrupted or truncated stream, unusable stop reason or reply that does not fit the schema falls
back to the offline template, and the preview says why (`fallback_reason`). `anthropic` is imported lazily: it
costs about a second at start-up and the app must run without it being touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from flowpilot_tui.services.generation.offline import OfflineGenerator
from flowpilot_tui.services.generation.prompt import PROMPT_VERSION, bounded_facts, request_params, tool_for
from flowpilot_tui.services.generation.render import RENDER_VERSION, render_escalation, render_resolution
from flowpilot_tui.services.generation.types import (
    NOTE_SECTIONS,
    CitedItem,
    EscalationPackage,
    GeneratedPreview,
    PreviewKind,
    ResolutionNote,
    SessionBundle,
    Usage,
)
from flowpilot_tui.services.generation.validate import validate_escalation, validate_resolution
from flowpilot_tui.services.llm_client import describe_error, make_client

__all__ = ["ClaudeGenerator", "GenerationFailed", "describe_error", "make_client"]

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic


DEFAULT_MODEL = "claude-sonnet-5-5"
ACCEPTED_STOP_REASONS = ("tool_use", "end_turn")


def claude_key(model: str) -> str:
    """Preview-cache key of the Claude generator for `model` (prompt and render versions included)."""
    return f"claude/{model}/{PROMPT_VERSION}{RENDER_VERSION}"


class GenerationFailed(Exception):
    """Internal: carries a one-line, secret-free reason to show in the preview header."""

    def __init__(self, reason: str, usage: Usage | None = None, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage or Usage()
        self.request_id = request_id


class ClaudeGenerator:
    """Streams a forced tool call; `on_progress` receives the partially rendered markdown as the input arrives."""

    name = "claude"

    def __init__(
        self, client: AsyncAnthropic, model: str = DEFAULT_MODEL, *, fallback: OfflineGenerator | None = None
    ) -> None:
        self.client = client
        self.model = model
        self.fallback = fallback or OfflineGenerator()
        self.template_version = f"{PROMPT_VERSION}{RENDER_VERSION}"
        self.key = claude_key(model)

    async def generate(
        self, bundle: SessionBundle, kind: PreviewKind, on_progress: Callable[[str], None] | None = None
    ) -> GeneratedPreview:
        try:
            structured, usage, request_id, model = await self._call(bundle, kind, on_progress)
        except GenerationFailed as failed:
            return await self._fall_back(bundle, kind, failed, on_progress)
        if isinstance(structured, EscalationPackage):
            flags = validate_escalation(structured, bundle)
            markdown = render_escalation(structured, bundle, flags)
        else:
            assert isinstance(structured, ResolutionNote)
            flags = validate_resolution(structured, bundle)
            markdown = render_resolution(structured, bundle, flags)
        if on_progress is not None:
            on_progress(markdown)
        return GeneratedPreview(
            kind=kind,
            markdown=markdown,
            generator="claude",
            model=model,
            template_version=self.template_version,
            usage=usage,
            redaction_count=bundle.redaction_count,
            redactions=list(bundle.redactions),
            flagged_items=flags,
            facts_left_out=len(bounded_facts(bundle)[1]),
            state_version=bundle.state_version,
            request_id=request_id,
        )

    async def _fall_back(
        self,
        bundle: SessionBundle,
        kind: PreviewKind,
        failed: GenerationFailed,
        on_progress: Callable[[str], None] | None,
    ) -> GeneratedPreview:
        preview = await self.fallback.generate(bundle, kind, on_progress)
        return preview.model_copy(
            update={"fallback_reason": failed.reason, "usage": failed.usage, "request_id": failed.request_id}
        )

    async def _call(
        self,
        bundle: SessionBundle,
        kind: PreviewKind,
        on_progress: Callable[[str], None] | None,
    ) -> tuple[BaseModel, Usage, str | None, str]:
        import anthropic

        params = request_params(kind, bundle, self.model)
        tool_name = tool_for(kind)["name"]
        request_id: str | None = None
        stream = None
        try:
            async with self.client.messages.stream(**params) as stream:
                request_id = stream.request_id
                last = ""
                async for event in stream:
                    if event.type == "input_json" and on_progress is not None:
                        partial = render_partial(kind, bundle, event.snapshot)
                        if partial and partial != last:
                            on_progress(partial)
                            last = partial
                final = await stream.get_final_message()
        except anthropic.AnthropicError as exc:
            raise GenerationFailed(describe_error(exc), _spent(stream), request_id) from None
        except ValueError:  # the SDK could not parse the streamed tool JSON
            raise GenerationFailed("the reply was not valid JSON", _spent(stream), request_id) from None
        except AssertionError:  # stream without message_start: nothing usable arrived
            raise GenerationFailed("the reply stream was malformed", Usage(), request_id) from None
        usage = _usage(final.usage)
        if final.stop_reason not in ACCEPTED_STOP_REASONS:
            reason = {
                None: "the reply stream ended early (truncated)",
                "max_tokens": "the reply hit the token limit (max_tokens)",
                "refusal": "Claude declined to write this note (refusal)",
            }.get(final.stop_reason, f"unusable reply (stop reason {final.stop_reason})")
            raise GenerationFailed(reason, usage, request_id)
        block = next((b for b in final.content if b.type == "tool_use" and b.name == tool_name), None)
        if block is None:
            raise GenerationFailed("the reply had no structured note", usage, request_id)
        model_cls = EscalationPackage if kind == "escalate" else ResolutionNote
        try:
            structured = model_cls.model_validate(block.input)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "reply"
            raise GenerationFailed(
                f"the reply did not match the note format ({where}: {first.get('msg')})", usage, request_id
            ) from None
        return structured, usage, request_id, final.model or self.model


def _spent(stream: Any) -> Usage:
    """Tokens already used by an interrupted stream (they are billed even though the reply is discarded)."""
    try:
        return _usage(stream.current_message_snapshot.usage)
    except Exception:  # no message_start yet, or no stream at all
        return Usage()


def _usage(u: Any) -> Usage:
    return Usage(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_read_input_tokens=getattr(u, "cache_read_input_tokens", None) or 0,
        cache_creation_input_tokens=getattr(u, "cache_creation_input_tokens", None) or 0,
    )


def render_partial(kind: PreviewKind, bundle: SessionBundle, snapshot: object) -> str | None:
    """Best-effort markdown from a partially streamed tool input; None until it is renderable."""
    if not isinstance(snapshot, dict):
        return None
    data = dict(snapshot)
    try:
        if kind == "escalate":
            for key in ("confirmed", "tried", "next_steps", "environment"):
                data[key] = [_item(v) for v in data.get(key) or [] if isinstance(v, dict)]
            data["problem"] = _item(data.get("problem"))
            data["hypothesis"] = _item(data.get("hypothesis"))
            data["impact"] = _item(data["impact"]) if isinstance(data.get("impact"), dict) else None
            data["ask"] = _item(data["ask"]) if isinstance(data.get("ask"), dict) else None
            return render_escalation(EscalationPackage.model_validate(data), bundle)
        shared = [i for i in data.get("fact_ids") or [] if isinstance(i, str)]  # the p2 note-wide shape
        for key in NOTE_SECTIONS:
            value = data.get(key)
            data[key] = CitedItem(text=value, fact_ids=shared) if isinstance(value, str) else _item(value)
        data.pop("fact_ids", None)
        return render_resolution(ResolutionNote.model_validate(data), bundle)
    except ValidationError:
        return None


def _item(value: object) -> CitedItem:
    if not isinstance(value, dict):
        return CitedItem(text="")
    text = value.get("text")
    ids = value.get("fact_ids")
    return CitedItem(
        text=text if isinstance(text, str) else "",
        fact_ids=[i for i in ids if isinstance(i, str)] if isinstance(ids, list) else [],
    )
