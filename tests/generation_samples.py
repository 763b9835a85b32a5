"""Sample session bundles shared by the generation tests."""

from __future__ import annotations

from flowpilot_tui.services.generation.types import (
    BundleFact,
    BundleFix,
    BundleScript,
    BundleTicket,
    SessionBundle,
)
from flowpilot_tui.services.redact import redact

SECRET = "Hunter2!"


def full_bundle(**overrides: object) -> SessionBundle:
    """A realistic VPN/DNS session; fact text goes through the redactor as the bundle builder does."""
    raw = [
        ("symptom", "Users cannot open the intranet over VPN; whole finance team affected", None),
        ("environment", "Windows 11 23H2 laptops, GlobalProtect 6.1, DC01.contoso.local at 10.0.0.5", None),
        ("confirmed", "VPN tunnel is up and 10.0.0.5 answers ping", None),
        ("tried", "Rebooted the laptop", "no change"),
        ("hypothesis", "VPN profile does not push the internal DNS suffix", None),
        ("tried", f"Re-entered VPN credentials (password: {SECRET})", "did not help"),
        ("tried", "Flushed DNS cache and reconnected", "worked, intranet loads again"),
    ]
    redactions = []
    facts = []
    for n, (kind, text, outcome) in enumerate(raw, 1):
        r = redact(text)
        redactions += r.items
        facts.append(BundleFact(id=f"F{n}", kind=kind, text=r.text, outcome=outcome))
    data: dict[str, object] = dict(
        session_id="3b1f0c2e-0000-4000-8000-000000000001",
        title="Finance VPN: intranet unreachable",
        status="active",
        state_version=7,
        ticket=BundleTicket(connection="contoso-cw", ticket_id="123456"),
        facts=facts,
        fixes=[
            BundleFix(id="X1", title="Reinstall the GlobalProtect client", decision="dismissed"),
            BundleFix(
                id="X2",
                title="Flush the DNS cache",
                rationale="stale negative cache entries",
                steps=["ipconfig /flushdns", "Disconnect and reconnect the VPN"],
                decision="one_off",
            ),
        ],
        scripts=[BundleScript(id="S1", shell="powershell", fix_id="X2")],
        redactions=redactions,
    )
    data.update(overrides)
    return SessionBundle(**data)  # type: ignore[arg-type]
