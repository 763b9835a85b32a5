"""Working from the ConnectWise queue end to end: `flowpilot tickets list/import/sync` against the emulator.

From an empty database (`flowpilot init`), with `member_identifier` set on the connection.
"""

from __future__ import annotations

import pytest
from cli_helpers import KEY_ENV, connection_toml, failed, js, ok, write_config

from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY, ConnectWiseEmulator


def configure(cw: ConnectWiseEmulator, member: str = "asmith", extra: str = "") -> None:
    write_config(connection_toml(cw.site_url) + f'member_identifier = "{member}"\n' + extra)


@pytest.fixture
def empty_db(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch) -> ConnectWiseEmulator:
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    configure(cw)
    ok("init", "--account", "Acme IT")
    with cw.state.lock:
        from flowpilot_tui.emulators.connectwise_state import seed_demo_notes

        seed_demo_notes(cw.state)
    return cw


def test_list_shows_my_open_tickets_newest_activity_first(empty_db: ConnectWiseEmulator) -> None:
    cw = empty_db
    with cw.state.lock:
        cw.state.tickets[48216].last_updated = cw.state.tickets[48213].last_updated.replace(year=2027)  # type: ignore[union-attr]
        cw.state.close_ticket_by_other(48213)
    doc = js("tickets", "list")
    ids = [t["id"] for t in doc["items"]]
    # owner asmith: 48216 (newest), 48217 (project board); resource on 48214; 48213 is closed; 48215 is jsmith's
    assert ids[0] == 48216 and set(ids) == {48214, 48216, 48217}
    first = doc["items"][0]
    assert first["company"] == "Contoso Ltd" and first["status"] == "In Progress" and first["priority"]
    assert doc["has_more"] is False and doc["connection_name"] == "demo-cw"
    text = ok("tickets", "list", "--board", "Service Desk").stdout
    assert "#48214" in text and "#48216" in text and "#48217" not in text and "Fabrikam" in text
    assert [t["id"] for t in js("tickets", "list", "--search", "#48214")["items"]] == [48214]
    assert [t["id"] for t in js("tickets", "list", "--search", "dns")["items"]] == [48214]
    assert js("tickets", "list", "--status", "Planning")["items"][0]["id"] == 48217


def test_unknown_or_missing_member_is_a_clear_config_error(empty_db: ConnectWiseEmulator) -> None:
    configure(empty_db, member="nobody")
    result = failed(2, "tickets", "list")
    assert "no member 'nobody'" in result.stderr and "member_identifier" in result.stderr
    write_config(connection_toml(empty_db.site_url))
    assert "member_identifier is not set" in failed(2, "tickets", "list").stderr


def test_import_builds_the_session_and_a_second_import_opens_it(empty_db: ConnectWiseEmulator) -> None:
    doc = js("tickets", "import", "48214")
    assert doc["created"] is True and doc["ticket_id"] == 48214 and doc["connection_name"] == "demo-cw"
    assert doc["title"] == "VPN connects but internal DNS names do not resolve" and doc["notes"] == 3
    show = js("sessions", "show", doc["id"])
    facts = {(f["kind"], f["text"]) for f in show["facts"]}
    assert all(f["source"] == "psa" for f in show["facts"])
    assert ("environment", "Company: Fabrikam Dental Group") in facts
    assert ("environment", "Contact: Priya Shah") in facts
    assert ("environment", "Site: Fabrikam Dental - Riverside") in facts
    assert ("environment", "Configuration: FAB-VPN-FW01 (Firewall)") in facts
    (symptom,) = [t for k, t in facts if k == "symptom"]
    assert symptom.startswith("Since this morning the VPN connects")
    assert show["message_count"] == 4  # the import header + three notes
    again = js("tickets", "import", "48214")
    assert again["created"] is False and again["id"] == doc["id"]
    assert len(js("sessions", "list")["items"]) == 1


def test_sync_pulls_only_new_notes_and_flags_a_ticket_closed_by_someone_else(empty_db: ConnectWiseEmulator) -> None:
    cw = empty_db
    sid = js("tickets", "import", "48214")["id"]
    assert js("tickets", "sync", sid)["new_notes"] == []
    with cw.state.lock:
        cw.state.add_ticket_note(48214, "Still broken after the reboot.", contact="Priya Shah")
        cw.state.add_ticket_note(
            48214, "Rolled back FW firmware? pending CAB", flag="internalAnalysisFlag", member="dbrown"
        )
    doc = js("tickets", "sync", sid)
    assert [(n["author"], n["visibility"]) for n in doc["new_notes"]] == [
        ("Priya Shah", "discussion"),
        ("Dana Brown", "internal"),
    ]
    assert doc["warning"] is None and doc["closed"] is False
    assert js("tickets", "sync", sid)["new_notes"] == []  # nothing twice
    assert js("sessions", "show", sid)["message_count"] == 6
    cw.close_ticket_by_other(48214)
    result = ok("tickets", "sync", sid)
    assert "closed in ConnectWise (status Closed)" in result.stderr


async def test_a_5000_ticket_queue_shows_its_first_page_and_search_without_fetching_everything(
    store, engineer, clock, cw, cw_provider
) -> None:  # type: ignore[no-untyped-def]
    from cw_fixtures import link_connection

    from flowpilot_tui.config import ConnectWiseConnection
    from flowpilot_tui.services.tickets import TicketService

    with cw.state.lock:
        cw.state.seed_queue(5000, member="asmith")
    await link_connection(store, engineer)
    conn = ConnectWiseConnection(
        site=cw.site_url, company_id="x", public_key="x", private_key_env="X", client_id="x", member_identifier="asmith"
    )
    svc = TicketService(store, engineer, lambda name: cw_provider, {"demo-cw": conn}, clock)
    before = cw.request_count(contains="/apis/3.0/")
    _, page = await svc.list_tickets(page_size=25)
    assert len(page.items) == 25 and page.has_more and page.items[0].id == 105000  # newest activity first
    first_page = cw.request_count(contains="/apis/3.0/") - before
    _, found = await svc.list_tickets(search="#102468")
    assert [t.id for t in found.items] == [102468]
    _, text = await svc.list_tickets(search="(103000)")
    assert [t.id for t in text.items] == [103000]
    total = cw.request_count(contains="/apis/3.0/") - before
    assert (first_page, total) == (1, 3)  # one list request each: no count, no full fetch
    assert cw.rows_served("/service/tickets") == 25 + 1 + 1
    print(
        f"\n5,000-ticket queue: first page {first_page} request, page + 2 searches {total} requests, "
        f"{cw.rows_served('/service/tickets')} rows served"
    )
