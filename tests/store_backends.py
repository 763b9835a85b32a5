"""Store backends for the tests: every service-level test runs on SQLite and, when PostgreSQL server binaries are on
the machine, again on a real PostgreSQL server that this plugin starts in a temp dir (one per pytest process / xdist
worker, as a non-root OS user, loopback only, stopped at the end of the run).

- `db_url` is the per-test database: an SQLite file, or a fresh PostgreSQL database cloned from a migrated template.
  On PostgreSQL the suite connects as the *owner* role (tables' owner: row-level security does not apply, so tests
  that mix accounts in one store keep working); `pg_app_url` gives the same database as the *app* role, which is
  what deployments use and what the tenancy tests use.
- The run ends with one line: how many tests ran on each backend, and plainly whether the PostgreSQL half was
  skipped and why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest

# Test modules whose tests run on both backends (service level, and the two-app live TUI tests; the other TUI and
# CLI suites stay on SQLite).
SERVICE_MODULES = frozenset(
    {
        "test_sessions",
        "test_concurrency",
        "test_drafts",
        "test_preview_cache",
        "test_rules",
        "test_scripts",
        "test_assistant",
        "test_bundle_ids",
        "test_demo",
        "test_writeback",
        "test_slash_commands",
        "test_team_store",
        "test_handoff",
        "test_live",
        "test_tui_live",  # two FlowPilots on one database: LISTEN/NOTIFY as well as the SQLite probe
    }
)
OWNER_ROLE = "flowpilot_owner"
APP_ROLE = "flowpilot_app"
PG_USER = "postgres"  # the OS user that runs the throwaway server when the tests run as root


def pg_bindir() -> Path | None:
    """Where initdb/pg_ctl live: FLOWPILOT_PG_BINDIR, the Debian layout, or PATH."""
    env = os.environ.get("FLOWPILOT_PG_BINDIR")
    candidates = [env] if env else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A throwaway PostgreSQL cluster: initdb in a temp dir, trust auth on loopback only, fsync off."""

    def __init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="flowpilot-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.run_as: str | None = None
        if os.geteuid() == 0:
            self.run_as = ensure_os_user(PG_USER)
            uid = pwd.getpwnam(self.run_as).pw_uid
            os.chown(self.dir, uid, -1)
        self.superuser = self.run_as or pwd.getpwuid(os.geteuid()).pw_name
        self._counter = 0

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def start(self) -> PgServer:
        subprocess.run(
            self._cmd(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.superuser, "-E",
                      "UTF8", "--locale=C.UTF-8", "--no-sync"),
            check=True, capture_output=True, cwd=self.dir,
        )  # fmt: skip
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"),
                      "-w", "-t", "60", "start"),
            check=True, capture_output=True, cwd=self.dir,
        )  # fmt: skip
        self.psql(f"CREATE ROLE {OWNER_ROLE} LOGIN; CREATE ROLE {APP_ROLE} LOGIN")
        self.psql(f"CREATE DATABASE fp_template OWNER {OWNER_ROLE}")
        return self

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            capture_output=True, cwd=self.dir,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", self.superuser, "-d", db, "-At", "-c", sql],
            capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def url(self, db: str, role: str = OWNER_ROLE) -> str:
        return f"postgresql+asyncpg://{role}@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        self._counter += 1
        name = f"fp_{os.getpid()}_{self._counter}"
        self.psql(f"CREATE DATABASE {name} TEMPLATE fp_template OWNER {OWNER_ROLE}")
        return name


def ensure_os_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    return name


def migrate_template(server: PgServer) -> None:
    from flowpilot_tui.services.store import upgrade_schema

    upgrade_schema(server.url("fp_template"))


# ---- pytest wiring ------------------------------------------------------------------------------------------------

_PG_SKIP_REASON: str | None = None
_COUNTS: Counter[str] = Counter()


def pg_unavailable_reason() -> str | None:
    if os.environ.get("FLOWPILOT_TEST_PG", "").lower() in ("0", "no", "off"):
        return "disabled by FLOWPILOT_TEST_PG=0"
    if pg_bindir() is None:
        return "PostgreSQL server binaries not found (install postgresql, or set FLOWPILOT_PG_BINDIR)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start the server as a non-root user"
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _PG_SKIP_REASON
    _PG_SKIP_REASON = pg_unavailable_reason()
    if _PG_SKIP_REASON and os.environ.get("FLOWPILOT_TEST_PG", "").lower() == "require":
        raise pytest.UsageError(f"FLOWPILOT_TEST_PG=require but the PostgreSQL half cannot run: {_PG_SKIP_REASON}")
    config.addinivalue_line("markers", "pg_only: runs on the PostgreSQL backend only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    pg_only = metafunc.definition.get_closest_marker("pg_only") is not None
    if module not in SERVICE_MODULES and not pg_only:
        return  # SQLite via the fixture's default; no id suffix, so snapshot names stay what they were
    pg = pytest.param(
        "postgresql",
        id="pg",
        marks=pytest.mark.skipif(bool(_PG_SKIP_REASON), reason=f"PostgreSQL half skipped: {_PG_SKIP_REASON}"),
    )
    params = [pg] if pg_only else ["sqlite", pg]
    metafunc.parametrize("db_backend", params, ids=None if pg_only else ["sqlite", "pg"], indirect=True)


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """One throwaway server per pytest process (each xdist worker has its own, on its own port)."""
    if _PG_SKIP_REASON:
        pytest.skip(f"PostgreSQL half skipped: {_PG_SKIP_REASON}")
    server = PgServer().start()
    try:
        migrate_template(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def pg_database(db_backend: str, request: pytest.FixtureRequest) -> str | None:
    if db_backend != "postgresql":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def db_url(db_backend: str, pg_database: str | None, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if db_backend == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        assert pg_database is not None
        return server.url(pg_database)
    return f"sqlite+aiosqlite:///{tmp_path / 'flowpilot.db'}"


@pytest.fixture
def pg_app_url(db_backend: str, pg_database: str | None, request: pytest.FixtureRequest) -> str:
    """The per-test PostgreSQL database as the app role (row-level security applies)."""
    if db_backend != "postgresql" or pg_database is None:
        pytest.skip("PostgreSQL only")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.url(pg_database, APP_ROLE)


def _backend_of(nodeid: str) -> str | None:
    if "[" not in nodeid:
        return None
    ids = nodeid.rsplit("[", 1)[1].rstrip("]").split("-")
    if "pg" in ids:
        return "postgresql"
    if "sqlite" in ids:
        return "sqlite"
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = _backend_of(report.nodeid)
    if backend is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _COUNTS[f"{backend}:{report.outcome}"] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not _COUNTS:
        return
    parts = []
    for backend in ("sqlite", "postgresql"):
        ran = _COUNTS[f"{backend}:passed"] + _COUNTS[f"{backend}:failed"]
        parts.append(
            f"{backend}: {ran} ran ({_COUNTS[f'{backend}:failed']} failed, {_COUNTS[f'{backend}:skipped']} skipped)"
        )
    terminalreporter.write_line("store backends — " + "; ".join(parts))
    if _PG_SKIP_REASON:
        terminalreporter.write_line(f"store backends — PostgreSQL half SKIPPED: {_PG_SKIP_REASON}", yellow=True)


with contextlib.suppress(Exception):  # the reason is decided once, also for `--collect-only`
    _PG_SKIP_REASON = pg_unavailable_reason()
