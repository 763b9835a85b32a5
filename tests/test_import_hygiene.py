"""Services never import the UI; the CLI's --help/--version stay lean."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import flowpilot_tui.services as services_pkg

SERVICE_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(services_pkg.__path__, "flowpilot_tui.services.")
    if ".migrations" not in m.name
)


def test_every_service_module_imports_without_textual_or_rich() -> None:
    assert "flowpilot_tui.services.sessions" in SERVICE_MODULES
    code = (
        "import importlib, sys\n"
        f"for m in {SERVICE_MODULES!r}: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _loaded_after(args: list[str]) -> set[str]:
    code = (
        "import sys\nfrom flowpilot_tui.cli import main\n"
        f"sys.argv = ['flowpilot', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted({k.split('.')[0] for k in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split()[-1000:])


def test_help_and_version_do_not_import_heavy_libraries() -> None:
    for args in (["--help"], ["--version"]):
        loaded = _loaded_after(args)
        assert not loaded & {"textual", "sqlalchemy", "anthropic", "httpx", "rich", "pydantic"}, (args, loaded)
