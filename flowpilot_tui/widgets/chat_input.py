"""Multi-line chat input: Enter sends, ctrl+j / alt+enter insert a newline (both remappable by binding id).

Why not Shift+Enter: most terminals deliver it as plain Enter (Textual #5667); ctrl+j and alt+enter arrive
everywhere. Tab completes a slash command when exactly one matches, otherwise moves focus as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from flowpilot_tui import keymap
from flowpilot_tui.widgets.ordered_keys import OrderedTextArea

PLACEHOLDER = "Message · Enter sends · ctrl+j newline · /help"


class ChatInput(OrderedTextArea):
    """Send, newline, Backspace, arrows… run from the key handler in the order typed (see ordered_keys): a priority
    binding would act before the characters typed just before Enter were inserted and cut the message."""

    BINDINGS = [
        *keymap.bindings("chat", only=["chat.send", "chat.newline"]),
        *keymap.bindings("chat_input"),
    ]

    @dataclass
    class Submitted(Message):
        text: str

    def __init__(self, *, id: str | None = None, cursor_blink: bool = True) -> None:
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            placeholder=PLACEHOLDER,
            id=id,
            compact=True,
        )
        self.cursor_blink = cursor_blink
        self.slash_commands: list[tuple[str, str]] = []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "complete":
            return self._completion() is not None
        if action == "send":
            return not self.read_only
        return True

    def action_send(self) -> None:
        """Post the text and clear at once, so keys typed after Enter start the next message (not wiped later)."""
        if self.text.strip():
            text = self.text
            self.clear()
            self.post_message(self.Submitted(text))

    def restore(self, text: str) -> None:
        """Put back a message that was not sent, ahead of anything typed since."""
        self.text = text if not self.text else text + "\n" + self.text
        self.move_cursor(self.document.end)

    def action_newline(self) -> None:
        self.insert("\n")

    def _completion(self) -> str | None:
        text = self.text
        if not text.startswith("/") or " " in text or "\n" in text:
            return None
        matches = [name for name, _ in self.slash_commands if name.startswith(text) and name != text]
        return matches[0] if len(matches) == 1 else None

    def action_complete(self) -> None:
        name = self._completion()
        if name:
            self.text = name + " "
            self.move_cursor(self.document.end)

    def matching_commands(self) -> list[tuple[str, str]]:
        """Slash commands matching what is typed so far (for the hint line under the input)."""
        text = self.text
        if not text.startswith("/") or "\n" in text:
            return []
        word = text.split(" ", 1)[0]
        return [(n, h) for n, h in self.slash_commands if n.startswith(word)]
