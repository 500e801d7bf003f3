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
``type_mismatch`` / ``name_mismatch``
    the question asks for a number, date or age and the answer holds no digit or number word / asks
    who or where and the answer holds no capitalised word;
``sentence_cover`` / ``sentence_missing`` / ``passage_missing``
    the share of the question's words in the sentence holding the answer, and the rarity of the
    rarest question word that sentence / the passage never mentions (a SQuAD 2.0 question written
    to sit close to the text often swaps one name or word for another);
``echo``
    the share of the answer's words that the question itself holds (a span repeating the
    question is seldom its answer);
``sentence_dense``
    the cosine similarity of the question and the sentence holding the answer, both embedded by
    this process (so both stores agree to the last bit): 0 here, measured by the assistant
    (:meth:`qa.assistant.Assistant.judged`) for the candidates it needs;
``other_gap``
    how far the candidate's margin stands above the best candidate from another document (a
    fixed ceiling when no other document was read);
``scale``
    the log10 of the number of documents searched (1 for one article, 4 for 10,000), and any
    signal times it (``<signal>_x``): in a library a fair-looking span is more often chance.

:func:`features` computes them for every candidate of a reading; :class:`Judge` turns them into a
probability and is fitted by ``python -m qa.bench.library --fit`` on held-out articles asked of
a library (never on the test sets). It lives in the reader's ``settings.json`` beside the margin
calibration, which stays the confidence of readers without a judge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from index.text import words
from qa.questions.analysis import AnswerType, analyze
from qa.questions.weights import MAX_RARITY, cover, document_terms, passage_terms, question_words

# The signals the shipped judge uses: only those both stores compute identically (margins, word sets,
# ranks and counts). Cosines and fused scores also helped a little (4-fold cross-validated mix F1 on the
# benchmark's fit part 0.513 against 0.504) but differ in their last bits between FAISS and pgvector, and
# a folder index and a PostgreSQL store must give the same confidence.
FEATURES = (
    "margin",
    "passage_cover",
    "document_cover",
    "missing_rare",
    "rank",
    "type_mismatch",
    "other_gap",
    "scale",
    "margin_x",
    "passage_cover_x",
    "document_cover_x",
    "missing_rare_x",
    "other_gap_x",
    "sentence_dense_x",
)
# Signals computed and kept by the library benchmark, for trying: a judge may use any of them, and
# any signal times ``scale`` (the log10 of the documents searched) as ``<signal>_x``.
BASE_SIGNALS = (
    "margin",
    "passage_cover",
    "document_cover",
    "missing_rare",
    "dense",
    "rank",
    "type_mismatch",
    "other_gap",
    "span",
    "no_answer",
    "lexical",
    "fused",
    "top_dense",
    "answer_words",
    "support",
    "name_mismatch",
    "sentence_cover",
    "sentence_missing",
    "passage_missing",
    "echo",
    "sentence_dense",
    "scale",
)
SIGNALS = (*BASE_SIGNALS, *(f"{name}_x" for name in BASE_SIGNALS if name != "scale"))
GAP_CEILING = 10.0  # margins above another document's best by more than this all count alike
_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion billions
    dozen dozens half first second third fourth fifth several few many
    january february march april may june july august september october november december
    century centuries decade decades year years month months week weeks day days""".split()
)
_DIGIT = re.compile(r"\d")


def wants_number(question: str) -> bool:
    """The question asks for a number, a date or an age."""
    return analyze(question).type in (AnswerType.NUMBER, AnswerType.DATE)


def wants_name(question: str) -> bool:
    """The question asks who or where: a person's or a place's name."""
    return analyze(question).type in (AnswerType.PERSON, AnswerType.PLACE)


def holds_name(answer: str) -> bool:
    """The answer holds a capitalised word (a name, as far as letters tell) or a digit."""
    return any(w[:1].isupper() or w[:1].isdigit() for w in words(answer))


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
    sentence_text: str = ""  # the sentences the answer touches ("" when not known: the passage stands in)


def features(question: str, candidates: Sequence[CandidateView], documents: int = 1) -> list[dict[str, float]]:
    """The judge's signals for each candidate of one question (see the module's docstring).

    ``documents``: how many documents the question searched (the index's, or a filter's): a span
    that fits well in one article of thousands is likelier to be chance than in the one article asked.
    """
    scale = math.log10(max(1, documents))
    asked = question_words(question)
    number = wants_number(question)
    name = wants_name(question)
    asked_terms = {t for t, _ in asked}

    def rarest_absent(found: frozenset[str]) -> float:
        """The rarity of the rarest question word not in ``found``, 0 to 1."""
        return max((w for t, w in asked if t not in found), default=0.0) / MAX_RARITY

    best_by_document: dict[str, float] = {}
    for c in candidates:
        best_by_document[c.document] = max(best_by_document.get(c.document, -math.inf), c.margin)
    answers = [" ".join(words(c.answer.lower())) for c in candidates]
    rows = []
    for c, answer in zip(candidates, answers, strict=True):
        in_document = document_terms(c.document_key, c.document_text)
        in_passage = passage_terms(c.passage_text)
        in_sentence = passage_terms(c.sentence_text) if c.sentence_text else in_passage
        answer_terms = passage_terms(c.answer)
        others = [m for d, m in best_by_document.items() if d != c.document]
        gap = min(GAP_CEILING, c.margin - max(others)) if others else GAP_CEILING
        rows.append(
            {
                "margin": max(-20.0, min(20.0, c.margin)),
                "passage_cover": cover(asked, in_passage),
                "document_cover": cover(asked, in_document),
                "missing_rare": rarest_absent(in_document),
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
                "name_mismatch": 1.0 if name and not holds_name(c.answer) else 0.0,
                "sentence_cover": cover(asked, in_sentence),
                "sentence_missing": rarest_absent(in_sentence),
                "passage_missing": rarest_absent(in_passage),
                "echo": len(answer_terms & asked_terms) / len(answer_terms) if answer_terms else 0.0,
                "sentence_dense": 0.0,  # an embedding: the assistant measures it where needed
            }
        )
    for row in rows:
        row.update({f"{name}_x": value * scale for name, value in list(row.items())})
        row["scale"] = scale
    return rows


@dataclass(frozen=True)
class Judge:
    """A logistic model over :data:`FEATURES`: P(right) = sigmoid(w · x + b), x standardised.

    ``library_offset``: added to the log-odds in a library, in full from ``library_scale`` (the
    log10 of the documents the library threshold was chosen with) and in proportion below it, so
    that the one threshold keeps both operating points the rule chose, one article's and a
    library's (:mod:`qa.train.judge`); 0 leaves the probability as fitted.
    """

    weights: Mapping[str, float]
    intercept: float
    mean: Mapping[str, float]
    scale: Mapping[str, float]
    library_offset: float = 0.0
    library_scale: float = 0.0

    def __call__(self, row: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * (row[k] - self.mean[k]) / self.scale[k] for k, w in self.weights.items())
        if self.library_offset and self.library_scale > 0:
            z += self.library_offset * min(1.0, row["scale"] / self.library_scale)
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.weights),
            "weights": [self.weights[k] for k in self.weights],
            "intercept": self.intercept,
            "mean": [self.mean[k] for k in self.weights],
            "scale": [self.scale[k] for k in self.weights],
            "library_offset": self.library_offset,
            "library_scale": self.library_scale,
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
            library_offset=float(data.get("library_offset", 0.0)),
            library_scale=float(data.get("library_scale", 0.0)),
        )
