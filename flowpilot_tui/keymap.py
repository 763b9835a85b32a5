"""Registry of every key binding: one id, default keys, action and description per entry.

Why one registry: every screen and widget builds its `BINDINGS` from it (no `Binding(...)` is written anywhere else),
the help screen and the command palette list it, and the user's `keymap` setting (binding id -> keys) is validated
against it, so the three can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Key:
    id: str
    keys: str
    action: str
    description: str
    scope: str
    show: bool = True
    priority: bool = False
    writes: bool = False  # disabled for viewers
    key_display: str | None = None


SCOPES: dict[str, str] = {
    "app": "Everywhere",
    "list": "Session list",
    "queue": "Escalation queue",
    "tickets": "Ticket picker",
    "workspace": "Workspace",
    "chat": "Chat (focus with F2)",
    "chat_input": "Chat input",
    "facts": "Facts (focus with F3)",
    "fix": "Suggested fix (focus with F4)",
    "preview": "Preview (focus with F5)",
    "dialog": "Dialogs",
    "confirm_post": "Confirm & post dialog",
    "discard_draft": "Discard-draft question",
    "script": "Script viewer",
    "template": "Template builder",
    "redactions": "Redactions list",
    "help": "This help screen",
}

KEYS: tuple[Key, ...] = (
    Key("app.help", "f1,question_mark", "help", "Help / keys", "app", key_display="F1"),
    Key("app.commands", "ctrl+p", "command_palette", "Commands", "app", show=False, priority=True),
    Key("app.theme", "ctrl+t", "change_theme", "Theme", "app", show=False),
    Key("app.quit", "ctrl+q", "quit", "Quit", "app", priority=True),
    Key("list.open", "enter", "open", "Open", "list"),
    Key("list.new", "ctrl+n", "new_session", "New session", "list", writes=True),
    Key("list.from_ticket", "ctrl+o", "new_from_ticket", "From ticket", "list", show=False, writes=True),
    Key("list.search", "ctrl+f,slash", "focus_search", "Search", "list"),
    Key("list.status", "f3", "cycle_status", "Status filter", "list"),
    Key("list.next_page", "right_square_bracket", "next_page", "Next page", "list", key_display="]"),
    Key("list.prev_page", "left_square_bracket", "prev_page", "Prev page", "list", key_display="["),
    Key("list.refresh", "f5", "refresh", "Refresh", "list", show=False),
    Key("list.queue", "f6", "queue", "Escalation queue", "list"),
    Key("queue.open", "enter", "open", "Open", "queue"),
    Key("queue.take", "t", "take", "Take over", "queue", writes=True),
    Key("queue.refresh", "f5", "refresh", "Refresh", "queue", show=False),
    Key("queue.back", "escape", "back", "Back", "queue"),
    Key("tickets.open", "enter", "choose", "Start session", "tickets"),
    Key("tickets.search", "ctrl+f,slash", "focus_search", "Search", "tickets"),
    Key("tickets.more", "right_square_bracket", "load_more", "Load more", "tickets", key_display="]"),
    Key("tickets.refresh", "f5", "refresh", "Refresh", "tickets", show=False),
    Key("tickets.back", "escape", "back", "Back", "tickets"),
    Key("workspace.back", "escape", "back", "Back", "workspace"),
    Key("workspace.pane_chat", "f2", "pane('chat')", "Chat", "workspace", priority=True),
    Key("workspace.pane_facts", "f3", "pane('facts')", "Facts", "workspace", priority=True),
    Key("workspace.pane_fix", "f4", "pane('fix')", "Fix", "workspace", priority=True),
    Key("workspace.pane_preview", "f5", "pane('preview')", "Preview", "workspace", priority=True),
    Key("workspace.toggle_kind", "ctrl+k", "toggle_kind", "Resolve/Escal.", "workspace", priority=True),
    Key(
        "workspace.regenerate",
        "ctrl+g",
        "regenerate",
        "Regenerate",
        "workspace",
        show=False,
        writes=True,
        priority=True,
    ),
    Key("workspace.post", "f9", "post", "Confirm & post…", "workspace", writes=True, priority=True),
    Key("workspace.copy_preview", "f10", "copy_preview", "Copy preview", "workspace", show=False, priority=True),
    Key("workspace.redactions", "f6", "show_redactions", "Redacted…", "workspace", show=False, priority=True),
    Key("workspace.pause", "f7", "pause_resume", "Pause/Resume", "workspace", show=False, writes=True, priority=True),
    Key(
        "workspace.escalate",
        "f8",
        "request_escalation",
        "Ask escalation…",
        "workspace",
        show=False,
        writes=True,
        priority=True,
    ),
    Key("workspace.reload", "ctrl+r", "reload", "Reload", "workspace", show=False, priority=True),
    Key(
        "workspace.sync_ticket",
        "ctrl+s",
        "sync_ticket",
        "Sync ticket",
        "workspace",
        show=False,
        writes=True,
        priority=True,
    ),
    Key("chat.send", "enter", "send", "Send", "chat", writes=True),  # handled in ChatInput._on_key, in key order
    Key("chat.newline", "ctrl+j,alt+enter", "newline", "Newline", "chat", key_display="^j"),
    Key("chat.cancel", "escape", "cancel_reply", "Cancel reply", "chat"),
    Key("chat.copy", "ctrl+y", "copy_message", "Copy message…", "chat", priority=True),
    Key("chat.earlier", "ctrl+l", "load_earlier", "Load earlier", "chat", show=False),
    Key("chat.complete", "tab", "complete", "Complete /cmd", "chat_input", show=False),
    Key("facts.add", "a,insert", "add", "Add fact", "facts", writes=True),
    Key("facts.edit", "e,enter", "edit", "Edit", "facts", writes=True),
    Key("facts.delete", "delete,d", "delete", "Delete…", "facts", writes=True),
    Key("fix.one_off", "o", "decide('one_off')", "One-off script", "fix", writes=True),
    Key("fix.draft_template", "t", "decide('draft_template')", "Draft template", "fix", writes=True),
    Key("fix.build_template", "b", "decide('build_template')", "Build template", "fix", writes=True),
    Key("fix.dismiss", "ctrl+x", "decide('dismissed')", "Dismiss", "fix", writes=True),
    Key("fix.history", "h", "history", "History", "fix"),
    # They act while focus is in the preview; the workspace.* keys act from anywhere.
    Key("preview.toggle_kind", "ctrl+k", "toggle_kind", "Resolve/Escalate", "preview", priority=True),
    Key("preview.regenerate", "ctrl+g", "regenerate", "Regenerate", "preview", writes=True),
    Key("preview.confirm", "f9", "confirm_post", "Confirm & post…", "preview", writes=True),
    Key("preview.copy", "f10", "copy", "Copy", "preview"),
    Key("preview.redactions", "f6", "show_redactions", "Redacted…", "preview", show=False, priority=True),
    Key("dialog.confirm", "y", "confirm", "Confirm", "dialog"),
    Key("dialog.cancel", "escape", "cancel", "Cancel", "dialog"),
    Key("dialog.no", "n", "cancel", "No", "dialog", show=False),
    # Modal screens.
    Key("confirm_post.cancel", "escape", "cancel", "Cancel", "confirm_post"),
    Key("confirm_post.confirm", "ctrl+y,ctrl+enter", "confirm", "Post", "confirm_post", key_display="ctrl+y"),
    Key("discard_draft.keep", "escape", "keep", "Keep draft", "discard_draft"),
    Key("discard_draft.discard", "ctrl+y", "discard", "Discard & regenerate", "discard_draft"),
    Key("script.copy", "c", "copy", "Copy", "script"),
    Key("script.close", "escape", "close", "Close", "script"),
    Key("template.save", "f2", "save", "Save", "template"),
    Key("template.close", "escape", "close", "Close", "template"),
    Key("redactions.close", "escape", "close", "Close", "redactions"),
    Key("help.close", "escape,f1,q", "close", "Close", "help"),
)

# Workspace keys are priority bindings: the focused editors (TextArea) bind f5-f7, ctrl+k, ctrl+y themselves and
# would otherwise swallow pane switching, pause and the preview keys while the engineer is typing.

BY_ID: dict[str, Key] = {k.id: k for k in KEYS}
WRITE_ACTIONS: dict[str, frozenset[str]] = {
    scope: frozenset(k.action.split("(")[0] for k in KEYS if k.scope == scope and k.writes) for scope in SCOPES
}


def bindings(scope: str, *, only: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[BindingType]:
    """Textual `Binding`s for one scope, each carrying its registry id (so `App.set_keymap` can remap it).
    The only place in the code base a `Binding` is written: screens and widgets take theirs from here.
    `only` / `exclude` pick entries of the scope by id."""
    wanted, unwanted = set(only), set(exclude)
    return [
        Binding(k.keys, k.action, k.description, show=k.show, priority=k.priority, id=k.id, key_display=k.key_display)
        for k in KEYS
        if k.scope == scope and (not wanted or k.id in wanted) and k.id not in unwanted
    ]


def of_scope(scope: str) -> list[Key]:
    return [k for k in KEYS if k.scope == scope]


def effective_keys(key: Key, keymap: Mapping[str, str]) -> str:
    """The keys a user actually presses for `key` after their keymap overrides."""
    return keymap.get(key.id, key.keys)


def display(keys: str) -> str:
    """Human form of a Textual key list: 'ctrl+j,alt+enter' -> 'ctrl+j, alt+enter'."""
    names = {"question_mark": "?", "slash": "/", "right_square_bracket": "]", "left_square_bracket": "["}
    return ", ".join(names.get(part.strip(), part.strip()) for part in keys.split(","))


def unknown_ids(keymap: Iterable[str]) -> list[str]:
    return sorted(i for i in keymap if i not in BY_ID)
