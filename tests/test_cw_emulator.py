"""The loopback ConnectWise emulator behaves like the reference says a ConnectWise instance does, knobs included."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from flowpilot_tui.emulators.connectwise import DEMO_CLIENT_ID, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, ConnectWiseEmulator
from flowpilot_tui.emulators.connectwise_faults import WorkflowOverride

AUTH = "Basic " + base64.b64encode(f"flowpilot-demo+{DEMO_PUBLIC_KEY}:{DEMO_PRIVATE_KEY}".encode()).decode()
RESOLUTION = {"text": "Re-created the Outlook profile.", "resolutionFlag": True}


def api(cw: ConnectWiseEmulator, **headers: str) -> httpx.Client:
    base = {"Authorization": AUTH, "clientId": DEMO_CLIENT_ID}
    base.update(headers)
    return httpx.Client(base_url=cw.base_url, headers={k: v for k, v in base.items() if v})


def status_of(client: httpx.Client, ticket_id: int) -> tuple[int, bool]:
    data = client.get(f"service/tickets/{ticket_id}").json()
    return data["status"]["id"], data["closedFlag"]


def test_companyinfo_gives_the_codebase_and_null_for_unknown_companies(cw) -> None:
    with httpx.Client(base_url=cw.site_url) as client:
        info = client.get("/login/companyinfo/flowpilot-demo").json()
        assert info["Codebase"] == "v4_6_release/" and info["CompanyID"] == "flowpilot-demo" and info["IsCloud"] is True
        unknown = client.get("/login/companyinfo/nobody")
        assert unknown.status_code == 200 and unknown.json() is None
    assert cw.base_url == f"{cw.site_url}/v4_6_release/apis/3.0/"


def test_auth_and_client_id_are_checked(cw) -> None:
    with api(cw, Authorization="") as client:
        r = client.get("service/tickets/48213")
        assert r.status_code == 401 and r.json()["code"] == "Unauthorized"
    wrong = "Basic " + base64.b64encode(b"flowpilot-demo+fpDemoPublic01:guess").decode()
    with api(cw, Authorization=wrong) as client:
        assert client.get("service/tickets/48213").status_code == 401
    with api(cw, clientId="") as client:
        assert client.get("service/tickets/48213").status_code == 401
        cw.faults.require_client_id = False
        assert client.get("service/tickets/48213").status_code == 200


def test_ticket_read_honours_fields_and_404s_for_missing(cw) -> None:
    with api(cw) as client:
        slim = client.get("service/tickets/48213", params={"fields": "id,status/name,closedFlag"}).json()
        assert slim == {"id": 48213, "status": {"name": "In Progress"}, "closedFlag": False}
        full = client.get("service/tickets/48213").json()
        assert full["board"]["name"] == "Service Desk" and full["company"]["name"] == "Contoso Ltd"
        missing = client.get("service/tickets/99999")
        assert missing.status_code == 404 and missing.json() == {
            "code": "NotFound",
            "message": "Ticket Id 99999 not found",
        }


def test_note_without_a_visibility_flag_is_rejected_with_invalid_object(cw) -> None:
    with api(cw) as client:
        r = client.post("service/tickets/48213/notes", json={"text": "hello", "detailDescriptionFlag": False})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidObject" and body["message"] == "serviceNote object is invalid"
    assert body["errors"][0]["message"] == "Please choose where to display the notes in order to save this record."
    assert cw.notes_on(48213) == []


def test_notes_post_list_order_page_and_count(cw) -> None:
    with api(cw) as client:
        ids = [
            client.post("service/tickets/48213/notes", json={**RESOLUTION, "text": f"note {i}"}).json()["id"]
            for i in range(3)
        ]
        newest = client.get("service/tickets/48213/notes", params={"orderBy": "id desc", "pageSize": 2})
        assert [n["id"] for n in newest.json()] == [ids[2], ids[1]]
        assert 'rel="next"' in newest.headers["Link"]
        second = client.get(
            "service/tickets/48213/notes", params={"orderBy": "id desc", "pageSize": 2, "page": 2}
        ).json()
        assert [n["id"] for n in second] == [ids[0]]
        assert client.get("service/tickets/48213/notes/count").json() == {"count": 3}
        internal = client.post(
            "service/tickets/48213/notes",
            json={"text": "internal", "internalAnalysisFlag": True, "processNotifications": False},
        ).json()
        assert internal["internalAnalysisFlag"] is True and internal["resolutionFlag"] is False
        assert internal["processNotifications"] is False
        only_internal = client.get(
            "service/tickets/48213/notes", params={"conditions": "internalAnalysisFlag=true"}
        ).json()
        assert [n["id"] for n in only_internal] == [internal["id"]]
    assert [n.id for n in cw.notes_on(48214)] == []


def test_malformed_conditions_and_page_size_clamp(cw) -> None:
    with api(cw) as client:
        bad = client.get("service/tickets", params={"conditions": "id=abc"})
        assert bad.status_code == 400 and bad.json()["message"].startswith("Expected a boolean value, not a numeric.")
        assert len(client.get("service/tickets", params={"pageSize": 5000}).json()) == 5
        board1 = client.get("service/tickets", params={"conditions": "board/id=1 and status/id!=1"}).json()
        assert {t["id"] for t in board1} == {48213, 48215, 48216}


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "status", "value": {"id": 17}},
        {"op": "replace", "path": "status/id", "value": 17},
        {"op": "replace", "path": "/status/id", "value": "17"},
    ],
)
def test_the_three_status_patch_forms_close_the_ticket(cw, clock, op) -> None:
    before = cw.state.tickets[48213].last_updated
    with api(cw) as client:
        r = client.patch("service/tickets/48213", json=[op])
        assert r.status_code == 200 and r.json()["status"]["name"] == "Completed"
        assert status_of(client, 48213) == (17, True)
    ticket = cw.state.tickets[48213]
    assert ticket.closed_by == "flowpilot.api" and ticket.closed_date is not None and ticket.last_updated > before


def test_patch_rejects_unknown_paths_and_non_arrays(cw) -> None:
    with api(cw) as client:
        r = client.patch("service/tickets/48213", json=[{"op": "replace", "path": "resolution", "value": "x"}])
        assert r.status_code == 400 and r.json()["message"] == "the path source is not valid"
        r = client.patch("service/tickets/48213", json={"status": {"id": 17}})
        assert r.status_code == 400 and r.json()["code"] == "InvalidObject"
        assert status_of(client, 48213) == (2, False)


def test_board_statuses_list_closed_and_inactive(cw) -> None:
    with api(cw) as client:
        statuses = client.get("service/boards/1/statuses").json()
    by_name = {s["name"]: s for s in statuses}
    assert by_name["Completed"]["closedStatus"] is True and by_name["Closed"]["closedStatus"] is True
    assert by_name["Scheduled (retired)"]["inactive"] is True
    assert by_name["Escalated to L2"]["id"] == 12 and by_name["Completed"]["id"] == 17
    assert {s["board"]["id"] for s in statuses} == {1}


def test_silent_status_ignore_claims_success_but_keeps_the_old_status(cw) -> None:
    cw.faults.silent_status_ignore = True
    with api(cw) as client:
        claimed = client.patch("service/tickets/48213", json=[{"op": "replace", "path": "status", "value": {"id": 17}}])
        assert claimed.status_code == 200 and claimed.json()["status"]["id"] == 17
        assert status_of(client, 48213) == (2, False)


def test_workflow_override_shows_after_the_configured_reads_and_time(cw, clock) -> None:
    cw.faults.workflow_override = WorkflowOverride(to_status_id=5, after_reads=1)
    with api(cw) as client:
        client.patch("service/tickets/48213", json=[{"op": "replace", "path": "status", "value": {"id": 17}}])
        assert status_of(client, 48213) == (17, True)  # first re-read still shows the change
        assert status_of(client, 48213) == (5, False)  # then the workflow rule wins
        cw.faults.workflow_override = WorkflowOverride(to_status_id=1, after_seconds=60)
        client.patch("service/tickets/48214", json=[{"op": "replace", "path": "status", "value": {"id": 2}}])
        assert status_of(client, 48214)[0] == 2
        clock.now += timedelta(minutes=2)
        assert status_of(client, 48214)[0] == 1


def test_status_from_another_board_is_refused_unless_the_knob_allows_it(cw) -> None:
    with api(cw) as client:
        refused = client.patch("service/tickets/48213", json=[{"op": "replace", "path": "status", "value": {"id": 31}}])
        assert refused.status_code == 400
        cw.faults.foreign_status_accept = True
        accepted = client.patch(
            "service/tickets/48213", json=[{"op": "replace", "path": "status", "value": {"id": 31}}]
        )
        assert accepted.status_code == 200 and status_of(client, 48213) == (31, True)


def test_status_rule_knobs(cw) -> None:
    patch = [{"op": "replace", "path": "status", "value": {"id": 18}}]
    with api(cw) as client:
        cw.faults.revalidation_fail = True
        r = client.patch("service/tickets/48213", json=patch)
        assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["contact", "site"]
        cw.faults.revalidation_fail = False
        cw.faults.intermediate_status_required = True
        r = client.patch("service/tickets/48213", json=patch)
        assert r.status_code == 400 and "Completed first" in r.json()["errors"][0]["message"]
        cw.faults.intermediate_status_required = False
        cw.faults.forbid_status_change = True
        assert client.patch("service/tickets/48213", json=patch).status_code == 403
        cw.faults.forbid_status_change = False
        cw.faults.inactive_status_reject = True
        inactive = [{"op": "replace", "path": "status", "value": {"id": 19}}]
        assert client.patch("service/tickets/48213", json=inactive).status_code == 400
        assert status_of(client, 48213) == (2, False)


def test_rate_limit_every_nth_request_with_retry_after(cw) -> None:
    cw.faults.rate_limit_every = 3
    cw.faults.retry_after = "4"
    with api(cw) as client:
        codes = [client.get("service/tickets/48213") for _ in range(6)]
    assert [r.status_code for r in codes] == [200, 200, 429, 200, 200, 429]
    assert codes[2].headers["Retry-After"] == "4" and codes[2].json()["code"] == "TooManyRequests"


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_timeout_after_store_keeps_the_note(cw, mode) -> None:
    cw.faults.server_timeout_after_store = mode
    with api(cw) as client:
        if mode == "500":
            r = client.post("service/tickets/48213/notes", json=RESOLUTION)
            assert r.status_code == 500 and "timeout" in r.json()["message"]
        else:
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("service/tickets/48213/notes", json=RESOLUTION)
    assert [n.text for n in cw.notes_on(48213)] == [RESOLUTION["text"]]


def test_codebase_moved_404s_the_old_path_until_rediscovered(cw) -> None:
    old = cw.base_url
    cw.faults.codebase_moved = "v2025_2/"
    with httpx.Client(headers={"Authorization": AUTH, "clientId": DEMO_CLIENT_ID}) as client:
        assert client.get(old + "service/tickets/48213").status_code == 404
        info = client.get(f"{cw.site_url}/login/companyinfo/flowpilot-demo").json()
        assert info["Codebase"] == "v2025_2/"
        assert client.get(f"{cw.site_url}/v2025_2/apis/3.0/service/tickets/48213").status_code == 200


def test_crlf_notes_server_errors_and_all_notes_knobs(cw) -> None:
    cw.faults.crlf_notes = True
    with api(cw) as client:
        client.post("service/tickets/48213/notes", json={**RESOLUTION, "text": "line one\nline two"})
        assert client.get("service/tickets/48213/notes").json()[0]["text"] == "line one  \r\nline two  "
        assert client.get("service/tickets/48213/allNotes").json()[0]["noteType"] == "TicketNote"
        cw.faults.allnotes_missing = True
        assert client.get("service/tickets/48213/allNotes").status_code == 404
        cw.faults.server_error_next = 1
        cw.faults.server_error_methods = frozenset({"POST"})
        assert client.get("service/tickets/48213").status_code == 200  # only POSTs fail
        r = client.post("service/tickets/48213/notes", json=RESOLUTION)
        assert r.status_code == 500 and r.json()["code"] == "ConnectWiseApi"
        assert client.post("service/tickets/48213/notes", json=RESOLUTION).status_code == 201
    assert len(cw.notes_on(48213)) == 2  # the 500 happened before storing


def test_request_log_records_method_path_query_headers_and_body(cw) -> None:
    with api(cw) as client:
        client.post("service/tickets/48213/notes", params={"x": "1"}, json=RESOLUTION)
    (entry,) = cw.api_calls("POST")
    assert entry.api_path == "/service/tickets/48213/notes" and entry.query == {"x": "1"}
    assert entry.json == RESOLUTION and entry.headers["clientid"] == DEMO_CLIENT_ID


def test_documented_command_starts_a_usable_demo_instance() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowpilot_tui.emulators.connectwise", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        site = first.split(" on ", 1)[1].split()[0]
        assert site.startswith("http://127.0.0.1:")
        rest = [proc.stdout.readline() for _ in range(12)]  # type: ignore[union-attr]
        assert any("private_key_env" in line for line in rest)
        assert any(DEMO_PRIVATE_KEY in line for line in rest)  # the developer needs the demo key
        info = httpx.get(f"{site}/login/companyinfo/flowpilot-demo").json()
        auth = {"Authorization": AUTH, "clientId": DEMO_CLIENT_ID}
        ticket = httpx.get(f"{site}/{info['Codebase']}apis/3.0/service/tickets/48213", headers=auth).json()
        assert ticket["summary"].startswith("Outlook keeps prompting")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ctrl_c_stops_the_emulator_cleanly_through_dev_py() -> None:
    """`python3 dev.py app emulator connectwise`, then Ctrl+C (SIGINT to the whole foreground group, as a terminal
    sends it): exit 0, a 'stopped' line, no traceback from the emulator or from the dev.py wrapper."""
    import os
    import signal
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    wrapper = (
        "import sys; sys.path.insert(0, sys.argv[1]); import dev; "
        "sys.exit(dev.run_child([sys.executable, '-m', 'flowpilot_tui', 'emulator', 'connectwise', '--port', '0', "
        "'--quiet']))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # wait for the ready line (state, not time)
            seen.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(seen) + rest
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    assert "ConnectWise emulator stopped." in out
