"""Draft bookkeeping for the Resolve / Escalate note: what text each kind holds, where it came from, what is unsaved.

Why here and not in a widget: the engineer's edited note is the most expensive text in the app. Its rules (a change
makes it a dirty draft; a draft wins over generated text; a draft is stale when the session moved on after it was
based; flush writes the newest text, serialised; a failed save keeps it dirty) are plain logic, tested without a
terminal. The workspace owns one `DraftBook` per open session and applies these rules; the preview pane renders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from flowpilot_tui.safe_text import one_line, strip_controls
from flowpilot_tui.services.errors import DomainError
from flowpilot_tui.services.writeback_types import kind_spec

if TYPE_CHECKING:
    from flowpilot_tui.services.generation.service import GenerationService
    from flowpilot_tui.services.generation.types import GeneratedPreview
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.views import SessionDetail

Kind = Literal["resolve", "escalate"]
KINDS: tuple[Kind, ...] = ("resolve", "escalate")
Origin = Literal["draft", "generated", "stored", "final", "empty"]


def other_kind(kind: Kind) -> Kind:
    return "escalate" if kind == "resolve" else "resolve"


@dataclass
class KindText:
    """What is held for one kind. `text` is the in-memory copy of the editor (and of the draft)."""

    text: str = ""
    origin: Origin = "empty"
    source: str = ""  # provenance for the header
    base_version: int | None = None  # state_version the text was generated / edited from
    is_draft: bool = False
    saved_text: str | None = None  # last text written to the DB draft
    loaded: bool = False

    @property
    def saved(self) -> bool:
        return self.saved_text == self.text

    @property
    def final(self) -> bool:
        """The note recorded when the session was closed: a record, not a draft (read-only, never regenerated)."""
        return self.origin == "final"


SaveDraft = Callable[[str, str, int], Awaitable[None]]  # (kind, text, base_state_version)


class DraftBook:
    """Per-kind texts of one session plus the set of kinds whose draft is not yet written to the DB."""

    def __init__(self) -> None:
        self.texts: dict[Kind, KindText] = {k: KindText() for k in KINDS}
        self.dirty: set[Kind] = set()
        self._lock = asyncio.Lock()

    def __getitem__(self, kind: Kind) -> KindText:
        return self.texts[kind]

    def is_stale(self, kind: Kind, state_version: int | None) -> bool:
        """The session changed (facts, fixes…) after this text was generated or edited from it."""
        base = self.texts[kind].base_version
        return base is not None and state_version is not None and state_version > base

    def capture(self, kind: Kind, text: str, state_version: int | None) -> bool:
        """Take the editor's text; an actual change makes it a dirty draft based on the current state."""
        st = self.texts[kind]
        if not st.loaded or st.final or text == st.text:
            return False
        if st.base_version is None and state_version is not None:
            st.base_version = state_version
        if not st.is_draft:
            st.source = f"your edited draft (based on v{st.base_version})" if st.base_version else "your edited draft"
        st.text, st.is_draft, st.origin = text, True, "draft"
        self.dirty.add(kind)
        return True

    def loaded(self, kind: Kind, data: KindText) -> None:
        """Fresh text from the DB or the generator replaces what was held (a load is not an edit)."""
        self.texts[kind] = data
        self.dirty.discard(kind)

    def unload(self, kind: Kind) -> None:
        """About to regenerate: the held text no longer counts and is not saved."""
        self.dirty.discard(kind)
        self.texts[kind] = replace(self.texts[kind], loaded=False)

    def forget(self, kind: Kind) -> None:
        """A post succeeded: the writeback cleared the DB draft; drop ours."""
        self.dirty.discard(kind)
        self.texts[kind] = KindText()

    def mark_saved(self, kind: Kind, text: str) -> None:
        self.texts[kind].saved_text = text

    async def flush(self, save: SaveDraft, state_version: int | None) -> None:
        """Write every dirty draft (serialised; always the newest text). A failed save stays dirty and re-raises."""
        async with self._lock:
            while self.dirty:
                kind = self.dirty.pop()
                st = self.texts[kind]
                text = st.text
                try:
                    await save(kind, text, st.base_version or state_version or 0)
                except BaseException:
                    self.dirty.add(kind)
                    raise
                self.mark_saved(kind, text)


async def fetch_text(
    sessions: SessionService,
    generation: GenerationService,
    detail: SessionDetail,
    kind: Kind,
    *,
    regenerate: bool = False,
) -> KindText:
    """What the pane shows for `kind`: the draft, else the note of a closed session, else generated, else stored."""
    session_id = detail.summary.id
    draft = None if regenerate else await sessions.get_draft(session_id, kind)
    if draft is not None:
        text, base = strip_controls(draft[0]), draft[1]
        source = f"your edited draft (based on v{base})"
        return KindText(text, "draft", source, base, is_draft=True, saved_text=text, loaded=True)
    spec = kind_spec(kind)
    stored = (detail.resolution_note_markdown if kind == "resolve" else detail.escalation_package_markdown) or ""
    if stored and detail.summary.status == spec.outcome and not regenerate:
        source = f"the note saved when the session was {spec.outcome} (read-only)"
        return KindText(strip_controls(stored), "final", source, None, loaded=True)
    try:
        preview = await generation.preview(session_id, kind, regenerate=regenerate, with_redactions=False)
    except DomainError as exc:
        reason = f"generator unavailable: {one_line(exc.message)}"
    except Exception as exc:  # noqa: BLE001 - a generator bug must not cost the engineer the pane
        reason = f"generator unavailable ({type(exc).__name__})"
    else:
        return KindText(
            strip_controls(preview.markdown), "generated", provenance(preview), preview.state_version, loaded=True
        )
    if stored:
        return KindText(strip_controls(stored), "stored", f"{reason}; showing the stored text", None, loaded=True)
    return KindText("", "empty", f"{reason}; no stored text", None, loaded=True)


def provenance(preview: GeneratedPreview) -> str:
    """Header provenance of a generated note: generator, cache, fallback, redactions, flags."""
    if preview.generator == "claude":
        parts = [f"generated by Claude ({one_line(preview.model or '')})"]
    else:
        parts = [f"generated offline (template {one_line(preview.template_version)})"]
    if preview.from_cache:
        parts.append("from cache")
    if preview.fallback_reason:
        parts.append(f"fallback to offline: {one_line(preview.fallback_reason, 80)}")
    parts.append(f"{preview.redaction_count} redacted")
    if preview.flagged_items:
        parts.append(f"{len(preview.flagged_items)} flagged for review")
    return " · ".join(parts)
