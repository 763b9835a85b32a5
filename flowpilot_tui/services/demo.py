"""Demo data: a clearly labelled account with realistic sessions, so a newcomer sees a full workspace at once.

Only ever seeded into an empty database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from flowpilot_tui.services import accounts
from flowpilot_tui.services.errors import Conflict
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import AISession, User
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

DEMO_ACCOUNT = "Demo MSP (demo data)"
DEMO_CONNECTION = "demo-cw"
# Status ids of the ConnectWise emulator's demo board (see flowpilot_tui/emulators).
DEMO_PREFERENCES = {"cw_resolved_status_id": 17, "cw_escalated_status_id": 12}
DEMO_TICKET = 48213


class _Clock:
    """Advances a minute per call so demo rows get distinct, realistic timestamps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


async def seed_demo(store: Store, login: str, now: datetime) -> Actor:
    if not await accounts.is_empty(store):
        raise Conflict("The database already has data; demo data is only seeded into an empty database")
    actor = await accounts.create_account(
        store,
        DEMO_ACCOUNT,
        login,
        now - timedelta(days=3),
        display_name=login,
        is_demo=True,
        preferences=DEMO_PREFERENCES,
    )
    # The demo user works as an engineer day to day; a colleague owns one session.
    async with store.write() as db:
        user = await db.get(User, actor.user_id)
        assert user is not None
        user.role = "engineer"
        db.add(
            User(
                account_id=actor.account_id,
                login="demo.colleague",
                display_name="Dana Ortiz (demo)",
                role="engineer",
                created_at=now - timedelta(days=3),
            )
        )
        db.add(
            User(
                account_id=actor.account_id,
                login="demo.viewer",
                display_name="Sam Lee (demo viewer)",
                role="viewer",
                created_at=now - timedelta(days=3),
            )
        )
    actor = Actor(
        actor.account_id, actor.user_id, actor.login, actor.display_name, "engineer", actor.account_name, True
    )
    await accounts.sync_connections(store, actor, [(DEMO_CONNECTION, "connectwise")])
    clock = _Clock(now - timedelta(days=2))
    svc = SessionService(store, actor, clock)
    await _outlook(svc)
    await _vpn(svc)
    await _printer(svc, store)
    await _fileserver(svc, store)
    return actor


async def _outlook(svc: SessionService) -> None:
    s = await svc.create(
        "Outlook keeps prompting for password after M365 migration",
        connection_name=DEMO_CONNECTION,
        ticket_id=DEMO_TICKET,
    )
    sid = s.id
    await svc.append_message(
        sid,
        "user",
        "User at Contoso (jdoe) gets a password prompt in Outlook every few minutes since the mailbox moved to "
        "Microsoft 365 on Monday.",
    )
    await svc.append_message(
        sid,
        "assistant",
        "Repeated prompts after a migration usually point at a stale Outlook profile or cached credentials. "
        "Can you check Credential Manager for old Exchange entries and whether OWA works?",
    )
    await svc.add_fact(
        sid, "symptom", "Outlook prompts for the password every 5-10 minutes; entering it works until the next prompt"
    )
    await svc.add_fact(
        sid, "environment", "Windows 11 23H2, Microsoft 365 Apps 2408, laptop LT-0457, user jdoe@contoso.com"
    )
    await svc.add_fact(sid, "confirmed", "OWA sign-in works without prompts, so the account and licence are fine")
    await svc.add_fact(sid, "confirmed", "Credential Manager holds two old entries for the on-prem Exchange server")
    await svc.add_fact(
        sid, "tried", "Signed out of Office and signed back in", outcome="Prompts returned after 10 minutes"
    )
    await svc.add_fact(sid, "hypothesis", "Outlook profile still carries the on-prem autodiscover settings")
    first = await svc.propose_fix(
        sid,
        "Reset Office sign-in",
        rationale="Clears the cached token.",
        steps=["Close Office apps", "Sign out of all Office accounts", "Sign in again"],
    )
    await svc.decide_fix(sid, first.id, "dismissed")
    second = await svc.propose_fix(
        sid,
        "Clear cached Exchange credentials",
        rationale="Old on-prem entries may be presented first.",
        steps=["Open Credential Manager", "Remove entries for mail.contoso.local"],
        target_shell="powershell",
    )
    await svc.decide_fix(sid, second.id, "one_off")
    await svc.propose_fix(
        sid,
        "Recreate the Outlook profile",
        rationale="The profile still points at on-prem autodiscover; a new profile discovers Microsoft 365 directly.",
        steps=[
            "Close Outlook",
            "Control Panel > Mail > Show Profiles > Add a new profile",
            "Set the new profile as default and start Outlook",
            "Confirm no prompt for 30 minutes",
        ],
        target_shell="powershell",
    )


async def _vpn(svc: SessionService) -> None:
    s = await svc.create("VPN connects but internal DNS names do not resolve")
    sid = s.id
    await svc.append_message(
        sid, "user", "Remote user can connect to the VPN but cannot reach \\\\fs01 or the intranet by name. IPs work."
    )
    await svc.add_fact(
        sid, "symptom", "Internal hostnames fail to resolve while the VPN is connected; pinging 10.20.0.15 works"
    )
    await svc.add_fact(sid, "environment", "FortiClient 7.2 on Windows 10 22H2, home Wi-Fi")
    await svc.add_fact(sid, "confirmed", "nslookup fs01.corp.example.com 10.20.0.10 succeeds")
    await svc.add_fact(sid, "tried", "ipconfig /flushdns and reconnect", outcome="No change")
    await svc.add_fact(
        sid, "hypothesis", "VPN adapter DNS server is not used because the Wi-Fi adapter has a lower interface metric"
    )
    await svc.propose_fix(
        sid,
        "Raise the Wi-Fi interface metric",
        rationale="Windows asks the lowest-metric adapter's DNS first.",
        steps=[
            "Get-NetIPInterface",
            "Set-NetIPInterface -InterfaceAlias Wi-Fi -InterfaceMetric 50",
            "Reconnect VPN and test nslookup fs01",
        ],
        target_shell="powershell",
    )


async def _printer(svc: SessionService, store: Store) -> None:
    s = await svc.create("Second-floor shared printer shows offline for all users")
    sid = s.id
    await svc.add_fact(sid, "symptom", "All users on the second floor see HP-2F-01 as offline")
    await svc.add_fact(sid, "confirmed", "The printer had picked up a new DHCP address (10.20.3.87) after a power cut")
    await svc.add_fact(
        sid,
        "tried",
        "Created a DHCP reservation for the printer's MAC and restored 10.20.3.40",
        outcome="Printer back online; test page printed",
    )
    note = (
        "## Resolution\n\nThe second-floor printer showed as offline because it received a new network address "
        "after a power cut. "
        "We reserved its usual address so it keeps it from now on, and a test page printed successfully."
    )
    async with store.write() as db:
        row = await db.get(AISession, sid)
        assert row is not None
        row.status, row.resolution_note_markdown, row.resolved_at = "resolved", note, svc.clock()
        row.resolution_summary = "DHCP reservation restored the printer's address"


async def _fileserver(svc: SessionService, store: Store) -> None:
    s = await svc.create("Accounting share on FS01 very slow since Tuesday")
    sid = s.id
    await svc.add_fact(sid, "symptom", "Opening Excel files on \\\\FS01\\Accounting takes 30-60 seconds for 6 users")
    await svc.add_fact(sid, "environment", "FS01: Windows Server 2019 VM on Hyper-V host HV02; 10 GbE")
    await svc.add_fact(sid, "confirmed", "Disk latency on FS01 D: averages 180 ms in Performance Monitor")
    await svc.add_fact(sid, "tried", "Restarted the Server service out of hours", outcome="No improvement")
    await svc.add_fact(sid, "hypothesis", "The HV02 storage array is degraded (a rebuild would explain the latency)")
    await svc.request_escalation(sid, "Needs access to the HV02 storage controller")
    async with store.write() as db:
        row = await db.get(AISession, sid)
        colleague = await db.scalar(select(User).where(User.login == "demo.colleague"))
        assert row is not None and colleague is not None
        row.owner_id = colleague.id
