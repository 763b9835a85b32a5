"""`flowpilot post` end to end: the real writeback against the ConnectWise emulator over loopback HTTP.

Covers the confirmation rules (refuses on a non-TTY without --yes, asks on a real pty), the outcome JSON, and the
exit codes of the failure paths: 2, 3, 4, 5, 6 (note id in the JSON) and 7.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import KEY_ENV, cli, connection_toml, failed, js, ok, proc, seed_demo, write_config

from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY, ConnectWiseEmulator

TICKET = 48213
NOTE = "## Resolution\n\nRecreated the Outlook profile; no password prompts for 30 minutes.\n"
OUTCOME_KEYS = {
    "outcome",
    "session_id",
    "ticket_id",
    "external_note_id",
    "posted_at",
    "verified_status_id",
    "verified_status_name",
    "status_skipped_reason",
    "note_already_posted",
    "accepted_flags",
    "message",
    "time_entry_id",
    "time_entry_hours",
    "time_skipped_reason",
    "follow_up_text",  # issue 16: what a retry's edited text adds to the note on the ticket
    "follow_up_note_id",
    "ticket_text_differs",
}


@pytest.fixture
def ids(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Demo data whose 'demo-cw' connection points at the running emulator (ticket #48213, In Progress)."""
    write_config(connection_toml(cw.site_url))
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    return seed_demo()


@pytest.fixture
def note_file(tmp_path: Path) -> Path:
    path = tmp_path / "note.md"
    path.write_text(NOTE, encoding="utf-8")
    return path


def ticket_status(cw: ConnectWiseEmulator, ticket: int = TICKET) -> int:
    with cw.state.lock:
        return cw.state.tickets[ticket].status_id


def nothing_sent(cw: ConnectWiseEmulator, ids: dict[str, str]) -> None:
    assert cw.notes_on(TICKET) == [] and ticket_status(cw) == 2
    assert js("sessions", "show", ids["outlook"])["status"] == "active"


# ---- confirmation --------------------------------------------------------------------------------------------


def test_post_refuses_without_yes_when_stdin_is_not_a_tty(cw, ids, note_file: Path) -> None:
    result = proc("post", ids["outlook"], "--kind", "resolve", "--file", str(note_file))
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr == "flowpilot: refusing to post without --yes: stdin is not a terminal, so nobody can confirm\n"
    )
    piped = proc("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--json", input=NOTE)
    assert piped.returncode == 2 and "--yes" in piped.stderr
    nothing_sent(cw, ids)
    assert cw.api_calls("POST") == []


def _post_on_a_pty(args: list[str], answer: str) -> tuple[int, str]:
    """Run `flowpilot post` with a real terminal as stdin, type `answer`, return (exit code, stderr)."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "flowpilot_tui", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        os.write(master, answer.encode() + b"\n")  # buffered by the terminal until the prompt reads it
        out, err = child.communicate(timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    return child.returncode, err + out


def test_post_on_a_terminal_says_what_will_happen_and_no_sends_nothing(cw, ids, note_file: Path) -> None:
    code, text = _post_on_a_pty(["post", ids["outlook"], "--kind", "resolve", "--file", str(note_file)], "n")
    assert code == 2, text
    assert f"Post a customer-visible Resolution note to ConnectWise ticket #{TICKET} (connection demo-cw)" in text
    assert "then set status Completed (17) and verify it by re-reading the ticket" in text  # as the TUI modal says
    assert "Post it? [y/N]" in text and "cancelled; nothing was posted" in text
    nothing_sent(cw, ids)


def test_post_on_a_terminal_yes_posts_and_verifies(cw, ids, note_file: Path) -> None:
    code, text = _post_on_a_pty(["post", ids["outlook"], "--kind", "resolve", "--file", str(note_file)], "y")
    assert code == 0, text
    [note] = cw.notes_on(TICKET)
    assert f"#{note.id} posted to ticket #{TICKET}" in text and "status verified: Completed" in text
    assert ticket_status(cw) == 17


def test_post_on_a_terminal_checks_role_and_state_before_asking(
    cw,
    ids,
    note_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, text = _post_on_a_pty(["post", ids["printer"], "--kind", "resolve", "--file", str(note_file)], "y")
    assert code == 4 and "Post it?" not in text and "already resolved" in text
    monkeypatch.setenv("FLOWPILOT_USER", "demo.viewer")
    code, text = _post_on_a_pty(["post", ids["outlook"], "--kind", "resolve", "--file", str(note_file)], "y")
    assert code == 7 and "Post it?" not in text
    nothing_sent(cw, ids)


# ---- success -------------------------------------------------------------------------------------------------


def test_post_yes_json_resolves_verifies_and_a_second_post_conflicts(cw, ids) -> None:
    doc = js("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE)
    assert set(doc) == OUTCOME_KEYS
    [note] = cw.notes_on(TICKET)
    assert doc["outcome"] == "resolved" and doc["ticket_id"] == TICKET and doc["session_id"] == ids["outlook"]
    assert doc["external_note_id"] == str(note.id) and doc["note_already_posted"] is False
    assert (doc["verified_status_id"], doc["verified_status_name"]) == (17, "Completed")
    assert "Recreated the Outlook profile" in note.text and note.flags.get("resolutionFlag") is True
    assert ticket_status(cw) == 17
    shown = js("sessions", "show", ids["outlook"])
    assert shown["status"] == "resolved" and shown["resolution_note_markdown"].strip() == NOTE.strip()
    again = failed(4, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE)
    assert "already resolved" in again.stderr and len(cw.notes_on(TICKET)) == 1


def test_linking_a_ticket_that_does_not_exist_is_refused_at_link_time(cw, ids) -> None:
    before = {s["id"] for s in js("sessions", "list")["items"]}
    missing = failed(
        3, "sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "999999"
    )
    assert "Ticket #999999 does not exist in demo-cw" in missing.stderr
    assert {s["id"] for s in js("sessions", "list")["items"]} == before  # nothing created
    linked = js("sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "48214")
    assert linked["ticket_id"] == 48214


def test_post_escalate_text_output_and_internal_note(cw, ids, note_file: Path) -> None:
    sid = js("sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "48214")["id"]
    out = ok("post", sid, "--kind", "escalate", "--file", str(note_file), "--yes").stdout
    [note] = cw.notes_on(48214)
    assert out == f"Internal escalation note #{note.id} posted to ticket #48214; status verified: Escalated to L2\n"
    assert note.flags.get("internalAnalysisFlag") is True and note.flags.get("resolutionFlag") is False
    assert ticket_status(cw, 48214) == 12 and js("sessions", "show", sid)["status"] == "escalated"


def test_post_without_a_ticket_completes_locally(cw, ids, note_file: Path) -> None:
    doc = js("post", ids["vpn"], "--kind", "escalate", "--file", str(note_file), "--yes")
    assert doc["outcome"] == "escalated_local" and doc["ticket_id"] is None and doc["external_note_id"] is None
    assert cw.api_calls("POST") == [] and js("sessions", "show", ids["vpn"])["status"] == "escalated"


# ---- failures ------------------------------------------------------------------------------------------------


def test_status_not_verified_exits_6_with_the_note_id_and_a_retry_does_not_repost(cw, ids) -> None:
    cw.faults.silent_status_ignore = True
    result = failed(6, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--json", input=NOTE)
    [note] = cw.notes_on(TICKET)
    err = json.loads(result.stdout)["error"]
    assert err["exit_code"] == 6 and err["type"] == "StatusVerificationError"
    assert err["external_note_id"] == str(note.id) and err["ticket_id"] == TICKET and err["status_verified"] is False
    assert f"note #{note.id} is posted" in result.stderr
    assert js("sessions", "show", ids["outlook"])["status"] == "active" and ticket_status(cw) == 2
    cw.faults.silent_status_ignore = False
    retry = js("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE)
    assert retry["note_already_posted"] is True and retry["external_note_id"] == str(note.id)
    assert len(cw.notes_on(TICKET)) == 1 and ticket_status(cw) == 17


def test_refused_status_change_exits_5_and_still_names_the_posted_note(cw, ids) -> None:
    cw.faults.forbid_status_change = True
    result = failed(5, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--json", input=NOTE)
    [note] = cw.notes_on(TICKET)
    err = json.loads(result.stdout)["error"]
    assert err["exit_code"] == 5 and err["external_note_id"] == str(note.id) and err["status_verified"] is False


def test_bad_credentials_exit_5_before_anything_is_posted(cw, ids, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    result = failed(5, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--json", input=NOTE)
    err = json.loads(result.stdout)["error"]
    assert err["exit_code"] == 5 and "external_note_id" not in err and err.get("status_code") == 401
    assert "not-the-key" not in result.stdout + result.stderr
    nothing_sent(cw, ids)


def test_viewer_cannot_post_and_other_accounts_session_is_not_found(cw, ids) -> None:
    denied = failed(
        7, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE, user="demo.viewer"
    )
    assert "viewer" in denied.stderr
    ok("init", "--account", "Other MSP", user="mallory")
    failed(3, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE, user="mallory")
    nothing_sent(cw, ids)
    assert cw.api_calls("POST") == []


def test_bad_input_exits_2_and_sends_nothing(cw, ids, tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    assert "empty" in failed(2, "post", ids["outlook"], "--kind", "resolve", "--file", str(empty), "--yes").stderr
    assert (
        cli("post", ids["outlook"], "--kind", "resolve", "--file", str(tmp_path / "missing.md"), "--yes").exit_code == 2
    )
    assert cli("post", ids["outlook"], "--kind", "close", "--file", "-", "--yes", input=NOTE).exit_code == 2
    binary = tmp_path / "note.bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "not UTF-8" in failed(2, "post", ids["outlook"], "--kind", "resolve", "--file", str(binary), "--yes").stderr
    leaky = NOTE + "\nTemporary password: Winter2026!Reset\n"
    refused = failed(2, "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=leaky)
    assert "--allow-secrets" in refused.stderr and "Winter2026" not in refused.stderr
    nothing_sent(cw, ids)
    # A session without a ticket stores the resolution note locally: the same gate applies (issue 11).
    local = failed(2, "post", ids["vpn"], "--kind", "resolve", "--file", "-", "--yes", input=leaky)
    assert "--allow-secrets" in local.stderr and "Winter2026" not in local.stderr
    doc = js("post", ids["vpn"], "--kind", "resolve", "--file", "-", "--yes", "--allow-secrets", input=leaky)
    assert doc["outcome"] == "resolved_local"


def test_json_refusal_without_yes_prints_the_error_document(cw: ConnectWiseEmulator, ids, note_file: Path) -> None:
    """The README promises one JSON document on stdout for every failing `--json` command, this one too."""
    result = proc("post", ids["outlook"], "--kind", "resolve", "--file", str(note_file), "--json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["error"]["exit_code"] == 2 and "--yes" in doc["error"]["message"]
    assert doc["error"]["type"] == "ConfirmationRequired"
    assert result.stderr.startswith("flowpilot: refusing to post without --yes")
    nothing_sent(cw, ids)


def test_a_draft_edited_in_the_tui_is_not_silently_ignored(cw: ConnectWiseEmulator, ids, note_file: Path) -> None:
    """A saved TUI draft that differs from --file refuses (exit 2, nothing sent) until --use-draft or --ignore-draft."""
    import asyncio

    from flowpilot_tui.config import load_settings
    from flowpilot_tui.services.container import open_services

    edited = "## Resolution\n\nEdited in the TUI: rebuilt the Outlook profile and cleared cached credentials.\n"

    async def save_draft() -> None:
        services = await open_services(load_settings())
        try:
            detail = await services.sessions.get(ids["outlook"])
            await services.sessions.save_draft(ids["outlook"], "resolve", edited, detail.summary.state_version)
        finally:
            await services.close()

    asyncio.run(save_draft())
    refused = cli("post", ids["outlook"], "--kind", "resolve", "--file", str(note_file), "--yes", "--json")
    assert refused.exit_code == 2
    err = json.loads(refused.stdout)["error"]
    assert "--use-draft" in err["message"] and "--ignore-draft" in err["message"]
    nothing_sent(cw, ids)
    posted = js("post", ids["outlook"], "--kind", "resolve", "--use-draft", "--yes")
    assert posted["outcome"] == "resolved"
    assert any("Edited in the TUI" in str(note) for note in cw.notes_on(TICKET))  # the draft went out, not the file
