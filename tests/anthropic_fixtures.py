"""pytest fixture for the loopback fake Anthropic server; import it into a test module to use it:

from anthropic_fixtures import fake_anthropic  # noqa: F401
"""

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
