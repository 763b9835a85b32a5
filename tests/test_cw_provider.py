"""The ConnectWise provider against the loopback emulator: real httpx, real HTTP, injected sleeper."""

from __future__ import annotations

import logging
import socket

import pytest
from cw_fixtures import PRIVATE_KEY, Sleeps, make_provider

from flowpilot_tui.config import ConnectWiseConnection
from flowpilot_tui.emulators.connectwise import DEMO_CLIENT_ID, DEMO_PUBLIC_KEY
from flowpilot_tui.services.errors import ConfigError, InvalidInput
from flowpilot_tui.services.psa import NoteVisibility, collect_calls
from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider, RetryPolicy, site_origin
from flowpilot_tui.services.psa.errors import (
    PsaAuthError,
    PsaNotFound,
    PsaPermissionError,
    PsaRateLimited,
    PsaServerError,
    PsaTransportError,
    PsaValidationError,
)
from flowpilot_tui.services.psa.factory import ProviderPool, build_provider

FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


async def test_discovers_the_codebase_and_sends_auth_client_id_and_version_pin(cw) -> None:
    provider = make_provider(cw)
    try:
        ticket = await provider.get_ticket(48213)
    finally:
        await provider.aclose()
    assert (ticket.id, ticket.status_id, ticket.status_name, ticket.board_id, ticket.closed) == (
        48213,
        2,
        "In Progress",
        1,
        False,
    )
    assert ticket.company_name == "Contoso Ltd"
    discovery, read = cw.requests
    assert discovery.path == "/login/companyinfo/flowpilot-demo" and "authorization" not in discovery.headers
    assert read.path == "/v4_6_release/apis/3.0/service/tickets/48213"
    assert read.headers["accept"] == "application/vnd.connectwise.com+json; version=2025.8"
    assert read.headers["clientid"] == DEMO_CLIENT_ID
    assert read.headers["authorization"].startswith("Basic ")


async def test_explicit_api_url_skips_discovery(cw) -> None:
    provider = make_provider(cw, api_url=cw.base_url)
    try:
        await provider.get_ticket(48214)
    finally:
        await provider.aclose()
    assert [r.api_path for r in cw.requests] == ["/service/tickets/48214"]


def test_cloud_sites_map_to_their_api_hosts() -> None:
    assert site_origin("na.myconnectwise.net") == "https://api-na.myconnectwise.net"
    assert site_origin("EU.myconnectwise.net/") == "https://api-eu.myconnectwise.net"
    assert site_origin("staging.connectwisedev.com") == "https://api-staging.connectwisedev.com"
    assert site_origin("cw.example-msp.com") == "https://cw.example-msp.com"
    assert site_origin("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"


async def test_resolution_note_is_customer_visible_resolution_only(cw) -> None:
    provider = make_provider(cw)
    try:
        note = await provider.post_note(
            48213, "Re-created the Outlook profile; user confirmed.", NoteVisibility.RESOLUTION
        )
    finally:
        await provider.aclose()
    (post,) = cw.api_calls("POST")
    assert {k: post.json[k] for k in FLAGS} == {
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": False,
        "resolutionFlag": True,
    }
    assert "processNotifications" not in post.json  # customer notifications keep the board's default
    assert note.visibility is NoteVisibility.RESOLUTION and note.id == str(cw.notes_on(48213)[0].id)


async def test_escalation_note_is_internal_only_with_notifications_off(cw) -> None:
    provider = make_provider(cw)
    try:
        note = await provider.post_note(48213, "Escalation package", NoteVisibility.INTERNAL)
    finally:
        await provider.aclose()
    (post,) = cw.api_calls("POST")
    assert {k: post.json[k] for k in FLAGS} == {
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": True,
        "resolutionFlag": False,
    }
    assert post.json["processNotifications"] is False
    stored = cw.notes_on(48213)[0]
    assert stored.flags == {"detailDescriptionFlag": False, "internalAnalysisFlag": True, "resolutionFlag": False}
    assert note.visibility is NoteVisibility.INTERNAL


async def test_empty_note_and_loose_visibility_send_nothing(cw) -> None:
    provider = make_provider(cw)
    try:
        with pytest.raises(InvalidInput, match="#48213 is empty"):
            await provider.post_note(48213, "  \n ", NoteVisibility.RESOLUTION)
        with pytest.raises(TypeError):
            await provider.post_note(48213, "text", "internal")  # type: ignore[arg-type]
    finally:
        await provider.aclose()
    assert cw.requests == []


async def test_huge_unicode_note_round_trips_exactly(cw) -> None:
    text = ("Schritt — ✓ réinstallé le profil Outlook; 日本語\n" * 250)[:10_000]
    provider = make_provider(cw)
    try:
        posted = await provider.post_note(48213, text, NoteVisibility.RESOLUTION)
        (recent,) = await provider.list_recent_notes(48213)
    finally:
        await provider.aclose()
    assert len(text) == 10_000 and posted.text == text and recent.text == text and recent.id == posted.id


async def test_recent_notes_newest_first_with_page_size(cw) -> None:
    provider = make_provider(cw)
    try:
        ids = [(await provider.post_note(48213, f"note {i}", NoteVisibility.RESOLUTION)).id for i in range(4)]
        recent = await provider.list_recent_notes(48213, limit=3)
    finally:
        await provider.aclose()
    assert [n.id for n in recent] == ids[::-1][:3]
    assert cw.api_calls("GET", "/notes")[-1].query == {"orderBy": "id desc", "pageSize": "3"}


async def test_set_status_sends_the_json_patch_and_reports_the_claim(cw) -> None:
    provider = make_provider(cw)
    try:
        claimed = await provider.set_status(48213, 17)
    finally:
        await provider.aclose()
    (patch,) = cw.api_calls("PATCH")
    assert patch.json == [{"op": "replace", "path": "status", "value": {"id": 17}}]
    assert (claimed.status_id, claimed.status_name, claimed.closed) == (17, "Completed", True)


async def test_board_statuses_are_cached_and_include_inactive_flags(cw) -> None:
    provider = make_provider(cw)
    try:
        first = await provider.list_board_statuses(1)
        again = await provider.list_board_statuses(1)
        await provider.list_board_statuses(1, refresh=True)
    finally:
        await provider.aclose()
    assert first == again
    assert {s.name for s in first if s.inactive} == {"Scheduled (retired)"}
    assert {s.id for s in first if s.closed} == {17, 18}
    assert len(cw.api_calls("GET", "/statuses")) == 2  # the second read came from the cache


async def test_429_waits_retry_after_then_succeeds(cw, sleeps) -> None:
    cw.faults.rate_limit_next = 2
    cw.faults.retry_after = "7"
    provider = make_provider(cw, sleeps)
    try:
        note = await provider.post_note(48213, "after the limit", NoteVisibility.RESOLUTION)
    finally:
        await provider.aclose()
    assert sleeps.waits == [7.0, 7.0]
    assert len(cw.api_calls("POST")) == 3 and [n.text for n in cw.notes_on(48213)] == ["after the limit"]
    assert note.text == "after the limit"


async def test_429_gives_up_when_retry_after_exceeds_the_budget_or_tries_run_out(cw, sleeps) -> None:
    cw.faults.rate_limit_next = 1
    cw.faults.retry_after = "120"
    provider = make_provider(cw, sleeps, retry=RetryPolicy(max_attempts=3, max_total_wait_s=20, max_retry_after_s=30))
    try:
        with pytest.raises(PsaRateLimited) as err:
            await provider.get_ticket(48213)
        assert err.value.retry_after == 120 and sleeps.waits == []
        cw.faults.rate_limit_next = 50
        cw.faults.retry_after = "4"
        with pytest.raises(PsaRateLimited, match="reading ticket #48213"):
            await provider.get_ticket(48213)
    finally:
        await provider.aclose()
    assert sleeps.waits == [4.0, 4.0]  # three tries, two waits
    assert sum(sleeps.waits) <= 20


async def test_server_errors_are_retried_for_reads_only(cw, sleeps) -> None:
    provider = make_provider(cw, sleeps)
    try:
        await provider.get_ticket(48213)  # discovery done
        cw.faults.server_error_next = 2
        ticket = await provider.get_ticket(48213)
        assert ticket.id == 48213 and sleeps.waits == [0.5, 1.0]
        cw.faults.server_error_next = 1
        with pytest.raises(PsaServerError) as err:
            await provider.post_note(48213, "once", NoteVisibility.RESOLUTION)
    finally:
        await provider.aclose()
    assert err.value.outcome_unknown and "posting the note to ticket #48213" in str(err.value)
    assert len(cw.api_calls("POST")) == 1 and cw.notes_on(48213) == []


@pytest.mark.parametrize(
    ("mode", "error"),
    [("500", PsaServerError), ("drop", PsaTransportError), ("hang", PsaTransportError)],
)
async def test_note_post_failing_after_store_is_reported_unknown_and_never_resent(cw, sleeps, mode, error) -> None:
    cw.faults.server_timeout_after_store = mode
    cw.faults.hang_s = 0.2
    provider = make_provider(cw, sleeps, timeout_s=0.05)
    try:
        with pytest.raises(error) as err:
            await provider.post_note(48213, "stored anyway", NoteVisibility.RESOLUTION)
    finally:
        await provider.aclose()
    assert err.value.outcome_unknown
    assert len(cw.api_calls("POST")) == 1 and len(cw.notes_on(48213)) == 1


async def test_connection_refused_is_retried_for_reads_and_marked_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there
    waits = Sleeps()
    provider = provider_on_closed_port(port, waits)
    try:
        with pytest.raises(PsaTransportError) as err:
            await provider.get_ticket(48213)
    finally:
        await provider.aclose()
    assert not err.value.body_sent and not err.value.outcome_unknown
    assert waits.waits == [0.5, 1.0, 2.0]


def provider_on_closed_port(port: int, waits: Sleeps) -> ConnectWiseProvider:
    return ConnectWiseProvider(
        company_id="flowpilot-demo",
        public_key=DEMO_PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        client_id=DEMO_CLIENT_ID,
        api_url=f"http://127.0.0.1:{port}/v4_6_release/apis/3.0/",
        sleep=waits,
        timeout_s=2,
    )


async def test_moved_codebase_is_rediscovered_once_and_the_request_retried(cw) -> None:
    provider = make_provider(cw)
    try:
        await provider.get_ticket(48213)
        cw.faults.codebase_moved = "v2025_2/"
        note = await provider.post_note(48213, "after the move", NoteVisibility.INTERNAL)
        assert note.text == "after the move"
        with pytest.raises(PsaNotFound, match="reading ticket #99999.*Ticket Id 99999 not found"):
            await provider.get_ticket(99999)
    finally:
        await provider.aclose()
    assert len(cw.api_calls("GET", "/login/companyinfo")) == 3  # first, after the move, after the real 404
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 2


async def test_wrong_credentials_and_missing_client_id_are_auth_errors_without_secrets(cw) -> None:
    provider = make_provider(cw, private_key="not-the-key-4242")
    try:
        with pytest.raises(PsaAuthError) as err:
            await provider.get_ticket(48213)
    finally:
        await provider.aclose()
    message = str(err.value)
    assert "reading ticket #48213" in message and "demo-cw" in message
    assert "not-the-key-4242" not in message and "Basic" not in message


async def test_validation_errors_show_every_field_and_name_the_ticket(cw) -> None:
    cw.faults.revalidation_fail = True
    provider = make_provider(cw)
    try:
        with pytest.raises(PsaValidationError) as err:
            await provider.set_status(48213, 17)
        cw.faults.revalidation_fail = False
        cw.faults.forbid_status_change = True
        with pytest.raises(PsaPermissionError, match="changing the status of ticket #48213"):
            await provider.set_status(48213, 17)
    finally:
        await provider.aclose()
    message = str(err.value)
    assert "changing the status of ticket #48213" in message
    assert "contact: Contact is inactive." in message and "site: Site must be selected." in message
    assert [e.field for e in err.value.errors] == ["contact", "site"]
    assert len(cw.api_calls("PATCH")) == 2  # a 400 is never retried


async def test_every_call_is_audited_without_secrets_and_logs_stay_clean(cw, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    audit: list = []
    provider = make_provider(cw, audit=audit)
    try:
        with collect_calls() as mine:
            await provider.get_ticket(48213)
            await provider.post_note(48213, "audited", NoteVisibility.RESOLUTION)
        await provider.list_recent_notes(48213)
        assert PRIVATE_KEY not in repr(provider)
    finally:
        await provider.aclose()
    assert [(c.method, c.path, c.status_code, c.outcome) for c in audit] == [
        ("GET", "/login/companyinfo/flowpilot-demo", 200, "ok"),
        ("GET", "/v4_6_release/apis/3.0/service/tickets/48213", 200, "ok"),
        ("POST", "/v4_6_release/apis/3.0/service/tickets/48213/notes", 201, "ok"),
        ("GET", "/v4_6_release/apis/3.0/service/tickets/48213/notes", 200, "ok"),
    ]
    assert mine == audit[:3]
    assert all(c.duration_ms >= 0 and c.request_id for c in audit)
    dumped = repr(audit) + caplog.text
    assert "flowpilot.api" not in repr(audit)  # no response bodies either
    for secret in (PRIVATE_KEY, cw.requests[1].headers["authorization"], "Basic "):
        assert secret not in dumped
    assert "service/tickets/48213" in caplog.text  # the log did record the calls


async def test_factory_builds_from_settings_and_pool_reports_unknown_names(cw, monkeypatch) -> None:
    connection = ConnectWiseConnection(
        site=cw.site_url,
        company_id="flowpilot-demo",
        public_key=DEMO_PUBLIC_KEY,
        private_key_env="CW_TEST_KEY",
        client_id=DEMO_CLIENT_ID,
    )
    with pytest.raises(ConfigError, match="CW_TEST_KEY"):
        build_provider(connection, name="demo-cw")
    monkeypatch.setenv("CW_TEST_KEY", PRIVATE_KEY)
    pool = ProviderPool({"demo-cw": connection})
    try:
        provider = pool("demo-cw")
        assert pool("demo-cw") is provider
        assert (await provider.get_ticket(48215)).status_name == "Waiting on Customer"
        with pytest.raises(ConfigError, match="'other' is not configured"):
            pool("other")
    finally:
        await pool.aclose()
