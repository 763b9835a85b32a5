"""How every command runs: settings, one `Services` per invocation, and domain errors mapped to exit codes.

Only click, the standard library and the dependency-free domain errors load at module level, so `--help` and
`--version` stay fast; settings, the database and the services load inside `run`/`with_services`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from flowpilot_tui.services.errors import DomainError

if TYPE_CHECKING:
    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.container import Services

T = TypeVar("T")


@dataclass
class Ctx:
    debug: bool = False


class Cancelled(DomainError):
    """The user said no at a confirmation prompt: nothing was done."""

    exit_code = 2


class ConfirmationRequired(DomainError):
    """A command refused to act without an explicit flag (`--yes`, `--use-draft` / `--ignore-draft`): nothing done."""

    exit_code = 2


def refuse(message: str, *, as_json: bool) -> NoReturn:
    """Exit 2 before any service is opened; with `--json` stdout still gets the documented error document."""
    if as_json:
        from flowpilot_tui.cli.output import emit_json

        emit_json(error_document(ConfirmationRequired(message), 2))
    fail(message, 2)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"flowpilot: {one_line(message)}", err=True)
    sys.exit(code)


def one_line(message: str) -> str:
    """One line without terminal controls: error messages carry PSA text, file names and arguments verbatim."""
    from flowpilot_tui.safe_text import one_line as _safe

    return _safe(str(message))


def debug_enabled() -> bool:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Ctx) if ctx else None
    return bool(obj and obj.debug)


def error_document(exc: BaseException, code: int) -> dict[str, Any]:
    """The `{"error": ...}` object a `--json` command prints on failure (documented in the README).

    Errors that know more (a writeback error after the note was posted carries the note's external id) add their
    own `to_json()` fields; PSA call errors add the ticket, HTTP status and operation."""
    message = exc.message if isinstance(exc, DomainError) else f"{exc.__class__.__name__}: {exc}"
    doc: dict[str, Any] = {"type": exc.__class__.__name__, "message": message, "exit_code": code}
    extra = exc.to_json() if isinstance(exc, DomainError) else {}
    doc.update({k: v for k, v in extra.items() if k not in ("error", "message", "type", "exit_code")})
    return {"error": doc}


def run(fn: Callable[[], Coroutine[Any, Any, T]], *, json_errors: bool = False) -> T:
    """Run an async command body. A domain error becomes one stderr line and its exit code; with `json_errors`
    stdout also gets an `{"error": ...}` document. Unexpected errors exit 1 without a traceback unless --debug."""
    import asyncio

    from flowpilot_tui.cli.output import emit_json

    debug = debug_enabled()
    try:
        return asyncio.run(fn())
    except DomainError as exc:
        if debug:  # the traceback too, but the same exit code: scripts must not behave differently under --debug
            _traceback()
        if json_errors:
            emit_json(error_document(exc, exc.exit_code))
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # never a traceback unless asked for
        if debug:
            _traceback()
        if json_errors:
            emit_json(error_document(exc, 1))
        fail(f"unexpected error: {exc.__class__.__name__}: {exc} (run with --debug for details)", 1)


def _traceback() -> None:
    import traceback

    from flowpilot_tui.safe_text import strip_controls

    click.echo(strip_controls(traceback.format_exc()).rstrip(), err=True)


def load_settings() -> Settings:
    """Settings, or a one-line config error with exit code 2."""
    from flowpilot_tui.config import load_settings as _load

    try:
        return _load()
    except DomainError as exc:
        fail(exc.message, exc.exit_code)


async def open_services(settings: Settings) -> Services:
    """The same `Services` the TUI uses. An unknown configured user is a configuration problem (exit 2)."""
    from flowpilot_tui.services.container import open_services as _open
    from flowpilot_tui.services.errors import ConfigError, NotFound

    try:
        return await _open(settings)
    except NotFound as exc:
        raise ConfigError(exc.message) from None


def with_services(body: Callable[[Services], Awaitable[T]], *, json_errors: bool = False) -> T:
    """Load settings, open services, run `body`, always close them."""
    settings = load_settings()

    async def go() -> T:
        services = await open_services(settings)
        try:
            return await body(services)
        finally:
            await services.close()

    return run(go, json_errors=json_errors)
