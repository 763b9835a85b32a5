"""Wiring: one `Services` object per app/CLI run, built from settings. Heavy pieces are built on first use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
    from flowpilot_tui.services.llm_client import ClientFactory
    from flowpilot_tui.services.scripts import ScriptService
    from flowpilot_tui.services.tickets import TicketService
    from flowpilot_tui.services.time_entry import TimeSettings
    from flowpilot_tui.services.writeback import Providers, WritebackService

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Services:
    """The services of one run. The keyword fields are the explicit seams (tests, benchmarks, embedding)."""

    settings: Settings
    store: Store
    actor: Actor
    clock: Clock = utcnow
    anthropic_client_factory: ClientFactory | None = None  # builds the SDK client (tests: pointed at a loopback fake)
    psa_providers: Providers | None = None  # connection name -> provider; default: a pool over settings.connections
    psa_sleep: Sleep | None = None  # retry / re-check waits of the PSA client and writeback (tests: instant)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, init=False, repr=False)

    @cached_property
    def sessions(self) -> SessionService:
        return SessionService(self.store, self.actor, self.clock)

    @cached_property
    def assistant(self) -> AssistantService:
        from flowpilot_tui.services.assistant import AssistantService

        service = AssistantService(
            self.store, self.actor, self.settings.llm, self.clock, self.anthropic_client_factory, sessions=self.sessions
        )
        self._closers.append(service.aclose)
        return service

    @cached_property
    def scripts(self) -> ScriptService:
        from flowpilot_tui.services.scripts import ScriptService

        service = ScriptService(self.store, self.actor, self.settings.llm, self.clock, self.anthropic_client_factory)
        self._closers.append(service.aclose)
        return service

    @cached_property
    def generation(self) -> GenerationService:
        from flowpilot_tui.services.generation.service import GenerationService

        service = GenerationService(
            self.store, self.actor, self.settings.llm, self.clock, client_factory=self.anthropic_client_factory
        )
        self._closers.append(service.aclose)
        return service

    @cached_property
    def writeback(self) -> WritebackService:
        from flowpilot_tui.services.psa.factory import ProviderPool
        from flowpilot_tui.services.writeback import WritebackService

        providers = self.psa_providers
        if providers is None:
            pool = ProviderPool(self.settings.connections, **({"sleep": self.psa_sleep} if self.psa_sleep else {}))
            self._closers.append(pool.aclose)
            providers = pool
        wb = self.settings.writeback
        extra: dict[str, Any] = {
            "time_settings": self.time_settings,
            "recheck_after_s": wb.recheck_delay_s,
            "takeover_after_s": wb.takeover_after_s,
        }
        if self.psa_sleep is not None:
            extra["sleep"] = self.psa_sleep
        return WritebackService(self.store, self.actor, providers, self.clock, **extra)

    def time_settings(self, connection: str) -> TimeSettings | None:
        """Member, work type and billable flag of a connection (issue 14); None when any of them is unset."""
        from flowpilot_tui.services.time_entry import TimeSettings

        conn = self.settings.connections.get(connection)
        member = conn.member_for(self.actor.login) if conn else None
        if conn is None or not member or not conn.time_work_type or not conn.time_billable:
            return None
        return TimeSettings(member, conn.time_work_type, conn.time_billable)

    @cached_property
    def tickets(self) -> TicketService:
        """The PSA ticket queue and import/sync (issue 14)."""
        from flowpilot_tui.services.psa.factory import ProviderPool
        from flowpilot_tui.services.tickets import TicketService

        providers = self.psa_providers
        if providers is None:
            pool = ProviderPool(self.settings.connections, **({"sleep": self.psa_sleep} if self.psa_sleep else {}))
            self._closers.append(pool.aclose)
            providers = pool
        return TicketService(self.store, self.actor, providers, self.settings.connections, self.clock)

    async def close(self) -> None:
        """Close every service that was built and owns a client (newest first), then the database."""
        while self._closers:
            await self._closers.pop()()
        await self.store.close()


async def open_store(settings: Settings) -> Store:
    return await Store.open(settings.db_url)


async def open_services(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    store: Store | None = None,
    anthropic_client_factory: ClientFactory | None = None,
    psa_sleep: Sleep | None = None,
) -> Services:
    """Open the DB (upgrading it), resolve the configured user, mirror configured connection names."""
    store = store or await open_store(settings)
    try:
        # On PostgreSQL each transaction carries the login / account for the row-level security policies.
        actor = await accounts.resolve_actor(store.scoped(login=settings.user), settings.user)
        store = store.scoped(actor.account_id, actor.login)
        if actor.can_write:
            await accounts.sync_connections(store, actor, [(n, c.provider) for n, c in settings.connections.items()])
    except BaseException:
        await store.close()
        raise
    return Services(
        settings, store, actor, clock, anthropic_client_factory=anthropic_client_factory, psa_sleep=psa_sleep
    )
