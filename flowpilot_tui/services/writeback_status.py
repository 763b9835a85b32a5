"""Change a ticket's status and prove it: a 200 on the PATCH is only a claim (reference §5.4).

Recipe: know the ticket's board (from this connection's last read of the ticket, else one GET); check the target
is an active status of that board (cached per connection, refreshed once on a miss, dropped when a PATCH is
refused); skip the PATCH if the ticket is already there; PATCH; re-read and compare the status id and board (and
closedFlag for closed statuses); optionally re-read once more after a pause (`writeback.recheck_delay_s`), because
workflow rules can move the ticket right after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flowpilot_tui.services.psa.base import BoardStatus, PsaProvider, TicketState
from flowpilot_tui.services.psa.errors import PsaCallError, PsaValidationError
from flowpilot_tui.services.writeback_types import NoteRef, StatusChangeError, StatusVerificationError

Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[str], None]  # one short line per step ("verifying the status…"), for a spinner or stderr


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
        if target is not None:  # known to the board: usable unless inactive (a refused PATCH drops the cache)
            return None if target.inactive else target
    return None


def _verify(after: TicketState, target: BoardStatus, note: NoteRef) -> None:
    if _in_target(after, target) and after.board_id == target.board_id:
        return
    shown = after.status_name or f"status #{after.status_id}"
    if after.board_id != target.board_id:
        shown += f" on board '{after.board_name or after.board_id}' (the ticket moved boards)"
    elif after.status_id == target.id:
        shown += " but not closed"
    raise StatusVerificationError(
        f"ConnectWise accepted the change but ticket #{after.id} shows {shown} "
        f"(note #{note.external_note_id} is posted; the session stays open and a retry will not post it again)",
        note=note,
        observed_status_id=after.status_id,
        observed_status_name=after.status_name,
        target_status_id=target.id,
    )


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


async def apply_status(
    provider: PsaProvider,
    note: NoteRef,
    target_id: int,
    *,
    pref_name: str,
    sleep: Sleep,
    recheck_after_s: float,
    progress: Progress | None = None,
) -> StatusResult:
    """PATCH the status and prove it by re-reading. Requests: the PATCH, one re-read, one delayed re-read (when
    `recheck_after_s` > 0); plus one ticket GET when this connection has not read the ticket yet (its board is
    needed to check the target) and one status-list GET when the board's statuses are not cached (in this process
    or in the shared cache, services/writeback_cache.py). A PATCH refused as invalid (the cached board or status
    list may be stale) is retried once after re-reading the ticket and the board's statuses."""
    ticket_id = note.ticket_id
    try:
        known = provider.known_ticket(ticket_id)  # read by the confirm dialog's plan, an import, an earlier post
        before = known or await provider.get_ticket(ticket_id)
        target = await _usable_target(provider, before, target_id)
        if target is None and known is not None:  # the ticket may have moved boards since that read
            before, known = await provider.get_ticket(ticket_id), None
            target = await _usable_target(provider, before, target_id)
        if target is None:
            raise StatusChangeError(
                f"Note #{note.external_note_id} is on ticket #{ticket_id}, but status #{target_id} is not an active "
                f"status of its board '{before.board_name}', so the status was not changed; fix {pref_name} in the "
                "account preferences",
                note=note,
            )
        if _in_target(before, target):
            if known is None:  # read just now
                return StatusResult(before.status_id, before.status_name, already=True)
            _say(progress, "verifying the ticket status…")  # an earlier read says it is there: one read proves it
            fresh = await provider.get_ticket(ticket_id)
            if _in_target(fresh, target) and fresh.board_id == target.board_id:
                return StatusResult(fresh.status_id, fresh.status_name, already=True)
        _say(progress, f"changing the status to {target.name}…")
        try:
            await provider.set_status(ticket_id, target.id)
        except PsaValidationError:  # maybe checked against a cached board or status list: re-read both, once
            _say(progress, "status refused; re-reading the ticket and its board…")
            before = await provider.get_ticket(ticket_id)
            statuses = await provider.list_board_statuses(before.board_id, refresh=True)
            fresh_target = next((s for s in statuses if s.id == target_id and not s.inactive), None)
            if fresh_target is None:
                raise StatusChangeError(
                    f"Note #{note.external_note_id} is on ticket #{ticket_id}, but status #{target_id} is not an "
                    f"active status of its board '{before.board_name}', so the status was not changed; fix "
                    f"{pref_name} in the account preferences",
                    note=note,
                ) from None
            target = fresh_target
            if _in_target(before, target):
                return StatusResult(before.status_id, before.status_name, already=True)
            await provider.set_status(ticket_id, target.id)  # refused again: the error below says so
        _say(progress, "verifying the status…")
        after = await provider.get_ticket(ticket_id)
        _verify(after, target, note)
        if recheck_after_s > 0:
            _say(progress, f"verifying: re-checking the status in {recheck_after_s:g} s…")
            await sleep(recheck_after_s)
            after = await provider.get_ticket(ticket_id)
            _verify(after, target, note)
    except PsaCallError as exc:
        raise StatusChangeError(
            f"Note #{note.external_note_id} is on ticket #{ticket_id}, but the status was not changed: {exc}", note=note
        ) from exc
    return StatusResult(after.status_id, after.status_name, already=False)
