"""Readers: what they return, the protocol they follow, and the sentence-only baseline.

A reader looks at the question and the retrieved passages and proposes
answer spans with scores. It never builds the final answer: the assistant
alone decides to abstain (by the reader's calibrated confidence and its
threshold) and cites every sentence the chosen span touches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from index.documents import Sentence
from index.passages import Passage
from index.text import terms


@dataclass(frozen=True)
class Candidate:
    """One proposed answer span.

    Attributes:
        passage: The passage it was read from.
        start: Offset of the span's first character in the passage's document.
        end: Offset just past its last character.
        score: The model's span score (start logit + end logit).
        no_answer: The no-answer score of the window it came from ([CLS] logits).
        confidence: Calibrated probability that this answer is right, in [0, 1].
    """

    passage: Passage
    start: int
    end: int
    score: float
    no_answer: float
    confidence: float

    @property
    def margin(self) -> float:
        """How much more the model believes this span than "no answer here"."""
        return self.score - self.no_answer


@dataclass(frozen=True)
class Reading:
    """What a reader found: candidates, best first (possibly none)."""

    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@runtime_checkable
class Reader(Protocol):
    """Reads passages and proposes scored answer spans.

    Attributes:
        name: Shown in answers (``Answer.reader``) and evaluation reports.
        threshold: The confidence under which the assistant abstains; each
            reader carries its own, chosen on held-out data.
    """

    name: str
    threshold: float

    def read(self, question: str, passages: Sequence[Passage], sentences: Sequence[Sentence]) -> Reading:
        """Propose answers to ``question`` from ``passages`` (best retrieved first).

        ``sentences`` is the index's sentence list, by id (``Passage.sentence_ids``).
        """
        ...


class SentenceOnlyReader:
    """A baseline with no model: the whole sentence that shares the most question terms.

    Terms are weighted by their rarity among the retrieved sentences; ties go
    to the better-ranked passage. Its confidence is the weighted share of the
    question's terms in the sentence, so it abstains only when it finds
    next to nothing.
    """

    name = "sentence-only"

    def __init__(self, *, threshold: float = 0.2) -> None:
        self.threshold = threshold

    def read(self, question: str, passages: Sequence[Passage], sentences: Sequence[Sentence]) -> Reading:
        wanted = set(terms(question))
        if not wanted or not passages:
            return Reading(())
        found: list[tuple[Passage, Sentence, set[str]]] = []
        seen: set[int] = set()
        for passage in passages:
            for i in passage.sentence_ids:
                if i not in seen:  # neighbouring passages share a sentence
                    seen.add(i)
                    found.append((passage, sentences[i], set(terms(sentences[i].text))))
        df = {t: sum(t in f[2] for f in found) for t in wanted}
        weight = {t: math.log(1 + len(found) / (1 + df[t])) for t in wanted}
        total = sum(weight.values()) or 1.0
        best: tuple[float, int] | None = None
        for i, (_, _, words) in enumerate(found):
            share = sum(weight[t] for t in wanted & words) / total
            if best is None or share > best[0]:
                best = (share, i)
        assert best is not None
        passage, sentence, _ = found[best[1]]
        return Reading((Candidate(passage, sentence.start, sentence.end, best[0], 0.0, best[0]),))
