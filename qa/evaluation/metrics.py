"""SQuAD's answer metrics, and the matching of cited sentences to gold ones.

``normalize_answer``, ``exact_match`` and ``f1`` follow the official SQuAD
v2.0 evaluation script (lower case, punctuation and articles removed,
whitespace collapsed; an empty gold means "no answer", scored 1 only for an
empty prediction). The one addition is that curly quotes and apostrophes are
folded to straight ones first, so they are removed as punctuation too; on
text without them the results are identical to the official script.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Iterable, Sequence

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "′": "'", "″": '"'})


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (SQuAD)."""
    text = text.translate(_QUOTES).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str | None) -> list[str]:
    return normalize_answer(text).split() if text else []


def exact_match(prediction: str | None, gold: str) -> float:
    """1.0 when the normalised strings are equal (``None`` means no answer)."""
    return float(normalize_answer(prediction or "") == normalize_answer(gold))


def f1(prediction: str | None, gold: str) -> float:
    """Token-overlap F1 of normalised prediction and gold (SQuAD)."""
    predicted, expected = _tokens(prediction), _tokens(gold)
    if not predicted or not expected:
        # "No answer" on either side: 1 when both are empty, else 0.
        return float(predicted == expected)
    common = collections.Counter(predicted) & collections.Counter(expected)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """``(exact match, F1)``, each the maximum over the gold answers; no golds means unanswerable."""
    targets = list(golds) or [""]
    return max(exact_match(prediction, g) for g in targets), max(f1(prediction, g) for g in targets)


def supports(sentence: str, supporting: Iterable[str]) -> bool:
    """True when the sentence contains one of the supporting snippets, after normalisation."""
    normalized = normalize_answer(sentence)
    return any((snippet := normalize_answer(s)) and snippet in normalized for s in supporting)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation, as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
