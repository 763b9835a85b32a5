"""PSA providers (ConnectWise first): post notes, read tickets and statuses, change status. See `base.PsaProvider`."""

from flowpilot_tui.services.psa.base import (
    BoardStatus,
    NoteVisibility,
    PostedNote,
    PsaCall,
    PsaProvider,
    TicketState,
    collect_calls,
    normalize_note_text,
)

__all__ = [
    "BoardStatus",
    "NoteVisibility",
    "PostedNote",
    "PsaCall",
    "PsaProvider",
    "TicketState",
    "collect_calls",
    "normalize_note_text",
]
