"""Data shapes for note generation: what generators read (SessionBundle) and what they return.

Both generators fill the same pydantic models (EscalationPackage, ResolutionNote) and share one renderer, so
the live and offline outputs are interchangeable and only the content differs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowpilot_tui.services.redact import RedactedItem

PreviewKind = Literal["resolve", "escalate"]
NONE_RECORDED = "None recorded."
NOTE_SECTIONS = ("summary", "root_cause", "fix_applied", "verification", "follow_up")
# Texts that say nothing: a resolution-note section holding one of these is left out of the customer's note.
PLACEHOLDERS = frozenset(
    {
        "",
        "none",
        "none.",
        "none recorded.",
        "none yet.",
        "not recorded.",
        "not verified yet.",
        "n/a",
        "no changes were recorded.",
    }
)


def says_nothing(text: str) -> bool:
    return " ".join(text.split()).lower() in PLACEHOLDERS


# ---- input: the redacted view of a session -----------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class BundleFact(_Frozen):
    """A fact with its stable id (F + the fact's DB id): the same id the chat cards show, unchanged by deletes."""

    id: str
    kind: str  # symptom | environment | confirmed | tried | hypothesis
    text: str
    outcome: str | None = None
    source: str | None = None


class BundleFix(_Frozen):
    """A suggested fix (id X1..Xn); `decision` None means undecided, `superseded` means replaced by a newer one."""

    id: str
    title: str
    rationale: str = ""
    steps: list[str] = Field(default_factory=list)
    target_shell: str | None = None
    decision: str | None = None  # one_off | draft_template | build_template | dismissed
    superseded: bool = False

    @property
    def is_current(self) -> bool:
        return not self.superseded and self.decision != "dismissed"


class BundleScript(_Frozen):
    """A script produced for a fix (id S1..Sn); only what it is, never its body, goes to the model."""

    id: str
    shell: str
    fix_id: str | None = None
    generator: str = "offline"


class BundleTicket(_Frozen):
    connection: str | None = None
    ticket_id: str | None = None
    title: str | None = None


class BundleMessage(_Frozen):
    role: str
    text: str


class SessionBundle(_Frozen):
    """Everything a generator may see. All free text is already redacted; `redactions` never leaves the machine."""

    session_id: str
    title: str
    status: str
    state_version: int
    ticket: BundleTicket | None = None
    facts: list[BundleFact] = Field(default_factory=list)
    fixes: list[BundleFix] = Field(default_factory=list)
    scripts: list[BundleScript] = Field(default_factory=list)
    chat_excerpt: list[BundleMessage] = Field(default_factory=list)
    redactions: list[RedactedItem] = Field(default_factory=list, exclude=True, repr=False)

    @property
    def redaction_count(self) -> int:
        return len(self.redactions)

    def facts_of(self, kind: str) -> list[BundleFact]:
        return [f for f in self.facts if f.kind == kind]

    def current_fix(self) -> BundleFix | None:
        """The active suggested fix unless the engineer dismissed it."""
        return next((f for f in reversed(self.fixes) if f.is_current), None)

    def ids(self) -> dict[str, str]:
        """Every citable id mapped to what it is: a fact kind, "fix:<decision>" or "script"."""
        out = {f.id: f.kind for f in self.facts}
        out.update({x.id: f"fix:{x.decision or 'undecided'}" for x in self.fixes})
        out.update({s.id: "script" for s in self.scripts})
        return out


# ---- output: structured notes ------------------------------------------------------------------------------


class CitedItem(BaseModel):
    text: str
    fact_ids: list[str] = Field(default_factory=list)


class EscalationPackage(BaseModel):
    """Internal handoff: the five sections plus environment, impact and an explicit ask where known."""

    problem: CitedItem
    confirmed: list[CitedItem]
    tried: list[CitedItem]
    hypothesis: CitedItem
    next_steps: list[CitedItem]
    environment: list[CitedItem] = Field(default_factory=list)
    impact: CitedItem | None = None
    ask: CitedItem | None = None


class ResolutionNote(BaseModel):
    """Customer-visible closure note. Each section cites its own ids (shown in the editor as `[F1]`, stripped from
    what is posted); a section whose text says nothing (see `says_nothing`) is left out of the note.

    The p2 shape (plain strings plus one note-wide `fact_ids`) is still read: every section then cites that set.
    """

    summary: CitedItem
    root_cause: CitedItem
    fix_applied: CitedItem
    verification: CitedItem
    follow_up: CitedItem = Field(default_factory=lambda: CitedItem(text=""))

    @model_validator(mode="before")
    @classmethod
    def _note_wide_ids(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        shared = data.get("fact_ids")
        out = {k: v for k, v in data.items() if k != "fact_ids"}
        for key in NOTE_SECTIONS:
            if isinstance(out.get(key), str):
                ids = [i for i in shared if isinstance(i, str)] if isinstance(shared, list) else []
                out[key] = {"text": out[key], "fact_ids": ids}
        return out

    def sections(self) -> list[tuple[str, CitedItem]]:
        return [(name, getattr(self, name)) for name in NOTE_SECTIONS]

    @property
    def fact_ids(self) -> list[str]:
        """Every id the note cites, in section order, once each."""
        out: list[str] = []
        for _, item in self.sections():
            out += [i for i in item.fact_ids if i not in out]
        return out


class FlaggedItem(BaseModel):
    """An item that failed a grounding check; it stays in the preview, marked for the engineer."""

    section: str
    index: int | None = None  # position in a list section; None for the section / a single field
    text: str = ""
    reason: str


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


class GeneratedPreview(BaseModel):
    """A rendered note plus provenance. `redactions` is local-only and never persisted."""

    kind: PreviewKind
    markdown: str
    generator: Literal["offline", "claude"]
    model: str | None = None
    template_version: str
    usage: Usage = Field(default_factory=Usage)
    redaction_count: int = 0
    redactions: list[RedactedItem] = Field(default_factory=list, exclude=True, repr=False)
    flagged_items: list[FlaggedItem] = Field(default_factory=list)
    facts_left_out: int = 0  # facts not sent to the model because the request is bounded
    fallback_reason: str | None = None
    from_cache: bool = False
    state_version: int
    request_id: str | None = None
    created_at: datetime | None = None

    def header(self) -> str:
        """One line for the preview header: who wrote it, what was redacted, what needs checking."""
        if self.generator == "claude":
            parts = [f"Claude ({self.model})", f"{self.usage.input_tokens} in / {self.usage.output_tokens} out tokens"]
        else:
            parts = [f"Offline template {self.template_version}"]
        if self.fallback_reason:
            parts.append(f"fell back to the offline template: {self.fallback_reason}")
        parts.append(f"{self.redaction_count} item(s) redacted")
        if self.facts_left_out:
            parts.append(f"{self.facts_left_out} fact(s) left out of the request (size limit)")
        if self.flagged_items:
            parts.append(f"{len(self.flagged_items)} item(s) flagged for review")
        if self.from_cache:
            parts.append("cached")
        return " · ".join(parts)
