"""The `fake_anthropic` fixture (a loopback fake Anthropic server), registered for every test by `pytest_plugins` in
conftest.py: ask for it by name, never import it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_anthropic import FakeAnthropic


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A started server with an empty script; stopped (and any sleeping handler woken) after the test."""
    server = FakeAnthropic().start()
    try:
        yield server
    finally:
        server.stop()
