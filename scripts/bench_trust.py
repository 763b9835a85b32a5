"""Trust-layer figures on the labelled corpus (tests/trust_corpus/secrets.jsonl), comparable run to run.

Redaction recall: share of labelled secret values fully removed (no 5-character fragment left); precision: share
of masked spans that overlap a labelled secret (negatives contribute every span they lose). Per-class recall too.
Grounding (claim-level checks) is not built yet, so no grounding figures are printed.

    .venv/bin/python scripts/bench_trust.py
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from flowpilot_tui.services.redact import find_secrets, redact

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "trust_corpus" / "secrets.jsonl"


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
    print("grounding: not measured (claim-level grounding is not built yet)")


if __name__ == "__main__":
    main()
