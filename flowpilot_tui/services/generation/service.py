"""GenerationService: the preview entry point for the TUI and the CLI.

Chooses the generator from settings (offline unless provider is `anthropic` with a key), serves cached previews
without any model call, and never holds a DB transaction open while waiting on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowpilot_tui.services.access import load_session
from flowpilot_tui.services.errors import InvalidInput
from flowpilot_tui.services.generation import cache
from flowpilot_tui.services.generation.bundle import build_bundle
from flowpilot_tui.services.generation.offline import OfflineGenerator
from flowpilot_tui.services.generation.types import GeneratedPreview, PreviewKind, SessionBundle
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.llm_client import is_configured
from flowpilot_tui.services.store import Store

if TYPE_CHECKING:
    from flowpilot_tui.config import LlmSettings
    from flowpilot_tui.services.generation.claude import ClaudeGenerator
    from flowpilot_tui.services.sessions import Clock

KINDS: tuple[PreviewKind, ...] = ("resolve", "escalate")
ClientFactory = Callable[["LlmSettings"], Any]


class GenerationService:
    def __init__(
        self,
        store: Store,
        actor: Actor,
        settings_llm: LlmSettings,
        clock: Clock,
        client_factory: ClientFactory | None = None,
        *,
        keep_versions: int = cache.KEEP_STATE_VERSIONS,
    ) -> None:
        self.store = store
        self.actor = actor
        self.llm = settings_llm
        self.clock = clock
        self.client_factory = client_factory
        self.keep_versions = keep_versions
        self.offline = OfflineGenerator()
        self._claude: ClaudeGenerator | None = None

    @property
    def uses_claude(self) -> bool:
        """Claude only when chosen and a key (or an injected client factory) is there; otherwise offline."""
        return is_configured(self.llm, self.client_factory)

    def generator_key(self) -> str:
        """The cache key of the configured generator, known without building a client or importing the SDK."""
        if not self.uses_claude:
            return self.offline.key
        from flowpilot_tui.services.generation.claude import claude_key

        return claude_key(self.llm.model)

    def generator(self) -> OfflineGenerator | ClaudeGenerator:
        """The configured generator; the SDK client is created on first use only."""
        if not self.uses_claude:
            return self.offline
        if self._claude is None:
            from flowpilot_tui.services.generation.claude import ClaudeGenerator, make_client

            client = (self.client_factory or make_client)(self.llm)
            self._claude = ClaudeGenerator(client, self.llm.model, fallback=self.offline)
        return self._claude

    async def _generator(self) -> OfflineGenerator | ClaudeGenerator:
        """`generator()`, with the SDK import (seconds of CPU) run in a thread, off the caller's event loop."""
        if self.uses_claude and self._claude is None and self.client_factory is None:
            import asyncio

            from flowpilot_tui.services.llm_client import import_sdk

            await asyncio.to_thread(import_sdk)
        return self.generator()

    async def bundle(self, session_id: str) -> SessionBundle:
        """What a preview would be built from (redacted), e.g. to show what will be sent."""
        async with self.store.read() as db:
            return await build_bundle(db, self.actor, session_id)

    async def preview(
        self,
        session_id: str,
        kind: PreviewKind,
        *,
        regenerate: bool = False,
        on_progress: Callable[[str], None] | None = None,
        with_redactions: bool = True,
    ) -> GeneratedPreview:
        """The preview for the session's current state: cached unless `regenerate` or the state changed.

        `with_redactions=False` (the note's text and header only, as the preview pane and the CLI show it): a cache
        hit reads the session's row and the cache row, not the whole redacted bundle (five queries and a redaction
        pass over every fact, fix, script and recent message, on every workspace open)."""
        if kind not in KINDS:
            raise InvalidInput(f"Unknown preview kind {kind!r}; use one of: {', '.join(KINDS)}")
        key = self.generator_key()  # the cache is checked before any client is built
        async with self.store.read() as db:
            if not regenerate and not with_redactions:
                row = await load_session(db, self.actor, session_id)  # scoped: another account's is NotFound
                hit = await cache.load(db, row.id, kind, row.state_version, key)
                if hit is not None:
                    return hit
            bundle = await build_bundle(db, self.actor, session_id)
            cached = None if regenerate else await cache.load(db, bundle.session_id, kind, bundle.state_version, key)
        if cached is not None:
            return cached.model_copy(update={"redactions": list(bundle.redactions)})
        gen = await self._generator()
        preview = await gen.generate(bundle, kind, on_progress)
        now = self.clock()
        preview = preview.model_copy(update={"created_at": now})
        async with self.store.write() as db:
            await cache.store(db, bundle.session_id, gen.key, preview, now, keep=self.keep_versions)
        return preview

    async def aclose(self) -> None:
        """Close the SDK client if one was created."""
        if self._claude is not None:
            await self._claude.client.close()
            self._claude = None
