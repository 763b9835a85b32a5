"""Build PSA providers from settings. Keys come from the environment at build time and live only in the client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowpilot_tui.services.errors import ConfigError
from flowpilot_tui.services.psa.base import AuditHook, PsaProvider

if TYPE_CHECKING:
    from flowpilot_tui.config import ConnectWiseConnection


def build_provider(
    connection: ConnectWiseConnection,
    *,
    name: str = "connectwise",
    env: Mapping[str, str] | None = None,
    audit: AuditHook | None = None,
    **options: Any,
) -> PsaProvider:
    """A provider for one configured connection. `options` go to the provider (sleep, retry, transport...)."""
    if connection.provider != "connectwise":
        raise ConfigError(f"connections.{name}.provider: {connection.provider!r} is not supported yet")
    from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider

    return ConnectWiseProvider(
        company_id=connection.company_id,
        public_key=connection.public_key,
        private_key=connection.private_key(dict(env) if env is not None else None),
        client_id=connection.client_id,
        api_url=connection.api_url,
        site=connection.site,
        timeout_s=connection.timeout_s,
        connection_name=name,
        audit=audit,
        **options,
    )


class ProviderPool:
    """One provider per connection name, built on first use and closed together: the `providers` callable
    that `WritebackService` takes."""

    def __init__(self, connections: Mapping[str, ConnectWiseConnection], **options: Any) -> None:
        self._connections = dict(connections)
        self._options = options
        self._built: dict[str, PsaProvider] = {}

    def __call__(self, name: str) -> PsaProvider:
        provider = self._built.get(name)
        if provider is None:
            connection = self._connections.get(name)
            if connection is None:
                raise ConfigError(f"PSA connection {name!r} is not configured (add [connections.{name}] to the config)")
            provider = self._built[name] = build_provider(connection, name=name, **self._options)
        return provider

    async def aclose(self) -> None:
        built, self._built = self._built, {}
        for provider in built.values():
            await provider.aclose()
