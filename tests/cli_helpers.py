"""Helpers for the CLI tests: invoke `flowpilot` in-process (CliRunner) or as a real subprocess, read JSON, seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from flowpilot_tui.cli import main
from flowpilot_tui.emulators.connectwise import DEMO_CLIENT_ID, DEMO_COMPANY, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

KEY_ENV = "CW_DEMO_PRIVATE_KEY"


def cli(*args: str, input: str | None = None, user: str | None = None) -> Result:
    """Run `flowpilot ARGS` in-process; `user` overrides FLOWPILOT_USER for this call only."""
    env = {"FLOWPILOT_USER": user} if user else None
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def ok(*args: str, **kw: Any) -> Result:
    result = cli(*args, **kw)
    assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr)
    return result


def js(*args: str, **kw: Any) -> Any:
    return json.loads(ok(*args, "--json", **kw).stdout)


def failed(code: int, *args: str, **kw: Any) -> Result:
    """Run and assert the exit code, and that the error is exactly one line on stderr."""
    result = cli(*args, **kw)
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowpilot: "), result.stderr
    return result


def proc(
    *args: str, stdin: Any = subprocess.DEVNULL, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A real `flowpilot` process (for TTY/non-TTY behaviour and traceback checks)."""
    return subprocess.run(
        [sys.executable, "-m", "flowpilot_tui", *args],
        input=input,
        stdin=None if input is not None else stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def seed_demo() -> dict[str, str]:
    """`flowpilot demo`, then the demo session ids by a short name."""
    ok("demo")
    items = js("sessions", "list")["items"]
    by_title = {i["title"].split()[0].lower(): i["id"] for i in items}
    return {
        "outlook": by_title["outlook"],
        "vpn": by_title["vpn"],
        "printer": by_title["second-floor"],
        "fileserver": by_title["accounting"],
    }


def write_config(text: str) -> Path:
    path = Path(os.environ["FLOWPILOT_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def connection_toml(site_url: str, name: str = "demo-cw") -> str:
    return (
        f'[connections.{name}]\nsite = "{site_url}"\ncompany_id = "{DEMO_COMPANY}"\n'
        f'public_key = "{DEMO_PUBLIC_KEY}"\nprivate_key_env = "{KEY_ENV}"\nclient_id = "{DEMO_CLIENT_ID}"\n'
    )


__all__ = [
    "DEMO_PRIVATE_KEY",
    "KEY_ENV",
    "cli",
    "connection_toml",
    "failed",
    "js",
    "ok",
    "proc",
    "seed_demo",
    "write_config",
]
