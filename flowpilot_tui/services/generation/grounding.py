"""Claim-level grounding: does each generated item say only what the facts it cites say?

Textual-free and deterministic. Four checks, each giving a reason for a `[CHECK: …]` flag:
(a) concrete tokens (numbers, versions, KB ids, event ids, 0x codes, hosts, IPs, paths, commands, product names)
    must occur in the cited facts (environment items: in any recorded fact);
(b) action claims (replaced, installed, reset, rebooted…) must rest on a cited fact that records that action;
(c) an item whose content words barely overlap the cited facts is "not supported by F#";
(d) a tried step presented as confirmed, or a hypothesis presented as root cause, whatever it cites;
(e) resolution-note sections cite per section, so each must cite the right kind of fact: "What we did" a tried step
    that was not a dead end or the accepted fix (never a dead end: the note is customer-visible), "How we verified"
    a recorded outcome or a confirmed fact.
"""

from __future__ import annotations

import re

from flowpilot_tui.services.generation.types import NOTE_SECTIONS, BundleFact, SessionBundle

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
_HYPHEN_OK = re.compile(r"^[A-Za-z][a-z]*-[a-z]+$")  # ordinary prose compounds ("Re-enabled", "sign-in")

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
_NOTE_SECTIONS = NOTE_SECTIONS
_WORKED = re.compile(
    r"\b(work(?:s|ed|ing)|resolved|fixed|success\w*|succeeded|solved|restored|back (?:online|up|to normal)"
    r"|printed|printing|loads?|opens?|connects?|no longer|confirmed|ok|fine now)\b",
    re.IGNORECASE,
)
_FAILED = re.compile(
    r"\b(no (?:change|improvement|effect|difference|luck)|not (?:fixed|resolved|work\w*|help\w*|solved)"
    r"|did(?:n'?t| not)|doesn'?t|failed|fails|still|unchanged|same (?:issue|problem|error)|worse|partial\w*"
    r"|(?:out|down|off|crash\w*|fail\w*|disconnect\w*) again|came back|recurr\w*|reappear\w*"
    r"|returned(?!\s+to\s+(?:normal|service|work)))\b",
    re.IGNORECASE,
)
_BOILERPLATE = {
    "none.",
    "none recorded.",
    "not recorded.",
    "no changes were recorded.",
    "the cause could not be determined.",
}


def boilerplate(text: str) -> bool:
    """Stock wording that claims nothing ("None.", "The cause could not be determined."): needs no citation."""
    return " ".join(text.split()).lower() in _BOILERPLATE


def worked(fact: BundleFact) -> bool:
    """A tried step counts as the fix only when its outcome says it worked and does not say otherwise."""
    outcome = fact.outcome or ""
    return bool(_WORKED.search(outcome)) and not _FAILED.search(outcome)


def dead_end(fact: BundleFact) -> bool:
    """A tried step whose outcome says it did not (fully) work: internal only, never in the customer's note."""
    return fact.kind == "tried" and bool(_FAILED.search(fact.outcome or ""))


def done_steps(bundle: SessionBundle) -> list[BundleFact]:
    """Tried steps that were not dead ends: what was done, for the customer's note (outcome may be unrecorded)."""
    return [f for f in bundle.facts_of("tried") if not dead_end(f)]


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
    if not body or boilerplate(body):
        return []
    ids = bundle.ids()
    known = [i for i in cited if i in ids]
    cited_text = " ".join(source_text(bundle, i) for i in known)
    fix = bundle.current_fix()
    if section in ("fix_applied", "root_cause") and fix is not None and fix.decision is not None:
        cited_text += " " + source_text(bundle, fix.id)  # the accepted fix (and its rationale) backs what was done
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
    # (e) the right kind of fact for the note section
    if section in ("fix_applied", "verification") and known:
        reasons += _section_kind(section, known, bundle)
    return reasons


def _section_kind(section: str, known: list[str], bundle: SessionBundle) -> list[str]:
    facts = {f.id: f for f in bundle.facts}
    accepted = {x.id for x in bundle.fixes if x.is_current and x.decision is not None}
    if section == "fix_applied":
        dead = [i for i in known if i in facts and dead_end(facts[i])]
        if dead:
            return [f"cites dead end {', '.join(dead)} (did not work) in the customer's note"]
        if not any(i in accepted or (i in facts and facts[i].kind == "tried") for i in known):
            return [f"not supported by {', '.join(known)}: no tried step or accepted fix records what was done"]
        return []
    checks = [i for i in known if i in facts and _checks(facts[i])]
    if not checks:
        return [f"not supported by {', '.join(known)}: records no outcome or check"]
    return []


def _checks(f: BundleFact) -> bool:
    """A fact that can verify a fix: a tried step with a recorded outcome that was not a dead end, or a confirmed
    observation that reads as a success ("user confirmed printing works"), not a diagnosis."""
    if f.kind == "tried":
        return bool((f.outcome or "").strip()) and not dead_end(f)
    return f.kind == "confirmed" and bool(_WORKED.search(f.text)) and not _FAILED.search(f.text)


def _best(text: str, bundle: SessionBundle, kind: str) -> float:
    return max((overlap(text, f.text) for f in bundle.facts_of(kind)), default=0.0)
