"""Fault knobs for the ConnectWise emulator: one field per way a real instance can surprise a client.

Each knob models a case from the ConnectWise reference (§5.3 guard cases, §4.6 duplicate notes, §7.4). Tests flip
them per test; defaults describe a well-behaved instance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

TimeoutMode = Literal["500", "drop", "hang"]


@dataclass
class WorkflowOverride:
    """After a status PATCH (to `from_status_id`, or to any status), a workflow rule moves the ticket to `to_status_id`.

    The move shows once the ticket has been read `after_reads` more times, or `after_seconds` of emulator clock have
    passed, whichever is configured (reads by default: 0 means the very next read already shows it).
    """

    to_status_id: int
    after_reads: int = 0
    after_seconds: float | None = None
    from_status_id: int | None = None


@dataclass
class Faults:
    # status PATCH answers 200 with the new status in the body but storage keeps the old one
    silent_status_ignore: bool = False
    # a later GET shows another status than the one just PATCHed
    workflow_override: WorkflowOverride | None = None
    # accept a status id that belongs to another board (real CW is lax here)
    foreign_status_accept: bool = False
    # PATCH -> 400 InvalidObject naming fields the client never touched
    revalidation_fail: bool = False
    # direct move to a closed status from anything but "Completed" -> 400 with a permission-like message
    intermediate_status_required: bool = False
    # PATCH -> 403
    forbid_status_change: bool = False
    # PATCH to an inactive status -> 400
    inactive_status_reject: bool = False
    # every Nth API request -> 429 with Retry-After (0 = off)
    rate_limit_every: int = 0
    # the next N API requests -> 429 with Retry-After
    rate_limit_next: int = 0
    retry_after: str = "1"
    # the note (POST .../notes) is stored, then the client gets a 500 "timeout", a dropped connection,
    # or no answer for `hang_s`
    server_timeout_after_store: TimeoutMode | None = None
    hang_s: float = 0.5
    # the instance moved to this codebase: the old API path 404s until the client re-reads /login/companyinfo
    codebase_moved: str | None = None
    # stored note text comes back with CRLF line endings and trailing spaces
    crlf_notes: bool = False
    # the next N API requests (of `server_error_methods`, all methods if None) -> 500 before doing anything
    server_error_next: int = 0
    server_error_methods: frozenset[str] | None = None
    # /allNotes -> 404 (older versions)
    allnotes_missing: bool = False
    # 401 without a clientId header
    require_client_id: bool = True
    # delay every API response (real sleep in the server thread; keep it small in tests)
    latency_ms: int = 0
    # hold every API request until the event is set, then drop it unhandled: a test can kill a client while its
    # request is surely in flight and surely not applied
    hold: threading.Event | None = None
    # narrow `hold` to the requests this says yes to (method, path): e.g. only the status PATCH
    hold_if: Callable[[str, str], bool] | None = None
    # handle matching requests, then hold their answer until `hold` is set and drop it: the change is applied
    # but the client never hears back (kill after the PATCH took effect)
    hold_reply_if: Callable[[str, str], bool] | None = None
    # a time entry on a closed ticket is refused with 400 (ConnectWise's rule; off = a lax instance)
    time_entry_closed_reject: bool = True
    # someone closes the ticket just before FlowPilot's time entry arrives (the race after import)
    close_before_time_entry: bool = False
    # the time entry is stored, then the client gets a 500 "timeout", a dropped connection, or no answer
    time_entry_lost_response: TimeoutMode | None = None
