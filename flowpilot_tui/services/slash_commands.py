"""Slash commands typed in the chat input: record facts and fixes without any model (the offline workflow).

Parsing is pure (no database), so the input widget can complete and validate as the engineer types; recording
goes through the session service's rules in `assistant.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowpilot_tui.services.errors import InvalidInput

# (command, kind of fact recorded or None, usage, what it does) — one table drives parsing, help and completion.
_COMMANDS: tuple[tuple[str, str | None, str, str], ...] = (
    ("/fact", "confirmed", "/fact TEXT", "record a confirmed fact"),
    ("/symptom", "symptom", "/symptom TEXT", "record a symptom the user reports"),
    ("/env", "environment", "/env TEXT", "record an environment detail (OS, versions, devices)"),
    ("/tried", "tried", "/tried TEXT [-> OUTCOME]", "record something tried and what happened"),
    ("/hypothesis", "hypothesis", "/hypothesis TEXT", "record the current hypothesis"),
    ("/fix", None, "/fix TITLE [| step; step]", "propose a fix (replaces the active one)"),
    ("/help", None, "/help", "list these commands"),
)
_KIND_OF = {name: kind for name, kind, _, _ in _COMMANDS}
_USAGE = {name: usage for name, _, usage, _ in _COMMANDS}
_OUTCOME_ARROWS = ("->", "→", "=>")


@dataclass(frozen=True)
class SlashCommand:
    """A parsed command. `kind` is set for fact commands; `title`/`steps` for `/fix`."""

    name: str
    kind: str | None = None
    text: str = ""
    outcome: str | None = None
    title: str = ""
    steps: tuple[str, ...] = field(default_factory=tuple)


def slash_commands() -> list[tuple[str, str]]:
    """(command, "usage — description") pairs for completion and /help."""
    return [(name, f"{usage} — {doc}") for name, _, usage, doc in _COMMANDS]


def help_lines() -> list[str]:
    return [f"{usage}  {doc}" for _, _, usage, doc in _COMMANDS] + ["//TEXT  send text that starts with /"]


def is_command(text: str) -> bool:
    """True when the input is meant as a command (a leading `//` escapes a literal slash)."""
    stripped = text.lstrip()
    return stripped.startswith("/") and not stripped.startswith("//")


def unescape(text: str) -> str:
    """`//etc/hosts is empty` → `/etc/hosts is empty` (the escape for text beginning with a slash)."""
    stripped = text.lstrip()
    return stripped[1:] if stripped.startswith("//") else text


def parse(text: str) -> SlashCommand:
    """Parse one command line; InvalidInput names the problem and the usage."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    name = head.lower()
    rest = rest.strip()
    if name not in _KIND_OF:
        raise InvalidInput(
            f"Unknown command {head}; type /help for the list (start with // to send text beginning with /)"
        )
    if name == "/help":
        return SlashCommand("/help")
    if not rest:
        raise InvalidInput(f"{name} needs text: {_USAGE[name]}")
    if name == "/fix":
        title, _, step_text = rest.partition("|")
        steps = tuple(s.strip() for s in step_text.split(";") if s.strip())
        if not title.strip():
            raise InvalidInput(f"/fix needs a title before '|': {_USAGE[name]}")
        return SlashCommand("/fix", title=title.strip(), steps=steps)
    outcome = None
    if name == "/tried":
        for arrow in _OUTCOME_ARROWS:
            if arrow in rest:
                rest, _, outcome_text = rest.partition(arrow)
                rest, outcome = rest.strip(), outcome_text.strip() or None
                break
        if not rest:
            raise InvalidInput(f"/tried needs what was tried before the arrow: {_USAGE[name]}")
    return SlashCommand(name, kind=_KIND_OF[name], text=rest, outcome=outcome)
