"""Render untrusted text (users, tickets, the model) safely in the TUI.

Why: such text must never be parsed as Rich markup (``[bold]``, ``[link=...]``) and must never
carry terminal control sequences (e.g. ``ESC ] 52`` would write the user's clipboard). Every
widget showing untrusted text goes through :func:`plain` or :func:`strip_controls`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# C0 controls except \t and \n, DEL, and C1 controls (0x80-0x9f, e.g. CSI 0x9b / OSC 0x9d).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Whole escape sequences first, so their parameters don't survive as visible junk.
_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS / PM / APC / SOS ... ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c\x1b]*(?:\x07|\x9c)?"  # 8-bit OSC
)
# Bidi overrides/isolates can visually reorder text (Trojan-Source style); show them as nothing.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Return ``text`` without terminal control characters/sequences; keeps ``\\n`` and ``\\t``."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    return _BIDI.sub("", text)


# C0 controls (not \t / \n), DEL and a lone ESC shown as their Unicode "control pictures" (U+2400 block).
_PICTURES = {**{i: 0x2400 + i for i in range(0x20) if i not in (0x09, 0x0A)}, 0x7F: 0x2421}
_C1 = re.compile(r"[\x80-\x9f]")


def pasted_text(text: str) -> str:
    """What a paste inserts: whole escape sequences (colour codes, OSC ...) removed, line breaks as ``\\n``, other
    C0 controls shown visibly (``\\x03`` -> ``␃``, a lone ESC -> ``␛``) so nothing acts as a key or vanishes unseen;
    C1 controls removed. Joiners (U+200D) and every other printable or format character are kept as pasted."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    return _C1.sub("", text).translate(_PICTURES)


def plain(text: str | None, style: str = "") -> Text:
    """A Rich ``Text`` holding ``text`` literally (no markup parsing), controls stripped."""
    from rich.text import Text  # lazily: the services use this module and never import rich

    return Text(strip_controls(text or ""), style=style)


def one_line(text: str | None, limit: int = 0) -> str:
    """Single-line, control-free version of ``text`` (for table cells and titles), optionally clipped."""
    flat = " ".join(strip_controls(text or "").split())
    if limit and len(flat) > limit:
        return flat[: max(limit - 1, 0)] + "…"
    return flat
