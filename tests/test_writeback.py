"""Verified writeback end to end: real SQLite file, real provider over loopback HTTP to the ConnectWise emulator."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from cw_fixtures import PRIVATE_KEY, Sleeps, link_connection, make_provider
from sqlalchemy import select
from support import make_actor

from flowpilot_tui.emulators.connectwise_faults import WorkflowOverride
from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied, VerificationError
from flowpilot_tui.services.models import AuditEvent, WritebackJournal
from flowpilot_tui.services.psa.errors import PsaRateLimited
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.writeback import (
    NoteOutcomeUnknown,
    StatusChangeError,
    StatusVerificationError,
    WritebackService,
)

NOTE = (
    "## Resolution\nRe-created the Outlook profile and cleared two stale Exchange credentials.\n"
    "User confirmed: no prompts for 30 minutes."
)
FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


@pytest.fixture
async def linked(sessions, store, engineer):  # type: ignore[no-untyped-def]
    """A session linked to demo ticket #48213 (status In Progress), with a saved resolve draft."""
    await link_connection(store, engineer)
    s = await sessions.create("Outlook prompts", connection_name="demo-cw", ticket_id=48213)
    await sessions.save_draft(s.id, "resolve", NOTE, 1)
    await sessions.save_draft(s.id, "escalate", "draft package", 1)
    return s.id


def service(store, actor, provider, clock, sleeps=None, **kw):  # type: ignore[no-untyped-def]
    return WritebackService(store, actor, lambda name: provider, clock, sleep=sleeps or Sleeps(), **kw)


@pytest.fixture
def wb(store, engineer, cw_provider, clock, sleeps):  # type: ignore[no-untyped-def]
    return service(store, engineer, cw_provider, clock, sleeps)


async def journal_rows(store, session_id):  # type: ignore[no-untyped-def]
    async with store.read() as db:
        return (await db.scalars(select(WritebackJournal).where(WritebackJournal.session_id == session_id))).all()


async def audit_rows(store, session_id):  # type: ignore[no-untyped-def]
    async with store.read() as db:
        return (
            await db.scalars(select(AuditEvent).where(AuditEvent.session_id == session_id).order_by(AuditEvent.id))
        ).all()


# ---- local, happy, skipped ---------------------------------------------------------------------------------


async def test_local_session_is_resolved_and_escalated_without_sending_anything(wb, sessions, cw) -> None:
    s = await sessions.create("Walk-in: laptop will not charge")
    await sessions.save_draft(s.id, "resolve", "draft", 1)
    out = await wb.post(s.id, "resolve", "  Replaced the USB-C charger.  ")
    assert (out.outcome, out.ticket_id, out.external_note_id) == ("resolved_local", None, None)
    assert "nothing was sent" in out.message
    detail = await sessions.get(s.id)
    assert detail.summary.status == "resolved"
    assert await sessions.get_draft(s.id, "resolve") is None
    out = await wb.post(s.id, "escalate", "Charger port damaged; needs hardware repair.")
    assert out.outcome == "escalated_local" and (await sessions.get(s.id)).summary.status == "escalated"
    assert cw.requests == []


async def test_happy_path_posts_a_resolution_note_and_verifies_the_status(wb, sessions, store, linked, cw) -> None:
    out = await wb.post(linked, "resolve", NOTE)
    (note,) = cw.notes_on(48213)
    assert out.outcome == "resolved" and out.external_note_id == str(note.id) and out.posted_at is not None
    assert (out.verified_status_id, out.verified_status_name, out.status_skipped_reason) == (17, "Completed", None)
    assert not out.note_already_posted and out.to_json()["posted_at"].endswith("Z")
    assert out.message == f"Resolution note #{note.id} posted to ticket #48213; status verified: Completed"
    assert note.text == NOTE and note.flags == {
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": False,
        "resolutionFlag": True,
    }
    ticket = cw.state.tickets[48213]
    assert ticket.status_id == 17 and ticket.closed_flag
    detail = await sessions.get(linked)
    assert detail.summary.status == "resolved"
    async with store.read() as db:
        from flowpilot_tui.services.models import AISession

        row = await db.get(AISession, linked)
        assert row.resolution_note_markdown == NOTE and row.resolved_at is not None
    assert await sessions.get_draft(linked, "resolve") is None
    assert await sessions.get_draft(linked, "escalate") == ("draft package", 1)  # the other kind's draft stays
    (entry,) = await journal_rows(store, linked)
    assert (entry.state, entry.external_note_id, entry.verified_status_id, entry.lease_owner) == (
        "done",
        str(note.id),
        17,
        None,
    )
    psa_calls = [a.detail for a in await audit_rows(store, linked) if a.action == "psa.call"]
    assert [(c["method"], c["status_code"]) for c in psa_calls] == [
        (r.method, 200 if r.method != "POST" else 201) for r in cw.requests
    ]
    assert all(c["duration_ms"] >= 0 and c["outcome"] == "ok" for c in psa_calls)


async def test_escalation_posts_an_internal_only_note_and_sets_the_escalated_status(
    wb, sessions, store, linked, cw
) -> None:
    package = "Problem: Outlook prompts\nWhat we've confirmed: OWA works\nSuggested next steps: rebuild profile"
    out = await wb.post(linked, "escalate", package)
    (post,) = cw.api_calls("POST")
    assert {k: post.json[k] for k in FLAGS} == {
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": True,
        "resolutionFlag": False,
    }
    assert post.json["processNotifications"] is False
    assert post.json["text"].startswith(package) and "[ref:fp-" in post.json["text"]
    assert (out.outcome, out.verified_status_id, out.verified_status_name) == ("escalated", 12, "Escalated to L2")
    assert cw.state.tickets[48213].status_id == 12
    assert (await sessions.get(linked)).summary.status == "escalated"
    assert (
        await sessions.get_draft(linked, "escalate") is None and await sessions.get_draft(linked, "resolve") is not None
    )


async def test_unconfigured_target_status_posts_the_note_and_skips_the_status(store, clock, cw, cw_provider) -> None:
    actor = await make_actor(store, "bob", "engineer", "No Prefs MSP", clock)
    await link_connection(store, actor)
    sessions = SessionService(store, actor, clock)
    s = await sessions.create("Printer offline", connection_name="demo-cw", ticket_id=48215)
    out = await service(store, actor, cw_provider, clock).post(s.id, "resolve", "Restarted the spooler.")
    assert out.outcome == "resolved" and out.verified_status_id is None
    assert out.status_skipped_reason == "no target status is configured (cw_resolved_status_id is not set)"
    assert "status left unchanged" in out.message
    assert len(cw.notes_on(48215)) == 1 and cw.api_calls("PATCH") == []
    assert cw.state.tickets[48215].status_id == 5
    assert (await sessions.get(s.id)).summary.status == "resolved"


async def test_ticket_already_in_the_target_status_is_not_patched(wb, linked, cw) -> None:
    cw.state.tickets[48213].status_id = 17
    cw.state.tickets[48213].closed_flag = True
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and out.message.endswith("the ticket was already Completed")
    assert cw.api_calls("PATCH") == []


# ---- status rules and roles ----------------------------------------------------------------------------------


async def test_reposting_a_resolved_session_conflicts_and_sends_nothing(wb, linked, cw) -> None:
    await wb.post(linked, "resolve", NOTE)
    sent = len(cw.requests)
    with pytest.raises(Conflict, match="already resolved"):
        await wb.post(linked, "resolve", NOTE)
    assert len(cw.requests) == sent and len(cw.notes_on(48213)) == 1


async def test_escalate_and_resolve_follow_the_status_rules(wb, sessions, linked, cw) -> None:
    await wb.post(linked, "resolve", NOTE)
    out = await wb.post(linked, "escalate", "Came back after a day: escalate to L2")  # resolved -> escalated allowed
    assert out.outcome == "escalated" and cw.state.tickets[48213].status_id == 12
    with pytest.raises(Conflict, match="already escalated"):
        await wb.post(linked, "escalate", "again")
    out = await wb.post(linked, "resolve", "L2 fixed the autodiscover record")  # escalated -> resolved allowed
    assert out.outcome == "resolved" and not out.note_already_posted
    assert [n.flags["resolutionFlag"] for n in cw.notes_on(48213)] == [True, False, True]
    assert (await sessions.get(linked)).summary.status == "resolved"


async def test_viewer_and_other_accounts_cannot_post(store, viewer, outsider, cw_provider, clock, linked, cw) -> None:
    with pytest.raises(PermissionDenied):
        await service(store, viewer, cw_provider, clock).post(linked, "resolve", NOTE)
    with pytest.raises(NotFound):
        await service(store, outsider, cw_provider, clock).post(linked, "resolve", NOTE)
    assert cw.requests == []


async def test_empty_note_is_refused_and_huge_note_is_posted_whole(wb, sessions, linked, cw) -> None:
    for empty in ("", "   \n\t "):
        with pytest.raises(InvalidInput, match="empty; nothing was sent"):
            await wb.post(linked, "resolve", empty)
    with pytest.raises(InvalidInput):
        await wb.post(linked, "close", NOTE)
    assert cw.requests == [] and (await sessions.get(linked)).summary.status == "active"
    huge = ("Step: cleared cached credential — Anmeldeinformationen ✓\n" * 200)[:10_000].strip()
    out = await wb.post(linked, "resolve", huge)
    assert out.outcome == "resolved" and cw.notes_on(48213)[0].text == huge


# ---- verification failures and resuming ----------------------------------------------------------------------


async def test_silently_ignored_status_is_a_verification_error_and_the_retry_posts_no_second_note(
    wb, sessions, store, linked, cw
) -> None:
    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError) as err:
        await wb.post(linked, "resolve", NOTE)
    (note,) = cw.notes_on(48213)
    assert isinstance(err.value, StatusVerificationError)
    assert str(err.value).startswith("ConnectWise accepted the change but ticket #48213 shows In Progress")
    assert err.value.external_note_id == str(note.id)
    assert err.value.to_json()["external_note_id"] == str(note.id) and err.value.to_json()["status_verified"] is False
    assert (await sessions.get(linked)).summary.status == "active"
    assert await sessions.get_draft(linked, "resolve") == (NOTE, 1)
    (entry,) = await journal_rows(store, linked)
    assert entry.state == "posted" and entry.lease_owner is None
    cw.faults.silent_status_ignore = False
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and out.note_already_posted and out.external_note_id == str(note.id)
    assert "not posted again" in out.message and out.verified_status_name == "Completed"
    assert "later edits were not posted" not in out.message  # same text as the note on the ticket
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1


async def test_a_retry_with_edited_text_says_the_edits_were_not_posted(wb, sessions, linked, cw) -> None:
    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError):
        await wb.post(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = False
    out = await wb.post(linked, "resolve", NOTE + "\n\nAlso replaced the toner.")
    assert out.outcome == "resolved" and out.note_already_posted
    assert "your later edits were not posted" in out.message
    (note,) = cw.notes_on(48213)
    assert "toner" not in note.text  # never a second note, and the posted one is unchanged


async def test_workflow_override_is_caught_on_the_immediate_and_the_delayed_re_read(
    wb, sessions, linked, cw, sleeps
) -> None:
    cw.faults.workflow_override = WorkflowOverride(to_status_id=5, after_reads=0)
    with pytest.raises(StatusVerificationError, match="shows Waiting on Customer"):
        await wb.post(linked, "resolve", NOTE)
    cw.state.tickets[48213].status_id = 2
    cw.faults.workflow_override = WorkflowOverride(to_status_id=2, after_reads=1)
    with pytest.raises(StatusVerificationError, match="shows In Progress"):
        await wb.post(linked, "resolve", NOTE)
    assert sleeps.waits == [2.0]  # the delayed second read
    assert len(cw.notes_on(48213)) == 1 and (await sessions.get(linked)).summary.status == "active"


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        ("foreign", "status #31 is not an active status of its board 'Service Desk'"),
        ("inactive", "status #19 is not an active status"),
        ("revalidation", "contact: Contact is inactive.; site: Site must be selected."),
        ("forbidden", "lacks permission"),
    ],
)
async def test_refused_or_unusable_status_changes_keep_the_session_open(
    store, clock, cw, cw_provider, setup, expect
) -> None:
    target = {"foreign": 31, "inactive": 19}.get(setup, 17)
    actor = await make_actor(store, "erin", "engineer", "Status MSP", clock, cw_resolved_status_id=target)
    await link_connection(store, actor)
    sessions = SessionService(store, actor, clock)
    s = await sessions.create("VPN DNS", connection_name="demo-cw", ticket_id=48214)
    cw.faults.foreign_status_accept = True  # the server would take it: the client must refuse
    cw.faults.revalidation_fail = setup == "revalidation"
    cw.faults.forbid_status_change = setup == "forbidden"
    with pytest.raises(StatusChangeError) as err:
        await service(store, actor, cw_provider, clock).post(s.id, "resolve", "Pushed the DNS suffix via policy.")
    (note,) = cw.notes_on(48214)
    assert expect in str(err.value) and err.value.external_note_id == str(note.id)
    assert f"Note #{note.id} is on ticket #48214" in str(err.value)
    if setup in ("foreign", "inactive"):
        assert cw.api_calls("PATCH") == []
    assert cw.state.tickets[48214].status_id == 1 and (await sessions.get(s.id)).summary.status == "active"


# ---- unknown POST outcomes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["500", "drop", "hang"])
async def test_note_stored_but_answer_lost_is_found_by_reading_notes_back(
    store, engineer, clock, cw, sleeps, linked, mode
) -> None:
    cw.faults.server_timeout_after_store = mode
    cw.faults.hang_s = 0.2
    provider = make_provider(cw, sleeps, timeout_s=0.05)
    try:
        out = await service(store, engineer, provider, clock).post(linked, "resolve", NOTE)
    finally:
        await provider.aclose()
    (note,) = cw.notes_on(48213)
    assert out.outcome == "resolved" and out.external_note_id == str(note.id) and out.verified_status_id == 17
    assert len(cw.api_calls("POST")) == 1 and cw.api_calls("GET", "/notes")


async def test_lost_internal_note_with_crlf_is_matched_by_its_marker(wb, linked, cw) -> None:
    cw.faults.server_timeout_after_store = "drop"
    cw.faults.crlf_notes = True
    out = await wb.post(linked, "escalate", "Problem: prompts\nNext: rebuild the profile")
    (note,) = cw.notes_on(48213)
    assert out.outcome == "escalated" and out.external_note_id == str(note.id) and len(cw.api_calls("POST")) == 1


async def test_lost_resolution_note_with_crlf_is_matched_by_normalized_text(wb, linked, cw) -> None:
    cw.faults.server_timeout_after_store = "500"
    cw.faults.crlf_notes = True
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1


async def test_server_error_before_storing_is_checked_then_posted_once_more(wb, linked, cw) -> None:
    cw.faults.server_error_next = 1
    cw.faults.server_error_methods = frozenset({"POST"})
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and len(cw.notes_on(48213)) == 1
    assert [r.method for r in cw.requests if "/notes" in r.path] == ["POST", "GET", "POST"]


async def test_unreadable_notes_leave_the_outcome_unknown_until_a_retry_checks(wb, sessions, store, linked, cw) -> None:
    cw.faults.server_timeout_after_store = "drop"
    cw.faults.server_error_next = 10
    cw.faults.server_error_methods = frozenset({"GET"})
    with pytest.raises(NoteOutcomeUnknown, match="retry checks the ticket's notes"):
        await wb.post(linked, "resolve", NOTE)
    (entry,) = await journal_rows(store, linked)
    assert entry.state == "unknown" and entry.lease_owner is None
    assert (await sessions.get(linked)).summary.status == "active"
    cw.faults.server_timeout_after_store = None
    cw.faults.server_error_next = 0
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and out.note_already_posted
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1


async def test_refused_post_can_be_retried_with_edited_text(wb, store, linked, cw) -> None:
    cw.faults.rate_limit_next = 10  # more 429s than the provider will wait for
    with pytest.raises(PsaRateLimited, match="posting the note to ticket #48213"):
        await wb.post(linked, "resolve", NOTE)
    assert cw.notes_on(48213) == []
    (entry,) = await journal_rows(store, linked)
    assert entry.state == "not_posted"
    cw.faults.rate_limit_next = 0
    out = await wb.post(linked, "resolve", NOTE + "\nEdited after the failure.")
    assert out.outcome == "resolved" and not out.note_already_posted
    assert [n.text for n in cw.notes_on(48213)] == [NOTE + "\nEdited after the failure."]


async def test_429_is_honoured_through_the_whole_writeback(wb, linked, cw, sleeps) -> None:
    cw.faults.rate_limit_every = 3
    cw.faults.retry_after = "3"
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and len(cw.notes_on(48213)) == 1
    assert sleeps.waits.count(3.0) >= 2
    assert len([r for r in cw.requests if r.method == "POST"]) <= 2  # a refused POST may be re-sent; it stored nothing


async def test_moved_codebase_mid_session_still_resolves(wb, linked, cw) -> None:
    cw.faults.codebase_moved = "v2025_2/"
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and cw.state.tickets[48213].status_id == 17 and len(cw.notes_on(48213)) == 1


async def test_a_crashed_attempt_is_resumed_by_reading_the_notes_back(
    wb, store, linked, cw, cw_provider, clock
) -> None:
    from flowpilot_tui.services import journal
    from flowpilot_tui.services.psa import NoteVisibility

    # Simulate a process that committed its intent, POSTed, and died before recording the answer.
    posted = await cw_provider.post_note(48213, NOTE, NoteVisibility.RESOLUTION)
    await _add_intent(store, linked, journal.text_hash(NOTE), "fp-dead", "dead-process", clock(), clock())
    out = await wb.post(linked, "resolve", NOTE)
    assert out.note_already_posted and out.external_note_id == posted.id and out.outcome == "resolved"
    assert len(cw.notes_on(48213)) == 1


# ---- concurrency and secrets ---------------------------------------------------------------------------------


async def test_two_concurrent_confirms_on_one_database_file_post_exactly_one_note(
    db_url, engineer, clock, linked, cw, sessions
) -> None:
    cw.faults.latency_ms = 50  # both confirms are in flight at once
    stores = [await Store.open(db_url) for _ in range(2)]
    providers = [make_provider(cw, Sleeps()) for _ in range(2)]
    try:
        services = [service(s, engineer, p, clock) for s, p in zip(stores, providers, strict=True)]
        results = await asyncio.gather(*(svc.post(linked, "resolve", NOTE) for svc in services), return_exceptions=True)
    finally:
        for p in providers:
            await p.aclose()
        for s in stores:
            await s.close()
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["Conflict", "WritebackOutcome"], results
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1
    assert (await sessions.get(linked)).summary.status == "resolved"


CONFIRM = """
import asyncio, sys
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.psa.connectwise import ConnectWiseProvider
from flowpilot_tui.services.store import Store
from flowpilot_tui.services.writeback import WritebackService

async def main(db_url, site, session_id, account_id, user_id, key):
    store = await Store.open(db_url)
    provider = ConnectWiseProvider(company_id="flowpilot-demo", public_key="fpDemoPublic01", private_key=key,
                                   client_id="test-client", site=site)
    actor = Actor(int(account_id), int(user_id), "alice", "alice", "engineer")
    try:
        service = WritebackService(store, actor, lambda name: provider, recheck_after_s=0)
        out = await service.post(session_id, "resolve", "From two windows")
        print("ok", out.external_note_id)
    except Conflict as exc:
        print("conflict", exc)
    finally:
        await provider.aclose()
        await store.close()

asyncio.run(main(*sys.argv[1:7]))
"""


async def test_two_processes_confirming_at_once_post_exactly_one_note(db_url, engineer, linked, cw, tmp_path) -> None:
    import subprocess
    import sys

    cw.faults.latency_ms = 100
    script = tmp_path / "confirm.py"
    script.write_text(CONFIRM)
    args = [db_url, cw.site_url, linked, str(engineer.account_id), str(engineer.user_id), PRIVATE_KEY]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = await asyncio.to_thread(p.communicate, timeout=60)
        assert p.returncode == 0, err
        results.append(out.split()[0])
    assert sorted(results) == ["conflict", "ok"]
    assert len(cw.notes_on(48213)) == 1 and len(cw.api_calls("POST")) == 1


async def test_a_live_lease_from_another_confirm_is_a_conflict_and_sends_nothing(wb, store, linked, cw, clock) -> None:
    from datetime import timedelta

    now = clock()
    await _add_intent(store, linked, "x", "fp-other", "other-window", now + timedelta(minutes=2), now)
    with pytest.raises(Conflict, match="being posted by another FlowPilot"):
        await wb.post(linked, "resolve", NOTE)
    assert cw.requests == []


async def test_auth_header_and_keys_never_reach_logs_or_the_audit(wb, store, linked, cw, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError) as err:
        await wb.post(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = False
    await wb.post(linked, "resolve", NOTE)
    rows = await audit_rows(store, linked)
    dumped = json.dumps([r.detail for r in rows]) + caplog.text + str(err.value)
    auth = cw.requests[-1].headers["authorization"]
    for secret in (auth, auth.split()[1], PRIVATE_KEY, "Basic "):
        assert secret not in dumped
    actions = [r.action for r in rows]
    assert actions.count("psa.call") == len(cw.requests)
    assert "writeback.status_failed" in actions and actions[-1] == "writeback.resolved"


async def test_plan_states_what_will_happen_without_calling_the_psa(store, engineer, clock) -> None:
    """The confirmation modal's text: customer-visible vs internal, ticket, target status, or local."""
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.writeback import WritebackService

    def no_provider(name: str):  # plan must never reach the PSA
        raise AssertionError("plan() called the PSA")

    await accounts.sync_connections(store, engineer, [("acme-cw", "connectwise")])
    svc = SessionService(store, engineer, clock)
    linked = await svc.create("Linked", connection_name="acme-cw", ticket_id=48213)
    local = await svc.create("Local")
    wb = WritebackService(store, engineer, no_provider, clock)
    from flowpilot_tui.services.wording import plan_action

    resolve = await wb.plan(linked.id, "resolve")
    assert resolve.customer_visible and resolve.target_status_id == 17
    assert plan_action(resolve).startswith("Post a customer-visible Resolution note to ConnectWise ticket #48213")
    escalate = await wb.plan(linked.id, "escalate")
    assert not escalate.customer_visible and "internal analysis note" in plan_action(escalate)
    assert "then set status id 12 and verify it" in plan_action(escalate)  # no name: the PSA was not asked
    assert plan_action(await wb.plan(local.id, "resolve")).startswith("Resolve locally: no ticket is linked")


async def _add_intent(  # type: ignore[no-untyped-def]
    store, session_id: str, text_hash: str, marker: str, owner: str, lease_until, now
) -> None:
    """A resolve journal row in state 'intent' on ticket 48213, as another (live or dead) poster leaves it."""
    async with store.write() as db:
        db.add(
            WritebackJournal(
                session_id=session_id,
                kind="resolve",
                state="intent",
                ticket_id=48213,
                connection_name="demo-cw",
                text_hash=text_hash,
                marker=marker,
                lease_owner=owner,
                lease_until=lease_until,
                created_at=now,
                updated_at=now,
            )
        )


# ---- requests per verified post, the status cache (issue 15) --------------------------------------------------


def _api(cw, since: int = 0) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The API requests from index `since` on, as (method, path below /apis/3.0); codebase discovery left out."""
    return [(r.method, r.api_path) for r in cw.requests[since:] if "/login/companyinfo" not in r.path]


async def test_a_verified_post_after_the_confirm_read_makes_exactly_four_requests(wb, linked, cw) -> None:
    await wb.plan(linked, "resolve", with_status_name=True)  # what the confirm dialog shows: ticket + board read
    since = len(cw.requests)
    out = await wb.post(linked, "resolve", NOTE)
    assert out.verified_status_id == 17
    assert _api(cw, since) == [
        ("POST", "/service/tickets/48213/notes"),
        ("PATCH", "/service/tickets/48213"),
        ("GET", "/service/tickets/48213"),  # the verify read
        ("GET", "/service/tickets/48213"),  # the delayed re-check
    ]


async def test_a_cold_post_reads_the_board_once_and_no_recheck_setting_drops_the_delayed_read(
    store, engineer, clock, cw, cw_provider, linked, sessions
) -> None:
    out = await service(store, engineer, cw_provider, clock, recheck_after_s=0).post(linked, "resolve", NOTE)
    assert out.verified_status_id == 17
    assert _api(cw) == [
        ("POST", "/service/tickets/48213/notes"),
        ("GET", "/service/tickets/48213"),  # nothing known about the ticket yet: its board
        ("GET", "/service/boards/1/statuses"),
        ("PATCH", "/service/tickets/48213"),
        ("GET", "/service/tickets/48213"),
    ]
    # another ticket of the same board on the same connection: the board's statuses are not read again
    s2 = await sessions.create("VPN drops", connection_name="demo-cw", ticket_id=48214)
    since = len(cw.requests)
    await service(store, engineer, cw_provider, clock, recheck_after_s=0).post(s2.id, "resolve", NOTE)
    assert _api(cw, since) == [
        ("POST", "/service/tickets/48214/notes"),
        ("GET", "/service/tickets/48214"),
        ("PATCH", "/service/tickets/48214"),
        ("GET", "/service/tickets/48214"),
    ]


async def test_progress_lines_say_what_the_post_is_doing(store, engineer, clock, cw, cw_provider, linked) -> None:
    lines: list[str] = []
    await service(store, engineer, cw_provider, clock, recheck_after_s=1.5).post(
        linked, "resolve", NOTE, on_progress=lines.append
    )
    assert lines == [
        "posting the resolution note to ticket #48213…",
        "changing the status to Completed…",
        "verifying the status…",
        "verifying: re-checking the status in 1.5 s…",
    ]


async def test_a_refused_status_id_drops_the_cached_board_statuses(wb, linked, cw, sessions) -> None:
    await wb.plan(linked, "resolve", with_status_name=True)  # board 1's statuses are now cached: 17 is active
    assert len(cw.api_calls("GET", "/statuses")) == 1
    cw.state.statuses[17].inactive = True  # an admin retires "Completed" after the cache was filled
    cw.faults.inactive_status_reject = True
    with pytest.raises(StatusChangeError, match="status was not changed"):
        await wb.post(linked, "resolve", NOTE)
    assert len(cw.api_calls("PATCH")) == 1  # the cached list said active: the PSA refused it
    with pytest.raises(StatusChangeError, match="status #17 is not an active status of its board"):
        await wb.post(linked, "resolve", NOTE)  # the retry re-reads the board and refuses before any PATCH
    assert len(cw.api_calls("GET", "/statuses")) == 2 and len(cw.api_calls("PATCH")) == 1
    assert len(cw.notes_on(48213)) == 1 and (await sessions.get(linked)).summary.status == "active"


async def test_a_ticket_read_before_the_confirm_is_rechecked_when_it_claims_the_target_status(wb, linked, cw) -> None:
    cw.state.tickets[48213].status_id, cw.state.tickets[48213].closed_flag = 17, True
    await wb.plan(linked, "resolve", with_status_name=True)  # the read says: already Completed
    cw.state.tickets[48213].status_id, cw.state.tickets[48213].closed_flag = 2, False  # reopened meanwhile
    out = await wb.post(linked, "resolve", NOTE)
    assert out.verified_status_id == 17 and "already" not in out.message
    assert len(cw.api_calls("PATCH")) == 1 and cw.state.tickets[48213].status_id == 17


# ---- the lease heartbeat, follow-up notes (issue 16) -----------------------------------------------------------


async def test_another_hosts_lease_is_taken_over_once_its_heartbeat_is_older_than_the_setting(
    store, engineer, cw_provider, clock, linked, cw, sessions
) -> None:
    from datetime import timedelta

    now = clock()
    owner = "other-host:4242:0123456789abcdef"
    await _add_intent(store, linked, "x", "fp-other", owner, now + timedelta(minutes=3), now - timedelta(seconds=10))
    wb = service(store, engineer, cw_provider, clock, takeover_after_s=30)
    with pytest.raises(Conflict, match="being posted by another FlowPilot"):
        await wb.post(linked, "resolve", NOTE)  # beat 10 s ago: alive
    assert cw.requests == []
    async with store.write() as db:
        (entry,) = (await db.scalars(select(WritebackJournal).where(WritebackJournal.session_id == linked))).all()
        entry.updated_at = clock() - timedelta(seconds=31)  # silent for longer than takeover_after_s
    out = await wb.post(linked, "resolve", NOTE)
    assert out.outcome == "resolved" and len(cw.notes_on(48213)) == 1
    assert cw.api_calls("GET", "/notes")  # the other host may have posted: read back before posting
    assert (await sessions.get(linked)).summary.status == "resolved"


async def test_the_holder_refreshes_its_heartbeat_while_a_request_is_in_flight(
    store, engineer, clock, cw, cw_provider, linked
) -> None:
    import threading

    from flowpilot_tui.services import journal

    cw.faults.hold = held = threading.Event()
    cw.faults.hold_if = lambda method, path: method == "POST"  # the note POST hangs at the emulator
    wb = service(store, engineer, cw_provider, clock, takeover_after_s=0.3)  # a beat every 0.1 s
    task = asyncio.create_task(wb.post(linked, "resolve", NOTE))
    try:
        first = None
        for _ in range(2000):  # wait for two beats (bounded: a broken heartbeat fails, it never hangs)
            await asyncio.sleep(0.01)
            rows = await journal_rows(store, linked)
            if rows and cw.api_calls("POST"):
                first = first or rows[0].updated_at
                if rows[0].updated_at != first:
                    break
        (entry,) = await journal_rows(store, linked)
        assert entry.updated_at != first and entry.lease_until > entry.updated_at
        assert journal.lease_held(entry, entry.updated_at, stale_after=wb.takeover_after)
    finally:
        cw.faults.hold = None
        held.set()
        out = await task  # the held POST was dropped unhandled: read back, nothing there, posted once
    assert out.outcome == "resolved" and len(cw.notes_on(48213)) == 1


async def test_a_retry_with_edited_text_can_post_the_difference_as_a_follow_up_note(
    wb, store, sessions, linked, cw
) -> None:
    from flowpilot_tui.services.models import AISession

    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError):
        await wb.post(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = False
    edited = NOTE + "\nAlso cleared the cached credentials."
    out = await wb.post(linked, "resolve", edited)  # not asked: says so plainly, posts nothing more
    assert out.note_already_posted and "differs from the note on the ticket" in out.message
    assert out.follow_up_text == "Follow-up:\n\nAlso cleared the cached credentials." and out.follow_up_note_id is None
    assert len(cw.notes_on(48213)) == 1
    follow = await wb.post_follow_up(linked, "resolve", edited)
    original, added = cw.notes_on(48213)
    assert added.text == out.follow_up_text and added.flags == original.flags  # same (customer) visibility
    assert follow.follow_up_note_id == str(added.id) and "the session keeps both notes" in follow.message
    async with store.read() as db:
        stored = (await db.get(AISession, linked)).resolution_note_markdown
    assert stored == f"{original.text}\n\n{added.text}"  # what the ticket shows
    with pytest.raises(InvalidInput, match="Nothing to follow up"):
        await wb.post_follow_up(linked, "resolve", edited)  # never twice
    assert len(cw.notes_on(48213)) == 2 and (await sessions.get(linked)).summary.status == "resolved"


async def test_a_retry_whose_edits_only_remove_text_says_the_ticket_differs_and_offers_nothing(wb, linked, cw) -> None:
    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError):
        await wb.post(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = False
    out = await wb.post(linked, "resolve", NOTE.rsplit("\n", 1)[0])  # the last line deleted
    assert out.note_already_posted and out.ticket_text_differs and out.follow_up_text is None
    assert "your edits add nothing new" in out.message and len(cw.notes_on(48213)) == 1


async def test_post_follow_up_in_the_same_call_and_only_for_a_posted_note(wb, linked, cw, sessions) -> None:
    with pytest.raises(Conflict, match="needs a resolution note on the ticket first"):
        await wb.post_follow_up(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = True
    with pytest.raises(VerificationError):
        await wb.post(linked, "resolve", NOTE)
    cw.faults.silent_status_ignore = False
    out = await wb.post(linked, "resolve", NOTE + "\nReplaced the toner.", post_follow_up=True)
    _, added = cw.notes_on(48213)
    assert out.follow_up_note_id == str(added.id) and added.text == "Follow-up:\n\nReplaced the toner."
    assert out.verified_status_id == 17 and "the session keeps both notes" in out.message


async def test_a_ticket_moved_to_another_board_after_the_confirm_read_is_reported_not_claimed(
    wb, linked, cw, sessions
) -> None:
    await wb.plan(linked, "resolve", with_status_name=True)  # read: board 1, where Completed (17) lives
    cw.state.tickets[48213].board_id, cw.state.tickets[48213].status_id = 2, 30  # moved meanwhile
    cw.faults.foreign_status_accept = True  # a lax instance takes a status of the old board
    with pytest.raises(StatusVerificationError, match="the ticket moved boards"):
        await wb.post(linked, "resolve", NOTE)
    assert (await sessions.get(linked)).summary.status == "active" and len(cw.notes_on(48213)) == 1


# ---- the shared PSA cache: a fresh process needs no ticket / board-status GET (issue 15) ----------------------


def api_methods(cw, since: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, last path part) of the API requests since `since`, codebase discovery left out."""
    return [(r.method, r.path.rsplit("/", 1)[-1]) for r in cw.requests[since:] if "/login/companyinfo" not in r.path]


async def test_a_fresh_process_posts_with_what_earlier_processes_read_four_requests(
    store, engineer, sessions, linked, cw, clock
) -> None:
    from flowpilot_tui.services.tickets import TicketService

    other = await sessions.create("VPN DNS", connection_name="demo-cw", ticket_id=48214)
    first = make_provider(cw)  # one process posts on the same board: its statuses are kept in the database
    await service(store, engineer, first, clock).post(other.id, "resolve", NOTE)
    await first.aclose()
    linker = make_provider(cw)  # another reads the linked ticket (as linking, sync and the live status do)
    tickets = TicketService(store, engineer, lambda _n: linker, {"demo-cw": None}, clock)  # type: ignore[dict-item]
    await tickets.live_status(linked)
    await linker.aclose()
    fresh = make_provider(cw)  # a new `flowpilot post --yes` process
    try:
        since = len(cw.requests)
        out = await service(store, engineer, fresh, clock).post(linked, "resolve", NOTE)
    finally:
        await fresh.aclose()
    assert out.verified_status_id == 17 and cw.state.tickets[48213].status_id == 17
    assert api_methods(cw, since) == [("POST", "notes"), ("PATCH", "48213"), ("GET", "48213"), ("GET", "48213")]


async def test_the_first_post_on_a_connection_after_a_checked_link_makes_four_requests(
    store, engineer, linked, cw, clock
) -> None:
    """Linking reads the ticket (a ticket that does not exist is refused) and, once per board, its statuses: the
    first post from a fresh process then reads neither; a second link on the same board reads no statuses."""
    from flowpilot_tui.services.tickets import TicketService

    linker = make_provider(cw)  # the link dialog / `sessions new --ticket` in another process
    tickets = TicketService(store, engineer, lambda _n: linker, {"demo-cw": None}, clock)  # type: ignore[dict-item]
    since = len(cw.requests)
    await tickets.check_ticket("demo-cw", 48213)
    assert api_methods(cw, since) == [("GET", "48213"), ("GET", "statuses")]
    since = len(cw.requests)
    await tickets.check_ticket("demo-cw", 48214)  # same board: its statuses are in the shared cache
    assert api_methods(cw, since) == [("GET", "48214")]
    await linker.aclose()
    fresh = make_provider(cw)  # a new `flowpilot post --yes` process, the first post on this connection
    try:
        since = len(cw.requests)
        out = await service(store, engineer, fresh, clock).post(linked, "resolve", NOTE)
    finally:
        await fresh.aclose()
    assert out.verified_status_id == 17 and cw.state.tickets[48213].status_id == 17
    assert api_methods(cw, since) == [("POST", "notes"), ("PATCH", "48213"), ("GET", "48213"), ("GET", "48213")]


async def test_a_stale_cached_board_never_sets_a_wrong_status_it_is_re_read_and_dropped(
    store, engineer, sessions, linked, cw, clock
) -> None:
    from flowpilot_tui.services import writeback_cache
    from flowpilot_tui.services.models import PsaCache

    earlier = make_provider(cw)  # board 1 and its statuses, as an earlier process read them
    await earlier.get_ticket(48213)
    await earlier.list_board_statuses(1)
    async with store.write() as db:
        await writeback_cache.keep_ticket(db, engineer.account_id, "demo-cw", earlier.known_ticket(48213), clock())
        db.add(
            PsaCache(
                account_id=engineer.account_id,
                connection_id=(await db.scalar(select(PsaCache.connection_id))),
                kind="board_statuses",
                key=1,
                payload={"statuses": [s.__dict__ for s in await earlier.list_board_statuses(1)]},
                fetched_at=clock(),
            )
        )
    await earlier.aclose()
    cw.state.tickets[48213].board_id, cw.state.tickets[48213].status_id = 2, 30  # moved to Projects since
    fresh = make_provider(cw)
    try:
        since = len(cw.requests)
        with pytest.raises(StatusChangeError, match="not an active status of its board 'Projects'"):
            await service(store, engineer, fresh, clock).post(linked, "resolve", NOTE)
    finally:
        await fresh.aclose()
    # the cached board let the PATCH go out; refused, the ticket and its board were read again, nothing more sent
    assert api_methods(cw, since) == [
        ("POST", "notes"),
        ("PATCH", "48213"),
        ("GET", "48213"),
        ("GET", "statuses"),
    ]
    assert cw.state.tickets[48213].status_id == 30 and len(cw.notes_on(48213)) == 1
    async with store.read() as db:
        rows = {(r.kind, r.key): r.payload for r in (await db.scalars(select(PsaCache))).all()}
    assert rows[("ticket", 48213)]["board_id"] == 2 and ("board_statuses", 1) not in rows  # the stale list dropped
