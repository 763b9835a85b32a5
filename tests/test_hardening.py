"""Issue 16: hostile PSA text, broken databases and crashed posts end in a clear message and the right state.

Byte-level checks of stdout/stderr (no terminal escape from outside reaches the terminal), database-open failures
as one line with exit 2, the smaller CLI/config items, migrations from two processes at once, and kill -9 at two
points of a real `flowpilot post` process followed by an immediate retry.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_helpers import KEY_ENV, cli, connection_toml, failed, js, ok, proc, seed_demo, write_config

from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY, ConnectWiseEmulator

TICKET = 48213
NOTE = "## Resolution\n\nRecreated the Outlook profile; no password prompts for 30 minutes.\n"
HOSTILE = "\x1b]52;c;cHduZWQ=\x07\x1b]0;owned\x07\x9b31m\x1b[2J"


def no_escape(*outputs: str | bytes) -> None:
    for out in outputs:
        raw = out.encode("utf-8") if isinstance(out, str) else out
        assert b"\x1b" not in raw and b"\x07" not in raw and "\x9b".encode() not in raw, raw


@pytest.fixture
def ids(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    write_config(connection_toml(cw.site_url))
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    return seed_demo()


def db_path() -> Path:
    url = js("config", "check")["db_url"]
    return Path(url.split(":///", 1)[1])


# ---- terminal escapes from outside ---------------------------------------------------------------------------


def test_session_id_argument_with_escapes_is_not_echoed_raw(ids) -> None:
    result = proc("sessions", "show", f"nope{HOSTILE}")
    assert result.returncode == 3
    no_escape(result.stdout, result.stderr)
    assert result.stderr == "flowpilot: Session nope not found\n"  # the whole sequences are dropped, not just ESC


def test_hostile_status_names_never_reach_the_terminal_from_post(cw, ids) -> None:
    with cw.state.lock:
        for sid in (2, 17):
            cw.state.statuses[sid].name += HOSTILE
    cw.faults.silent_status_ignore = True  # the error names the statuses: stderr
    bad = cli("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE)
    assert bad.exit_code == 6
    no_escape(bad.stdout_bytes, bad.stderr_bytes)
    cw.faults.silent_status_ignore = False
    good = cli("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE)
    assert good.exit_code == 0 and "status verified: Completed" in good.stdout
    no_escape(good.stdout_bytes, good.stderr_bytes)


def test_hostile_psa_version_and_error_in_config_check(cw, ids, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowpilot_tui.emulators import connectwise_routes

    monkeypatch.setattr(connectwise_routes, "VERSION", "2025.1" + HOSTILE)
    text = cli("config", "check", "--connections")
    assert text.exit_code == 0 and "OK, ConnectWise 2025.1" in text.stdout
    no_escape(text.stdout_bytes, text.stderr_bytes)
    doc = cli("config", "check", "--connections", "--json")
    no_escape(doc.stdout_bytes)
    assert json.loads(doc.stdout)["connections"][0]["version"] == "2025.1" + HOSTILE  # JSON keeps it, escaped


# ---- broken databases ----------------------------------------------------------------------------------------


def _db_fails(url: str, expect: str) -> None:
    r = proc("sessions", "list", env={"FLOWPILOT_DB_URL": url})
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("flowpilot: db_url: ") and len(r.stderr.splitlines()) == 1, r.stderr
    assert expect in r.stderr and "SELECT" not in r.stderr and "sqlite3." not in r.stderr, r.stderr
    c = proc("config", "check", "--json", env={"FLOWPILOT_DB_URL": url})
    assert c.returncode == 2 and json.loads(c.stdout).get("ok") is not True


def test_a_directory_as_database(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    _db_fails(f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}", "is a directory")


def test_a_url_without_a_path() -> None:
    _db_fails("sqlite+aiosqlite://", "names no database file")


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"PK\x03\x04 not sqlite" * 50)
    _db_fails(f"sqlite+aiosqlite:///{tmp_path / 'junk.db'}", "is not a FlowPilot database")


def test_a_newer_schema_is_refused_not_downgraded(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    _db_fails(f"sqlite+aiosqlite:///{path}", "written by a newer FlowPilot (schema 9999")


def test_a_locked_database_is_one_line_not_a_hang(ids, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowpilot_tui.services import store

    monkeypatch.setattr(store, "PROBE_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(db_path(), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = failed(2, "sessions", "list")
        assert "is locked by another program" in result.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ok("sessions", "list")


def test_config_check_resolves_the_user_before_it_says_ok(ids) -> None:
    assert js("config", "check")["account"].startswith("Demo MSP")
    text = failed(2, "config", "check", user="nobody-here")
    assert "not a member of any account" in text.stderr and "Config OK" not in text.stdout
    doc = cli("config", "check", "--json", user="nobody-here")
    assert doc.exit_code == 2 and "ok" not in json.loads(doc.stdout) and json.loads(doc.stdout)["error"]


def test_two_processes_upgrading_an_old_database_at_once_never_collide(tmp_path: Path) -> None:
    from flowpilot_tui.services.store import current_revision, head_revision, upgrade_schema

    for i in range(4):
        path = tmp_path / f"old{i}.db"
        upgrade_schema(f"sqlite+aiosqlite:///{path}", "0001")
        env = {**os.environ, "FLOWPILOT_DB_URL": f"sqlite+aiosqlite:///{path}"}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "flowpilot_tui", "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
        assert all(code == 0 for code, _ in results), results
        assert current_revision(path) == head_revision()


# ---- smaller items -------------------------------------------------------------------------------------------


def test_env_var_errors_name_the_variable_that_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWPILOT_UI__HISTORY_WINDOW", "abc")
    result = failed(2, "sessions", "list")
    assert result.stderr.startswith("flowpilot: environment variable FLOWPILOT_UI__HISTORY_WINDOW: ui.history_window")
    monkeypatch.delenv("FLOWPILOT_UI__HISTORY_WINDOW")
    monkeypatch.setenv("FLOWPILOT_DB_URL", "mysql://x")
    result = failed(2, "sessions", "list")
    assert result.stderr.startswith("flowpilot: environment variable FLOWPILOT_DB_URL: db_url")


def test_debug_does_not_change_exit_codes(ids, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {KEY_ENV: "not-the-key"}
    plain = proc("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE, env=env)
    debug = proc("--debug", "post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=NOTE, env=env)
    assert plain.returncode == debug.returncode == 5
    assert "Traceback" in debug.stderr and debug.stderr.endswith(plain.stderr)
    missing = proc("--debug", "sessions", "show", "no-such-session")
    assert missing.returncode == 3


@pytest.mark.parametrize("value", ["\u0661\u0667", "12345678901234567890123", "0", "\uff11\uff17", "1e3"])
def test_account_set_refuses_non_ascii_digits_and_absurd_ids(ids, value: str) -> None:
    result = failed(2, "account", "set", "cw_resolved_status_id", value, user="alice")
    assert "expected a status id" in result.stderr
    assert js("account", "show")["preferences"]["cw_resolved_status_id"] == 17


def test_post_file_strips_a_utf8_bom(cw, ids, tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + NOTE.encode())
    ok("post", ids["outlook"], "--kind", "resolve", "--file", str(path), "--yes")
    [note] = cw.notes_on(TICKET)
    assert note.text.startswith("## Resolution") and "\ufeff" not in note.text
    assert js("sessions", "show", ids["outlook"])["resolution_note_markdown"].startswith("## Resolution")


def test_add_user_does_not_reveal_a_login_of_another_account(ids) -> None:
    ok("init", "--account", "Other MSP", user="olga")
    elsewhere = failed(4, "account", "add-user", "alice", "--role", "engineer", user="olga")
    assert "belongs" not in elsewhere.stderr and "account" not in elsewhere.stderr.lower().replace("flowpilot:", "")
    assert "not available" in elsewhere.stderr
    ok("account", "add-user", "bob", "--role", "viewer", user="olga")
    mine = failed(4, "account", "add-user", "bob", "--role", "engineer", user="olga")
    assert "already a member of this account" in mine.stderr


# ---- kill -9 during a post, then an immediate retry ----------------------------------------------------------


def _start_post(sid: str, text: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowpilot_tui", "post", sid, "--kind", "resolve", "--file", "-", "--yes", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def _kill_when(p: subprocess.Popen[str], text: str, ready) -> None:  # type: ignore[no-untyped-def]
    assert p.stdin is not None
    p.stdin.write(text)
    p.stdin.close()
    deadline = time.monotonic() + 60  # a guard against a broken test, not a timing assertion
    while not ready():
        assert p.poll() is None and time.monotonic() < deadline, "the post ended before the kill point"
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)


FIGURES: list[tuple[str, float]] = []


def _retry(sid: str, text: str, point: str) -> dict:  # type: ignore[type-arg]
    start, cpu = time.monotonic(), os.times()
    result = proc("post", sid, "--kind", "resolve", "--file", "-", "--yes", "--json", input=text)
    FIGURES.append((point, time.monotonic() - start))
    used = sum(os.times()[2:4]) - sum(cpu[2:4])  # the retry process's CPU (figure only; load makes wall time vary)
    print(f"kill -9 {point}: retry ended in {FIGURES[-1][1]:.2f} s (CPU {used:.2f} s)", file=sys.stderr)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_kill_9_while_the_note_upload_is_in_flight_then_retry_with_edited_text(cw, ids) -> None:
    cw.faults.server_timeout_after_store = "hang"
    cw.faults.hang_s = 30
    p = _start_post(ids["outlook"], NOTE)
    _kill_when(p, NOTE, lambda: bool(cw.notes_on(TICKET)))
    cw.faults.server_timeout_after_store = None
    edited = NOTE + "\nAlso cleared the cached credentials.\n"
    doc = _retry(ids["outlook"], edited, "during the note upload")
    [note] = cw.notes_on(TICKET)  # exactly one note
    assert doc["note_already_posted"] is True and doc["external_note_id"] == str(note.id)
    assert "differs from the note on the ticket" in doc["message"] and "follow-up note" in doc["message"]
    assert doc["verified_status_id"] == 17 and cw.state.tickets[TICKET].status_id == 17
    shown = js("sessions", "show", ids["outlook"])
    assert shown["status"] == "resolved"
    assert shown["resolution_note_markdown"].strip() == note.text.strip() == NOTE.strip()  # what is on the ticket


def test_kill_9_during_the_status_change_then_retry(cw, ids) -> None:
    cw.faults.latency_ms = 400
    p = _start_post(ids["outlook"], NOTE)
    _kill_when(p, NOTE, lambda: bool(cw.notes_on(TICKET)))
    cw.faults.latency_ms = 0
    doc = _retry(ids["outlook"], NOTE, "after the note, before the status")
    [note] = cw.notes_on(TICKET)
    assert doc["external_note_id"] == str(note.id) and doc["verified_status_id"] == 17
    assert "differs" not in doc["message"]
    assert js("sessions", "show", ids["outlook"])["status"] == "resolved"


def test_kill_9_before_anything_was_sent_then_retry(cw, ids) -> None:
    cw.faults.hold = held = threading.Event()  # the first request waits at the emulator: nothing sent can complete
    p = _start_post(ids["outlook"], NOTE)
    _kill_when(p, NOTE, lambda: bool(cw.api_calls()))  # the first API request is held before it is handled
    cw.faults.hold = None
    held.set()
    doc = _retry(ids["outlook"], NOTE, "before the note was sent")
    [note] = cw.notes_on(TICKET)
    assert doc["note_already_posted"] is False and doc["external_note_id"] == str(note.id)
    assert js("sessions", "show", ids["outlook"])["status"] == "resolved" and cw.state.tickets[TICKET].status_id == 17


# ---- kill -9 at each step of a post (emulator hold knobs), then an immediate in-process retry ------------------


def _ticket_path(path: str) -> bool:
    return path.endswith(f"/service/tickets/{TICKET}")


def _patched(cw: ConnectWiseEmulator) -> bool:
    return cw.state.tickets[TICKET].status_id == 17


def _verify_read_arrived(cw: ConnectWiseEmulator) -> bool:
    methods = [(r.method, _ticket_path(r.path)) for r in cw.api_calls()]
    return ("PATCH", True) in methods and ("GET", True) in methods[methods.index(("PATCH", True)) :]


KILL_POINTS = {
    # the note is stored but its answer never reaches the poster
    "after-note-post": dict(
        reply=lambda cw: lambda m, p: m == "POST" and p.endswith("/notes"), ready=lambda cw: bool(cw.notes_on(TICKET))
    ),
    # the note is recorded as posted; the status PATCH is on its way
    "before-patch": dict(only=lambda cw: lambda m, p: m == "PATCH", ready=lambda cw: bool(cw.api_calls("PATCH"))),
    # the PATCH took effect; its answer never arrives
    "after-patch": dict(reply=lambda cw: lambda m, p: m == "PATCH", ready=_patched),
    # the PATCH answered; the verify read is on its way
    "before-verify": dict(
        only=lambda cw: lambda m, p: m == "GET" and _ticket_path(p) and _patched(cw), ready=_verify_read_arrived
    ),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_at_each_step_then_an_immediate_retry_ends_with_one_note_and_the_right_state(
    cw, ids, point: str
) -> None:
    write_config(connection_toml(cw.site_url) + "\n[writeback]\nrecheck_delay_s = 0\n")
    knob = KILL_POINTS[point]
    cw.faults.hold = held = threading.Event()
    if "only" in knob:
        cw.faults.hold_if = knob["only"](cw)
    else:
        cw.faults.hold_reply_if = knob["reply"](cw)
    p = _start_post(ids["outlook"], NOTE)
    _kill_when(p, NOTE, lambda: knob["ready"](cw))
    cw.faults.hold = cw.faults.hold_if = cw.faults.hold_reply_if = None
    held.set()
    since = len(cw.requests)
    result = cli("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--json", input=NOTE)
    assert result.exit_code == 0, result.stderr  # no "being posted by another FlowPilot": the holder is dead
    doc = json.loads(result.stdout)
    [note] = cw.notes_on(TICKET)  # exactly one note
    assert doc["external_note_id"] == str(note.id) and doc["note_already_posted"] is True
    assert doc["verified_status_id"] == 17 and cw.state.tickets[TICKET].status_id == 17
    assert "differs" not in doc["message"] and doc["follow_up_text"] is None
    shown = js("sessions", "show", ids["outlook"])
    assert shown["status"] == "resolved" and shown["resolution_note_markdown"].strip() == note.text.strip()
    retry = [r.method for r in cw.requests[since:] if "/login/" not in r.path]
    assert "POST" not in retry  # the retry never posts again
    if point == "before-patch":  # the setting is honoured: no delayed re-read
        assert retry == ["GET", "GET", "PATCH", "GET"]


def test_kill_9_during_the_upload_then_a_retry_with_edits_posts_them_as_a_follow_up_when_asked(cw, ids) -> None:
    write_config(connection_toml(cw.site_url) + "\n[writeback]\nrecheck_delay_s = 0\n")
    cw.faults.hold = held = threading.Event()
    cw.faults.hold_reply_if = lambda m, p: m == "POST" and p.endswith("/notes")
    p = _start_post(ids["outlook"], NOTE)
    _kill_when(p, NOTE, lambda: bool(cw.notes_on(TICKET)))
    cw.faults.hold = cw.faults.hold_reply_if = None
    held.set()
    edited = NOTE + "\nAlso cleared the cached credentials.\n"
    first = cli("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", input=edited)
    assert first.exit_code == 0 and "differs from the note on the ticket" in first.stdout
    assert "add --post-follow-up" in first.stderr and len(cw.notes_on(TICKET)) == 1  # offered, never silent
    doc = js("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--post-follow-up", input=edited)
    original, follow = cw.notes_on(TICKET)
    assert follow.text == "Follow-up:\n\nAlso cleared the cached credentials." and follow.flags == original.flags
    assert doc["follow_up_note_id"] == str(follow.id)
    shown = js("sessions", "show", ids["outlook"])
    assert shown["resolution_note_markdown"] == f"{original.text.strip()}\n\n{follow.text}"
    again = cli("post", ids["outlook"], "--kind", "resolve", "--file", "-", "--yes", "--post-follow-up", input=edited)
    assert again.exit_code != 0 and "Nothing to follow up" in again.stderr and len(cw.notes_on(TICKET)) == 2
