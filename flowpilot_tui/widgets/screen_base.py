"""Bases for every screen and dialog: three of Textual's costs of opening one, paid once instead of again and again.

- **The first resume does not restyle.** Textual restyles every node of a screen when it is pushed, a moment after
  mounting styled each of them (all 21 nodes of a workspace at 120×36). Shown again (after a dialog, after a pop),
  a screen is restyled as before: a theme may have changed meanwhile.
- **A dialog's backdrop is drawn again only when it changed.** Textual draws a modal's dimmed backdrop by rendering
  the whole screen beneath and re-colouring each of its segments, on every repaint of the dialog: two or three
  times while it opens (confirm & post at 120×36: 30 + 25 + 41 ms), mostly for the dialog's own layout. Here it
  is kept, and drawn again when the screen beneath changed (`FreshScreen.content_version` moves with its widgets'
  repaint requests and its layouts: a reply streaming in beneath still shows) or the size, theme or tint did.
- **No layout for a Resize to the current size.** Textual lays a screen out again for its first Resize (right
  after the resume laid it out) and lays out every screen beneath a dialog for the dialog's first resize.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from textual import messages
from textual._context import visible_screen_stack
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual import events
    from textual.geometry import Size
    from textual.strip import Strip

ResultType = TypeVar("ResultType")


class StyledOnMount:
    """For a screen class: its first resume skips the restyle (mounting styled every node a moment ago)."""

    _resumed_once = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed_once:
            self._resumed_once = True
            event.refresh_styles = False


class FreshScreen(StyledOnMount, Screen[ResultType]):
    """A full screen: no restyle on its first resume, no layout for a Resize to the size it has; `content_version`
    moves whenever what it shows may have changed (a dialog over it then draws its backdrop again)."""

    content_version = 0

    async def _on_update(self, message: messages.Update) -> None:
        if message.widget is not self:  # the screen's own refresh (on resume) repaints the same content
            self.content_version += 1

    async def _on_layout(self, message: messages.Layout) -> None:
        self.content_version += 1

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        self.content_version += 1
        super()._refresh_layout(size, scroll)

    def _screen_resized(self, size: Size) -> None:
        """Textual lays a screen out again for its first Resize event, right after the resume laid it out at that
        size (a second full layout and repaint of every opening), and every screen beneath a dialog for the
        dialog's first resize (which repainted their scrollbars, and so the dialog's backdrop). Laid out at this
        size already, with no layout pending, there is nothing to do."""
        if self._compositor.size == size and not (self._layout_required or self._layout_widgets):
            return
        super()._screen_resized(size)


class KeptBackdrop(StyledOnMount):
    """For a modal screen class: no restyle on its first resume, and its dimmed backdrop (the screen beneath) is
    drawn again only when that screen changed."""

    _backdrop: tuple[tuple[Any, ...], list[Strip]] | None = None

    def _backdrop_key(self: Any) -> tuple[Any, ...] | None:
        """What the backdrop shows depends on; None when that cannot be told (Textual then draws it every time)."""
        stack = self.app.screen_stack
        if self not in stack or stack.index(self) == 0:
            return None
        beneath = stack[stack.index(self) - 1]
        if not isinstance(beneath, FreshScreen):  # another dialog, or a screen of Textual's: no content version
            return None
        app = self.app
        return (id(beneath), beneath.content_version, self.size, self.styles.background, app.theme, app.ansi_color)

    def _render_content(self: Any) -> None:
        """Textual's render of the screen's own content (the backdrop), kept while its key holds."""
        key = self._backdrop_key()
        cached = self._backdrop
        if key is not None and cached is not None and cached[0] == key:
            try:
                visible_screen_stack.get().pop()  # as Screen.render does: the screen beneath is accounted for
            except (LookupError, IndexError):
                pass
            self._render_cache = type(self._render_cache)(self.size, cached[1])
            self._dirty_regions.clear()
            return
        super()._render_content()  # type: ignore[misc]
        self._backdrop = None if key is None else (key, self._render_cache.lines)


class Dialog(KeptBackdrop, ModalScreen[ResultType]):
    """A modal screen over a dimmed copy of the screen beneath, drawn again only when that screen changed."""
