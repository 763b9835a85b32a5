#!/usr/bin/env python3
"""Two-command entry point for a fresh machine with only Python.

    python3 dev.py app [ARGS...]   run FlowPilot (any `flowpilot` arguments pass through)
    python3 dev.py test [ARGS...]  run the whole test suite (extra pytest arguments pass through)
    python3 dev.py lint            ruff (lint + format check), mypy and the import-linter contracts

On first use (or when pyproject.toml changes) it creates `.venv/` and installs the package with its test extra.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".flowpilot-installed"


def _wanted_stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"FlowPilot needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PY.exists():
        print("Creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _wanted_stamp():
        return
    print("Installing FlowPilot and its test tools into .venv (first run) ...", file=sys.stderr)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,lint]"], check=True)
    STAMP.write_text(_wanted_stamp())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test", "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_env()
    command, rest = argv[0], argv[1:]
    if command == "app":
        return run_child([str(BIN / "flowpilot"), *rest])
    if command == "lint":
        return lint()
    return subprocess.call([str(PY), "-m", "pytest", "-n", "auto", *rest], cwd=ROOT)


def run_child(cmd: list[str]) -> int:
    """Run `cmd`; Ctrl+C belongs to the child (the terminal sends it to both), so this wrapper never prints a
    KeyboardInterrupt traceback of its own while waiting."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # before the child starts: no window for a traceback
    try:
        if os.name == "posix":  # the child gets Ctrl+C's default handling back (an ignored signal is inherited)
            child = subprocess.Popen(cmd, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
        else:
            child = subprocess.Popen(cmd)
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def lint() -> int:
    """Every check runs (so one report shows everything); the exit code is non-zero if any failed."""
    paths = ["flowpilot_tui", "tests", "scripts", "dev.py"]
    checks = [
        [str(BIN / "ruff"), "check", *paths],
        [str(BIN / "ruff"), "format", "--check", *paths],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
    ]
    failed = [" ".join(c[:2]) for c in checks if subprocess.call(c, cwd=ROOT) != 0]
    if failed:
        print(f"lint failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
