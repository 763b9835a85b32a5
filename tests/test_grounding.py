"""Claim-level grounding on the labelled set (tests/trust_corpus/grounding.jsonl) and through validate.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flowpilot_tui.services.generation.grounding import check_claim
from flowpilot_tui.services.generation.offline import OfflineGenerator
from flowpilot_tui.services.generation.render import render_resolution
from flowpilot_tui.services.generation.types import CitedItem, ResolutionNote
from flowpilot_tui.services.generation.validate import validate_escalation, validate_resolution
from flowpilot_tui.services.post_gate import text_to_post

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_trust import GROUNDING, grounding_bundle, grounding_reasons  # noqa: E402

CASES = [json.loads(line) for line in GROUNDING.read_text().splitlines()]
# What each injection type's flag must say (so an item is caught for the right reason, not by accident).
REASON = {
    "token": "' not in ",
    "action": "claims '",
    "overlap": "not supported by",
    "tried_as_confirmed": "presents tried step",
    "hypothesis_as_root": "presents hypothesis",
    "wrong_fact": "not supported by",  # a note section citing a fact that does not back THAT section
    "dead_end": "cites dead end",
}


def test_corpus_shape() -> None:
    assert len(CASES) >= 60
    assert len({c["domain"] for c in CASES}) >= 7
    clean = sum(c["label"] == "supported" for c in CASES)
    assert 0.4 <= clean / len(CASES) <= 0.6
    assert set(REASON) == {c["injection"] for c in CASES if c["label"] == "injected"}


@pytest.mark.parametrize("case", [c for c in CASES if c["label"] == "injected"], ids=lambda c: c["id"])
def test_injected_claim_is_flagged_for_its_reason(case: dict) -> None:
    reasons = grounding_reasons(case)
    assert any(REASON[case["injection"]] in r for r in reasons), reasons


@pytest.mark.parametrize("case", [c for c in CASES if c["label"] == "supported"], ids=lambda c: c["id"])
def test_clean_item_is_not_flagged(case: dict) -> None:
    assert grounding_reasons(case) == []


def _case(domain: str) -> dict:
    return next(c for c in CASES if c["domain"] == domain)


def test_new_token_is_named() -> None:
    b = grounding_bundle(_case("print"))
    reasons = check_claim(
        "Event ID 808 in the PrintService log shows the PCL6 driver failing.", "confirmed", ["F13"], b
    )
    assert "'808' not in F13" in reasons


def test_environment_token_may_come_from_any_fact() -> None:
    b = grounding_bundle(_case("print"))
    # PCL6 is recorded in F13, not in the cited F12: fine for the environment line, flagged elsewhere.
    assert check_claim("Print server PRN-SRV02 uses the PCL6 driver.", "environment", ["F12"], b) == []
    assert any("PCL6" in r for r in check_claim("Print server PRN-SRV02 uses the PCL6 driver.", "problem", ["F12"], b))


def test_flags_reach_the_note_through_validate() -> None:
    b = grounding_bundle(_case("vpn"))
    note = ResolutionNote(
        summary="FortiClient VPN disconnects after about 10 minutes for remote staff.",
        root_cause="Home router NAT timeouts dropped the UDP tunnel.",
        fix_applied="Upgraded the FortiGate firmware and raised the idle timeout.",
        verification="The connection now stays up for hours.",
        follow_up="None.",
        fact_ids=["F21", "F23", "F25"],
    )
    flags = validate_resolution(note, b)
    sections = {f.section for f in flags}
    assert {"root_cause", "fix_applied"} <= sections
    assert "summary" not in sections and "verification" not in sections
    md = render_resolution(note, b, flags)
    assert "[CHECK: claims 'Upgraded'" in md


@pytest.mark.parametrize("domain", sorted({c["domain"] for c in CASES}))
def test_offline_output_stays_unflagged(domain: str) -> None:
    b = grounding_bundle(_case(domain))
    gen = OfflineGenerator()
    assert validate_escalation(gen.escalation(b), b) == []
    assert validate_resolution(gen.resolution(b), b) == []


def test_replaced_hard_drive_with_valid_citation_is_flagged() -> None:
    b = grounding_bundle(_case("backup"))
    item = CitedItem(text="Replaced the user's hard drive.", fact_ids=["F44"])
    from flowpilot_tui.services.generation.types import EscalationPackage

    pkg = EscalationPackage(
        problem=CitedItem(text="The nightly Veeam backup job of FS01 fails with error 0x80070070.", fact_ids=["F41"]),
        confirmed=[CitedItem(text="The backup repository on NAS-BK01 has 12 GB free of 4 TB.", fact_ids=["F43"])],
        tried=[item],
        hypothesis=CitedItem(text="Retention was set too long when the job was created.", fact_ids=["F45"]),
        next_steps=[CitedItem(text="Confirm or rule out: retention was set too long.", fact_ids=["F45"])],
    )
    flags = validate_escalation(pkg, b)
    assert {f.section for f in flags} == {"tried"}
    assert any("'Replaced'" in f.reason for f in flags)


def test_each_note_section_is_checked_against_its_own_citations_not_the_union() -> None:
    b = grounding_bundle(_case("vpn"))
    note = ResolutionNote(
        summary=CitedItem(text="FortiClient VPN disconnects after about 10 minutes.", fact_ids=["F21"]),
        root_cause=CitedItem(text="The SSL-VPN idle timeout is set to 600 seconds on the FortiGate.", fact_ids=["F23"]),
        fix_applied=CitedItem(text="Raised the idle timeout to 3600 seconds.", fact_ids=["F25"]),
        # words all in F21, and F25 (which does record the outcome) is cited by another section: still flagged
        verification=CitedItem(text="FortiClient VPN no longer disconnects for remote staff.", fact_ids=["F21"]),
        follow_up=CitedItem(text=""),
    )
    flags = validate_resolution(note, b)
    assert [(f.section, f.reason) for f in flags] == [
        ("verification", "not supported by F21: records no outcome or check")
    ]
    md = render_resolution(note, b, flags)
    assert "How we verified: FortiClient VPN no longer disconnects for remote staff. [F21] [CHECK: not supported" in md
    assert "What we did: Raised the idle timeout to 3600 seconds. [F25]\n" in md  # each section shows its own ids
    assert "Follow-up" not in md  # nothing to say: left out
    posted = text_to_post(md, customer_visible=True)
    assert "[F" not in posted and "[CHECK" not in posted
    assert "What we did: Raised the idle timeout to 3600 seconds." in posted


def test_dead_end_in_what_we_did_is_flagged_even_with_a_tried_citation() -> None:
    b = grounding_bundle(_case("ad"))
    reasons = check_claim("Reset her password and unlocked the account.", "fix_applied", ["F54"], b)
    assert reasons == ["cites dead end F54 (did not work) in the customer's note"]
    assert check_claim("Removed the old mail profile from her iPhone.", "fix_applied", ["F55"], b) == []


def test_note_wide_fact_ids_of_the_p2_shape_still_load() -> None:
    note = ResolutionNote.model_validate(
        {
            "summary": "Disk full.",
            "root_cause": "Logs.",
            "fix_applied": "Deleted logs.",
            "verification": "Space free.",
            "follow_up": "None.",
            "fact_ids": ["F1", "F2"],
        }
    )
    assert note.verification == CitedItem(text="Space free.", fact_ids=["F1", "F2"])
    assert note.fact_ids == ["F1", "F2"]
