"""Claude generator through the real anthropic SDK against the loopback fake server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, message, tool_use_block
from generation_samples import SECRET, full_bundle
from pydantic import SecretStr

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services.generation.claude import ClaudeGenerator, make_client

GOOD_ESCALATION: dict[str, Any] = {
    "problem": {"text": "Finance users cannot open the intranet over VPN.", "fact_ids": ["F1"]},
    "confirmed": [{"text": "The VPN tunnel is up and 10.0.0.5 answers ping.", "fact_ids": ["F3"]}],
    "tried": [
        {"text": "Rebooted the laptop: no change.", "fact_ids": ["F4"]},
        {"text": "Re-entered the VPN credentials: did not help.", "fact_ids": ["F6"]},
        {"text": "Flushed the DNS cache and reconnected: intranet loads.", "fact_ids": ["F7"]},
    ],
    "hypothesis": {"text": "The VPN profile may not push the internal DNS suffix.", "fact_ids": ["F5"]},
    "next_steps": [{"text": "Check the DNS suffix setting in the VPN profile.", "fact_ids": ["F5", "X2"]}],
    "environment": [{"text": "Windows 11 23H2 laptops with GlobalProtect 6.1.", "fact_ids": ["F2"]}],
    "impact": {"text": "The whole finance team.", "fact_ids": ["F1"]},
    "ask": {"text": "Please confirm or rule out the DNS suffix hypothesis first.", "fact_ids": ["F5"]},
}
GOOD_RESOLUTION: dict[str, Any] = {  # p3: each section cites its own ids
    "summary": {"text": "You reported that the intranet would not open over VPN.", "fact_ids": ["F1"]},
    "root_cause": {"text": "The laptop kept stale DNS entries.", "fact_ids": ["X2"]},
    "fix_applied": {"text": "We flushed the DNS cache and reconnected the VPN.", "fact_ids": ["F7"]},
    "verification": {"text": "The intranet loads again.", "fact_ids": ["F7"]},
    "follow_up": {"text": "", "fact_ids": []},
}


def escalation_reply(**changes: Any) -> dict[str, Any]:
    return message(
        tool_use_block("write_escalation_package", {**GOOD_ESCALATION, **changes}), input_tokens=950, output_tokens=210
    )


def resolution_reply(**changes: Any) -> dict[str, Any]:
    return message(
        tool_use_block("write_resolution_note", {**GOOD_RESOLUTION, **changes}), input_tokens=700, output_tokens=90
    )


@pytest.fixture
async def make_generator(fake_anthropic: FakeAnthropic) -> AsyncIterator[Callable[..., ClaudeGenerator]]:
    """Generators on real SDK clients built from settings that point at the fake server."""
    clients = []

    def build(*, max_retries: int = 0, timeout_s: float = 10.0) -> ClaudeGenerator:
        llm = LlmSettings(
            provider="anthropic",
            api_key=SecretStr("test-key"),
            base_url=fake_anthropic.base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
        )
        client = make_client(llm)
        clients.append(client)
        return ClaudeGenerator(client, llm.model)

    yield build
    for client in clients:
        await client.close()


async def test_good_structured_reply_is_rendered_with_citations_and_usage(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.reply(escalation_reply())
    progress: list[str] = []
    preview = await make_generator().generate(full_bundle(), "escalate", on_progress=progress.append)

    assert preview.generator == "claude" and preview.model == "claude-sonnet-5-5"
    assert preview.fallback_reason is None and preview.flagged_items == []
    assert (preview.usage.input_tokens, preview.usage.output_tokens) == (950, 210)
    assert preview.redaction_count == 1 and preview.state_version == 7
    md = preview.markdown
    assert "## Problem\nFinance users cannot open the intranet over VPN. [F1]" in md
    assert "## Current hypothesis\nThe VPN profile may not push the internal DNS suffix. [F5]" in md
    assert "1. Check the DNS suffix setting in the VPN profile. [F5, X2]" in md
    assert "Impact: The whole finance team. [F1]" in md and "CHECK" not in md
    assert len(progress) >= 2 and progress[-1] == md  # partial renders streamed before the final one
    assert "Claude (claude-sonnet-5-5)" in preview.header()

    [request] = fake_anthropic.requests
    body = request.body
    assert body["stream"] is True and body["model"] == "claude-sonnet-5-5"
    assert body["tool_choice"] == {"type": "tool", "name": "write_escalation_package"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    sent = json.dumps(body)
    assert SECRET not in sent and "[REDACTED:password]" in sent
    assert '<fact id=\\"F5\\" kind=\\"hypothesis\\">' in sent
    assert request.headers["authorization"] == "Bearer test-key"


async def test_unknown_fact_id_is_flagged_not_dropped(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    confirmed = [*GOOD_ESCALATION["confirmed"], {"text": "Split tunnelling is disabled.", "fact_ids": ["F99"]}]
    fake_anthropic.reply(escalation_reply(confirmed=confirmed))
    preview = await make_generator().generate(full_bundle(), "escalate")

    assert preview.generator == "claude" and preview.fallback_reason is None
    assert [(f.section, f.index, f.reason) for f in preview.flagged_items] == [
        ("confirmed", 1, "cites unknown fact F99")
    ]
    assert "- Split tunnelling is disabled. [F99] [CHECK: cites unknown fact F99]" in preview.markdown
    assert "1 item(s) flagged for review" in preview.header()


async def test_uncited_item_hypothesis_as_fact_and_empty_section_are_flagged(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.reply(
        escalation_reply(
            confirmed=[{"text": "The DNS suffix is missing.", "fact_ids": ["F5"]}],
            tried=[],
            next_steps=[{"text": "Call the vendor.", "fact_ids": []}],
        )
    )
    preview = await make_generator().generate(full_bundle(), "escalate")
    reasons = {(f.section, f.reason) for f in preview.flagged_items}
    assert ("confirmed", "cites F5 (hypothesis), not a confirmed fact") in reasons
    assert ("confirmed", "presents a hypothesis as confirmed") in reasons
    assert ("next_steps", "no fact cited") in reasons
    assert ("tried", "section empty although 3 related item(s) are recorded") in reasons
    assert (
        "## What we've tried\nNone recorded. [CHECK: section empty although 3 related item(s) are recorded]"
        in preview.markdown
    )
    assert "1. Call the vendor. [CHECK: no fact cited]" in preview.markdown


async def test_resolution_note_cites_per_section_and_posts_plain(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    from flowpilot_tui.services.post_gate import text_to_post

    fake_anthropic.reply(resolution_reply())
    good = await make_generator().generate(full_bundle(), "resolve")
    assert good.flagged_items == [] and good.generator == "claude"
    assert good.markdown == (
        "Issue reported: You reported that the intranet would not open over VPN. [F1]\n\n"
        "What we found: The laptop kept stale DNS entries. [X2]\n\n"
        "What we did: We flushed the DNS cache and reconnected the VPN. [F7]\n\n"
        "How we verified: The intranet loads again. [F7]\n"
    )  # the empty follow-up is left out; the ids are for the editor only
    posted = text_to_post(good.markdown, customer_visible=True)
    assert "[F" not in posted and "[X" not in posted and "##" not in posted
    body = fake_anthropic.requests[0].body
    assert body["tool_choice"]["name"] == "write_resolution_note"
    schema = body["tools"][0]["input_schema"]
    assert schema["properties"]["verification"]["required"] == ["text", "fact_ids"]
    assert "fact_ids" not in schema["properties"]  # no note-wide set any more


async def test_resolution_section_citing_the_wrong_fact_or_a_hypothesis_is_flagged(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.reply(
        resolution_reply(
            root_cause={"text": "The VPN profile does not push the internal DNS suffix.", "fact_ids": ["F5"]},
            # F7 records the outcome, but verification cites the symptom: checked against ITS citation
            verification={"text": "Users can open the intranet over VPN.", "fact_ids": ["F1"]},
        )
    )
    bad = await make_generator().generate(full_bundle(), "resolve")
    reasons = {(f.section, f.reason) for f in bad.flagged_items}
    assert ("verification", "not supported by F1: records no outcome or check") in reasons
    assert ("root_cause", "rests on internal-only items F5 (hypothesis or dismissed fix)") in reasons
    assert ("root_cause", "presents hypothesis F5 as root cause") in reasons
    assert {f.section for f in bad.flagged_items} == {"root_cause", "verification"}
    assert "How we verified: Users can open the intranet over VPN. [F1] [CHECK: not supported by F1" in bad.markdown


async def test_p2_reply_with_one_fact_id_set_still_renders_and_empty_verification_is_flagged(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    legacy = {
        "summary": "You reported that the intranet would not open over VPN.",
        "root_cause": "The cause could not be determined.",
        "fix_applied": "We flushed the DNS cache and reconnected the VPN.",
        "verification": "",
        "follow_up": "None.",
        "fact_ids": ["F1", "F7"],
    }
    fake_anthropic.reply(message(tool_use_block("write_resolution_note", legacy)))
    preview = await make_generator().generate(full_bundle(), "resolve")
    assert preview.generator == "claude" and preview.fallback_reason is None
    assert [(f.section, f.reason) for f in preview.flagged_items] == [
        ("verification", "section empty although 1 related item(s) are recorded")
    ]
    assert "What we found: The cause could not be determined.\n" in preview.markdown  # stock wording, no ids
    assert "How we verified: (empty) [CHECK: section empty although 1 related item(s) are recorded]" in preview.markdown
    assert "Follow-up" not in preview.markdown


async def test_secret_echoed_by_the_model_is_flagged(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.reply(
        resolution_reply(fix_applied={"text": "We set the password: Autumn!99 and reconnected.", "fact_ids": ["F7"]})
    )
    preview = await make_generator().generate(full_bundle(), "resolve")
    assert [(f.section, f.reason) for f in preview.flagged_items] == [("fix_applied", "contains a secret-like string")]


async def test_429_is_retried_then_succeeds(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.error(429, "rate_limit_error", "Slow down", headers={"retry-after-ms": "1"})
    fake_anthropic.reply(escalation_reply())
    preview = await make_generator(max_retries=2).generate(full_bundle(), "escalate")
    assert preview.generator == "claude" and preview.fallback_reason is None
    assert fake_anthropic.request_count == 2
    assert [r.headers["x-stainless-retry-count"] for r in fake_anthropic.requests] == ["0", "1"]


async def test_overloaded_falls_back_to_offline_with_a_notice(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    for _ in range(3):
        fake_anthropic.error(529, "overloaded_error", "Overloaded", headers={"retry-after-ms": "1"})
    gen = make_generator(max_retries=2)
    preview = await gen.generate(full_bundle(), "escalate")
    assert fake_anthropic.request_count == 3
    assert preview.generator == "offline"
    assert preview.fallback_reason == "Claude is overloaded (HTTP 529); try again shortly"
    assert "fell back to the offline template: Claude is overloaded (HTTP 529); try again shortly" in preview.header()
    assert preview.markdown == gen.fallback.render("escalate", full_bundle())


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (lambda f: f.mid_stream_error(escalation_reply(), after=5), "The reply stream broke off (overloaded_error)"),
        (lambda f: f.truncated(escalation_reply()), "the reply stream ended early (truncated)"),
        (
            lambda f: f.reply(escalation_reply() | {"stop_reason": "max_tokens"}),
            "the reply hit the token limit (max_tokens)",
        ),
        (
            lambda f: f.error(401, "authentication_error", "invalid x-api-key"),
            "The API key was rejected (HTTP 401); check ANTHROPIC_API_KEY",
        ),
        (
            lambda f: f.reply(message(tool_use_block("write_escalation_package", {"confirmed": []}))),
            "the reply did not match the note format (problem: Field required)",
        ),
        (
            lambda f: f.reply(message({"type": "text", "text": "Here is the package..."})),
            "the reply had no structured note",
        ),
    ],
    ids=["mid-stream-error", "truncated", "max-tokens", "401", "schema", "no-tool-call"],
)
async def test_failed_replies_fall_back_and_say_why(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
    script: Callable[[FakeAnthropic], object],
    reason: str,
) -> None:
    script(fake_anthropic)
    preview = await make_generator().generate(full_bundle(), "escalate")
    assert preview.generator == "offline"
    assert preview.fallback_reason == reason
    assert "test-key" not in preview.header()
    assert "## Problem" in preview.markdown and fake_anthropic.request_count == 1


async def test_mid_stream_error_still_reports_tokens_spent(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.mid_stream_error(escalation_reply(), after=4)
    preview = await make_generator().generate(full_bundle(), "escalate")
    assert preview.usage.input_tokens == 950


async def test_timeout_falls_back(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    fake_anthropic.reply(escalation_reply(), delay=30)
    preview = await make_generator(timeout_s=0.3).generate(full_bundle(), "resolve")
    assert preview.generator == "offline"
    assert preview.fallback_reason == "Claude did not answer in time (timeout)"
    assert preview.markdown.startswith("Issue reported:")


async def test_fake_server_enforces_the_tool_result_rule(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    import anthropic

    client = make_generator().client
    history: list[Any] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [tool_use_block("record_facts", {"facts": []}, id="toolu_1")]},
        {"role": "user", "content": "next question"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="tool_use` ids were found without `tool_result"):
        await client.messages.create(model="m", max_tokens=10, messages=history)
    fake_anthropic.reply(message({"type": "text", "text": "ok"}))
    history[2] = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "recorded"},
            {"type": "text", "text": "next question"},
        ],
    }
    reply = await client.messages.create(model="m", max_tokens=10, messages=history)
    assert reply.content[0].text == "ok"


async def test_a_long_session_sends_a_bounded_request_and_the_header_says_facts_were_left_out(
    fake_anthropic: FakeAnthropic,
    make_generator: Callable[..., ClaudeGenerator],
) -> None:
    from flowpilot_tui.services.generation.prompt import FACTS_CHARS
    from flowpilot_tui.services.generation.types import BundleFact

    base = full_bundle()
    extra = [
        BundleFact(id=f"F{100 + i}", kind="symptom", text=f"Event log entry {i}: " + "intermittent drop " * 30)
        for i in range(62)
    ]
    bundle = base.model_copy(update={"facts": base.facts + extra})
    fake_anthropic.reply(escalation_reply())
    preview = await make_generator().generate(bundle, "escalate")

    [request] = fake_anthropic.requests
    content = request.body["messages"][0]["content"]
    assert len(content) < FACTS_CHARS + 3_000  # 62 long facts would be ~35k characters
    assert 'kind="confirmed"' in content and 'kind="tried"' in content  # what the note rests on is kept
    assert preview.facts_left_out > 0
    assert f"{preview.facts_left_out} fact(s) left out of the request (size limit)" in preview.header()
