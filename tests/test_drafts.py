"""Draft bookkeeping without a terminal: what makes a draft, stale rules, flush order and failure, fetch order."""

from __future__ import annotations

import pytest

from flowpilot_tui.services.drafts import DraftBook, KindText, fetch_text
from flowpilot_tui.services.errors import PsaError


def loaded(text: str = "generated", base: int | None = 12) -> KindText:
    return KindText(text, "generated", "generated offline", base, loaded=True)


def test_an_actual_change_makes_a_dirty_draft_a_load_does_not() -> None:
    book = DraftBook()
    assert not book.capture("resolve", "typed before loading", 12)  # nothing loaded yet: not an edit
    book.loaded("resolve", loaded())
    assert not book.capture("resolve", "generated", 12) and not book.dirty  # same text: no change
    assert book.capture("resolve", "generated, edited", 12)
    st = book["resolve"]
    assert st.is_draft and st.origin == "draft" and book.dirty == {"resolve"}
    assert st.source == "your edited draft (based on v12)" and not st.saved
    book.loaded("resolve", loaded("fresh"))  # a reload replaces the text and clears the dirty mark
    assert not book.dirty and book["resolve"].text == "fresh"


def test_the_closed_sessions_note_is_a_record_not_a_draft() -> None:
    book = DraftBook()
    book.loaded("resolve", KindText("posted note", "final", "saved", None, loaded=True))
    assert not book.capture("resolve", "changed", 14) and not book.dirty


def test_stale_when_the_session_moved_past_the_base_version() -> None:
    book = DraftBook()
    book.loaded("escalate", loaded(base=12))
    assert not book.is_stale("escalate", 12) and book.is_stale("escalate", 13)
    assert not book.is_stale("escalate", None)  # session not known yet
    book.loaded("resolve", KindText("stored", "stored", "", None, loaded=True))
    assert not book.is_stale("resolve", 99)  # no base: nothing to compare
    assert book.capture("resolve", "stored, edited", 20) and book["resolve"].base_version == 20


async def test_flush_writes_the_newest_text_of_each_kind_and_marks_it_saved() -> None:
    book, saved = DraftBook(), []

    async def save(kind: str, text: str, base: int) -> None:
        saved.append((kind, text, base))

    for kind in ("resolve", "escalate"):
        book.loaded(kind, loaded(base=None))
        book.capture(kind, f"{kind} v1", None)
    book.capture("resolve", "resolve v2", None)
    await book.flush(save, 7)
    assert sorted(saved) == [("escalate", "escalate v1", 7), ("resolve", "resolve v2", 7)]
    assert not book.dirty and book["resolve"].saved and book["escalate"].saved


async def test_a_failed_save_keeps_the_draft_dirty() -> None:
    book = DraftBook()
    book.loaded("resolve", loaded())
    book.capture("resolve", "precious", 12)

    async def save(kind: str, text: str, base: int) -> None:
        raise PsaError("database is locked")

    with pytest.raises(PsaError):
        await book.flush(save, 12)
    assert book.dirty == {"resolve"} and book["resolve"].text == "precious" and not book["resolve"].saved


def test_forget_and_unload() -> None:
    book = DraftBook()
    book.loaded("resolve", loaded())
    book.capture("resolve", "mine", 12)
    book.unload("resolve")
    assert not book.dirty and not book["resolve"].loaded
    book.forget("resolve")
    assert book["resolve"] == KindText()


async def test_fetch_prefers_the_draft_then_the_closed_note_then_the_generator(sessions, engineer) -> None:  # type: ignore[no-untyped-def]
    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.container import Services

    services = Services(Settings(db_url="sqlite+aiosqlite://", user="alice"), sessions.store, engineer, sessions.clock)
    created = await sessions.create("Printer offline")
    detail = await sessions.get(created.id)
    generated = await fetch_text(sessions, services.generation, detail, "resolve")
    assert generated.origin == "generated" and generated.base_version == detail.summary.state_version
    await sessions.save_draft(created.id, "resolve", "my \x1b[31mdraft", 1)
    draft = await fetch_text(sessions, services.generation, detail, "resolve")
    assert draft.origin == "draft" and draft.text == "my draft" and draft.saved  # control sequences stripped
    again = await fetch_text(sessions, services.generation, detail, "resolve", regenerate=True)
    assert again.origin == "generated"  # regenerate skips the draft
