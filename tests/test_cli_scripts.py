"""`flowpilot scripts …` / `templates …`: the one-off scripts and templates the TUI writes, from a shell."""

from __future__ import annotations

import pytest
from cli_helpers import cli, failed, js, ok, seed_demo


@pytest.fixture
def demo() -> dict[str, str]:
    return seed_demo()


def _new_fix(sid: str, *steps: str) -> int:
    args = ["fix", "propose", sid, "--title", "Restart the spooler", "--shell", "powershell"]
    for step in steps:
        args += ["--step", step]
    fix_id = int(js(*args)["id"])
    ok("fix", "decide", sid, str(fix_id), "--decision", "one_off")
    return fix_id


def test_new_script_is_listed_and_its_body_alone_goes_to_stdout(demo: dict[str, str]) -> None:
    sid = demo["printer"]
    before = js("sessions", "show", sid)["state_version"]
    fix_id = _new_fix(sid, "Run `Restart-Service Spooler -Force`", "Print a test page")
    made = js("scripts", "new", sid, str(fix_id))
    assert made["shell"] == "powershell" and made["generator"] == "offline" and made["fix_id"] == fix_id
    assert "Restart-Service Spooler -Force" in made["body"].splitlines()
    assert js("sessions", "show", sid)["state_version"] == before + 3  # fix, decision, script

    listed = js("scripts", "list", sid)["scripts"]
    assert [s["id"] for s in listed] == [made["id"]]
    table = ok("scripts", "list", sid).stdout.splitlines()
    assert table[0].split() == ["ID", "SHELL", "CREATED", "FLAGS", "FIX"]
    assert table[1].startswith(str(made["id"])) and table[1].endswith("Restart the spooler")

    shown = ok("scripts", "show", sid, str(made["id"]))
    assert shown.stdout == made["body"] + "\n"  # pipeable: nothing but the script on stdout
    assert shown.stderr == ""


def test_destructive_lines_are_named_on_stderr_not_in_the_script(demo: dict[str, str]) -> None:
    sid = demo["printer"]
    fix_id = _new_fix(sid, "Run `Remove-Item C:\\Windows\\System32\\spool\\PRINTERS\\* -Recurse -Force`")
    made = js("scripts", "new", sid, str(fix_id))
    assert made["flags"], made["body"]
    shown = ok("scripts", "show", sid, str(made["id"]))
    assert "review line" in shown.stderr and "Remove-Item" in shown.stderr
    assert "review line" not in shown.stdout


def test_script_text_from_a_model_cannot_drive_the_terminal(demo: dict[str, str]) -> None:
    sid = demo["printer"]
    fix_id = _new_fix(sid, "Run `Write-Host done\x1b]0;pwned\x07\x1b[2J`")
    made = js("scripts", "new", sid, str(fix_id))
    out = ok("scripts", "show", sid, str(made["id"])).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "Write-Host done" in out


def test_templates_new_list_show(demo: dict[str, str]) -> None:
    sid = demo["printer"]
    proposed = js("fix", "propose", sid, "--title", "Clear the print queue", "--step", "Run `net stop spooler`")
    fix_id = int(proposed["id"])
    ok("fix", "decide", sid, str(fix_id), "--decision", "draft_template")
    saved = ok("templates", "new", sid, str(fix_id)).stdout
    assert saved.startswith("Template #") and "saved as a draft: Clear the print queue" in saved
    items = js("templates", "list")["templates"]
    assert [(t["name"], t["status"]) for t in items] == [("Clear the print queue", "draft")]
    body = ok("templates", "show", str(items[0]["id"])).stdout
    assert "net stop spooler" in body


def test_other_accounts_scripts_and_templates_are_not_found(demo: dict[str, str]) -> None:
    sid = demo["printer"]
    fix_id = _new_fix(sid, "Run `Restart-Service Spooler`")
    script_id = js("scripts", "new", sid, str(fix_id))["id"]
    ok("fix", "decide", sid, str(fix_id), "--decision", "draft_template")
    tpl_id = js("templates", "new", sid, str(fix_id))["id"]
    ok("init", "--account", "Other MSP", user="mallory")
    assert "not found" in failed(3, "scripts", "list", sid, user="mallory").stderr
    failed(3, "scripts", "show", sid, str(script_id), user="mallory")
    failed(3, "templates", "show", str(tpl_id), user="mallory")
    assert js("templates", "list", user="mallory") == {"templates": []}
    failed(3, "scripts", "show", sid, "999999")
    viewer = cli("scripts", "new", sid, str(fix_id), user="demo.viewer")
    assert viewer.exit_code == 7
