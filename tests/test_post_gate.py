"""The post gate at the wire: `flowpilot post` against the ConnectWise emulator.

Open `[CHECK: …]` review flags refuse with exit 2 unless --accept-flags; the JSON lists what was accepted; the
emulator's stored customer-visible note never carries review markers or internal fact ids (strip-on-post);
secrets in an internal note need the same acknowledgement; in a customer-visible note they stay a refusal.
"""

from __future__ import annotations

import json

import pytest
from cli_helpers import KEY_ENV, cli, connection_toml, js, seed_demo, write_config

from flowpilot_tui.emulators.connectwise import DEMO_PRIVATE_KEY, ConnectWiseEmulator
from flowpilot_tui.services.post_gate import review_flags, text_to_post

TICKET = 48213
FLAGGED = (
    "Issue reported: Outlook kept asking for a password. [F1]\n\n"
    "What we found: The cached credentials were stale. [F3]\n\n"
    "What we did: Replaced the user's hard drive. [F3] [CHECK: action not supported by a tried fact]\n\n"
    "How we verified: No prompts for 30 minutes. [F4, X2]\n\nFollow-up: None.\n"
)


@pytest.fixture
def ids(cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    write_config(connection_toml(cw.site_url))
    monkeypatch.setenv(KEY_ENV, DEMO_PRIVATE_KEY)
    return seed_demo()


def _post(sid: str, kind: str, text: str, *extra: str):  # type: ignore[no-untyped-def]
    return cli("post", sid, "--kind", kind, "--file", "-", "--yes", "--json", *extra, input=text)


def test_flagged_note_is_refused_without_accept_flags_and_nothing_is_sent(cw, ids) -> None:
    result = _post(ids["outlook"], "resolve", FLAGGED)
    assert result.exit_code == 2
    err = json.loads(result.stdout)["error"]
    assert err["flags"] == [
        {
            "section": "What we did",
            "text": "What we did: Replaced the user's hard drive.",
            "reason": "action not supported by a tried fact",
        }
    ]
    assert "--accept-flags" in err["message"] and "nothing was posted" in err["message"]
    assert cw.notes_on(TICKET) == [] and cw.api_calls("POST") == []


def test_accepted_flags_post_a_clean_customer_note_and_are_listed_and_audited(cw, ids) -> None:
    result = _post(ids["outlook"], "resolve", FLAGGED, "--accept-flags")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [f["reason"] for f in doc["accepted_flags"]] == ["action not supported by a tried fact"]
    [note] = cw.notes_on(TICKET)
    assert "[CHECK" not in note.text and "[F" not in note.text and "X2]" not in note.text
    assert "What we did: Replaced the user's hard drive." in note.text
    assert note.flags.get("resolutionFlag") is True


def test_internal_note_with_a_password_needs_acknowledgement(cw, ids) -> None:
    sid = js("sessions", "new", "--title", "Scanner offline", "--connection", "demo-cw", "--ticket", "48214")["id"]
    text = "## Problem\nScanner offline [F1]\n\n## What we've tried\n- net user scan Sc@n2024 /add [F2]\n"
    refused = _post(sid, "escalate", text)
    assert refused.exit_code == 2 and "documentation vault" in json.loads(refused.stdout)["error"]["message"]
    assert cw.notes_on(48214) == []
    ok = _post(sid, "escalate", text, "--accept-flags")
    assert ok.exit_code == 0, ok.stderr
    assert [f["reason"] for f in json.loads(ok.stdout)["accepted_flags"]] == [
        "contains a secret-like string (password)"
    ]
    [note] = cw.notes_on(48214)
    assert "[F1]" in note.text  # the internal note keeps its citations for traceability


@pytest.mark.parametrize(
    "secret_line",
    [
        "The password for jsmith is Spring#2025.",
        "net use Z: \\\\fs01\\finance Fin2024! /user:CONTOSO\\mwilson",
        "Wi-Fi key: Guest2024Cafe",
        "BitLocker recovery key: 123456-234567-345678-456789-567890-678901-789012-890123",
        "Temporary Access Pass: Xk7#pq9L",
        "$pw = ConvertTo-SecureString 'P@ssw0rd123' -AsPlainText -Force",
    ],
)
def test_customer_visible_note_with_a_secret_is_refused_even_with_accept_flags(cw, ids, secret_line: str) -> None:
    result = _post(ids["outlook"], "resolve", f"What we did: {secret_line}\n", "--accept-flags")
    assert result.exit_code == 2, result.stdout
    assert "--allow-secrets" in result.stderr
    assert cw.notes_on(TICKET) == []


def test_review_flags_and_stripping_units() -> None:
    flags = review_flags("## Problem\nDisk full [F1] [CHECK: token KB5034441 not in F1] [CHECK: no fact cited]\n")
    assert [(f.section, f.text, f.reason) for f in flags] == [
        ("Problem", "Disk full", "token KB5034441 not in F1"),
        ("Problem", "Disk full", "no fact cited"),
    ]
    assert text_to_post("A [F1, X2] [CHECK: x]\nB", customer_visible=True) == "A\nB"
    assert text_to_post("A [F1] [CHECK: x]", customer_visible=False) == "A [F1]"


async def test_service_audits_which_flags_were_accepted_and_by_whom(sessions, store, engineer, cw, cw_provider, clock):  # type: ignore[no-untyped-def]
    from cw_fixtures import Sleeps, link_connection
    from sqlalchemy import select

    from flowpilot_tui.services.models import AuditEvent
    from flowpilot_tui.services.post_gate import PostGateRefused
    from flowpilot_tui.services.writeback import WritebackService

    await link_connection(store, engineer)
    s = await sessions.create("Outlook prompts", connection_name="demo-cw", ticket_id=TICKET)
    wb = WritebackService(store, engineer, lambda name: cw_provider, clock, sleep=Sleeps())
    with pytest.raises(PostGateRefused):
        await wb.post(s.id, "resolve", FLAGGED)
    assert cw.notes_on(TICKET) == []
    outcome = await wb.post(s.id, "resolve", FLAGGED, accept_flags=True)
    assert outcome.accepted_flags[0]["section"] == "What we did"
    async with store.read() as db:
        events = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "writeback.flags_accepted"))).all()
    [event] = events
    assert event.user_id == engineer.user_id and event.detail["accepted_by"] == engineer.user_id
    assert event.detail["flags"][0]["reason"] == "action not supported by a tried fact"
    [note] = cw.notes_on(TICKET)
    assert "[CHECK" not in note.text and "[F3]" not in note.text


# ---- local resolves / escalates (no ticket linked): the same gate, applied to the stored note --------------------


def _stored(sid: str) -> dict:  # type: ignore[type-arg]
    return js("sessions", "show", sid)


def test_cli_local_resolve_with_flags_is_refused_then_stored_without_markers(cw, ids) -> None:
    sid = js("sessions", "new", "--title", "Outlook prompts on the laptop")["id"]  # no ticket linked
    refused = _post(sid, "resolve", FLAGGED)
    assert refused.exit_code == 2
    err = json.loads(refused.stdout)["error"]
    assert [f["reason"] for f in err["flags"]] == ["action not supported by a tried fact"]
    assert "--accept-flags" in err["message"] and "nothing was posted" in err["message"]
    assert _stored(sid)["status"] == "active" and not _stored(sid).get("resolution_note_markdown")

    done = _post(sid, "resolve", FLAGGED, "--accept-flags")
    assert done.exit_code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["outcome"] == "resolved_local"
    assert [f["reason"] for f in doc["accepted_flags"]] == ["action not supported by a tried fact"]
    stored = _stored(sid)
    note = stored["resolution_note_markdown"]
    assert stored["status"] == "resolved"
    assert "[CHECK" not in note and "[F" not in note and "X2]" not in note
    assert "What we did: Replaced the user's hard drive." in note
    assert cw.api_calls("POST") == []  # nothing left the machine


def test_cli_local_resolve_with_a_secret_is_refused_without_allow_secrets(cw, ids) -> None:
    sid = js("sessions", "new", "--title", "Guest Wi-Fi")["id"]
    text = "Issue reported: guest Wi-Fi down.\n\nWhat we did: Wi-Fi key: Guest2024Cafe\n"
    refused = _post(sid, "resolve", text, "--accept-flags")
    assert refused.exit_code == 2 and "--allow-secrets" in json.loads(refused.stdout)["error"]["message"]
    assert _stored(sid)["status"] == "active"
    assert _post(sid, "resolve", text, "--allow-secrets").exit_code == 0
    assert _stored(sid)["status"] == "resolved"


async def test_service_local_gate_strips_markers_and_audits_in_the_same_write(sessions, store, engineer, clock):  # type: ignore[no-untyped-def]
    from cw_fixtures import Sleeps
    from sqlalchemy import select

    from flowpilot_tui.services.models import AuditEvent
    from flowpilot_tui.services.post_gate import PostGateRefused
    from flowpilot_tui.services.writeback import WritebackService

    def no_provider(name: str):  # type: ignore[no-untyped-def]
        raise AssertionError("a local resolve must not reach a PSA")

    s = await sessions.create("Outlook prompts")
    wb = WritebackService(store, engineer, no_provider, clock, sleep=Sleeps())
    with pytest.raises(PostGateRefused) as refused:
        await wb.post(s.id, "resolve", FLAGGED)
    assert [f.reason for f in refused.value.flags] == ["action not supported by a tried fact"]
    assert (await sessions.get(s.id)).summary.status == "active"

    outcome = await wb.post(s.id, "resolve", FLAGGED, accept_flags=True)
    assert outcome.outcome == "resolved_local"
    assert [f["section"] for f in outcome.accepted_flags] == ["What we did"]
    detail = await sessions.get(s.id)
    assert detail.resolution_note_markdown == text_to_post(FLAGGED, customer_visible=True)
    assert "[CHECK" not in detail.resolution_note_markdown and "[F1]" not in detail.resolution_note_markdown
    async with store.read() as db:
        [event] = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "writeback.flags_accepted"))).all()
    assert event.user_id == engineer.user_id and event.detail["local"] is True
    assert event.detail["flags"][0]["reason"] == "action not supported by a tried fact"


async def test_service_local_escalation_keeps_citations_and_needs_the_secret_acknowledged(  # type: ignore[no-untyped-def]
    sessions, store, engineer, clock
):
    from cw_fixtures import Sleeps

    from flowpilot_tui.services.post_gate import PostGateRefused
    from flowpilot_tui.services.writeback import WritebackService

    s = await sessions.create("Scanner offline")
    wb = WritebackService(store, engineer, lambda name: None, clock, sleep=Sleeps())  # type: ignore[arg-type]
    text = (
        "## Problem\nScanner offline [F1] [CHECK: no fact cited]\n\n"
        "## What we've tried\n- net user scan Sc@n2024 /add [F2]\n"
    )
    with pytest.raises(PostGateRefused, match="documentation vault|open review flag"):
        await wb.post(s.id, "escalate", text)
    outcome = await wb.post(s.id, "escalate", text, accept_flags=True)
    assert outcome.outcome == "escalated_local"
    assert [f["reason"] for f in outcome.accepted_flags] == [
        "no fact cited",
        "contains a secret-like string (password)",
    ]
    stored = (await sessions.get(s.id)).escalation_package_markdown or ""
    assert "[CHECK" not in stored and "Scanner offline [F1]" in stored  # internal: citations kept
