"""Change a ticket's status and prove it: a 200 on the PATCH is only a claim (reference §5.4).

Recipe: read the ticket; check the target is an active status of *its* board (cached, refreshed once on a miss);
skip the PATCH if the ticket is already there; PATCH; re-read and compare the status id (and closedFlag for closed
statuses); optionally re-read once more after a pause, because workflow rules can move the ticket right after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flowpilot_tui.services.psa.base import BoardStatus, PsaProvider, TicketState
from flowpilot_tui.services.psa.errors import PsaCallError
from flowpilot_tui.services.writeback_types import NoteRef, StatusChangeError, StatusVerificationError

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class StatusResult:
    status_id: int
    status_name: str
    already: bool  # the ticket was in the target status before we touched it


def _in_target(ticket: TicketState, target: BoardStatus) -> bool:
    return ticket.status_id == target.id and (ticket.closed or not target.closed)


async def _usable_target(provider: PsaProvider, ticket: TicketState, target_id: int) -> BoardStatus | None:
    for refresh in (False, True):  # a cached list may predate a status the admin just added
        statuses = await provider.list_board_statuses(ticket.board_id, refresh=refresh)
        target = next((s for s in statuses if s.id == target_id), None)
        if target is not None and not target.inactive:
            return target
    return None


def _verify(after: TicketState, target: BoardStatus, note: NoteRef) -> None:
    if _in_target(after, target):
        return
    shown = after.status_name or f"status #{after.status_id}"
    if after.status_id == target.id:
        shown += " but not closed"
    raise StatusVerificationError(
        f"ConnectWise accepted the change but ticket #{after.id} shows {shown} "
        f"(note #{note.external_note_id} is posted; the session stays open and a retry will not post it again)",
        note=note,
        observed_status_id=after.status_id,
        observed_status_name=after.status_name,
        target_status_id=target.id,
    )


async def apply_status(
    provider: PsaProvider, note: NoteRef, target_id: int, *, pref_name: str, sleep: Sleep, recheck_after_s: float
) -> StatusResult:
    ticket_id = note.ticket_id
    try:
        before = await provider.get_ticket(ticket_id)
        target = await _usable_target(provider, before, target_id)
        if target is None:
            raise StatusChangeError(
                f"Note #{note.external_note_id} is on ticket #{ticket_id}, but status #{target_id} is not an active "
                f"status of its board '{before.board_name}', so the status was not changed; fix {pref_name} in the "
                "account preferences",
                note=note,
            )
        if _in_target(before, target):
            return StatusResult(before.status_id, before.status_name, already=True)
        await provider.set_status(ticket_id, target.id)
        after = await provider.get_ticket(ticket_id)
        _verify(after, target, note)
        if recheck_after_s > 0:
            await sleep(recheck_after_s)
            after = await provider.get_ticket(ticket_id)
            _verify(after, target, note)
    except PsaCallError as exc:
        raise StatusChangeError(
            f"Note #{note.external_note_id} is on ticket #{ticket_id}, but the status was not changed: {exc}", note=note
        ) from exc
    return StatusResult(after.status_id, after.status_name, already=False)
