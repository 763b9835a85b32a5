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

    async def close(self) -> None:
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
