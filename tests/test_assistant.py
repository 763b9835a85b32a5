"""The Claude chat path: the real anthropic SDK against the loopback fake server (no mocks of the client)."""

from __future__ import annotations

import asyncio
import json

import anthropic
import pytest
from fake_anthropic import FakeAnthropic, message, stream_events, text_block, tool_use_block

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services import assistant_prompt
from flowpilot_tui.services.assistant import AssistantService
from flowpilot_tui.services.assistant_prompt import build_request


def llm(fake: FakeAnthropic, **kw) -> LlmSettings:  # type: ignore[no-untyped-def]
    return LlmSettings(provider="anthropic", api_key="test-key", base_url=fake.base_url, **{"max_retries": 0, **kw})


@pytest.fixture
async def assistant(store, engineer, clock, fake_anthropic):  # type: ignore[no-untyped-def]
    svc = AssistantService(store, engineer, llm(fake_anthropic), clock)
    yield svc
    await svc.aclose()


FACTS_AND_FIX = message(
    text_block("Since the tunnel is up but names fail, the VPN is probably not pushing DNS."),
    tool_use_block(
        "record_facts",
        {
            "facts": [
                {"kind": "confirmed", "text": "VPN tunnel is up"},
                {"kind": "tried", "text": "Rebooted laptop", "outcome": "no change"},
            ]
        },
        id="toolu_facts1",
    ),
    tool_use_block(
        "propose_fix",
        {
            "title": "Flush DNS and reconnect",
            "rationale": "Stale resolver cache",
            "steps": ["`ipconfig /flushdns`", "Reconnect the VPN"],
            "target_shell": "powershell",
        },
        id="toolu_fix1",
    ),
)


async def test_streamed_reply_is_delivered_in_pieces_and_stored(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("VPN DNS failure")
    await sessions.add_fact(s.id, "symptom", "Internal names do not resolve on VPN")
    text = "Thanks. Since the VPN connects but DNS fails, let's flush the resolver cache."
    fake_anthropic.reply(message(text_block(text)))
    chunks: list[str] = []

    async def on_text(chunk: str) -> None:
        chunks.append(chunk)

    result = await assistant.send(s.id, "VPN connects but no DNS", on_text)
    assert result.error is None and not result.interrupted and result.cards == []
    assert len(chunks) > 1 and "".join(chunks) == text
    assert result.reply is not None and result.reply.content == text and not result.reply.interrupted
    assert [(m.role, m.content) for m in await sessions.list_messages(s.id)] == [
        ("user", "VPN connects but no DNS"),
        ("assistant", text),
    ]
    body = fake_anthropic.requests[-1].body
    assert body["stream"] is True and body["model"] == "claude-sonnet-5-5"
    assert [t["name"] for t in body["tools"]] == ["record_facts", "propose_fix"]
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Internal names do not resolve on VPN" in body["system"][1]["text"]  # facts in the preamble
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "VPN connects but no DNS"}]}]


async def test_tool_calls_record_facts_and_a_fix_superseding_the_old_one(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("VPN DNS failure")
    await sessions.propose_fix(s.id, "Reinstall the VPN client")
    before = (await sessions.get(s.id)).summary.state_version
    fake_anthropic.reply(FACTS_AND_FIX)
    result = await assistant.send(s.id, "Tunnel is up; I rebooted already, no change")
    assert result.error is None
    assert [(c.kind, c.detail) for c in result.cards] == [
        ("fact", "VPN tunnel is up"),
        ("fact", "Rebooted laptop → no change"),
        ("fix", "2 steps · powershell · replaces “Reinstall the VPN client”"),
    ]
    detail = await sessions.get(s.id)
    assert [(f.kind, f.text, f.outcome, f.source) for f in detail.facts] == [
        ("confirmed", "VPN tunnel is up", None, "assistant"),
        ("tried", "Rebooted laptop", "no change", "assistant"),
    ]
    assert [(f.title, f.active) for f in detail.fixes] == [
        ("Flush DNS and reconnect", True),
        ("Reinstall the VPN client", False),
    ]
    assert detail.summary.state_version == before + 3  # two facts and one fix, each a bump
    meta = result.reply.meta
    assert [u["id"] for u in meta["tool_uses"]] == ["toolu_facts1", "toolu_fix1"]
    assert [r["tool_use_id"] for r in meta["tool_results"]] == ["toolu_facts1", "toolu_fix1"]
    assert meta["cards"] == [c.to_json() for c in result.cards]  # shown again when the chat reloads


async def test_second_turn_answers_tool_uses_with_tool_results(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("VPN DNS failure")
    fake_anthropic.reply(FACTS_AND_FIX)
    await assistant.send(s.id, "Tunnel is up; rebooted, no change")
    fake_anthropic.reply(message(text_block("Good. Did the flush help?")))
    second = await assistant.send(s.id, "Flushed DNS, still failing")
    assert second.error is None and second.reply.content == "Good. Did the flush help?"
    sent = fake_anthropic.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert [b["type"] for b in sent[1]["content"]] == ["text", "tool_use", "tool_use"]
    results, text = sent[2]["content"][:2], sent[2]["content"][2]
    assert [(b["type"], b["tool_use_id"]) for b in results] == [
        ("tool_result", "toolu_facts1"),
        ("tool_result", "toolu_fix1"),
    ]
    assert "Recorded F" in results[0]["content"] and text == {"type": "text", "text": "Flushed DNS, still failing"}

    # The fake enforces the API's pairing rule: the same history without the results is a 400.
    stripped = [*sent[:2], {"role": "user", "content": [text]}]
    client = anthropic.AsyncAnthropic(api_key="test-key", base_url=fake_anthropic.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="tool_result"):
        await client.messages.create(model="claude-sonnet-5-5", max_tokens=10, messages=stripped)
    await client.close()


async def test_cancel_keeps_partial_text_marked_interrupted(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Slow reply")
    reply = message(text_block("First I would check the adapter, then the resolver."))
    first_piece = next(d["delta"]["text"] for name, d in stream_events(reply) if name == "content_block_delta")
    fake_anthropic.reply(reply, hold_after=3)  # message_start, block start, one text piece; then it stalls
    got_text = asyncio.Event()

    async def on_text(chunk: str) -> None:
        got_text.set()

    task = asyncio.create_task(assistant.send(s.id, "What next?", on_text))
    await asyncio.wait_for(got_text.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    msgs = await sessions.list_messages(s.id)
    assert [(m.role, m.interrupted) for m in msgs] == [("user", False), ("assistant", True)]
    assert msgs[1].content == first_piece == "First I would che"
    assert msgs[1].meta == {"interrupted_reason": "cancelled"}


async def test_mid_stream_error_keeps_partial_text_and_reports(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Overloaded")
    fake_anthropic.mid_stream_error(message(text_block("Let me check the DNS suffix list first.")), after=3)
    result = await assistant.send(s.id, "Any idea?")
    assert result.interrupted and result.error == "The reply stream broke off (overloaded_error)"
    assert result.reply is not None and result.reply.interrupted and result.reply.content == "Let me check "
    assert [m.role for m in await sessions.list_messages(s.id)] == ["user", "assistant"]


async def test_truncated_stream_keeps_text_and_applies_no_tools(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Truncated")
    fake_anthropic.truncated(FACTS_AND_FIX)
    result = await assistant.send(s.id, "Tunnel is up")
    assert result.interrupted and result.error == "The reply was cut off before it finished"
    assert result.reply.content.startswith("Since the tunnel is up") and result.cards == []
    detail = await sessions.get(s.id)
    assert detail.facts == () and detail.fixes == ()
    # The next turn sends the interrupted text without any tool_use, so the API accepts it.
    fake_anthropic.reply(message(text_block("Go on.")))
    assert (await assistant.send(s.id, "Continue")).error is None


async def test_rate_limit_is_retried_by_the_sdk(store, engineer, clock, sessions, fake_anthropic) -> None:
    s = await sessions.create("Busy")
    fake_anthropic.error(429, "rate_limit_error", "Slow down", headers={"retry-after-ms": "1"})
    fake_anthropic.reply(message(text_block("Here now.")))
    svc = AssistantService(store, engineer, llm(fake_anthropic, max_retries=2), clock)
    result = await svc.send(s.id, "Hello?")
    assert result.error is None and result.reply.content == "Here now."
    assert [r.headers["x-stainless-retry-count"] for r in fake_anthropic.requests] == ["0", "1"]
    fake_anthropic.error(429, "rate_limit_error", "Slow down", headers={"retry-after-ms": "1"})
    no_retry = AssistantService(store, engineer, llm(fake_anthropic, max_retries=0), clock)
    failed = await no_retry.send(s.id, "Again?")
    assert failed.error and "429" in failed.error and failed.user_message is not None
    await svc.aclose()
    await no_retry.aclose()


async def test_api_errors_become_messages_without_secrets(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Auth")
    fake_anthropic.error(401, "authentication_error", "invalid x-api-key")
    result = await assistant.send(s.id, "hi")
    assert result.error == "The API key was rejected (HTTP 401); check ANTHROPIC_API_KEY"
    assert "test-key" not in result.error and result.reply is None
    assert [m.content for m in await sessions.list_messages(s.id)] == ["hi"]  # the engineer's message is kept


async def test_secrets_are_redacted_in_everything_sent(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Mailbox login for jdoe")
    await sessions.add_fact(s.id, "confirmed", "Service account password: Tr0ub4dor&3xyz works on OWA")
    fake_anthropic.reply(
        message(
            text_block("Noted."),
            tool_use_block(
                "record_facts", {"facts": [{"kind": "tried", "text": "Logged in with api_key=AKIA1234567890ABCDEF"}]}
            ),
        )
    )
    await assistant.send(s.id, "Using token sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 from the vault")
    fake_anthropic.reply(message(text_block("Ok.")))
    result = await assistant.send(s.id, "Next?")
    assert result.redaction_count >= 3
    sent = json.dumps(fake_anthropic.requests[-1].body)
    for secret in ("Tr0ub4dor&3xyz", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "AKIA1234567890ABCDEF"):
        assert secret not in sent
    assert "[REDACTED:password]" in sent and "[REDACTED:api_key]" in sent
    stored = await sessions.list_messages(s.id)
    assert "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345" in stored[0].content  # kept locally, raw


async def test_history_is_bounded_but_facts_always_go(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Long session")
    await sessions.add_fact(s.id, "confirmed", "Printer is on VLAN 20")
    for i in range(30):
        await sessions.append_message(s.id, "user", f"question {i}")
        await sessions.append_message(s.id, "assistant", f"answer {i}")
    fake_anthropic.reply(message(text_block("ok")))
    await assistant.send(s.id, "latest question")
    body = fake_anthropic.requests[-1].body
    sent = body["messages"]
    assert len(sent) <= assistant_prompt.HISTORY_MESSAGES and sent[0]["role"] == "user"
    assert sent[-1]["content"][-1]["text"] == "latest question"
    assert "question 0" not in json.dumps(sent) and "Printer is on VLAN 20" in body["system"][1]["text"]


async def test_slash_commands_skip_the_model_and_stay_out_of_history(assistant, sessions, fake_anthropic) -> None:
    s = await sessions.create("Mixed")
    assert not assistant.offline and assistant.offline_notice == ""
    await assistant.send(s.id, "/fact Spooler is running")
    assert fake_anthropic.request_count == 0
    fake_anthropic.reply(message(text_block("ok")))
    await assistant.send(s.id, "What now?")
    body = fake_anthropic.requests[-1].body
    assert "Spooler is running" in body["system"][1]["text"]
    assert "/fact" not in json.dumps(body["messages"])


def test_rebuild_pairs_results_even_for_back_to_back_replies() -> None:
    from datetime import UTC, datetime

    from flowpilot_tui.services.views import MessageView, SessionDetail, SessionSummary

    now = datetime(2026, 11, 24, tzinfo=UTC)
    use = {
        "tool_uses": [{"id": "toolu_x", "name": "record_facts", "input": {"facts": []}}],
        "tool_results": [{"tool_use_id": "toolu_x", "content": "Error: empty", "is_error": True}],
    }
    history = [
        MessageView(1, "assistant", "orphan reply", False, None, now),  # window must start with user
        MessageView(2, "user", "q", False, None, now),
        MessageView(3, "assistant", "a", False, use, now),
        MessageView(4, "assistant", "partial", True, None, now),
        MessageView(5, "user", "q2", False, None, now),
    ]
    summary = SessionSummary("sid", "T", "active", "alice", "alice", None, None, 1, now, now)
    req = build_request(SessionDetail(summary, (), (), 5, None, None, None, None), history, "m")
    sent = req.params["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert sent[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_x", "content": "Error: empty", "is_error": True}
    ]
    assert sent[3]["content"][0]["text"] == "partial\n[reply interrupted]"
    from fake_anthropic import tool_result_violation

    assert tool_result_violation(sent) is None
