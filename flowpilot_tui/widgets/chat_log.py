"""Chat history that stays cheap for thousands of messages.

Why this shape: a window of history is ONE `Static` holding a Rich `Group` (not a widget per message); older
windows load on demand ("Load earlier") as further single `Static`s. Only the reply being streamed is a live
`Markdown` widget fed by one `ReplyStream`: frames of at most 40 ms; whole blocks go into the Markdown (at most
every 0.3 s), the block still being written shows in a cheap `Static` tail; no full update unless the stored text
differs from what streamed.
The view is anchored to the bottom and follows new text until the engineer scrolls up. Every message body goes
through `safe_text`: no markup, no terminal controls.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from flowpilot_tui import heap
from flowpilot_tui.safe_text import plain, strip_controls
from flowpilot_tui.services.assistant_tools import cards_of
from flowpilot_tui.services.views import MessageView
from flowpilot_tui.widgets.rendered_lines import RenderedLines

if TYPE_CHECKING:
    from textual.widgets import Markdown

ROLE_LABEL = {"user": "You", "assistant": "Assistant", "system": "Note", "tool": "Tool"}
RICH_ROLE_STYLE = {"user": "bold cyan", "assistant": "bold blue", "system": "italic", "tool": "dim"}
MARKDOWN_RECENT = 20  # newest assistant messages rendered as Markdown; older ones as plain text (cheap)
REPLY_FRAME_S = 0.04  # the streamed reply is updated at most once per 40 ms, and always at the end
REPLY_BLOCK_S = 0.3  # whole blocks move from the tail into the reply's Markdown at most this often
TAIL_STEP = 4  # the tail (the blocks not yet in the Markdown) grows this many lines at a time


def header(role: str, when: str = "", note: str = "") -> Text:
    line = Text(ROLE_LABEL.get(role, role), style=RICH_ROLE_STYLE.get(role, "bold"))
    if when:
        line.append(f"  {when}", style="dim")
    if note:
        line.append(f"  {note}", style="italic yellow")
    return line


def render_messages(messages: list[MessageView], markdown_from: int) -> Group:
    """One renderable for many messages; assistant messages at index >= markdown_from render as Markdown."""
    parts: list[RenderableType] = []
    for i, m in enumerate(messages):
        parts.append(
            header(m.role, m.created_at.astimezone().strftime("%H:%M"), "(interrupted)" if m.interrupted else "")
        )
        if m.role == "assistant" and i >= markdown_from:
            parts.append(RichMarkdown(strip_controls(m.content), hyperlinks=False))
        else:
            parts.append(plain(m.content))
        for card in cards_of(m):  # what the message recorded (facts, fixes): shown again on reload
            parts.append(header("tool", note=card.kind))
            parts.append(plain(card_line(card.title, card.detail)))
        parts.append(Text(""))
    return Group(*parts)


def card_line(title: str, detail: str) -> str:
    return f"{title} — {detail}" if title and detail else (title or detail)


class ChatLog(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    ChatLog { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
    ChatLog > .history { height: auto; }
    ChatLog > #earlier { width: 100%; height: 1; min-width: 0; border: none; margin-bottom: 1; }
    ChatLog > #notice { height: auto; margin-bottom: 1; color: $text-muted; text-style: italic; }
    ChatLog > .reply { height: auto; margin: 0 0 1 0; padding: 0; }
    ChatLog > .reply-tail { height: auto; margin: 0 0 1 0; }  /* the block being streamed */
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[tuple[str, str]] = []  # (role, text) oldest first, for copy
        self.oldest_id: int | None = None
        self._stream: ReplyStream | None = None
        self._reply: Markdown | None = None
        self._reply_text: list[str] = []
        self.last_reply: str | None = None  # the newest reply's text once its stream has ended on screen
        self._settling: Worker[None] | None = None  # the ended reply's tail moving into its Markdown
        self._release_gc: Callable[[], None] | None = None  # no full collection until the final frame (heap.py)

    def compose(self) -> Any:
        notice = Static("", id="notice")
        notice.display = False
        yield notice
        earlier = Button("▲ Load earlier messages (ctrl+l)", id="earlier", compact=True)
        earlier.display = False
        yield earlier

    def on_mount(self) -> None:
        self.anchor()

    def set_notice(self, text: str) -> None:
        """A standing note above the history (e.g. why the assistant is offline and how to enable it)."""
        notice = self.query_one("#notice", Static)
        notice.update(plain(text))
        notice.display = bool(text)

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    # ---- history ----------------------------------------------------------------------------------------------

    async def show_history(self, messages: list[MessageView], has_more: bool, earlier: bool = False) -> None:
        if messages:
            self.oldest_id = messages[0].id
        self.query_one("#earlier", Button).display = has_more
        if not messages:
            return
        markdown_from = len(messages) if earlier else max(0, len(messages) - MARKDOWN_RECENT)
        block = RenderedLines(render_messages(messages, markdown_from), classes="history")
        pairs = [(m.role, m.content) for m in messages]
        if earlier:
            await self.mount(block, after=self.query_one("#earlier"))
            self.entries[:0] = pairs
        else:
            await self.mount(block)
            self.entries.extend(pairs)
            self.scroll_end(animate=False, immediate=True)

    # ---- live messages ----------------------------------------------------------------------------------------

    async def add_message(self, role: str, text: str, note: str = "") -> None:
        """A single message appended live (the engineer's line, an offline note, a tool card)."""
        await self.mount(Static(Group(header(role, note=note), plain(text), Text("")), classes="history"))
        self.entries.append((role, text))

    async def start_reply(self) -> None:
        from textual.widgets import Markdown

        await self.settled()
        self._release_gc = heap.hold_full_collection()
        await self.mount(Static(header("assistant"), classes="history"))
        self._reply = Markdown("", classes="reply", open_links=False)
        tail = Static("", classes="reply-tail")
        tail.display = False
        await self.mount_all([self._reply, tail])
        self._stream = ReplyStream(self._reply, REPLY_FRAME_S, tail)
        self._reply_text = []
        self.last_reply = None
        self.anchor()

    async def write_chunk(self, text: str) -> None:
        """A frame of the reply; "" (the service's end of text): all of it on screen at once, the rest in the tail,
        before the reply is stored; `finish_reply` then moves the tail into the Markdown."""
        if not text:
            if self._stream is not None:
                self._stream.show_all()  # one repaint of the tail, no Markdown mount or layout on this path
                self.last_reply = "".join(self._reply_text)
                if not self._stream.tail_shown:
                    self.refresh()  # still a frame that carries the end (the last blocks may be painted already)
            return
        if self._stream is None:
            await self.start_reply()
        assert self._stream is not None
        text = strip_controls(text)
        self._reply_text.append(text)
        self._stream.write(text)

    async def finish_reply(self, final: str | None, *, interrupted: bool = False, error: str | None = None) -> None:
        """End the reply; the text on screen is exactly the reply: the stored text, or for a cancelled reply every
        chunk that arrived. The stream drains in a task of its own (`settled()` waits for it): moving the last
        blocks into the Markdown mounts widgets for 60-400 ms on a loaded machine, and awaited here it held up the
        screen's queue, so the frame with the complete text (in the tail) came only after it. Only when the stored
        text differs from what streamed is the Markdown rebuilt (a full update re-mounts every block)."""
        if self._stream is None and not (final or error):
            return
        if self._stream is None:
            await self.start_reply()
        assert self._stream is not None and self._reply is not None
        stream, reply = self._stream, self._reply
        self._stream = None
        self._reply = None
        text = strip_controls(final) if final is not None else "".join(self._reply_text)
        self.last_reply = text
        self.entries.append(("assistant", text))
        if interrupted or error:
            note = "(interrupted — partial reply kept)" if interrupted else f"(failed: {error})"
            await self.mount(Static(plain(note, style="italic yellow"), classes="history"))
        self._settling = self.run_worker(self._settle(stream, reply, text), group="reply-settle", exit_on_error=False)

    async def _settle(self, stream: ReplyStream, reply: Markdown, text: str) -> None:
        try:
            if stream.tail_shown:
                stream.show_all()
                await self._next_frame()  # the frame with all of the text (in the tail) first, then the move
            with self.app.batch_update():  # the tail goes in the same frame as the blocks arrive: no doubled text
                await stream.stop()
                if reply.source != text:
                    await reply.update(text)
            await self._next_frame()
        finally:
            self._let_gc_run()  # the deferred full collection now runs after the final frame, not before it

    async def _next_frame(self) -> None:
        with contextlib.suppress(TimeoutError):  # bounded: a suspended app paints no frame
            await asyncio.wait_for(self.wait_for_refresh(), 1.0)

    def _let_gc_run(self) -> None:
        if self._release_gc is not None:
            self._release_gc()
            self._release_gc = None

    async def settled(self) -> None:
        """Wait until an ended reply's Markdown holds its text (and the tail is gone)."""
        if self._settling is not None:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self._settling.wait()
            self._settling = None

    def on_unmount(self) -> None:
        if self._stream is not None:
            self._stream.abandon()
        if self._settling is not None:
            self._settling.cancel()  # (workers of a removed widget are cancelled anyway; this one said so)
        self._let_gc_run()


def block_boundary(text: str) -> int:
    """Where the whole blocks of `text` end: just after its last blank line outside a code fence (0: none yet).
    `text` starts at a block boundary (outside any fence)."""
    end = 0
    fence = ""
    pos = 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if not line.endswith("\n"):
            break  # the line being written
        stripped = line.strip()
        marker = stripped[:3]
        if fence:
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = ""
        elif marker in ("```", "~~~") and len(line) - len(line.lstrip(" ")) < 4:
            fence = stripped[: len(stripped) - len(stripped.lstrip(marker[0]))]
        elif not stripped:
            end = pos
    return end


class ReplyStream:
    """The one Markdown stream of a reply, in frames, a whole block at a time.

    Text written meanwhile is taken at most once per `frame_s` (however often `write` is called). Whole blocks (up
    to the last blank line outside a code fence) are appended to the Markdown; the block still being written is
    shown in `tail`, one `Static` holding a Rich Markdown of that block: re-parsing a Markdown block and laying out
    the whole screen per frame cost most of the UI's time while streaming. `stop()` appends what is left and
    returns only when no append is in flight, so the Markdown then holds exactly every chunk, and a full update can
    never be overtaken by a late append."""

    def __init__(
        self, markdown: Markdown, frame_s: float, tail: Static | None = None, block_s: float = REPLY_BLOCK_S
    ) -> None:
        self.markdown = markdown
        self.frame_s = frame_s
        self.tail = tail
        self.block_s = block_s
        self._appended_at = -math.inf
        self._all_shown = False
        self.appends = 0  # Markdown updates made (one per frame at most)
        self._pending: list[str] = []
        self._open = ""  # the block being written (shown in `tail`, not yet in the Markdown)
        self._tail_lines = 0
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    def write(self, text: str) -> None:
        if text:
            self._pending.append(text)
            self._wake.set()

    async def _frame(self) -> None:
        text = self._open + "".join(self._pending)
        self._pending.clear()
        now = asyncio.get_running_loop().time()
        if self._all_shown:
            cut = 0  # the end is on screen: nothing moves until stop()
        elif self.tail is None:
            cut = len(text)
        else:  # whole blocks, and not more often than block_s: each append re-lays out the whole screen
            cut = block_boundary(text) if now - self._appended_at >= self.block_s else 0
        whole, self._open = text[:cut], text[cut:]
        if whole:
            self.appends += 1
            self._appended_at = now
            await self.markdown.append(whole)
        self._show_tail()

    def _show_tail(self) -> None:
        if self.tail is None:
            return
        text = self._open.rstrip("\n")
        shown = RichMarkdown(text, hyperlinks=False) if text.strip() else Text("")
        lines = 0
        if text.strip():
            console = self.tail.app.console
            width = max(self.tail.content_region.width or self.tail.app.size.width, 1)
            lines = len(console.render_lines(shown, console.options.update_width(width), pad=False))
        # Height reserved TAIL_STEP lines at a time, so a layout pass of the whole screen (the cost) comes every few
        # lines, not with each line the tail grows by; in between the tail is only repainted.
        height = -(-lines // TAIL_STEP) * TAIL_STEP
        if height != self._tail_lines:
            self.tail.styles.height = max(height, 1)
        self.tail.update(shown, layout=False)
        self._tail_lines = height
        if self.tail.display != bool(lines):  # an empty tail takes no line
            self.tail.display = bool(lines)

    async def _run(self) -> None:
        while not self._closing.is_set():
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                await self._frame()
            with contextlib.suppress(TimeoutError):  # pace to frames; ends at once when the reply finishes
                await asyncio.wait_for(self._closing.wait(), self.frame_s)
        rest = self._open + "".join(self._pending)  # the end: the open block and whatever came in the last frame
        self._pending.clear()
        if rest:
            self.appends += 1
            await self.markdown.append(rest)
        self._open = ""
        self._show_tail()  # the tail empties once its text is in the Markdown (in one batch, see ChatLog._settle)

    @property
    def tail_shown(self) -> bool:
        return self.tail is not None and bool(self.tail.display)

    def show_all(self) -> None:
        """The text is complete: show what has not reached the Markdown in the tail now (a repaint, at most one
        layout), and move nothing more until `stop()`."""
        self._all_shown = True
        if self.tail is not None:
            self._open += "".join(self._pending)
            self._pending.clear()
            self._show_tail()

    async def stop(self) -> None:
        self._closing.set()
        self._wake.set()
        await self._task

    def abandon(self) -> None:
        self._task.cancel()
