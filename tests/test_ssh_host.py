"""Shared SSH host: staff log in as their own OS user and run `flowpilot`; identity is the OS login, the shared
database and settings come from the host-wide settings file. Real OS users (useradd), real `runuser`, one shared
SQLite file: two members of one account see their own identity and the same sessions; a third OS user who is not in
the account is refused.

Runs only as root (CI is root: it can create users); skipped with the reason otherwise. The users, their group and the
shared directory are removed at teardown.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowpilot_tui.services import accounts
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

ROOT = Path(__file__).resolve().parent.parent
VENV_SITE = ROOT / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _skip_reason() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to create OS users (CI runs as root)"
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


pytestmark = pytest.mark.skipif(bool(_skip_reason()), reason=f"SSH-host test skipped: {_skip_reason()}")


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class Host:
    """Three OS users in one group (the group grants the shared directory), a shared settings file."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}{os.urandom(2).hex()}"
        self.group = f"fpteam{tag}"
        self.users = [f"fpa{tag}", f"fpb{tag}", f"fpc{tag}"]  # a, b: the account; c: not in it
        self.dir = Path(tempfile.mkdtemp(prefix="flowpilot-host-", dir="/tmp"))
        self.db = self.dir / "team.db"
        self.system_config = self.dir / "etc" / "config.toml"
        self.python: list[str] = []
        self.extra_env: dict[str, str] = {}

    def create(self) -> Host:
        _run("groupadd", self.group)
        for user in self.users:
            _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--gid", self.group, user)
        os.chmod(self.dir, 0o2770)  # setgid: files made here belong to the team group
        shutil.chown(self.dir, group=self.group)
        self.system_config.parent.mkdir()
        self.system_config.write_text(f'db_url = "sqlite+aiosqlite:///{self.db}"\n')
        os.chmod(self.system_config.parent, 0o755)
        os.chmod(self.system_config, 0o644)  # like /etc/flowpilot/config.toml: readable, owned by root
        self.python = self._usable_python()
        return self

    def _usable_python(self) -> list[str]:
        """This interpreter when other users may run it; else the system Python 3.x of the same minor version with
        the project's packages on PYTHONPATH (a venv under /root is not readable by other users)."""
        probe = ["-c", "import flowpilot_tui, sqlalchemy, aiosqlite"]
        candidates: list[tuple[list[str], dict[str, str]]] = [([sys.executable], {"PYTHONPATH": str(ROOT)})]
        system = shutil.which(
            f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin"
        )
        if system:
            candidates.append(([system], {"PYTHONPATH": f"{ROOT}:{VENV_SITE}"}))
        for argv, env in candidates:
            self.extra_env = env
            if self.run(self.users[0], *probe, module=False).returncode == 0:
                return argv
        pytest.skip("no Python interpreter that the created OS users can run with the project's packages")

    def run(self, user: str, *args: str, module: bool = True) -> subprocess.CompletedProcess[str]:
        """`runuser -u USER -- python -m flowpilot_tui ARGS` with a clean login-like environment."""
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
            "FLOWPILOT_SYSTEM_CONFIG": str(self.system_config),
            "XDG_CONFIG_HOME": str(self.dir / f"cfg-{user}"),  # no personal settings file: the host's applies
            "XDG_DATA_HOME": str(self.dir / f"data-{user}"),
            **self.extra_env,
        }
        python = self.python or [sys.executable]
        cmd = [*python, "-m", "flowpilot_tui", *args] if module else [*python, *args]
        shell = 'umask 007; exec "$@"'  # the group shares the database and its WAL files
        return subprocess.run(
            [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--", "/bin/sh", "-c", shell, "sh", *cmd],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.dir,
            timeout=100,
        )

    def remove(self) -> None:
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", self.group], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def host() -> Iterator[Host]:
    h = Host()
    try:
        yield h.create()
    finally:
        h.remove()


async def _seed(host: Host) -> list[str]:
    """One account whose members are users a (engineer, admin of the account) and b (engineer); two sessions."""
    from datetime import UTC, datetime

    from support import add_member

    store = await Store.open(f"sqlite+aiosqlite:///{host.db}")
    try:
        now = datetime.now(UTC)
        a = await accounts.create_account(store, "Team MSP", host.users[0], now)
        await add_member(store, a, host.users[1], "engineer", lambda: now)
        sessions = SessionService(store, a)
        return [(await sessions.create(title)).id for title in ("VPN drops at 5pm", "Printer queue stuck")]
    finally:
        await store.close()


def test_each_os_user_is_themselves_on_one_shared_database_and_an_outsider_is_refused(host: Host) -> None:
    ids = asyncio.run(_seed(host))
    shutil.chown(host.db, group=host.group)
    os.chmod(host.db, 0o660)
    a, b, c = host.users

    seen = {}
    for user in (a, b):
        who = host.run(user, "account", "show", "--json")
        assert who.returncode == 0, who.stderr
        doc = json.loads(who.stdout)
        assert (doc["login"], doc["account"], doc["role"]) == (
            user,
            "Team MSP",
            "engineer" if user == b else doc["role"],
        )
        listed = host.run(user, "sessions", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        seen[user] = sorted(s["id"] for s in json.loads(listed.stdout)["items"])
    assert seen[a] == seen[b] == sorted(ids)  # the same sessions for both members

    # a write by b is what a reads next: one database, two OS users
    added = host.run(b, "facts", "add", ids[0], "--kind", "confirmed", "--text", "Tunnel drops when the ISP renews")
    assert added.returncode == 0, added.stderr
    shown = host.run(a, "sessions", "show", ids[0], "--json")
    assert shown.returncode == 0, shown.stderr
    assert "Tunnel drops when the ISP renews" in shown.stdout

    refused = host.run(c, "sessions", "list", "--json")
    assert refused.returncode == 2, (refused.returncode, refused.stdout, refused.stderr)
    message = refused.stdout + refused.stderr
    assert c in message and "Traceback" not in message
    assert "VPN drops" not in message
