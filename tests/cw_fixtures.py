"""ConnectWise emulator fixtures (`cw`, `cw_env`, `sleeps`, `cw_provider`), registered for every test by
`pytest_plugins` in conftest.py: ask for them by name, never import them. The plain helpers here (`make_provider`,
...) are imported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowpilot_tui.emulators.connectwise import DEMO_CLIENT_ID, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, ConnectWiseEmulator
from flowpilot_tui.services.psa.base import PsaCall
from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider

PRIVATE_KEY = DEMO_PRIVATE_KEY


class Sleeps:
    """An injected sleeper: records requested waits instead of waiting, so retry tests stay instant."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def cw(clock: Any) -> Iterator[ConnectWiseEmulator]:
    """A started emulator with the demo data, on the test's fixed clock."""
    emulator = ConnectWiseEmulator(clock=clock).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def cw_env(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch) -> ConnectWiseEmulator:
    """The started emulator, with its private key in the environment variable the test settings name."""
    from tui_helpers import CW_KEY_ENV

    monkeypatch.setenv(CW_KEY_ENV, PRIVATE_KEY)
    return cw


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_provider(
    cw: ConnectWiseEmulator, sleeps: Sleeps | None = None, *, audit: list[PsaCall] | None = None, **kw: Any
) -> ConnectWiseProvider:
    """A real provider pointed at the emulator by site (codebase discovery) unless `api_url` is given."""
    options: dict[str, Any] = {
        "company_id": cw.company_id,
        "public_key": DEMO_PUBLIC_KEY,
        "private_key": PRIVATE_KEY,
        "client_id": DEMO_CLIENT_ID,
        "timeout_s": 5.0,
        "connection_name": "demo-cw",
    }
    if "api_url" not in kw:
        options["site"] = cw.site_url
    options.update(kw)
    if sleeps is not None:
        options["sleep"] = sleeps
    if audit is not None:
        options["audit"] = audit.append
    return ConnectWiseProvider(**options)


@pytest.fixture
async def cw_provider(cw: ConnectWiseEmulator, sleeps: Sleeps):  # type: ignore[no-untyped-def]
    """A provider on the emulator (site discovery), with the injected sleeper; closed after the test."""
    provider = make_provider(cw, sleeps)
    yield provider
    await provider.aclose()


async def link_connection(store: Any, actor: Any, name: str = "demo-cw") -> None:
    from flowpilot_tui.services import accounts

    await accounts.sync_connections(store, actor, [(name, "connectwise")])
