"""From an empty database: import a ticket, resolve it with note + time entry + verified status in one `post`,
against the ConnectWise emulator; every time-entry fault ends with a clear message and nothing duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import KEY_ENV, cli, connection_toml, js, ok, write_config

from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY, ConnectWiseEmulator

TICKET = 48214
NOTE = "## Resolution\n\nRolled back the firewall DNS proxy setting; names resolve over VPN again.\n"
TIME = '\ntime_work_type = "Remote Support"\ntime_billable = "Billable"\n'


def configure(cw: ConnectWiseEmulator, member: str = "asmith", time: bool = True) -> None:
    write_config(connection_toml(cw.site_url) + f'member_identifier = "{member}"' + (TIME if time else "\n"))


@pytest.fixture
def session(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    configure(cw)
    ok("init", "--account", "Acme IT")
    ok("account", "set", "cw_resolved_status_id", "17")
    (tmp_path / "note.md").write_text(NOTE, encoding="utf-8")
    return str(js("tickets", "import", str(TICKET))["id"])


def post(tmp_path: Path, sid: str, *extra: str):  # type: ignore[no-untyped-def]
    return cli("post", sid, "--kind", "resolve", "--file", str(tmp_path / "note.md"), "--yes", "--json", *extra)


def test_one_post_adds_the_time_entry_first_then_the_note_and_the_verified_status(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    import json

    result = post(tmp_path, session, "--time", "09:00-09:45")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (entry,) = cw.time_entries_on(TICKET)
    assert (doc["time_entry_id"], doc["time_entry_hours"]) == (entry.id, 0.75)
    assert doc["verified_status_name"] == "Completed" and doc["outcome"] == "resolved"
    assert f"time entry #{entry.id} (0.75 h) posted and verified" in doc["message"]
    assert entry.member.identifier == "asmith" and entry.work_type == "Remote Support" and entry.billable == "Billable"
    assert entry.notes.startswith("Rolled back the firewall DNS proxy")
    writes = [(r.method, r.api_path) for r in cw.requests if r.method in ("POST", "PATCH")]
    assert writes == [
        ("POST", "/time/entries"),
        ("POST", f"/service/tickets/{TICKET}/notes"),
        ("PATCH", f"/service/tickets/{TICKET}"),
    ]
    (time_post,) = cw.api_calls("POST", "/time/entries")
    assert time_post.json["chargeToType"] == "ServiceTicket" and time_post.json["addToResolutionFlag"] is False
    resolution = [n for n in cw.notes_on(TICKET) if n.flags["resolutionFlag"]]
    assert len(resolution) == 1  # the time entry did not copy the note


def test_no_time_and_unset_settings_skip_the_entry_with_a_reason(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    import json

    configure(cw, time=False)
    doc = json.loads(post(tmp_path, session).stdout)
    assert doc["time_entry_id"] is None and "time_work_type" in doc["time_skipped_reason"]
    assert cw.time_entries_on(TICKET) == [] and doc["outcome"] == "resolved"


def test_ticket_closed_by_someone_else_after_import_stops_before_anything_is_sent(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    cw.close_ticket_by_other(TICKET)
    notes_before = len(cw.notes_on(TICKET))
    result = post(tmp_path, session)
    assert (
        result.exit_code == 4 and "is closed in ConnectWise" in result.stderr and "Nothing was posted" in result.stderr
    )
    assert cw.time_entries_on(TICKET) == [] and len(cw.notes_on(TICKET)) == notes_before
    assert js("sessions", "show", session)["status"] == "active"
    again = post(tmp_path, session, "--no-time")  # the engineer chooses to add the note only
    assert again.exit_code == 0, again.output
    assert cw.time_entries_on(TICKET) == [] and "no time entry" in again.stdout


def test_time_refused_on_a_ticket_closed_meanwhile_sends_nothing_else(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    cw.faults.close_before_time_entry = True
    notes_before = len(cw.notes_on(TICKET))
    result = post(tmp_path, session)
    assert result.exit_code == 5, result.output
    assert "refused the time entry" in result.stderr and "closed ticket" in result.stderr
    assert cw.time_entries_on(TICKET) == [] and len(cw.notes_on(TICKET)) == notes_before and cw.api_calls("PATCH") == []
    assert js("sessions", "show", session)["status"] == "active"


def test_unknown_member_is_refused_with_a_clear_message(session: str, cw: ConnectWiseEmulator, tmp_path: Path) -> None:
    configure(cw, member="nobody")
    result = post(tmp_path, session)
    assert result.exit_code == 5 and "Member nobody not found" in result.stderr, result.output
    assert cw.time_entries_on(TICKET) == [] and cw.api_calls("POST", "/notes") == []


def test_lost_response_is_settled_by_reading_the_entries_back(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    import json

    cw.faults.time_entry_lost_response = "500"
    result = post(tmp_path, session, "--time", "09:00-09:30")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (entry,) = cw.time_entries_on(TICKET)
    assert doc["time_entry_id"] == entry.id and doc["time_entry_hours"] == 0.5
    assert len(cw.api_calls("POST", "/time/entries")) == 1 and cw.api_calls("GET", "/time/entries")


def test_a_retry_after_a_failed_status_never_posts_the_time_entry_or_note_twice(
    session: str, cw: ConnectWiseEmulator, tmp_path: Path
) -> None:
    import json

    cw.faults.forbid_status_change = True
    first = post(tmp_path, session, "--time", "09:00-10:00")
    assert first.exit_code == 5 and "Note #" in first.stderr, first.output
    cw.faults.forbid_status_change = False
    again = post(tmp_path, session, "--time", "09:00-10:00")
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert len(cw.time_entries_on(TICKET)) == 1 and len(cw.api_calls("POST", "/time/entries")) == 1
    assert len(cw.api_calls("POST", "/notes")) == 1 and doc["verified_status_name"] == "Completed"
    assert "was already on the ticket" in doc["message"]


async def test_the_modal_defaults_and_the_live_status_are_read_without_writing_anything(
    session: str, cw: ConnectWiseEmulator
) -> None:
    """What Confirm & post shows before the engineer confirms: the time entry defaults and the ticket's status."""
    from flowpilot_tui.cli.runtime import load_settings
    from flowpilot_tui.services.container import open_services

    services = await open_services(load_settings())
    try:
        plan = await services.writeback.time_plan(session, "resolve", NOTE)
        assert plan.skipped_reason is None and plan.settings is not None
        assert (plan.settings.work_type, plan.settings.billable) == ("Remote Support", "Billable")
        assert plan.notes == "Rolled back the firewall DNS proxy setting; names resolve over VPN again."
        assert plan.start < plan.end and plan.hours > 0
        live = await services.tickets.live_status(session)
        assert (live.closed, live.warning) == (False, None) and live.new_notes == ()
        cw.close_ticket_by_other(TICKET)
        live = await services.tickets.live_status(session)
        assert live.closed and live.warning is not None
        assert live.warning.startswith(f"Ticket #{TICKET} is closed in ConnectWise (status Closed)")
    finally:
        await services.close()
    assert [r for r in cw.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")] == []
    assert cw.time_entries_on(TICKET) == []
