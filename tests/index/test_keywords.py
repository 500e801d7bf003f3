"""The keyword index: BM25 scores survive a save and load exactly, and bad bytes are refused."""

from __future__ import annotations

import numpy as np
import pytest

from index.stores.keywords import KeywordIndex

TEXTS = [
    "Iran fired more than a dozen ballistic missiles at two bases in Iraq.",
    "Khamenei spoke in Qom; the crowd chanted.",
    "...",  # no content term: still one row, scored 0
    "The Pentagon said the missiles were launched from Iran.",
]


@pytest.mark.parametrize("question", ["How many missiles did Iran fire?", "Where did Khamenei speak?", "the of", ""])
def test_scores_are_identical_after_a_round_trip(question: str) -> None:
    built = KeywordIndex.build(TEXTS)
    loaded = KeywordIndex.from_bytes(built.to_bytes())
    assert loaded.size == built.size == len(TEXTS)
    np.testing.assert_array_equal(loaded.scores(question), built.scores(question))
    assert loaded.scores(question).shape == (len(TEXTS),)


def test_rare_terms_score_and_unknown_terms_do_not() -> None:
    index = KeywordIndex.from_bytes(KeywordIndex.build(TEXTS).to_bytes())
    scores = index.scores("Khamenei Qom")
    assert int(np.argmax(scores)) == 1 and scores[1] > 0
    assert not index.scores("zeppelin").any()


@pytest.mark.parametrize("data", [b"", b"not an npz", b"PK\x03\x04" + b"\x00" * 40])
def test_bad_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a saved keyword index"):
        KeywordIndex.from_bytes(data)
