"""The `flowpilot` command line end to end: temp DB, offline generator, the ConnectWise emulator over loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cli_helpers import KEY_ENV, cli, connection_toml, failed, js, ok, proc, seed_demo, write_config

from flowpilot_tui import __version__
from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY

SUMMARY_KEYS = {
    "id",
    "title",
    "status",
    "owner_login",
    "owner_name",
    "connection_name",
    "ticket_id",
    "state_version",
    "created_at",
    "updated_at",
}


@pytest.fixture
def demo() -> dict[str, str]:
    return seed_demo()


# ---- basics --------------------------------------------------------------------------------------------------


def test_version_and_usage_errors() -> None:
    assert ok("--version").stdout.strip() == f"flowpilot, version {__version__}"
    assert cli("no-such-command").exit_code == 2
    assert cli("sessions", "list", "--limit", "0").exit_code == 2
    assert cli("preview", "x", "--kind", "summary").exit_code == 2
    assert "Exit codes:" in ok("--help").stdout


def test_db_upgrade_and_demo_only_into_an_empty_database(demo: dict[str, str]) -> None:
    assert re.match(r"Database at revision \w+: sqlite\+aiosqlite:///", ok("db", "upgrade").stdout)
    result = failed(4, "demo")
    assert "only seeded into an empty database" in result.stderr
    failed(4, "init", "--account", "Second", user="alice")  # alice already belongs to the demo account


def test_demo_points_at_the_emulator_for_a_try_out() -> None:
    out = ok("demo").stdout
    assert "flowpilot emulator connectwise" in out and "#48213" in out


def test_unknown_user_is_a_config_problem_with_a_hint(demo: dict[str, str]) -> None:
    result = failed(2, "sessions", "list", user="nobody")
    assert "'nobody' is not a member of any account" in result.stderr and "flowpilot init" in result.stderr


# ---- sessions ------------------------------------------------------------------------------------------------


def test_sessions_list_json_shape_filters_and_paging(demo: dict[str, str]) -> None:
    page = js("sessions", "list")
    assert set(page) == {"items", "total", "offset", "limit", "has_more", "next_after"}
    assert page["total"] == 4 and len(page["items"]) == 4 and page["has_more"] is False
    assert all(set(item) == SUMMARY_KEYS for item in page["items"])
    assert [i["status"] for i in js("sessions", "list", "--status", "resolved")["items"]] == ["resolved"]
    by_ticket = js("sessions", "list", "--search", "#48213")["items"]
    assert [i["id"] for i in by_ticket] == [demo["outlook"]]
    first = js("sessions", "list", "--limit", "1")
    assert len(first["items"]) == 1 and first["total"] == 4 and first["has_more"] is True
    second = js("sessions", "list", "--limit", "1", "--offset", "1")
    assert second["items"][0]["id"] != first["items"][0]["id"]
    by_cursor = js("sessions", "list", "--limit", "1", "--after", first["next_after"])
    assert by_cursor["items"][0]["id"] == second["items"][0]["id"]


def test_sessions_list_text_and_bad_status(demo: dict[str, str]) -> None:
    out = ok("sessions", "list").stdout
    assert out.splitlines()[0].split() == ["ID", "STATUS", "TICKET", "UPDATED", "OWNER", "TITLE"]
    assert demo["outlook"] in out and "demo-cw #48213" in out
    assert "No sessions match." in ok("sessions", "list", "--search", "zzz-nothing").stdout
    assert "Unknown status 'open'" in failed(2, "sessions", "list", "--status", "open").stderr


def test_sessions_new_and_show(demo: dict[str, str]) -> None:
    plain_id = ok("sessions", "new", "--title", "Laptop fan loud").stdout.strip()
    assert uuid.UUID(plain_id)
    unchecked = failed(
        2, "sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "48214"
    )
    assert "could not check ticket #48214: PSA connection 'demo-cw' is not configured" in unchecked.stderr
    assert "--no-check links it anyway" in unchecked.stderr
    linked = js(
        "sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "48214", "--no-check"
    )
    assert set(linked) == SUMMARY_KEYS
    assert (linked["status"], linked["connection_name"], linked["ticket_id"], linked["state_version"]) == (
        "active",
        "demo-cw",
        48214,
        1,
    )
    shown = js("sessions", "show", linked["id"])
    assert shown["id"] == linked["id"] and shown["ticket_id"] == 48214 and shown["facts"] == []
    assert shown["active_fix"] is None and shown["owner_login"] == "alice"
    assert failed(2, "sessions", "new", "--title", "x", "--connection", "demo-cw").stderr.count("both") == 1
    nope = ("sessions", "new", "--title", "x", "--connection", "nope", "--ticket", "1")
    assert "PSA connection 'nope' is not configured" in failed(2, *nope).stderr
    assert "'nope' not found" in failed(3, *nope, "--no-check").stderr
    failed(2, "sessions", "new", "--title", "   ")


def test_sessions_show_json_has_facts_active_fix_ticket_and_state_version(demo: dict[str, str]) -> None:
    shown = js("sessions", "show", demo["outlook"])
    assert SUMMARY_KEYS <= set(shown)
    assert {
        "facts",
        "active_fix",
        "fixes",
        "message_count",
        "resolution_note_markdown",
        "escalation_package_markdown",
        "resolved_at",
        "escalated_at",
        "drafts",
    } <= set(shown)
    assert shown["status"] == "active" and shown["ticket_id"] == 48213 and shown["connection_name"] == "demo-cw"
    assert [f["kind"] for f in shown["facts"]] == [
        "symptom",
        "environment",
        "confirmed",
        "confirmed",
        "tried",
        "hypothesis",
    ]
    assert shown["facts"][4]["outcome"] == "Prompts returned after 10 minutes"
    assert shown["active_fix"]["title"] == "Recreate the Outlook profile" and shown["active_fix"]["active"] is True
    assert [f["active"] for f in shown["fixes"]] == [True, False, False]
    text = ok("sessions", "show", demo["outlook"]).stdout
    assert f"state_version: {shown['state_version']}" in text
    assert "ConnectWise ticket #48213 via demo-cw" in text and "Active fix: #" in text


def test_show_strips_terminal_escapes_from_text_but_json_keeps_them_escaped(demo: dict[str, str]) -> None:
    evil = "Printer \x1b]52;c;ZXZpbA==\x07jammed \x9b31m"
    sid = js("sessions", "new", "--title", evil)["id"]
    text = ok("sessions", "show", sid).stdout
    assert "\x1b" not in text and "\x9b" not in text and "Printer jammed" in text
    raw = ok("sessions", "show", sid, "--json").stdout
    assert "\x1b" not in raw and "\x9b" not in raw and "\\u009b" in raw
    assert json.loads(raw)["title"] == evil  # the data itself is kept as typed


def test_missing_and_other_accounts_sessions_read_the_same(demo: dict[str, str]) -> None:
    ok("init", "--account", "Other MSP", user="mallory")
    theirs = js("sessions", "new", "--title", "Mallory's session", user="mallory")["id"]
    missing = str(uuid.uuid4())
    cross = failed(3, "sessions", "show", theirs)
    absent = failed(3, "sessions", "show", missing)
    assert cross.stderr.replace(theirs, "ID") == absent.stderr.replace(missing, "ID")
    failed(3, "facts", "add", theirs, "--kind", "symptom", "--text", "x")
    failed(3, "preview", theirs, "--kind", "resolve")
    assert theirs not in ok("sessions", "list").stdout


def test_viewer_reads_but_cannot_write(demo: dict[str, str]) -> None:
    assert js("sessions", "list", user="demo.viewer")["total"] == 4
    assert js("sessions", "show", demo["vpn"], user="demo.viewer")["id"] == demo["vpn"]
    denied = failed(7, "facts", "add", demo["vpn"], "--kind", "symptom", "--text", "x", user="demo.viewer")
    assert "viewer" in denied.stderr
    failed(7, "sessions", "new", "--title", "x", user="demo.viewer")
    failed(7, "fix", "propose", demo["vpn"], "--title", "x", user="demo.viewer")
    assert (
        js("sessions", "show", demo["vpn"])["facts"] == js("sessions", "show", demo["vpn"], user="demo.viewer")["facts"]
    )


def test_json_errors_are_a_document_on_stdout_too(demo: dict[str, str]) -> None:
    result = failed(3, "sessions", "show", "does-not-exist", "--json")
    doc = json.loads(result.stdout)
    assert doc == {"error": {"type": "NotFound", "message": "Session does-not-exist not found", "exit_code": 3}}


# ---- facts and fixes -----------------------------------------------------------------------------------------


def test_facts_add_bumps_state_version(demo: dict[str, str]) -> None:
    before = js("sessions", "show", demo["vpn"])["state_version"]
    out = ok(
        "facts", "add", demo["vpn"], "--kind", "tried", "--text", "Reinstalled FortiClient", "--outcome", "No change"
    )
    assert re.fullmatch(rf"Added tried fact #\d+ to session {demo['vpn']}\n", out.stdout)
    fact = js("facts", "add", demo["vpn"], "--kind", "confirmed", "--text", "Split tunnelling is on")
    assert {"id", "kind", "text", "outcome", "source", "created_at", "updated_at"} == set(fact)
    shown = js("sessions", "show", demo["vpn"])
    assert shown["state_version"] == before + 2
    assert ("tried", "Reinstalled FortiClient", "No change") in {
        (f["kind"], f["text"], f["outcome"]) for f in shown["facts"]
    }
    assert (
        "Unknown fact kind 'guess'" in failed(2, "facts", "add", demo["vpn"], "--kind", "guess", "--text", "x").stderr
    )
    assert js("sessions", "show", demo["vpn"])["state_version"] == before + 2


def test_fix_propose_supersedes_and_decide(demo: dict[str, str]) -> None:
    old = js("sessions", "show", demo["vpn"])["active_fix"]
    new = js(
        "fix",
        "propose",
        demo["vpn"],
        "--title",
        "Set DNS suffix on the VPN adapter",
        "--rationale",
        "Short names",
        "--step",
        "Open adapter settings",
        "--step",
        "Add corp.example.com",
        "--shell",
        "powershell",
    )
    assert new["active"] is True and new["steps"] == ["Open adapter settings", "Add corp.example.com"]
    assert new["target_shell"] == "powershell" and new["user_decision"] is None
    shown = js("sessions", "show", demo["vpn"])
    assert shown["active_fix"]["id"] == new["id"]
    assert next(f for f in shown["fixes"] if f["id"] == old["id"])["active"] is False
    decided = js("fix", "decide", demo["vpn"], str(new["id"]), "--decision", "one_off")
    assert decided["user_decision"] == "one_off" and decided["decided_at"]
    assert (
        ok("fix", "decide", demo["vpn"], str(new["id"]), "--decision", "build_template").stdout
        == f"Fix #{new['id']}: build_template\n"
    )
    conflict = failed(4, "fix", "decide", demo["vpn"], str(old["id"]), "--decision", "dismissed")
    assert "superseded" in conflict.stderr
    failed(2, "fix", "decide", demo["vpn"], str(new["id"]), "--decision", "maybe")
    failed(3, "fix", "decide", demo["vpn"], "999999", "--decision", "one_off")
    usage = cli("fix", "propose", demo["vpn"], "--title", "x", "--shell", "cmd")  # click's usage error
    assert usage.exit_code == 2 and "'cmd' is not one of 'powershell', 'bash'" in usage.stderr


# ---- preview -------------------------------------------------------------------------------------------------


def test_preview_json_uses_the_cache_until_the_state_changes(demo: dict[str, str]) -> None:
    first = js("preview", demo["vpn"], "--kind", "escalate")
    assert set(first) == {
        "session_id",
        "kind",
        "cache_hit",
        "generator",
        "model",
        "template_version",
        "state_version",
        "fallback_reason",
        "redaction_count",
        "flagged_items",
        "created_at",
        "markdown",
    }
    assert (first["kind"], first["generator"], first["cache_hit"]) == ("escalate", "offline", False)
    assert "## What we've tried" in first["markdown"] and "ipconfig /flushdns" in first["markdown"]
    again = js("preview", demo["vpn"], "--kind", "escalate")
    assert again["cache_hit"] is True and again["markdown"] == first["markdown"]
    assert again["state_version"] == first["state_version"]
    ok("facts", "add", demo["vpn"], "--kind", "confirmed", "--text", "Wi-Fi adapter metric is 25")
    changed = js("preview", demo["vpn"], "--kind", "escalate")
    assert changed["cache_hit"] is False and changed["state_version"] == first["state_version"] + 1
    assert "Wi-Fi adapter metric is 25" in changed["markdown"]
    assert js("preview", demo["vpn"], "--kind", "escalate", "--regenerate")["cache_hit"] is False


def test_preview_reports_redactions_without_the_secret(demo: dict[str, str]) -> None:
    ok("facts", "add", demo["vpn"], "--kind", "tried", "--text", "Reset the VPN account, password set to Hunter2!x9")
    result = ok("preview", demo["vpn"], "--kind", "escalate", "--json")
    assert "Hunter2!x9" not in result.stdout and json.loads(result.stdout)["redaction_count"] >= 1


def test_preview_text_markdown_on_stdout_header_on_stderr(demo: dict[str, str]) -> None:
    result = ok("preview", demo["outlook"], "--kind", "resolve")
    assert "state_version" in result.stderr and "Offline template" in result.stderr
    assert "state_version" not in result.stdout and result.stdout.strip()
    assert result.stdout.rstrip("\n") == js("preview", demo["outlook"], "--kind", "resolve")["markdown"].rstrip("\n")


# ---- config and connections ----------------------------------------------------------------------------------


def test_config_check_json_without_connections() -> None:
    ok("demo")  # config check resolves the user in the database before it says ok
    doc = js("config", "check")
    assert doc["ok"] is True and doc["user"] == "alice" and doc["llm_provider"] == "offline"
    assert doc["connections"] == [] and doc["db_url"].startswith("sqlite+aiosqlite:///")


def test_config_check_reaches_each_connection(cw, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(connection_toml(cw.site_url))
    ok("demo")
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    assert js("config", "check")["connections"] == [{"name": "demo-cw", "checked": False}]
    doc = js("config", "check", "--connections")
    assert doc["ok"] is True
    assert doc["connections"] == [
        {
            "name": "demo-cw",
            "checked": True,
            "provider": "connectwise",
            "ok": True,
            "version": doc["connections"][0]["version"],
        }
    ]
    assert cw.api_calls("GET", "/login/companyinfo/") and cw.api_calls("GET", "/system/info")
    text = ok("config", "check", "--connections").stdout
    assert "demo-cw: OK, ConnectWise" in text


def test_config_check_bad_key_is_a_psa_error_and_never_echoes_it(cw, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(connection_toml(cw.site_url))
    ok("demo")
    monkeypatch.setenv(KEY_ENV, "wrong-private-key")
    result = failed(5, "config", "check", "--connections", "--json")
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["connections"][0]["ok"] is False and doc["connections"][0]["exit_code"] == 5
    assert "rejected the credentials" in result.stderr and "demo-cw" in result.stderr
    assert "wrong-private-key" not in result.stdout + result.stderr


def test_config_check_missing_key_env_is_a_config_error(cw) -> None:
    write_config(connection_toml(cw.site_url))
    ok("demo")
    result = failed(2, "config", "check", "--connections")
    assert f"{KEY_ENV} is not set" in result.stderr


def test_emulator_command_serves_and_prints_a_working_config(monkeypatch: pytest.MonkeyPatch) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "flowpilot_tui", "emulator", "connectwise", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        assert child.stdout is not None
        while not lines or not lines[-1].startswith("and export"):
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "emulator exited"
            lines.append(line.rstrip("\n"))
        snippet = "\n".join(lines[lines.index("[connections.demo-cw]") :])
        write_config(snippet.split("\n\nand export")[0] + "\n")
        key = lines[-1].split("=", 1)[1]
        monkeypatch.setenv(KEY_ENV, key)
        ok("demo")
        assert js("config", "check", "--connections")["connections"][0]["ok"] is True
    finally:
        child.terminate()
        child.wait(timeout=10)


# ---- errors: one line, no traceback unless --debug -----------------------------------------------------------


def test_a_file_that_is_not_a_database_is_one_line_exit_2_and_debug_keeps_the_code(tmp_path: Path) -> None:
    bad_db = tmp_path / "not-a-db.sqlite"
    bad_db.write_bytes(b"this is not a sqlite database, just bytes " * 200)
    env = {"FLOWPILOT_DB_URL": f"sqlite+aiosqlite:///{bad_db}"}
    result = proc("sessions", "list", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"flowpilot: db_url: {bad_db} is not a FlowPilot database (not an SQLite file)\n"
    debug = proc("--debug", "sessions", "list", env=env)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith(result.stderr)


def test_no_arguments_checks_the_config_before_opening_the_tui() -> None:
    write_config("theme = [\n")
    result = proc()
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("flowpilot: ") and "not valid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_domain_errors_in_a_real_process_are_one_line(demo: dict[str, str]) -> None:
    result = proc("sessions", "show", "nope")
    assert result.returncode == 3 and result.stderr == "flowpilot: Session nope not found\n" and result.stdout == ""


# ---- account ---------------------------------------------------------------------------------------------------


def test_admin_sets_target_statuses_and_adds_members() -> None:
    ok("init", "--account", "Acme IT")  # alice becomes the admin of an empty account
    assert js("account", "show")["preferences"] == {}
    ok("account", "set", "cw_resolved_status_id", "17")
    ok("account", "set", "cw_escalated_status_id", "12")
    assert js("account", "show")["preferences"] == {"cw_resolved_status_id": 17, "cw_escalated_status_id": 12}
    ok("account", "set", "cw_escalated_status_id", "unset")
    assert js("account", "show")["preferences"] == {"cw_resolved_status_id": 17}
    failed(2, "account", "set", "cw_resolved_status_id", "Completed")
    ok("account", "add-user", "bob", "--role", "viewer", "--name", "Bob B")
    assert js("account", "show", user="bob")["role"] == "viewer"
    failed(4, "account", "add-user", "bob", "--role", "engineer")  # already a member
    denied = failed(7, "account", "set", "cw_resolved_status_id", "18", user="bob")
    assert "admin" in denied.stderr
    failed(7, "account", "add-user", "carol", "--role", "engineer", user="bob")
    assert js("account", "show")["preferences"]["cw_resolved_status_id"] == 17


def test_target_status_set_from_the_cli_is_what_the_post_plan_uses(demo: dict[str, str]) -> None:
    """The demo user is an engineer: only an admin may change where a resolve moves the ticket."""
    failed(7, "account", "set", "cw_resolved_status_id", "18")
    assert js("account", "show")["preferences"]["cw_resolved_status_id"] == 17
