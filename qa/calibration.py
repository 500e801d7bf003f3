"""Confidence: a logistic model over named evidence features, fit on our own test sets.

The reader describes its best sentence with :class:`Evidence`; :class:`Calibration`
turns that into the probability that the cited sentence really answers the
question. ``scripts/calibrate.py`` refits the coefficients on
``tests/data/*_questions.jsonl`` (logistic regression, L2) and prints this
module's ``DEFAULT`` block; the abstention threshold is then read off the
F1-vs-threshold curve of ``qa eval``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Evidence:
    """What the reader knows about its best sentence, as numbers.

    Attributes:
        dense: Cosine similarity of question and sentence.
        lexical: Idf-weighted share of question terms in the sentence.
        context: The same share over the sentence and the one before it.
        type_match: How well the sentence offers a span of the expected type (0 to 1).
        type_miss: 1 when the question wants a typed span (person, place, date,
            number, quote) and the sentence has none.
        unknown_entities: Capitalised question words, or a speaker, the corpus never contains.
        margin: Score of the best sentence minus that of the runner-up.
    """

    dense: float
    lexical: float
    context: float
    type_match: float
    type_miss: float
    unknown_entities: float
    margin: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Calibration:
    """Logistic map from :class:`Evidence` to a confidence in [0, 1]."""

    intercept: float
    coefficients: dict[str, float]

    def __call__(self, evidence: Evidence) -> float:
        values = evidence.as_dict()
        z = self.intercept + sum(weight * values[name] for name, weight in self.coefficients.items())
        return 1.0 / (1.0 + math.exp(-z))


# Fit by scripts/calibrate.py on tests/data/seed_questions.jsonl and library_questions.jsonl.
DEFAULT = Calibration(
    intercept=-1.901,
    coefficients={
        "dense": 1.08,
        "lexical": 1.852,
        "context": 2.49,
        "type_match": -0.068,
        "type_miss": -0.941,
        "unknown_entities": -0.501,
        "margin": 0.696,
    },
)
