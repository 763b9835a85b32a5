"""Slash commands: parsing, recording through the session rules, the chat log line, and state_version."""

from __future__ import annotations

import pytest

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services import slash_commands as slash
from flowpilot_tui.services.assistant import AssistantService, cards_of
from flowpilot_tui.services.errors import InvalidInput


@pytest.fixture
def assistant(store, engineer, clock) -> AssistantService:
    return AssistantService(store, engineer, LlmSettings(), clock)


def test_parse_fact_kinds_tried_outcome_and_fix_steps() -> None:
    assert slash.parse("/fact VPN tunnel is up") == slash.SlashCommand(
        "/fact", kind="confirmed", text="VPN tunnel is up"
    )
    assert slash.parse("/ENV  Windows 11 23H2 ").kind == "environment"
    assert slash.parse("/symptom Outlook keeps prompting").kind == "symptom"
    tried = slash.parse("/tried Rebooted laptop -> no change")
    assert (tried.kind, tried.text, tried.outcome) == ("tried", "Rebooted laptop", "no change")
    assert slash.parse("/tried Flushed DNS → resolved").outcome == "resolved"
    assert slash.parse("/tried Cleared cache").outcome is None
    fix = slash.parse("/fix Reset the VPN profile | Remove profile; Re-import profile ;  ")
    assert (fix.title, fix.steps) == ("Reset the VPN profile", ("Remove profile", "Re-import profile"))
    assert slash.parse("/fix Just a title").steps == ()
    assert slash.parse("/help").name == "/help"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/fact", "/fact needs text"),
        ("/tried -> worked", "needs what was tried"),
        ("/fix | step one", "needs a title"),
        ("/var/log/syslog is full", "Unknown command /var/log/syslog"),
    ],
)
def test_bad_commands_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        slash.parse(line)


def test_completion_list_covers_every_command_and_escape() -> None:
    names = [name for name, _ in slash.slash_commands()]
    assert names == ["/fact", "/symptom", "/env", "/tried", "/hypothesis", "/fix", "/help"]
    assert all(desc.startswith(name) for name, desc in slash.slash_commands())
    assert slash.is_command(" /fact x") and not slash.is_command("//etc/hosts is empty")
    assert slash.unescape("//etc/hosts is empty") == "/etc/hosts is empty"


async def test_fact_commands_record_facts_log_the_line_and_bump_state_version(assistant, sessions) -> None:
    s = await sessions.create("VPN DNS failure")
    result = await assistant.send(s.id, "/fact VPN tunnel is up")
    assert result.error is None and result.reply is None
    assert [(c.kind, c.detail) for c in result.cards] == [("fact", "VPN tunnel is up")]
    await assistant.send(s.id, "/tried Rebooted laptop -> no change")
    await assistant.send(s.id, "/env Windows 11, GlobalProtect 6.1")
    await assistant.send(s.id, "/hypothesis DNS server not pushed by the VPN")
    detail = await sessions.get(s.id)
    assert [(f.kind, f.text, f.outcome, f.source) for f in detail.facts] == [
        ("confirmed", "VPN tunnel is up", None, "engineer"),
        ("tried", "Rebooted laptop", "no change", "engineer"),
        ("environment", "Windows 11, GlobalProtect 6.1", None, "engineer"),
        ("hypothesis", "DNS server not pushed by the VPN", None, "engineer"),
    ]
    assert detail.summary.state_version == s.state_version + 4
    log = await sessions.list_messages(s.id)
    assert [m.content for m in log][0] == "/fact VPN tunnel is up"
    assert cards_of(log[1])[0].title == f"Tried · F{detail.facts[1].id}"


async def test_fix_command_supersedes_the_active_fix(assistant, sessions) -> None:
    s = await sessions.create("Printer offline")
    await assistant.send(s.id, "/fix Restart spooler | Stop-Service Spooler; Start-Service Spooler")
    second = await assistant.send(s.id, "/fix Reinstall the driver | Remove driver; Add driver")
    assert "replaces “Restart spooler”" in second.cards[0].detail
    detail = await sessions.get(s.id)
    assert [f.title for f in detail.fixes] == ["Reinstall the driver", "Restart spooler"]
    assert detail.active_fix is not None and detail.active_fix.steps == ("Remove driver", "Add driver")
    assert detail.fixes[1].superseded_at is not None
    assert detail.summary.state_version == s.state_version + 2


async def test_bad_command_and_help_store_nothing(assistant, sessions) -> None:
    s = await sessions.create("Anything")
    bad = await assistant.send(s.id, "/fatc typo")
    assert bad.error and "Unknown command /fatc" in bad.error and bad.user_message is None
    helped = await assistant.send(s.id, "/help")
    assert helped.error is None and any("/tried TEXT [-> OUTCOME]" in c.title for c in helped.cards)
    assert await sessions.list_messages(s.id) == []
    assert (await sessions.get(s.id)).summary.state_version == s.state_version


async def test_offline_chat_is_the_engineers_log(assistant, sessions) -> None:
    s = await sessions.create("Outlook prompts")
    assert assistant.offline and 'llm.provider = "anthropic"' in assistant.offline_notice
    assert "ANTHROPIC_API_KEY" in assistant.offline_notice
    result = await assistant.send(s.id, "//etc/resolv.conf is empty on the VM")
    assert result.error is None and result.reply is None
    assert result.user_message is not None and result.user_message.content == "/etc/resolv.conf is empty on the VM"
    assert (await sessions.get(s.id)).facts == ()
    empty = await assistant.send(s.id, "   ")
    assert empty.error and empty.user_message is None


async def test_viewer_cannot_record(store, viewer, clock, sessions) -> None:
    s = await sessions.create("Read only")
    result = await AssistantService(store, viewer, LlmSettings(), clock).send(s.id, "/fact something")
    assert result.error and "viewer" in result.error
    assert (await sessions.get(s.id)).facts == ()
