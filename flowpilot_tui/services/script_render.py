"""Deterministic scripts and draft templates from a fix's steps (the offline path, and the fallback).

A step becomes a comment plus a progress line; its command goes in as code only when the step clearly holds
one: text in backticks (`ipconfig /flushdns`), or a step that starts with a PowerShell cmdlet (Verb-Noun) or a
well-known command-line tool. Anything else stays a TODO comment, never a guessed command. Step text placed in
comments is flattened to one line so it cannot break out of the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_WINDOWS = re.compile(
    r"\b(?:windows|win ?1[01]|win ?7|powershell|active directory|entra|intune|outlook|"
    r"server 20\d\d)\b",
    re.IGNORECASE,
)
_BACKTICKS = re.compile(r"`([^`\n]+)`")
_CMDLET = re.compile(r"^[A-Z][a-z]+-[A-Z][A-Za-z]+\b")
_TOOLS = frozenset(
    "ipconfig netsh gpupdate gpresult sfc dism chkdsk net sc klist nslookup ping tracert route arp whoami "
    "systeminfo wmic reg robocopy certutil dsregcmd w32tm winget choco msiexec taskkill tasklist schtasks "
    "systemctl journalctl sudo apt apt-get dnf yum service dig curl wget ip ss nmcli resolvectl hostnamectl "
    "chmod chown ls cat grep tail ps kill df du mount umount ufw iptables".split()
)
_PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9 _-]{0,40})>|\{\{?\s*([A-Za-z][A-Za-z0-9_]{0,40})\s*\}?\}")


def choose_shell(target_shell: str | None, environment_facts: Iterable[str]) -> str:
    """The fix's own target wins; otherwise PowerShell when the environment mentions Windows, else bash."""
    if target_shell in ("powershell", "bash"):
        return target_shell
    return "powershell" if any(_WINDOWS.search(t) for t in environment_facts) else "bash"


def one_line(text: str) -> str:
    return " ".join(text.split())


def step_commands(step: str) -> list[str]:
    ticks = [c.strip() for c in _BACKTICKS.findall(step) if c.strip()]
    if ticks:
        return ticks
    flat = one_line(step).rstrip(".")
    first = flat.split(" ", 1)[0] if flat else ""
    if _CMDLET.match(flat) or first.lower() in _TOOLS:
        return [flat]
    return []


def _header(shell: str, kind: str, title: str, rationale: str) -> list[str]:
    lines = ["#!/usr/bin/env bash"] if shell == "bash" else []
    lines += [
        f"# FlowPilot {kind}: {one_line(title)}",
        "# Review every line before running it. FlowPilot never runs scripts.",
    ]
    if rationale.strip():
        lines.append(f"# Why: {one_line(rationale)}")
    if shell == "powershell":
        lines += ["#Requires -Version 5.1", "$ErrorActionPreference = 'Stop'"]
    else:
        lines += ["set -euo pipefail"]
    return lines


def _steps(shell: str, steps: Sequence[str]) -> list[str]:
    lines: list[str] = []
    say = "Write-Host" if shell == "powershell" else "echo"
    total = len(steps)
    for i, step in enumerate(steps, 1):
        lines += ["", f"# Step {i} of {total}: {one_line(step)}", f'{say} "Step {i} of {total}"']
        commands = step_commands(step)
        lines += commands or ["# TODO: no command in this step; do it by hand or add the command here."]
    if not steps:
        lines += ["", "# TODO: the fix has no steps yet; add the commands here."]
    return lines


def render_script(shell: str, title: str, rationale: str, steps: Sequence[str]) -> str:
    return "\n".join(_header(shell, "one-off script", title, rationale) + _steps(shell, steps)) + "\n"


def _param_name(raw: str) -> str:
    parts = re.split(r"[\s_-]+", raw.strip())
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def template_parts(shell: str, title: str, rationale: str, steps: Sequence[str]) -> tuple[list[dict[str, str]], str]:
    """(parameters, body): `<User Name>` / `{Computer}` placeholders in the steps become declared `{{UserName}}`
    parameters; a template without any gets a `ComputerName` parameter so it is reusable across machines."""
    names: list[str] = []

    def swap(m: re.Match[str]) -> str:
        name = _param_name(m.group(1) or m.group(2))
        if name not in names:
            names.append(name)
        return "{{" + name + "}}"

    new_steps = [_PLACEHOLDER.sub(swap, s) for s in steps]
    new_title = _PLACEHOLDER.sub(swap, title)
    if not names:
        names.append("ComputerName")
    params = [{"name": n, "description": f"Value for {n}", "default": ""} for n in names]
    lines = _header(shell, "script template", new_title, rationale)
    lines.append("# Parameters: " + ", ".join("{{" + n + "}}" for n in names) + " (filled in when the script is made)")
    body = "\n".join(lines + _steps(shell, new_steps)) + "\n"
    return params, body
