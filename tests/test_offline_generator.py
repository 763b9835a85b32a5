"""Offline template generator: deterministic, grounded in recorded facts, safe for the customer."""

from __future__ import annotations

import re

import pytest
from generation_samples import SECRET, full_bundle

from flowpilot_tui.services.generation.offline import OfflineGenerator, worked
from flowpilot_tui.services.generation.render import ESCALATION_HEADINGS
from flowpilot_tui.services.generation.types import BundleFact, BundleFix, CitedItem
from flowpilot_tui.services.generation.validate import validate_resolution
from flowpilot_tui.services.post_gate import text_to_post


def headings(markdown: str) -> list[str]:
    return [line[3:] for line in markdown.splitlines() if line.startswith("#")]


def section(markdown: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\nAsk for|\Z)", markdown, re.S | re.M)
    assert match, heading
    return match.group(1).strip()


async def test_same_bundle_gives_byte_identical_markdown() -> None:
    gen = OfflineGenerator()
    for kind in ("resolve", "escalate"):
        first = (await gen.generate(full_bundle(), kind)).markdown
        second = (await OfflineGenerator().generate(full_bundle(), kind)).markdown
        assert first.encode() == second.encode()
    assert gen.render("resolve", full_bundle()) != gen.render("escalate", full_bundle())


def test_escalation_has_exactly_the_five_headings_in_order() -> None:
    markdown = OfflineGenerator().render("escalate", full_bundle())
    assert headings(markdown) == [h for _, h in ESCALATION_HEADINGS]
    assert headings(markdown) == [
        "Problem",
        "What we've confirmed",
        "What we've tried",
        "Current hypothesis",
        "Suggested next steps",
    ]


def test_escalation_items_cite_existing_ids() -> None:
    bundle = full_bundle()
    markdown = OfflineGenerator().render("escalate", bundle)
    known = set(bundle.ids())
    body = markdown.split("## Problem", 1)[1]
    items = [line for line in body.splitlines() if re.match(r"^(- |\d+\. )", line)]
    assert len(items) >= 8
    for line in items:
        cited = re.search(r"\[((?:[FXS]\d+)(?:, [FXS]\d+)*)\]$", line)
        assert cited, line
        assert set(cited.group(1).split(", ")) <= known
    assert "- Rebooted the laptop — result: no change. [F4]" in markdown
    assert section(markdown, "Current hypothesis") == "VPN profile does not push the internal DNS suffix. [F5]"


def test_escalation_includes_environment_impact_ticket_and_an_ask() -> None:
    markdown = OfflineGenerator().render("escalate", full_bundle())
    assert "Ticket: #123456 (contoso-cw)" in markdown
    assert "- Windows 11 23H2 laptops, GlobalProtect 6.1, DC01.contoso.local at 10.0.0.5. [F2]" in markdown
    assert markdown.count("Impact: ") == 1 and "whole finance team affected" in markdown.split("## Problem")[0]
    assert "Ask for the next engineer: Please take ownership: confirm or rule out the current hypothesis" in markdown
    steps = section(markdown, "Suggested next steps")
    assert steps.startswith("1. Apply the suggested fix: Flush the DNS cache (stale negative cache entries). [X2]")
    assert "A powershell script for this fix is saved in the session [S1]" in steps


def test_empty_sections_say_none_recorded() -> None:
    bundle = full_bundle(
        facts=[BundleFact(id="F1", kind="symptom", text="Printer on floor 2 prints blank pages")],
        fixes=[],
        scripts=[],
        ticket=None,
    )
    markdown = OfflineGenerator().render("escalate", bundle)
    for heading in ("What we've confirmed", "What we've tried", "Current hypothesis", "Suggested next steps"):
        assert section(markdown, heading) == "None recorded."
    assert section(markdown, "Problem") == "Printer on floor 2 prints blank pages. [F1]"
    assert "Ticket: none linked" in markdown
    assert "Ask for the next engineer" not in markdown and "Environment:" not in markdown


def test_problem_falls_back_to_the_title_without_symptoms() -> None:
    markdown = OfflineGenerator().render("escalate", full_bundle(facts=[], fixes=[], scripts=[]))
    assert section(markdown, "Problem") == "Finance VPN: intranet unreachable (session title; no symptoms recorded)."


def test_customer_note_leaves_out_hypotheses_dead_ends_dismissed_fixes_and_secrets() -> None:
    bundle = full_bundle()
    markdown = OfflineGenerator().render("resolve", bundle)
    # each section shows the ids IT rests on (editor only: the post gate strips them)
    assert "Issue reported: Users cannot open the intranet over VPN; whole finance team affected. [F1]" in markdown
    assert "What we did: Flushed DNS cache and reconnected. [F7]" in markdown
    assert "How we verified: worked, intranet loads again. [F7]" in markdown
    posted = text_to_post(markdown, customer_visible=True)
    assert "What we did: Flushed DNS cache and reconnected.\n" in posted
    for internal in (
        "DNS suffix",
        "hypothes",
        "Reinstall",
        "GlobalProtect client",
        "Rebooted",
        "did not help",
        "Re-entered",
        SECRET,
        "[F",
        "[X",
        "Follow-up",  # nothing to follow up: left out, not "None."
    ):
        assert internal not in posted, internal
    assert not headings(markdown)  # plain labelled paragraphs: it may print on an invoice


def test_customer_note_never_leaks_a_secret_even_from_an_unredacted_bundle() -> None:
    bundle = full_bundle(
        facts=[
            BundleFact(id="F1", kind="symptom", text="Cannot log in to the portal"),
            BundleFact(id="F2", kind="tried", text=f"Reset password to {SECRET} via pwd={SECRET}", outcome="worked"),
        ]
    )
    for kind in ("resolve", "escalate"):
        markdown = OfflineGenerator().render(kind, bundle)
        assert SECRET not in markdown
        assert "[REDACTED:password]" in markdown


def test_undecided_fix_is_not_presented_to_the_customer_as_done() -> None:
    bundle = full_bundle(
        facts=[BundleFact(id="F1", kind="symptom", text="Outlook crashes on start")],
        fixes=[BundleFix(id="X1", title="Repair Office", decision=None)],
    )
    note = OfflineGenerator().resolution(bundle)
    assert note.fix_applied == CitedItem(text="") and note.root_cause == CitedItem(text="")
    assert note.fact_ids == ["F1"]
    # sections with nothing to say are left out rather than telling the customer "Not recorded"
    assert OfflineGenerator().render("resolve", bundle) == "Issue reported: Outlook crashes on start. [F1]\n"


def test_resolve_note_says_what_was_done_from_tried_facts_and_how_it_was_verified() -> None:
    bundle = full_bundle(
        facts=[
            BundleFact(id="F1", kind="symptom", text="User cannot sign in to Teams on her phone"),
            BundleFact(id="F2", kind="tried", text="Restarted the phone", outcome="no change"),
            BundleFact(id="F3", kind="tried", text="Reset her MFA registration", outcome="she can sign in again"),
            BundleFact(id="F4", kind="tried", text="Removed the stale Teams cache", outcome=None),
        ],
        fixes=[],
        scripts=[],
    )
    gen = OfflineGenerator()
    note = gen.resolution(bundle)
    assert note.fix_applied == CitedItem(
        text="Reset her MFA registration; Removed the stale Teams cache.", fact_ids=["F3", "F4"]
    )
    assert note.verification == CitedItem(text="she can sign in again.", fact_ids=["F3"])  # F4 records no outcome
    assert validate_resolution(note, bundle) == []
    markdown = gen.render("resolve", bundle)
    assert markdown == (
        "Issue reported: User cannot sign in to Teams on her phone. [F1]\n\n"
        "What we did: Reset her MFA registration; Removed the stale Teams cache. [F3, F4]\n\n"
        "How we verified: she can sign in again. [F3]\n"
    )
    for placeholder in ("No changes were recorded", "Not recorded", "None.", "Restarted the phone", "What we found"):
        assert placeholder not in markdown


def test_accepted_fix_is_what_was_done_when_no_step_is_recorded() -> None:
    bundle = full_bundle(
        facts=[BundleFact(id="F1", kind="symptom", text="Outlook crashes on start")],
        fixes=[BundleFix(id="X1", title="Repair Office", decision="one_off")],
        scripts=[],
    )
    note = OfflineGenerator().resolution(bundle)
    assert note.fix_applied == CitedItem(text="Repair Office.", fact_ids=["X1"])
    assert validate_resolution(note, bundle) == []
    markdown = OfflineGenerator().render("resolve", bundle)
    assert "What we did: Repair Office. [X1]" in markdown and "How we verified" not in markdown


def test_only_dead_ends_leave_what_we_did_out() -> None:
    bundle = full_bundle(
        facts=[
            BundleFact(id="F1", kind="symptom", text="Scanner offline"),
            BundleFact(id="F2", kind="tried", text="Power-cycled the scanner", outcome="still offline"),
        ],
        fixes=[],
        scripts=[],
    )
    markdown = OfflineGenerator().render("resolve", bundle)
    assert markdown == "Issue reported: Scanner offline. [F1]\n"


async def test_preview_records_generator_redactions_and_state() -> None:
    bundle = full_bundle()
    seen: list[str] = []
    preview = await OfflineGenerator().generate(bundle, "escalate", on_progress=seen.append)
    assert preview.generator == "offline" and preview.model is None
    assert preview.state_version == 7
    assert preview.redaction_count == 1 and preview.redactions[0].original == SECRET
    assert seen == [preview.markdown]
    assert "redactions" not in preview.model_dump()
    assert "Offline template" in preview.header() and "1 item(s) redacted" in preview.header()


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("worked, intranet loads again", True),
        ("Printer back online; test page printed.", True),
        ("Outlook no longer crashes", True),
        ("User confirmed it is fine now", True),
        ("No improvement.", False),
        ("did not help", False),
        ("still crashes", False),
        ("no change", False),
        ("partially worked", False),
        ("locked out again within two hours", False),
        ("Prompts returned after 10 minutes", False),
        ("Mail flow back to normal", True),
        (None, False),
        ("", False),
    ],
)
def test_only_steps_that_worked_count_as_the_fix(outcome: str | None, expected: bool) -> None:
    assert worked(BundleFact(id="F1", kind="tried", text="x", outcome=outcome)) is expected


@pytest.mark.parametrize(
    ("outcome", "is_dead_end"),
    [
        ("Prompts returned after 10 minutes", True),
        ("locked out again within two hours", True),
        ("Mail flow returned to normal", False),  # not a failure: it counts as done (no stock "worked" wording)
        (None, False),
    ],
)
def test_dead_ends_are_recognised_in_ordinary_outcome_wording(outcome: str | None, is_dead_end: bool) -> None:
    from flowpilot_tui.services.generation.grounding import dead_end

    assert dead_end(BundleFact(id="F1", kind="tried", text="x", outcome=outcome)) is is_dead_end
