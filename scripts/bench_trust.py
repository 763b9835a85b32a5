"""Trust-layer figures on the labelled corpus (tests/trust_corpus/secrets.jsonl), comparable run to run.

Redaction recall: share of labelled secret values fully removed (no 5-character fragment left); precision: share
of masked spans that overlap a labelled secret (negatives contribute every span they lose). Per-class recall too.
Grounding (tests/trust_corpus/grounding.jsonl): recall on injected unsupported claims (share flagged, per injection
type) and false-positive rate on clean items (share of supported items flagged).

    .venv/bin/python scripts/bench_trust.py
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from flowpilot_tui.services.generation.grounding import check_claim
from flowpilot_tui.services.generation.types import BundleFact, BundleFix, SessionBundle
from flowpilot_tui.services.redact import find_secrets, redact

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "trust_corpus" / "secrets.jsonl"
GROUNDING = CORPUS.with_name("grounding.jsonl")


def grounding_bundle(case: dict) -> SessionBundle:
    return SessionBundle(
        session_id=case["id"],
        title=case["title"],
        status="open",
        state_version=1,
        facts=[BundleFact(**f) for f in case["facts"]],
        fixes=[BundleFix(**x) for x in case["fixes"]],
    )


def grounding_reasons(case: dict) -> list[str]:
    return check_claim(case["text"], case["section"], case["cited"], grounding_bundle(case))


def grounding_figures() -> None:
    cases = [json.loads(line) for line in GROUNDING.read_text().splitlines()]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clean = flagged_clean = 0
    for c in cases:
        hit = bool(grounding_reasons(c))
        if c["label"] == "supported":
            clean += 1
            flagged_clean += hit
        else:
            per[c["injection"]][0] += hit
            per[c["injection"]][1] += 1
    caught = sum(v[0] for v in per.values())
    injected = sum(v[1] for v in per.values())
    domains = len({c["domain"] for c in cases})
    print(f"grounding corpus: {len(cases)} items in {domains} domains ({injected} injected, {clean} clean)")
    print(f"grounding recall          {caught / max(injected, 1):.1%} ({caught}/{injected} injected claims flagged)")
    print(f"grounding false positives {flagged_clean / max(clean, 1):.1%} ({flagged_clean}/{clean} clean items)")
    for k in sorted(per):
        print(f"  {k:<19} {per[k][0]}/{per[k][1]}")


def _gone(secret: str, original: str, redacted: str) -> bool:
    outside = original.replace(secret, "\0")
    frags = {secret[i : i + 5] for i in range(len(secret) - 4)} or {secret}
    return not any(f in redacted and f not in outside for f in frags)


def main() -> None:
    cases = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    found = total = true_spans = all_spans = 0
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clean_touched = 0
    for c in cases:
        text = c["text"]
        result = redact(text)
        spans = find_secrets(text)
        all_spans += len(spans)
        for s in c["secrets"]:
            total += 1
            ok = _gone(s, text, result.text)
            found += ok
            per_class[c["class"]][0] += ok
            per_class[c["class"]][1] += 1
        secret_ranges = [(text.find(s), text.find(s) + len(s)) for s in c["secrets"]]
        true_spans += sum(any(a < e and i.start < b for a, b in secret_ranges) for i in spans for e in [i.end])
        if c["expect"] == "clean" and spans:
            clean_touched += 1
    negatives = sum(c["expect"] == "clean" for c in cases)
    print(f"redaction corpus: {total} labelled secrets in {len(cases) - negatives} texts, {negatives} clean texts")
    print(f"redaction recall    {found / total:.1%} ({found}/{total})")
    print(f"redaction precision {true_spans / max(all_spans, 1):.1%} ({true_spans}/{all_spans} masked spans)")
    print(f"clean texts touched {clean_touched}/{negatives}")
    for k in sorted(per_class):
        hit, n = per_class[k]
        print(f"  {k:<13} {hit}/{n}")
    grounding_figures()


if __name__ == "__main__":
    main()
