"""The judge: how likely the reader's candidate is right, from more than the reader's margin.

In a library of thousands of documents the reader's margin alone is a poor guide: asked "How old
was Soleimani?" of a tennis report, a SQuAD-trained reader finds an age with a fair margin. Kamath,
Jia and Liang ("Selective Question Answering under Domain Shift", ACL 2020) show that a calibrator
over several signals of the model's output, fitted with out-of-domain questions among its examples,
answers far more questions at the same accuracy than the model's probability. The judge is such a
calibrator, a logistic model over signals that hold whichever store answers:

``margin``
    the reader's span score minus its window's no-answer score;
``passage_cover`` / ``document_cover``
    the share of the question's words found in the candidate's passage / document, each word
    weighted by its rarity in English (wordfreq's Zipf scale, not the library's own statistics,
    so a folder index and a PostgreSQL store give the same figure);
``missing_rare``
    the rarity of the rarest question word the document never mentions ("Soleimani" in a
    tennis report): 0 when every word is there;
``dense`` / ``rank``
    the passage's cosine similarity with the question and its rank in the fused retrieval;
``type_mismatch``
    the question asks for a number, date or age and the answer holds no digit or number word;
``other_gap``
    how far the candidate's margin stands above the best candidate from another document (a
    fixed ceiling when no other document was read).

:func:`features` computes them for every candidate of a reading; :class:`Judge` turns them into a
probability and is fitted by ``python -m qa.bench.library --fit`` on held-out articles asked of
a library (never on the test sets). It lives in the reader's ``settings.json`` beside the margin
calibration, which stays the confidence of readers without a judge.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from index.text import STOPWORDS, stem, terms, words
from qa.questions.analysis import AnswerType, analyze

FEATURES = (
    "margin",
    "passage_cover",
    "document_cover",
    "missing_rare",
    "dense",
    "rank",
    "type_mismatch",
    "other_gap",
)
# Signals computed and kept by the library benchmark, for trying: a judge may use any of them.
SIGNALS = (*FEATURES, "span", "no_answer", "lexical", "fused", "top_dense", "answer_words", "support")
MAX_RARITY = 7.0  # Zipf 0 (a word wordfreq never saw) weighs 7; "the" (Zipf 7.7) weighs nothing
GAP_CEILING = 10.0  # margins above another document's best by more than this all count alike
_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion billions
    dozen dozens half first second third fourth fifth several few many
    january february march april may june july august september october november december
    century centuries decade decades year years month months week weeks day days""".split()
)
_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """How rare a lower-case word is in English, 0 (very common) to 7 (never seen): 7 minus its Zipf frequency."""
    from wordfreq import zipf_frequency

    return max(0.0, MAX_RARITY - zipf_frequency(word, "en"))


@functools.lru_cache(maxsize=4096)
def question_words(question: str) -> tuple[tuple[str, float], ...]:
    """The question's content words as ``(stem, rarity)``, each stem once."""
    seen: dict[str, float] = {}
    for word in words(question):
        lowered = word.lower().replace("’", "'")
        base = lowered[:-2] if lowered.endswith("'s") else lowered
        if lowered in STOPWORDS or base in STOPWORDS:
            continue
        key = stem(lowered)
        seen[key] = max(seen.get(key, 0.0), rarity(base.replace(".", "")))
    return tuple(seen.items())


@functools.lru_cache(maxsize=256)
def _text_terms(text: str) -> frozenset[str]:
    return frozenset(terms(text))


def document_terms(key: str, text: str) -> frozenset[str]:
    """The stemmed terms of a document's text, cached by ``key`` (its path and hash) and text."""
    return _document_terms(key, len(text), text)


@functools.lru_cache(maxsize=512)
def _document_terms(key: str, size: int, text: str) -> frozenset[str]:
    return frozenset(terms(text))


def cover(question: Sequence[tuple[str, float]], found: frozenset[str]) -> float:
    """The rarity-weighted share of the question's words in ``found`` (1 when the question has none)."""
    total = sum(w for _, w in question)
    if total <= 0:
        return 1.0
    return sum(w for t, w in question if t in found) / total


def wants_number(question: str) -> bool:
    """The question asks for a number, a date or an age."""
    return analyze(question).type in (AnswerType.NUMBER, AnswerType.DATE)


def holds_number(answer: str) -> bool:
    """The answer holds a digit or a number, date or duration word."""
    return bool(_DIGIT.search(answer)) or any(w.lower() in _NUMBER_WORDS for w in words(answer))


@dataclass(frozen=True)
class CandidateView:
    """What :func:`features` needs of one candidate: plain values, so a store's excerpt and a
    folder index give the same."""

    document: str  # its path
    document_key: str  # path and text hash: the cache key of the document's terms
    document_text: str
    passage_text: str
    answer: str
    margin: float
    dense: float  # the passage's cosine similarity with the question
    rank: int  # 1-based rank of the passage in the retrieval
    span: float = 0.0  # the span's score (start + end logits)
    no_answer: float = 0.0  # its window's no-answer score
    lexical: float = 0.0  # the passage's BM25 score
    fused: float = 0.0  # its fused (reciprocal rank) score
    top_dense: float = 0.0  # the best cosine similarity among the retrieved passages


def features(question: str, candidates: Sequence[CandidateView]) -> list[dict[str, float]]:
    """The judge's signals for each candidate of one question (see the module's docstring)."""
    asked = question_words(question)
    number = wants_number(question)
    best_by_document: dict[str, float] = {}
    for c in candidates:
        best_by_document[c.document] = max(best_by_document.get(c.document, -math.inf), c.margin)
    answers = [" ".join(words(c.answer.lower())) for c in candidates]
    rows = []
    for c, answer in zip(candidates, answers, strict=True):
        in_document = document_terms(c.document_key, c.document_text)
        missing = [w for t, w in asked if t not in in_document]
        others = [m for d, m in best_by_document.items() if d != c.document]
        gap = min(GAP_CEILING, c.margin - max(others)) if others else GAP_CEILING
        rows.append(
            {
                "margin": max(-20.0, min(20.0, c.margin)),
                "passage_cover": cover(asked, _text_terms(c.passage_text)),
                "document_cover": cover(asked, in_document),
                "missing_rare": max(missing, default=0.0) / MAX_RARITY,
                "dense": c.dense,
                "rank": 1.0 / c.rank,
                "type_mismatch": 1.0 if number and not holds_number(c.answer) else 0.0,
                "other_gap": max(-GAP_CEILING, gap),
                "span": c.span,
                "no_answer": c.no_answer,
                "lexical": c.lexical,
                "fused": c.fused,
                "top_dense": c.top_dense,
                "answer_words": len(answer.split()) / 10,
                "support": (answers.count(answer) - 1) / max(1, len(answers) - 1),
            }
        )
    return rows


@dataclass(frozen=True)
class Judge:
    """A logistic model over :data:`FEATURES`: P(right) = sigmoid(w · x + b), x standardised."""

    weights: Mapping[str, float]
    intercept: float
    mean: Mapping[str, float]
    scale: Mapping[str, float]

    def __call__(self, row: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * (row[k] - self.mean[k]) / self.scale[k] for k, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.weights),
            "weights": [self.weights[k] for k in self.weights],
            "intercept": self.intercept,
            "mean": [self.mean[k] for k in self.weights],
            "scale": [self.scale[k] for k in self.weights],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judge:
        names = [str(n) for n in data["features"]]
        unknown = [n for n in names if n not in SIGNALS]
        if unknown:
            raise ValueError(f"unknown judge features {unknown}; this version knows {', '.join(SIGNALS)}")
        return cls(
            weights=dict(zip(names, map(float, data["weights"]), strict=True)),
            intercept=float(data["intercept"]),
            mean=dict(zip(names, map(float, data["mean"]), strict=True)),
            scale=dict(zip(names, map(float, data["scale"]), strict=True)),
        )
