"""Wiring: one `Services` object per app/CLI run, built from settings. Heavy pieces are built on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowpilot_tui.services import accounts
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.sessions import Clock, SessionService, utcnow
from flowpilot_tui.services.store import Store

if TYPE_CHECKING:
    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.assistant import AssistantService
    from flowpilot_tui.services.generation.service import GenerationService
    from flowpilot_tui.services.scripts import ScriptService
    from flowpilot_tui.services.writeback import WritebackService


async def _noop() -> None:
    return None


@dataclass
class Services:
    settings: Settings
    store: Store
    actor: Actor
    clock: Clock = utcnow
    extras: dict[str, Any] = field(default_factory=dict)  # test overrides, e.g. an Anthropic client factory

    @cached_property
    def sessions(self) -> SessionService:
        return SessionService(self.store, self.actor, self.clock)

    @cached_property
    def assistant(self) -> AssistantService:
        from flowpilot_tui.services.assistant import AssistantService

        return AssistantService(
            self.store,
            self.actor,
            self.settings.llm,
            self.clock,
            self.extras.get("anthropic_client_factory"),
            sessions=self.sessions,
        )

    @cached_property
    def scripts(self) -> ScriptService:
        from flowpilot_tui.services.scripts import ScriptService

        return ScriptService(
            self.store, self.actor, self.settings.llm, self.clock, self.extras.get("anthropic_client_factory")
        )

    @cached_property
    def generation(self) -> GenerationService:
        from flowpilot_tui.services.generation.service import GenerationService

        return GenerationService(
            self.store,
            self.actor,
            self.settings.llm,
            self.clock,
            client_factory=self.extras.get("anthropic_client_factory"),
        )

    @cached_property
    def writeback(self) -> WritebackService:
        from flowpilot_tui.services.psa.factory import ProviderPool
        from flowpilot_tui.services.writeback import WritebackService

        providers = self.extras.get("psa_providers") or ProviderPool(self.settings.connections)
        self.extras.setdefault("closers", []).append(getattr(providers, "aclose", _noop))
        return WritebackService(
            self.store, self.actor, providers, self.clock, **self.extras.get("writeback_options", {})
        )

    async def close(self) -> None:
        """Close every service that was built (cached) and owns a client, then the database."""
        for value in list(self.__dict__.values()):
            aclose = getattr(value, "aclose", None)
            if callable(aclose):
                await aclose()
        for closer in self.extras.get("closers", []):
            await closer()
        await self.store.close()


async def open_store(settings: Settings) -> Store:
    return await Store.open(settings.db_url)


async def open_services(settings: Settings, *, clock: Clock = utcnow, store: Store | None = None) -> Services:
    """Open the DB (upgrading it), resolve the configured user, mirror configured connection names."""
    store = store or await open_store(settings)
    try:
        actor = await accounts.resolve_actor(store, settings.user)
        if actor.can_write:
            await accounts.sync_connections(store, actor, [(n, c.provider) for n, c in settings.connections.items()])
    except BaseException:
        await store.close()
        raise
    return Services(settings, store, actor, clock)
