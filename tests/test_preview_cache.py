"""Preview cache on a real SQLite file: hits make no model call; every state write regenerates; bounded; persistent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, message, tool_use_block
from pydantic import SecretStr
from sqlalchemy import func, select

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services.access import bump_state_version
from flowpilot_tui.services.errors import InvalidInput, NotFound
from flowpilot_tui.services.generation.bundle import build_bundle
from flowpilot_tui.services.generation.service import GenerationService
from flowpilot_tui.services.models import PreviewCache, Script
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

ESCALATION = {
    "problem": {"text": "Outlook crashes on start.", "fact_ids": ["F1"]},
    "confirmed": [],
    "tried": [],
    "hypothesis": {"text": "None recorded.", "fact_ids": []},
    "next_steps": [{"text": "Run the Office repair.", "fact_ids": ["X1"]}],
}
RESOLUTION = {  # p3 shape: each section cites its own ids
    "summary": {"text": "Outlook crashed on start.", "fact_ids": ["F1"]},
    "root_cause": {"text": "The cause could not be determined.", "fact_ids": []},
    "fix_applied": {"text": "Office was repaired.", "fact_ids": ["X1"]},
    "verification": {"text": "Outlook opens.", "fact_ids": ["F1"]},
    "follow_up": {"text": "", "fact_ids": []},
}


def reply_for(kind: str) -> dict[str, Any]:
    if kind == "escalate":
        return message(tool_use_block("write_escalation_package", ESCALATION))
    return message(tool_use_block("write_resolution_note", RESOLUTION))


@pytest.fixture
async def session_id(sessions: SessionService) -> str:
    created = await sessions.create("Outlook crashes for the CFO")
    await sessions.add_fact(created.id, "symptom", "Outlook crashes on start (password: Hunter2!)")
    await sessions.propose_fix(created.id, "Repair Office", steps=["Quick repair"], target_shell="powershell")
    return created.id


@pytest.fixture
async def make_service(
    store: Store,
    engineer: Any,
    clock: Any,
    fake_anthropic: FakeAnthropic,
) -> AsyncIterator[Callable[..., GenerationService]]:
    made: list[GenerationService] = []

    def build(*, claude: bool = True, on: Store | None = None, **kw: Any) -> GenerationService:
        llm = (
            LlmSettings(
                provider="anthropic", api_key=SecretStr("test-key"), base_url=fake_anthropic.base_url, max_retries=0
            )
            if claude
            else LlmSettings()
        )
        service = GenerationService(on or store, engineer, llm, clock, **kw)
        made.append(service)
        return service

    yield build
    for service in made:
        await service.aclose()


async def test_repeat_preview_is_served_from_cache_without_a_model_call(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    session_id: str,
) -> None:
    fake_anthropic.reply(reply_for("escalate"))
    service = make_service()
    first = await service.preview(session_id, "escalate")
    assert first.generator == "claude" and not first.from_cache and fake_anthropic.request_count == 1

    second = await service.preview(session_id, "escalate")
    assert fake_anthropic.request_count == 1
    assert second.from_cache and second.markdown == first.markdown
    assert second.usage == first.usage and second.generator == "claude" and second.model == first.model
    assert second.redaction_count == 1 and second.redactions[0].original == "Hunter2!"
    assert "cached" in second.header()


async def test_a_text_only_cache_hit_gives_the_same_note_and_header_and_follows_the_state(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    sessions: SessionService,
    session_id: str,
) -> None:
    """What the preview pane and the CLI ask for (`with_redactions=False`): served from the cache without building
    the bundle, yet the same text and header; a state write still regenerates."""
    fake_anthropic.reply(reply_for("escalate")).reply(reply_for("escalate"))
    service = make_service()
    first = await service.preview(session_id, "escalate", with_redactions=False)
    hit = await service.preview(session_id, "escalate", with_redactions=False)
    assert fake_anthropic.request_count == 1 and hit.from_cache and not first.from_cache
    assert (hit.markdown, hit.header()) == (first.markdown, (await service.preview(session_id, "escalate")).header())
    assert hit.redaction_count == 1 and hit.redactions == []  # the count is kept; the originals are not read

    await sessions.add_fact(session_id, "tried", "Office quick repair: no change")
    after = await service.preview(session_id, "escalate", with_redactions=False)
    assert fake_anthropic.request_count == 2 and not after.from_cache and after.state_version > hit.state_version


async def test_regenerate_bypasses_the_cache(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    session_id: str,
) -> None:
    fake_anthropic.reply(reply_for("resolve")).reply(reply_for("resolve"))
    service = make_service()
    await service.preview(session_id, "resolve")
    again = await service.preview(session_id, "resolve", regenerate=True)
    assert fake_anthropic.request_count == 2 and not again.from_cache
    assert (await service.preview(session_id, "resolve")).from_cache and fake_anthropic.request_count == 2


async def _add_script(service: SessionService, session_id: str) -> None:
    # Same transaction shape as the scripts service: the row plus the state_version bump.
    async with service.store.write() as db:
        now = service.clock()
        db.add(Script(session_id=session_id, fix_id=None, shell="powershell", body="Repair-Office", created_at=now))
        await db.flush()
        await bump_state_version(db, service.actor, session_id, now, "script.create", {})


async def _first_fact_id(sessions: SessionService, session_id: str) -> int:
    return (await sessions.get(session_id)).facts[0].id


async def _edit_fact(s: SessionService, sid: str) -> None:
    await s.edit_fact(sid, await _first_fact_id(s, sid), text="Outlook crashes when opening the Inbox")


async def _delete_fact(s: SessionService, sid: str) -> None:
    await s.delete_fact(sid, await _first_fact_id(s, sid))


async def _decide_fix(s: SessionService, sid: str) -> None:
    await s.decide_fix(sid, (await s.get(sid)).fixes[0].id, "one_off")


# each write, and what the regenerated prompt must (+) or must no longer (-) contain
WRITES: dict[str, tuple[Callable[[SessionService, str], Awaitable[object]], str, bool]] = {
    "fact_add": (lambda s, sid: s.add_fact(sid, "confirmed", "Safe mode start works"), "Safe mode start works", True),
    "fact_edit": (_edit_fact, "when opening the Inbox", True),
    "fact_delete": (_delete_fact, "Outlook crashes on start", False),
    "fix_propose": (lambda s, sid: s.propose_fix(sid, "Recreate the Outlook profile"), "Recreate the Outlook", True),
    "fix_decision": (_decide_fix, 'decision=\\"one_off\\"', True),
    "script": (_add_script, '<script id=\\"S1\\"', True),
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_each_kind_of_write_makes_the_next_preview_regenerate(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    sessions: SessionService,
    session_id: str,
    write: str,
) -> None:
    action, marker, present = WRITES[write]
    service = make_service()
    fake_anthropic.reply(reply_for("escalate")).reply(reply_for("escalate"))
    before = await service.preview(session_id, "escalate")
    assert (await service.preview(session_id, "escalate")).from_cache
    assert (marker in json.dumps(fake_anthropic.requests[0].body)) is not present

    await action(sessions, session_id)

    after = await service.preview(session_id, "escalate")
    assert not after.from_cache and fake_anthropic.request_count == 2
    assert after.state_version == before.state_version + 1
    assert (marker in json.dumps(fake_anthropic.requests[1].body)) is present


async def test_resolve_and_escalate_coexist_for_the_same_state(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    session_id: str,
) -> None:
    fake_anthropic.reply(reply_for("resolve")).reply(reply_for("escalate"))
    service = make_service()
    resolve = await service.preview(session_id, "resolve")
    escalate = await service.preview(session_id, "escalate")
    assert fake_anthropic.request_count == 2
    again_resolve = await service.preview(session_id, "resolve")
    again_escalate = await service.preview(session_id, "escalate")
    assert fake_anthropic.request_count == 2
    assert (again_resolve.markdown, again_escalate.markdown) == (resolve.markdown, escalate.markdown)
    assert again_resolve.markdown.startswith("Issue reported:") and "## Problem" in again_escalate.markdown


async def test_cache_keeps_only_the_newest_state_versions(
    make_service: Callable[..., GenerationService],
    sessions: SessionService,
    store: Store,
    session_id: str,
) -> None:
    service = make_service(claude=False, keep_versions=3)
    versions = []
    for n in range(5):
        for kind in ("resolve", "escalate"):
            versions.append((await service.preview(session_id, kind)).state_version)  # type: ignore[arg-type]
        await sessions.add_fact(session_id, "tried", f"Attempt {n}", outcome="no change")
    async with store.read() as db:
        kept = (
            await db.execute(
                select(PreviewCache.state_version, PreviewCache.kind)
                .where(PreviewCache.session_id == session_id)
                .order_by(PreviewCache.state_version, PreviewCache.kind)
            )
        ).all()
    newest = sorted(set(versions))[-3:]
    assert [tuple(r) for r in kept] == [(v, k) for v in newest for k in ("escalate", "resolve")]


async def test_cache_survives_a_new_service_and_store_on_the_same_file(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    db_url: str,
    session_id: str,
) -> None:
    fake_anthropic.reply(reply_for("escalate"))
    first = await make_service().preview(session_id, "escalate")
    reopened = await Store.open(db_url)
    try:
        again = await make_service(on=reopened).preview(session_id, "escalate")
    finally:
        await reopened.close()
    assert fake_anthropic.request_count == 1
    assert again.from_cache and again.markdown == first.markdown and again.generator == "claude"


async def test_offline_and_claude_entries_do_not_mix(
    make_service: Callable[..., GenerationService],
    fake_anthropic: FakeAnthropic,
    store: Store,
    session_id: str,
) -> None:
    offline = await make_service(claude=False).preview(session_id, "escalate")
    fake_anthropic.reply(reply_for("escalate"))
    live = await make_service().preview(session_id, "escalate")
    assert offline.generator == "offline" and live.generator == "claude" and not live.from_cache
    async with store.read() as db:
        assert await db.scalar(select(func.count()).select_from(PreviewCache)) == 2


async def test_cached_rows_hold_no_secrets(
    make_service: Callable[..., GenerationService],
    store: Store,
    session_id: str,
) -> None:
    await make_service(claude=False).preview(session_id, "escalate")
    async with store.read() as db:
        row = await db.scalar(select(PreviewCache))
    assert row is not None
    assert "Hunter2!" not in row.markdown + json.dumps(row.payload)
    assert "[REDACTED:password]" in row.markdown


async def test_other_accounts_session_is_not_found_and_bad_kind_is_rejected(
    store: Store,
    outsider: Any,
    clock: Any,
    make_service: Callable[..., GenerationService],
    session_id: str,
) -> None:
    foreign = GenerationService(store, outsider, LlmSettings(), clock)
    await make_service(claude=False).preview(session_id, "resolve")  # cached for the owner's account
    with pytest.raises(NotFound, match=f"Session {session_id} not found"):
        await foreign.preview(session_id, "resolve")
    with pytest.raises(NotFound, match=f"Session {session_id} not found"):
        await foreign.preview(session_id, "resolve", with_redactions=False)
    with pytest.raises(InvalidInput):
        await make_service(claude=False).preview(session_id, "summary")  # type: ignore[arg-type]
    async with store.read() as db:
        with pytest.raises(NotFound):
            await build_bundle(db, outsider, session_id)


async def test_bundle_has_stable_ids_redacted_text_and_a_bounded_chat_excerpt(
    store: Store,
    engineer: Any,
    sessions: SessionService,
    session_id: str,
) -> None:
    await sessions.add_fact(session_id, "hypothesis", "Corrupt OST file")
    for n in range(30):
        await sessions.append_message(session_id, "user", f"message {n} " + "x" * 2000)
    await sessions.append_message(session_id, "assistant", "Try token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
    async with store.read() as db:
        bundle = await build_bundle(db, engineer, session_id)
    assert [(f.id, f.kind) for f in bundle.facts] == [("F1", "symptom"), ("F2", "hypothesis")]
    assert bundle.facts[0].text == "Outlook crashes on start (password: [REDACTED:password])"
    assert [(x.id, x.title, x.steps) for x in bundle.fixes] == [("X1", "Repair Office", ["Quick repair"])]
    assert bundle.chat_excerpt[-1].text == "Try token [REDACTED:api_key]"
    assert 1 < len(bundle.chat_excerpt) <= 12
    assert sum(len(m.text) for m in bundle.chat_excerpt) <= 8_000
    assert {i.kind for i in bundle.redactions} == {"password", "api_key"}


def test_importing_generation_does_not_load_the_anthropic_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, flowpilot_tui.services.generation.service, flowpilot_tui.services.generation.claude\n"
        "print('anthropic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


async def test_a_preview_cached_before_per_section_citations_is_not_served(
    make_service: Callable[..., GenerationService],
    store: Store,
    session_id: str,
    clock: Any,
) -> None:
    """The r1 render (one note-wide fact set, "Not recorded" placeholders) sits under the old key: it is never
    served to the new code, which renders afresh; the old row simply ages out with its state_version."""
    service = make_service(claude=False)
    assert service.generator_key().endswith("r2")
    async with store.read() as db:
        version = (await build_bundle(db, service.actor, session_id)).state_version
    async with store.write() as db:
        db.add(
            PreviewCache(
                session_id=session_id,
                kind="resolve",
                state_version=version,
                generator_key="offline/t2r1",
                generator="offline",
                model=None,
                markdown="Issue reported: old.\n\nHow we verified: Not recorded.\n",
                created_at=clock(),
                payload={"template_version": "t2r1", "flagged_items": []},
            )
        )
    preview = await service.preview(session_id, "resolve")
    assert not preview.from_cache
    assert "Not recorded" not in preview.markdown and preview.markdown.startswith("Issue reported: Outlook crashes")
    assert (await service.preview(session_id, "resolve")).from_cache
