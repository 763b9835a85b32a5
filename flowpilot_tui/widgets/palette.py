"""The command palette (ctrl+p): Textual's, with the dialogs' cheaper opening (screen_base.KeptBackdrop).

Over a workspace it drew the dimmed workspace twice while the commands were listed and restyled every node it had
just mounted: about 35 of the ~105 ms it took to appear at 120×36.
"""

from __future__ import annotations

from textual.command import CommandPalette

from flowpilot_tui.widgets.screen_base import KeptBackdrop


class Palette(KeptBackdrop, CommandPalette):
    pass
