"""The labelled helpdesk corpus (tests/trust_corpus/secrets.jsonl): every phrasing class is masked with the label
kept and no fragment of the value left beside it; the ordinary identifiers and look-alikes are left exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowpilot_tui.services.redact import PLACEHOLDER_PREFIX, find_secrets, redact

CORPUS = [
    json.loads(line) for line in (Path(__file__).parent / "trust_corpus" / "secrets.jsonl").read_text().splitlines()
]
POSITIVES = [c for c in CORPUS if c["expect"] == "secret"]
NEGATIVES = [c for c in CORPUS if c["expect"] == "clean"]
CLASSES = sorted({c["class"] for c in POSITIVES})


def _fragments(secret: str, size: int = 5) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)} or {secret}


def test_corpus_covers_every_class_of_the_issue() -> None:
    assert set(CLASSES) >= {
        "label_value",
        "phrase",
        "creds",
        "command",
        "wifi",
        "passphrase",
        "recovery_key",
        "tap",
        "url",
        "shape",
    }
    assert all(sum(c["class"] == k for c in POSITIVES) >= 2 for k in CLASSES)
    assert len(NEGATIVES) >= 40


@pytest.mark.parametrize("case", POSITIVES, ids=[f"{c['class']}:{c['text'][:40]}" for c in POSITIVES])
def test_secret_is_gone_and_its_label_stays(case: dict) -> None:
    text = case["text"]
    result = redact(text)
    for secret in case["secrets"]:
        outside = text.replace(secret, "\0")
        leaked = [f for f in _fragments(secret) if f in result.text and f not in outside]
        assert not leaked, f"{leaked} of {secret!r} survived in {result.text!r}"
    if case["label"]:
        assert case["label"] in result.text
        after = result.text[result.text.index(case["label"]) + len(case["label"]) :].lstrip(" '\"`")
        assert after.startswith(PLACEHOLDER_PREFIX), result.text  # the value right after the label is masked
    assert find_secrets(result.text) == []  # masked text is clean: a customer-visible post of it is not refused


@pytest.mark.parametrize("case", NEGATIVES, ids=[c["text"][:50] for c in NEGATIVES])
def test_look_alike_is_left_untouched(case: dict) -> None:
    assert redact(case["text"]).text == case["text"]


def test_message_id_and_teams_link_are_kept_but_a_labelled_secret_in_a_url_is_not() -> None:
    msg = "Message-ID: <CAF8kQm2Lp9Vw4Rt7Yb3Nc6Hd0Jf5Gs@mail.gmail.com>"
    assert redact(msg).text == msg
    sas = "https://st01.blob.core.windows.net/c/f.txt?sv=2022&sig=Xk29fLq8ZpW3mN7vB4cR1tY6Qa"
    assert "Xk29fLq8" not in redact(sas).text
