"""The chat column: assistant status line, the history log, the slash-command hint and the input.

Why a container widget: its keys (cancel reply, copy a message, load earlier) apply while focus is anywhere in the
chat, and Esc only means "cancel" while a reply is streaming (otherwise it falls through to the workspace's Back).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain, strip_controls
from flowpilot_tui.widgets.chat_input import ChatInput
from flowpilot_tui.widgets.chat_log import ChatLog


class ChatPane(Vertical):
    BINDINGS = keymap.bindings("chat", exclude=["chat.send", "chat.newline"])

    @dataclass
    class CancelRequested(Message):
        pass

    @dataclass
    class EarlierRequested(Message):
        pass

    def __init__(
        self, *, read_only_reason: str = "", cursor_blink: bool = True, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.read_only_reason = read_only_reason
        self.cursor_blink = cursor_blink

    def compose(self) -> ComposeResult:
        yield Static("", id="assistant-status", classes="hint")
        yield ChatLog(id="chat-log")
        yield Static("", id="slash-hint", classes="hint")
        chat_input = ChatInput(id="chat-input", cursor_blink=self.cursor_blink)
        if self.read_only_reason:
            chat_input.read_only = True
            chat_input.placeholder = self.read_only_reason
        yield chat_input

    def on_mount(self) -> None:
        self.query_one("#slash-hint").display = False

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def set_status(self, line: str, notice: str = "") -> None:
        """A one-line assistant status above the log; the longer notice scrolls with the history."""
        self.query_one("#assistant-status", Static).update(plain(line, style="italic"))
        self.log_view.set_notice(notice)

    @on(ChatInput.Changed)
    def update_hint(self) -> None:
        matches = self.input.matching_commands()
        hint = self.query_one("#slash-hint", Static)
        hint.display = bool(matches)
        if matches:
            line = Text()
            for name, help_text in matches[:6]:
                line.append(f"{name} ", style="bold")
                line.append(f"{help_text}   ", style="dim")
            hint.update(line)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reply":
            return self.log_view.streaming
        if action == "load_earlier":
            return self.query_one("#earlier").display or None
        if action == "copy_message":
            return bool(self.log_view.entries) or None
        return True

    def action_cancel_reply(self) -> None:
        self.post_message(self.CancelRequested())

    def action_load_earlier(self) -> None:
        self.post_message(self.EarlierRequested())

    def action_copy_message(self) -> None:
        from flowpilot_tui.widgets.message_picker import MessagePicker

        def copy(text: str | None) -> None:
            if text is not None:
                text = strip_controls(text)
                self.app.copy_to_clipboard(text)
                self.notify(f"Copied {len(text):,} characters to the clipboard (OSC 52)", title="Copied")

        self.app.push_screen(MessagePicker(self.log_view.entries), copy)

    @on(Button.Pressed, "#earlier")
    def earlier_pressed(self) -> None:
        self.post_message(self.EarlierRequested())
