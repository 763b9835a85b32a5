"""Every path toward the model redacts first: a cut never leaves half a secret, and the model's own earlier
replies and tool inputs are re-checked when the history is re-sent; the script writer's prompt too."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flowpilot_tui.services import assistant_prompt
from flowpilot_tui.services.assistant_prompt import MESSAGE_CHARS, Redactor, rebuild_messages
from flowpilot_tui.services.script_writer import _user_prompt
from flowpilot_tui.services.views import MessageView

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _msg(i: int, role: str, content: str, meta: dict | None = None) -> MessageView:
    return MessageView(i, role, content, False, meta, NOW)


def test_a_secret_across_the_cut_is_masked_before_the_message_is_cut() -> None:
    secret = "Sp4ceCadet!2024"
    prefix = "x " * ((MESSAGE_CHARS - 12) // 2)
    text = prefix + f"password: {secret} " + "y" * 500
    assert len(prefix) < MESSAGE_CHARS < len(prefix) + len("password: ") + len(secret)  # the cut lands in it
    red = Redactor()
    sent = json.dumps(rebuild_messages([_msg(1, "user", text)], red))
    assert red.count == 1
    for n in range(4, len(secret) + 1):
        assert secret[:n] not in sent


def test_the_models_own_reply_and_tool_inputs_are_redacted_when_re_sent() -> None:
    tool = {
        "id": "tu_1",
        "name": "record_facts",
        "input": {"facts": [{"kind": "tried", "text": "net user jdoe Temp#4455 /add"}]},
    }
    history = [
        _msg(1, "user", "The admin password is Adm1n!2024, can you help?"),
        _msg(
            2,
            "assistant",
            "The admin password you gave me is Adm1n!2024 - I will not repeat it.",
            {"tool_uses": [tool], "tool_results": [{"tool_use_id": "tu_1", "content": "Recorded 1 fact."}]},
        ),
        _msg(3, "user", "thanks"),
    ]
    red = Redactor()
    sent = json.dumps(rebuild_messages(history, red))
    assert "Adm1n!2024" not in sent and "Temp#4455" not in sent
    assert "admin password you gave me is [REDACTED:password]" in sent
    assert red.count >= 3


def test_script_writer_prompt_is_redacted() -> None:
    red = Redactor()
    prompt = _user_prompt(
        red,
        "powershell",
        "Map the finance share",
        "creds: svc_map:M4p!Share",
        ["net use Z: \\\\fs01\\finance Fin2024! /user:CONTOSO\\mwilson"],
        ["Wi-Fi key: Guest2024Cafe"],
        False,
    )
    assert not any(s in prompt for s in ("M4p!Share", "Fin2024!", "Guest2024Cafe"))
    assert red.count == 3
    assert assistant_prompt.clip("abc", 2).startswith("ab")
