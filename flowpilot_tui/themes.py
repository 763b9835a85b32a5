"""Themes offered by FlowPilot and how the chosen one is picked and remembered.

`ansi-dark` / `ansi-light` use the terminal's own palette and background: the safe choice over SSH into unknown
terminals. The user's last choice (ui_state) wins over the config default so picking a theme sticks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.theme import Theme

from flowpilot_tui import ui_state

if TYPE_CHECKING:
    from textual.app import App

FLOWPILOT = Theme(
    name="flowpilot",
    primary="#4EA1D3",
    secondary="#7FB069",
    accent="#E6AA68",
    warning="#E6AA68",
    error="#E4572E",
    success="#7FB069",
    background="#101820",
    surface="#18232E",
    panel="#22313F",
    dark=True,
)

OFFERED = ("flowpilot", "textual-dark", "textual-light", "ansi-dark", "ansi-light")


def register(app: App) -> None:
    app.register_theme(FLOWPILOT)


def initial_theme(app: App, configured: str) -> str:
    """Persisted choice, else the configured one, else Textual's default; unknown names are ignored."""
    available = app.available_themes
    for name in (ui_state.load().get("theme"), configured):
        if isinstance(name, str) and name in available:
            return name
    return "textual-dark"


def remember(name: str) -> bool:
    return ui_state.save({"theme": name})
