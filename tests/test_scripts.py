"""Scripts and templates from fix decisions: shell choice, offline and Claude bodies, templates, flags, versions."""

from __future__ import annotations

import json

import pytest
from fake_anthropic import message, text_block, tool_use_block

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from flowpilot_tui.services.scripts import ScriptService, TemplateParameter, destructive_flags


@pytest.fixture
def scripts(store, engineer, clock) -> ScriptService:
    return ScriptService(store, engineer, LlmSettings(), clock)


async def version(sessions, sid: str) -> int:  # type: ignore[no-untyped-def]
    return (await sessions.get(sid)).summary.state_version


async def test_one_off_is_powershell_for_windows_environment_and_bumps_version(scripts, sessions) -> None:
    s = await sessions.create("VPN DNS failure")
    await sessions.add_fact(s.id, "environment", "Windows 11 23H2, GlobalProtect 6.1")
    fix = await sessions.propose_fix(
        s.id,
        "Flush DNS and reconnect",
        rationale="Stale cache",
        steps=["Run `ipconfig /flushdns`", "Reconnect the VPN", "Resolve-DnsName intranet"],
    )
    await sessions.decide_fix(s.id, fix.id, "one_off")
    before = await version(sessions, s.id)
    script = await scripts.one_off(s.id, fix.id)
    assert (script.shell, script.generator, script.title) == ("powershell", "offline", "Flush DNS and reconnect")
    lines = script.body.splitlines()
    assert "$ErrorActionPreference = 'Stop'" in lines
    assert lines[lines.index("# Step 1 of 3: Run `ipconfig /flushdns`") + 2] == "ipconfig /flushdns"
    assert "# TODO: no command in this step; do it by hand or add the command here." in lines  # step 2: prose only
    assert "Resolve-DnsName intranet" in lines  # a cmdlet step is a command
    assert script.flags == []
    assert await version(sessions, s.id) == before + 1
    assert [x.id for x in await scripts.list_scripts(s.id)] == [script.id]
    assert (await scripts.get_script(s.id, script.id)).body == script.body
    other = await sessions.create("Another session")
    with pytest.raises(NotFound):  # a script is found only through its own session
        await scripts.get_script(other.id, script.id)


async def test_one_off_is_bash_without_windows_and_respects_target_shell(scripts, sessions) -> None:
    s = await sessions.create("Web server down")
    await sessions.add_fact(s.id, "environment", "Ubuntu 22.04 VM")
    fix = await sessions.propose_fix(s.id, "Restart nginx", steps=["sudo systemctl restart nginx"])
    script = await scripts.one_off(s.id, fix.id)
    assert script.shell == "bash" and script.body.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script.body and "sudo systemctl restart nginx\n" in script.body
    forced = await sessions.propose_fix(
        s.id, "Check from the admin PC", steps=["Get-Service W3SVC"], target_shell="powershell"
    )
    assert (await scripts.one_off(s.id, forced.id)).shell == "powershell"


async def test_step_text_cannot_escape_its_comment(scripts, sessions) -> None:
    s = await sessions.create("Injection")
    fix = await sessions.propose_fix(s.id, "Evil\nRemove-Item C:\\ -Recurse", steps=["line one\nRestart-Computer"])
    body = (await scripts.one_off(s.id, fix.id)).body
    assert destructive_flags(body) == []  # both stayed inside one-line comments
    assert "# FlowPilot one-off script: Evil Remove-Item C:\\ -Recurse" in body


async def test_draft_template_is_parameterised_and_loads_back(scripts, sessions) -> None:
    s = await sessions.create("Mailbox permissions")
    await sessions.add_fact(s.id, "environment", "Exchange Online, Windows 10 admin workstation")
    fix = await sessions.propose_fix(
        s.id,
        "Grant <Delegate> access to <Mailbox>",
        steps=["`Add-MailboxPermission -Identity {{Mailbox}} -User <Delegate> -AccessRights FullAccess`"],
    )
    before = await version(sessions, s.id)
    tpl = await scripts.save_draft_template(s.id, fix.id)
    assert tpl.status == "draft" and tpl.shell == "powershell" and tpl.session_id == s.id
    assert [p.name for p in tpl.parameters] == ["Mailbox", "Delegate"]
    assert "Add-MailboxPermission -Identity {{Mailbox}} -User {{Delegate}} -AccessRights FullAccess" in tpl.body
    assert await version(sessions, s.id) == before + 1
    assert await scripts.get_template(tpl.id) == tpl
    again = await scripts.save_draft_template(s.id, fix.id)  # names stay unique per account
    assert again.name == "Grant <Delegate> access to <Mailbox> (2)"


async def test_template_without_placeholders_gets_a_computer_parameter(scripts, sessions) -> None:
    s = await sessions.create("Printer")
    fix = await sessions.propose_fix(s.id, "Restart spooler", steps=["Restart-Service Spooler"])
    tpl = await scripts.save_draft_template(s.id, fix.id)
    assert [p.name for p in tpl.parameters] == ["ComputerName"] and "{{ComputerName}}" in tpl.body


async def test_save_template_builds_validates_and_bumps_its_session(scripts, sessions) -> None:
    s = await sessions.create("Printer")
    fix = await sessions.propose_fix(s.id, "Restart spooler", steps=["Restart-Service Spooler"])
    draft = await scripts.save_draft_template(s.id, fix.id)
    before = await version(sessions, s.id)
    built = await scripts.save_template(
        draft.id,
        "Restart print spooler",
        "powershell",
        [TemplateParameter("ComputerName", "Target PC", "localhost")],
        "Restart-Service -Name Spooler -ComputerName {{ComputerName}}\n",
    )
    assert (built.id, built.status, built.name) == (draft.id, "built", "Restart print spooler")
    assert built.parameters == (TemplateParameter("ComputerName", "Target PC", "localhost"),)
    assert await version(sessions, s.id) == before + 1
    standalone = await scripts.save_template(None, "Clear Teams cache", "bash", [], "echo clearing\n")
    assert standalone.session_id is None and standalone.status == "built"
    assert [t.name for t in await scripts.list_templates()] == ["Clear Teams cache", "Restart print spooler"]
    assert await version(sessions, s.id) == before + 1  # a template without a session bumps nothing

    bad = [
        (dict(name="x", shell="cmd", parameters=[], body="a"), "Shell must be"),
        (dict(name="x", shell="bash", parameters=[], body="   "), "must not be empty"),
        (dict(name="x", shell="bash", parameters=[{"name": "1st"}], body="a"), "must start with a letter"),
        (dict(name="x", shell="bash", parameters=[{"name": "A"}, {"name": "a"}], body="a"), "declared twice"),
        (dict(name="x", shell="bash", parameters=[], body="echo {{Host}}"), r"uses \{\{Host\}\}"),
        (dict(name=" ", shell="bash", parameters=[], body="a"), "name must not be empty"),
    ]
    for kwargs, match in bad:
        with pytest.raises(InvalidInput, match=match):
            await scripts.save_template(None, **kwargs)
    with pytest.raises(Conflict, match="already exists"):
        await scripts.save_template(None, "clear teams cache", "bash", [], "echo\n")


async def test_scoping_and_roles(scripts, sessions, store, outsider, viewer, clock) -> None:
    s = await sessions.create("Mine")
    fix = await sessions.propose_fix(s.id, "Do it", steps=["ping host"])
    tpl = await scripts.save_template(None, "Mine", "bash", [], "echo\n")
    theirs = ScriptService(store, outsider, LlmSettings(), clock)
    for call in (
        theirs.one_off(s.id, fix.id),
        theirs.save_draft_template(s.id, fix.id),
        theirs.get_template(tpl.id),
        theirs.save_template(tpl.id, "Stolen", "bash", [], "echo\n"),
    ):
        with pytest.raises(NotFound):
            await call
    assert await theirs.list_templates() == []
    with pytest.raises(NotFound):
        await scripts.one_off(s.id, 999_999)
    with pytest.raises(PermissionDenied):
        await ScriptService(store, viewer, LlmSettings(), clock).one_off(s.id, fix.id)


@pytest.mark.parametrize(
    "line",
    [
        "Remove-Item -Path C:\\Temp\\old -Recurse -Force",
        "Format-Volume -DriveLetter D",
        "rm -rf /var/cache/app",
        "rm -fr ./build",
        "reg delete HKCU\\Software\\Vendor /f",
        "Stop-Computer -Force",
        "Restart-Computer",
        "shutdown /r /t 0",
        "diskpart /s wipe.txt",
        "del /s /q C:\\Users\\bob\\AppData\\Local\\Temp\\*",
        "Clear-Disk -Number 1 -RemoveData",
        "sudo reboot",
        "vssadmin delete shadows /all",
        "mkfs.ext4 /dev/sdb1",
    ],
)
def test_destructive_commands_are_flagged(line: str) -> None:
    flags = destructive_flags(f"# a comment\n{line}\n")
    assert [(f.line_no, f.command) for f in flags] == [(2, line)] and flags[0].reason


@pytest.mark.parametrize(
    "line",
    [
        "Get-ChildItem C:\\Temp -Recurse",
        "Remove-Item C:\\Temp\\one.log",
        "rm build.log",
        "ipconfig /flushdns",
        "# Restart-Computer after hours",
        "reg query HKCU\\Software",
        'Write-Host "Step 3 of 4"',
        "echo shutdown-notice.txt",
    ],
)
def test_safe_commands_and_comments_are_not_flagged(line: str) -> None:
    assert destructive_flags(line) == []


async def test_claude_writes_the_script_from_redacted_input(store, engineer, clock, sessions, fake_anthropic) -> None:
    s = await sessions.create("Service account")
    await sessions.add_fact(s.id, "environment", "Windows Server 2022; svc password: Hunter2Hunter2!")
    fix = await sessions.propose_fix(s.id, "Restart the app pool", steps=["Restart-WebAppPool AppPool"])
    body = "Import-Module WebAdministration\nRestart-WebAppPool -Name 'AppPool'\n"
    fake_anthropic.reply(message(tool_use_block("write_script", {"body": body})))
    svc = ScriptService(
        store,
        engineer,
        LlmSettings(provider="anthropic", api_key="k", base_url=fake_anthropic.base_url, max_retries=0),
        clock,
    )
    script = await svc.one_off(s.id, fix.id)
    assert (script.generator, script.body, script.fallback_reason) == ("claude", body, None)
    sent = fake_anthropic.requests[-1].body
    assert sent["tool_choice"] == {"type": "tool", "name": "write_script"}
    assert "Hunter2Hunter2!" not in json.dumps(sent) and "[REDACTED:password]" in json.dumps(sent)

    fake_anthropic.error(529, "overloaded_error", "Overloaded")
    fallback = await svc.one_off(s.id, fix.id)
    assert (
        fallback.generator == "offline"
        and fallback.fallback_reason == "Claude is overloaded (HTTP 529); try again shortly"
    )
    assert "Restart-WebAppPool AppPool" in fallback.body

    fake_anthropic.reply(message(text_block("I can't help with that.")))
    assert "no script body" in (await svc.one_off(s.id, fix.id)).fallback_reason

    fake_anthropic.reply(
        message(tool_use_block("write_script", {"body": "Restart-WebAppPool {{Pool}}", "parameters": []}))
    )
    tpl = await svc.save_draft_template(s.id, fix.id)  # undeclared parameter: falls back to the offline template
    assert tpl.fallback_reason and "{{Pool}}" in tpl.fallback_reason and tpl.parameters[0].name == "ComputerName"
    await svc.aclose()
