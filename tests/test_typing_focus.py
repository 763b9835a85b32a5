"""Keys typed right behind a key that moves focus (Tab, Shift+Tab) go to the field focused by then: the App hands a
key to a widget only once the key before it was applied (a burst used to put "48213" typed after Tab into the
title)."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from typing_harness import burst, new_session_dialog, slowed_loop, until_drained


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("Printer offline\t48213", ("Printer offline", "48213")),  # Tab: the ticket field
        ("Disk full\t77<shift+tab><end> on C:", ("Disk full on C:", "77")),  # Shift+Tab: back to the title
    ],
    ids=["tab", "shift+tab"],
)
async def test_keys_typed_behind_a_focus_move_go_to_the_field_focused_by_then(
    store, engineer, clock, db_url, keys, expected
) -> None:
    async with new_session_dialog(store, engineer, clock, db_url) as (services, app, pilot):
        title, ticket = app.screen.query_one("#title", Input), app.screen.query_one("#ticket", Input)
        with slowed_loop():
            burst(app, keys)
            await until_drained(pilot, lambda: (title.value, ticket.value) == expected, "both fields as typed")
        assert (title.value, ticket.value) == expected


async def test_keys_typed_behind_a_dialog_closing_and_reopening_reach_the_new_dialog(store, engineer, clock, db_url):
    """Esc closes the dialog (its queue goes with it), ctrl+n opens a fresh one: the title typed right behind lands
    there, and nothing stalls."""
    from flowpilot_tui.screens.workspace import Workspace

    async with new_session_dialog(store, engineer, clock, db_url) as (services, app, pilot):
        with slowed_loop():
            burst(app, "Printer<escape><ctrl+n>Scanner jams\r")
            await until_drained(pilot, lambda: isinstance(app.screen, Workspace), "workspace of the new session")
        assert [s.title for s in (await services.sessions.list_sessions()).items] == ["Scanner jams"]
