"""Shared fixtures: isolated config/data dirs, a per-test SQLite file, a fixed clock, and a network guard.

The environment lines run before anything imports Textual (it reads them at import time).
"""

from __future__ import annotations

import os
import socket
import time

os.environ["TEXTUAL_ANIMATIONS"] = "none"
os.environ["TZ"] = "UTC"
time.tzset()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from support import FixedClock, add_member, make_actor  # noqa: E402

# Fixture modules, registered once for every test (tests never import fixtures, so no name shadows another).
pytest_plugins = ["cw_fixtures", "anthropic_fixtures", "store_backends"]  # store_backends: db_url (SQLite, PostgreSQL)

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not loopback (or a local unix socket)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(addr: object) -> None:
        if isinstance(addr, tuple) and addr and str(addr[0]) not in LOOPBACK:
            raise RuntimeError(f"network access in tests is not allowed: {addr!r}")

    def guarded(sock: socket.socket, addr: object) -> None:
        check(addr)
        return real_connect(sock, addr)

    def guarded_ex(sock: socket.socket, addr: object) -> int:
        check(addr)
        return real_connect_ex(sock, addr)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Per-test config and data dirs; no inherited keys or FlowPilot settings."""
    for name in list(os.environ):
        if name.startswith(("FLOWPILOT_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("FLOWPILOT_CONFIG", str(tmp_path / "config" / "flowpilot" / "config.toml"))
    monkeypatch.setenv("FLOWPILOT_USER", "alice")
    monkeypatch.setenv("FLOWPILOT_SYSTEM_CONFIG", str(tmp_path / "etc" / "flowpilot" / "config.toml"))  # not /etc
    return tmp_path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def store(db_url: str):  # type: ignore[no-untyped-def]
    from flowpilot_tui.services.store import Store

    s = await Store.open(db_url)
    yield s
    await s.close()


@pytest.fixture
async def engineer(store, clock):  # type: ignore[no-untyped-def]
    return await make_actor(
        store, "alice", "engineer", "Acme IT", clock, cw_resolved_status_id=17, cw_escalated_status_id=12
    )


@pytest.fixture
async def viewer(store, engineer, clock):  # type: ignore[no-untyped-def]
    return await add_member(store, engineer, "victor", "viewer", clock)


@pytest.fixture
async def outsider(store, clock):  # type: ignore[no-untyped-def]
    """An engineer of another account."""
    return await make_actor(store, "mallory", "engineer", "Other MSP", clock)


@pytest.fixture
def sessions(store, engineer, clock):  # type: ignore[no-untyped-def]
    from flowpilot_tui.services.sessions import SessionService

    return SessionService(store, engineer, clock)
