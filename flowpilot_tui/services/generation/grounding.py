"""Claim-level grounding: does each generated item say only what the facts it cites say?

Textual-free and deterministic. Four checks, each giving a reason for a `[CHECK: …]` flag:
(a) concrete tokens (numbers, versions, KB ids, event ids, 0x codes, hosts, IPs, paths, commands, product names)
    must occur in the cited facts (environment items: in any recorded fact);
(b) action claims (replaced, installed, reset, rebooted…) must rest on a cited fact that records that action;
(c) an item whose content words barely overlap the cited facts is "not supported by F#";
(d) a tried step presented as confirmed, or a hypothesis presented as root cause, whatever it cites.
"""

from __future__ import annotations

import re

from flowpilot_tui.services.generation.types import SessionBundle

_TOKEN = re.compile(
    r"\\\\[\w.$-]+(?:\\[\w.$-]+)*"  # UNC path
    r"|[A-Za-z]:\\[^\s,;]*"  # Windows path
    r"|(?<!\w)/(?:[\w.-]+/)*[\w.-]+"  # POSIX path
    r"|\b0x[0-9A-Fa-f]+\b"  # error code
    r"|\b(?:\d{1,3}\.){3}\d{1,3}(?:/\d+)?\b"  # IPv4 (CIDR)
    r"|\b[A-Za-z][\w-]*(?:\.[A-Za-z0-9-]+)+\b"  # dotted name (host / domain / file)
    r"|\b[A-Za-z]+-[A-Za-z]+(?:-[A-Za-z]+)*\b(?=[^\n]*)"  # hyphenated (Verb-Noun cmdlets, SRV-names)
    r"|\b[\w-]*\d[\w.-]*\b"  # anything with a digit: numbers, versions, KB5034441, M404dn, SRV01
    r"|\b[A-Z][a-z]+[A-Z]\w*\b"  # CamelCase product names: LaserJet, OneDrive
    r"|\b[A-Z]{2,}\b"  # acronyms: DNS, MFA, VPN
)
_HYPHEN_OK = re.compile(r"^[a-z]+-[a-z]+$")  # ordinary prose compounds ("re-enabled", "sign-in")

_ACTION = re.compile(
    r"\b(replaced|installed|reinstalled|uninstalled|updated|upgraded|downgraded|reset|rebooted|restarted"
    r"|reimaged|rebuilt|recreated|removed|deleted|patched|migrated|restored|re-?enabled|unlocked|flushed"
    r"|renewed|assigned|reassigned|rolled back|reconfigured|swapped|repaired|re-?registered|re-?added)\b",
    re.IGNORECASE,
)
_SYNONYMS = {"reboo": {"reboo", "resta"}, "resta": {"reboo", "resta"}, "swapp": {"swapp", "repla"}}

_STOP = set(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that
    these those there their they them he she his her we our you your i not no yes so than then also only just very
    into onto out over under after before while when which who whom what where why how all any some each both more
    most other such same own can could should would will may might must do does did done has have had having now
    user users users' user's customer result outcome apply suggested fix step confirm rule recorded session saved
    please take ownership work through next steps order record ticket none script one issue problem""".split()
)
_NOTE_SECTIONS = ("summary", "root_cause", "fix_applied", "verification", "follow_up")
_BOILERPLATE = {
    "none.",
    "none recorded.",
    "not recorded.",
    "no changes were recorded.",
    "the cause could not be determined.",
}


def _stem(w: str) -> str:
    return w[:5]


def _words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z][a-z']+", text.lower()) if len(w) >= 3 and w not in _STOP}


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0).rstrip(".")
        if _HYPHEN_OK.match(tok):
            continue
        if re.fullmatch(r"\d", tok) and re.search(r"\bstep\s+$", text[: m.start()], re.IGNORECASE):
            continue  # "Fix step 2": our own numbering
        if tok and tok not in out:
            out.append(tok)
    return out


def source_text(bundle: SessionBundle, ident: str) -> str:
    for f in bundle.facts:
        if f.id == ident:
            return f"{f.text} {f.outcome or ''}"
    for x in bundle.fixes:
        if x.id == ident:
            return " ".join([x.title, x.rationale, *x.steps])
    for s in bundle.scripts:
        if s.id == ident:
            return f"{s.shell} script"
    return ""


def overlap(text: str, source: str) -> float:
    words = _words(text)
    if not words:
        return 1.0
    return len(words & _words(source)) / len(words)


def check_claim(text: str, section: str, cited: list[str], bundle: SessionBundle) -> list[str]:
    """Reasons this item is not grounded in what it cites (empty list: grounded)."""
    body = re.sub(r"\[(?:[FXS]\d+(?:,\s*)?)+\]", "", text).strip()  # drop inline citation markers
    if not body or body.lower() in _BOILERPLATE:
        return []
    ids = bundle.ids()
    known = [i for i in cited if i in ids]
    cited_text = " ".join(source_text(bundle, i) for i in known)
    fix = bundle.current_fix()
    if section in _NOTE_SECTIONS and fix is not None and fix.decision is not None:
        cited_text += " " + source_text(bundle, fix.id)  # the accepted fix (and its rationale) backs the note
    if section in ("problem", "summary"):
        cited_text += f" {bundle.title}"  # with no symptom recorded, both fall back to the session title
    all_text = " ".join(source_text(bundle, i) for i in ids)
    reasons: list[str] = []
    # (a) concrete tokens
    pool = (all_text if section == "environment" else cited_text).lower()
    for tok in tokens(body):
        if tok.lower() not in pool:
            where = "any recorded fact" if section == "environment" else ", ".join(known) or "the cited facts"
            reasons.append(f"'{tok}' not in {where}")
    # (b) action claims
    cited_stems = {_stem(w) for w in re.findall(r"[a-z-]+", cited_text.lower().replace("re-", "re"))}
    for m in _ACTION.finditer(body):
        verb = m.group(1).lower().replace("-", "")
        stem = _stem(verb)
        # what was acted on: the next few content words after the verb must also be in the cited facts
        obj = _words(" ".join(body[m.end() :].split()[:4]))
        if not (_SYNONYMS.get(stem, {stem}) & cited_stems) or (obj and not obj & _words(cited_text)):
            reasons.append(f"claims '{m.group(1)}' but no cited tried step or accepted fix records it")
            break
    # (c) overlap with what is cited
    if known and len(_words(body)) >= 3 and overlap(body, cited_text) < 0.5:
        reasons.append(f"not supported by {', '.join(known)}")
    # (d) kind presented as another kind
    if section == "confirmed":
        for f in bundle.facts_of("tried"):
            if overlap(body, f"{f.text} {f.outcome or ''}") >= 0.6 > _best(body, bundle, "confirmed"):
                reasons.append(f"presents tried step {f.id} as confirmed")
                break
    if section in ("confirmed", "root_cause"):
        for f in bundle.facts_of("hypothesis"):
            if overlap(body, f.text) >= 0.6 > _best(body, bundle, "confirmed"):
                what = "root cause" if section == "root_cause" else "confirmed"
                reasons.append(f"presents hypothesis {f.id} as {what}")
                break
    return reasons


def _best(text: str, bundle: SessionBundle, kind: str) -> float:
    return max((overlap(text, f.text) for f in bundle.facts_of(kind)), default=0.0)
