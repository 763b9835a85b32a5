"""The command palette (ctrl+p): Textual's, with the dialogs' cheaper opening (screen_base.KeptBackdrop).

Over a workspace it drew the dimmed workspace twice while the commands were listed (16.7 + 11.6 ms at 120×36, no
burner, GC off) and restyled every node it had just mounted; opened this way, one probe went from 105.7 to 94.8 ms.
"""

from __future__ import annotations

from textual.command import CommandPalette

from flowpilot_tui.widgets.screen_base import KeptBackdrop


class Palette(KeptBackdrop, CommandPalette):
    pass
