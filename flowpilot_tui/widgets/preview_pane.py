"""The Resolve / Escalate preview: renders one kind's note in an editor with a header, and asks for things.

Why it owns nothing: the session, the drafts and the post flow belong to the screen that hosts the pane (the
workspace). The pane is given a `PreviewView` to show and posts intent messages (edited, toggle, regenerate,
confirm, copy, redactions); the owner reads `editor_text` when it handles them, so the newest keystroke counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static, TextArea

from flowpilot_tui import keymap
from flowpilot_tui.services import rules, wording
from flowpilot_tui.services.drafts import Kind, KindText
from flowpilot_tui.widgets.ordered_keys import OrderedTextArea, after_typed_keys

if TYPE_CHECKING:
    from textual.geometry import Size


class NoteEditor(OrderedTextArea):
    """The note editor: a TextArea whose keys act in the order typed (see ordered_keys).

    Wrapped when its size is set, before it is drawn: TextArea rewraps on the Resize event that follows, after the
    first frame drew the note wrapped for the old width (unwrapped, on opening), so every opening drew it twice."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if self.soft_wrap and self.wrapped_document._width != self.wrap_width:
            self._rewrap_and_refresh_virtual_size()
        return resized

    def _on_resize(self, event: events.Resize) -> None:  # type: ignore[override]  # Textual dispatches by name
        if self.soft_wrap and self.wrapped_document._width == self.wrap_width:
            event.prevent_default()  # already wrapped at this width (above): TextArea's rewrap would redraw it


VIEWER_REASON = "Read-only (viewer): you can read and copy this text; editing, regenerating and posting are disabled."


@dataclass(frozen=True)
class PreviewView:
    """Everything the pane shows, handed over by its owner (a snapshot, not shared state)."""

    kind: Kind
    text: KindText
    state_version: int | None = None  # None: the session is still loading
    status: str = ""
    ticket_id: int | None = None
    stale: bool = False
    posting: bool = False
    error: str = ""

    def target(self) -> str:
        return "…" if self.state_version is None else wording.target(self.kind, self.ticket_id)


class PreviewPane(Widget, can_focus=False):
    """`PreviewPane(can_write=..., cursor_blink=...)`; the owner calls `show(view)` and handles its messages."""

    DEFAULT_CSS = """
    PreviewPane { layout: vertical; height: 1fr; }
    PreviewPane > #pv-kind { padding: 0 1; text-style: bold; background: $warning 25%; }
    PreviewPane.-escalate > #pv-kind { background: $primary 25%; }
    PreviewPane > #pv-meta { padding: 0 1; color: $text-muted; }
    PreviewPane > #pv-stale { padding: 0 1; color: $error; text-style: bold; display: none; }
    PreviewPane.-stale > #pv-stale { display: block; }
    PreviewPane > #pv-readonly { padding: 0 1; color: $warning; }
    PreviewPane > #pv-text { height: 1fr; }
    """
    BINDINGS = keymap.bindings("preview")

    class Edited(Message):
        """The engineer changed the text in the editor."""

    class ToggleRequested(Message):
        """Switch Resolve <-> Escalate."""

    class RegenerateRequested(Message):
        pass

    class ConfirmRequested(Message):
        """Open Confirm & post for the shown kind."""

    class CopyRequested(Message):
        pass

    class RedactionsRequested(Message):
        pass

    def __init__(self, *, can_write: bool, cursor_blink: bool = True, kind: Kind = "resolve", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.can_write = can_write
        self.cursor_blink = cursor_blink
        self.view = PreviewView(kind, KindText())
        self._shown: KindText | None = None  # the text object last put into the editor

    def compose(self) -> ComposeResult:
        yield Static(id="pv-kind")
        yield Static(id="pv-meta")
        yield Static(id="pv-stale")
        if not self.can_write:
            yield Static(Text(VIEWER_REASON), id="pv-readonly")
        area = NoteEditor(
            id="pv-text", soft_wrap=True, read_only=not self.can_write, show_line_numbers=False, placeholder="Loading…"
        )
        area.cursor_blink = self.cursor_blink
        yield area

    def on_mount(self) -> None:
        self.show(self.view)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#pv-text", TextArea)

    @property
    def editor_text(self) -> str:
        return self.text_area.text

    @property
    def editable(self) -> bool:
        st = self.view.text
        return self.can_write and st.loaded and not self.view.posting and not st.final

    def show(self, view: PreviewView) -> None:
        """Render `view`. The editor's content is replaced only by a *new* text (a load, regenerate, the other kind,
        a post): while the owner still holds the same `KindText` it merely echoes what the editor had when it
        captured it, and keys typed since (still queued, or applied after the capture) must not be undone by an
        autosave, a session reload or any other re-render."""
        previous = self.view
        self.view = view
        if not self.is_mounted:
            return
        st, area = view.text, self.text_area
        area.placeholder = "" if st.loaded else "Loading…"
        if st.loaded and not st.text:
            area.placeholder = "No text yet: write the note here." if self.can_write else "No text."
        area.read_only = not self.editable
        echo = self._shown is st and previous.kind == view.kind
        if not echo and area.text != st.text:
            area.load_text(st.text)
            area.move_cursor((0, 0))
        self._shown = st
        self._render_header()

    def _render_header(self) -> None:
        view, st = self.view, self.view.text
        self.set_class(view.kind == "escalate", "-escalate")
        self.refresh_bindings()
        self.query_one("#pv-kind", Static).update(Text(f"{wording.KIND_LABEL[view.kind]}  ·  {view.target()}"))
        if view.posting:
            meta = wording.posting_meta(view.ticket_id)
        else:
            parts = [f"state v{view.state_version}" if view.state_version is not None else "state …"]
            if view.error:
                parts.append(view.error)
            elif not st.loaded:
                parts.append("loading…")
            else:
                parts.append(st.source)
                if st.is_draft:
                    parts.append("draft saved" if st.saved else "saving draft…")
            meta = " · ".join(p for p in parts if p)
        self.query_one("#pv-meta", Static).update(Text(meta))
        self.set_class(view.stale, "-stale")
        if view.stale:
            what = "edited" if st.is_draft else "generated"
            self.query_one("#pv-stale", Static).update(
                Text(
                    f"STALE: the session changed after this text was {what} (v{st.base_version} → now "
                    f"v{view.state_version}). Review it, or regenerate (ctrl+g)."
                )
            )

    @on(TextArea.Changed, "#pv-text")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.editable and event.text_area.text != self.view.text.text:
            self.post_message(self.Edited())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in keymap.WRITE_ACTIONS["preview"] and not self.can_write:
            return None  # shown disabled; the header explains why
        if action == "confirm_post" and self.view.status and not rules.allowed(self.view.kind, self.view.status):
            return False  # already resolved / escalated: nothing to post (not offered in the footer)
        if action == "regenerate" and self.view.text.final:
            return None  # the saved note of a closed session is a record, not a draft
        return True

    # The intents are posted behind the keys already typed into the editor (see ordered_keys.after_typed_keys), so
    # the owner captures the editor with every one of them.

    def _ask(self, message: Message) -> None:
        after_typed_keys(self.app, self.post_message, message)

    def action_toggle_kind(self) -> None:
        self._ask(self.ToggleRequested())

    def action_regenerate(self) -> None:
        self._ask(self.RegenerateRequested())

    def action_confirm_post(self) -> None:
        self._ask(self.ConfirmRequested())

    def action_copy(self) -> None:
        self._ask(self.CopyRequested())

    def action_show_redactions(self) -> None:
        self.post_message(self.RedactionsRequested())
