"""The metrics on hand-computed cases, including SQuAD's normalisation corner cases."""

from __future__ import annotations

import pytest

from qa.evaluation.metrics import best_over_golds, exact_match, f1, normalize_answer, percentile, supports


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Cat", "cat"),
        ("a cat, an owl and the dog!", "cat owl and dog"),
        ("  many   spaces\there ", "many spaces here"),
        ("U.S. officials", "us officials"),
        ("“Death to America”", "death to america"),
        ("Soleimani’s hand", "soleimanis hand"),
        ("theater", "theater"),  # "the" only as a word
        ("An", ""),
        ("$1,200.50", "120050"),
    ],
)
def test_normalize_answer(text: str, normalized: str) -> None:
    assert normalize_answer(text) == normalized


def test_exact_match() -> None:
    assert exact_match("the Qom", "Qom") == 1.0
    assert exact_match("Qom.", "qom") == 1.0
    assert exact_match("holy city of Qom", "Qom") == 0.0
    assert exact_match(None, "") == 1.0  # abstaining on an unanswerable question
    assert exact_match("Qom", "") == 0.0


def test_f1_hand_computed() -> None:
    # pred {cat, sat}, gold {cat, sat, on, mat}: p = 2/2, r = 2/4, F1 = 2 * 1 * 0.5 / 1.5
    assert f1("the cat sat", "cat sat on the mat") == pytest.approx(2 / 3)
    # repeated tokens count by multiplicity: pred {a?} -> "dozen dozen" vs "dozen": p = 1/2, r = 1, F1 = 2/3
    assert f1("dozen dozen", "dozen") == pytest.approx(2 / 3)
    assert f1("more than a dozen", "more than a dozen ballistic missiles") == pytest.approx(2 * 1 * 0.6 / 1.6)
    assert f1("Tehran", "Qom") == 0.0
    assert f1(None, "") == 1.0 and f1("", "") == 1.0
    assert f1(None, "Qom") == 0.0 and f1("Qom", "") == 0.0
    assert f1("the", "a") == 1.0  # both normalise to nothing: SQuAD counts that as agreement


def test_best_over_golds() -> None:
    assert best_over_golds("Ali Khamenei", ["Ayatollah Ali Khamenei", "Ali Khamenei"]) == (1.0, 1.0)
    em, score = best_over_golds("Khamenei", ["Ayatollah Ali Khamenei", "Supreme Leader"])
    assert em == 0.0 and score == pytest.approx(0.5)
    assert best_over_golds(None, []) == (1.0, 1.0)  # unanswerable, abstained
    assert best_over_golds("Qom", []) == (0.0, 0.0)  # unanswerable, answered


def test_supports_folds_quotes_and_punctuation() -> None:
    sentence = "“Military operations do not suffice. What is important is to end the U.S.’s presence,” he said."
    assert supports(sentence, ["military operations do not suffice"])
    assert supports(sentence, ["end the U.S.'s presence"])
    assert not supports(sentence, ["slap in the face"])
    assert not supports(sentence, [""])  # an empty snippet supports nothing


def test_percentile_matches_linear_interpolation() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([], 50) == 0.0
