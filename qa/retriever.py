"""Hybrid passage retrieval: dense (FAISS) and BM25, fused by reciprocal rank.

Dense search finds paraphrases; BM25 finds rare names and numbers the small
embedding model blurs. Reciprocal rank fusion (Cormack et al., 2009) combines
the two rankings without having to calibrate their scores against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder
from index.passages import Passage
from index.store import PassageIndex
from qa.errors import ConfigError

RRF_K = 60  # the constant from the RRF paper; damps the influence of top ranks


@dataclass(frozen=True)
class ScoredPassage:
    """A retrieved passage with the evidence for it."""

    passage: Passage
    score: float  # fused RRF score
    dense: float  # cosine similarity with the question
    lexical: float  # BM25 score (0 when no term matched)


@dataclass(frozen=True)
class Retrieval:
    """The outcome of one search: the passages and the question's vector."""

    question: str
    vector: np.ndarray
    passages: tuple[ScoredPassage, ...]


class HybridRetriever:
    """Retrieve the top passages of an index for a question.

    Args:
        index: The loaded passage index.
        embedder: Embeds questions; must be the model the index was built with.
        top_k: How many passages to return.
        candidates: How deep each ranking goes before fusion.
    """

    def __init__(self, index: PassageIndex, embedder: Embedder, *, top_k: int = 5, candidates: int = 50) -> None:
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        if candidates < top_k:
            raise ConfigError(f"candidates ({candidates}) must be at least top_k ({top_k})")
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.candidates = candidates

    def embed(self, question: str) -> np.ndarray:
        """Embed a question once; the reader reuses the vector."""
        return self.embedder.encode([question])[0]

    def retrieve(self, question: str, vector: np.ndarray | None = None) -> Retrieval:
        """Return the ``top_k`` passages for a question, best first."""
        if vector is None:
            vector = self.embed(question)
        dense_hits = self.index.search(vector, self.candidates)
        dense = dict(dense_hits)
        lexical_scores = self.index.keywords.scores(question)
        lexical_order = [int(i) for i in np.argsort(-lexical_scores)[: self.candidates] if lexical_scores[i] > 0]

        fused: dict[int, float] = {}
        for rank, (pid, _) in enumerate(dense_hits):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, pid in enumerate(lexical_order):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda pid: (-fused[pid], pid))[: self.top_k]
        scored = tuple(
            ScoredPassage(
                passage=self.index.passages[pid],
                score=fused[pid],
                dense=dense.get(pid, float(np.dot(vector, self._passage_vector(pid)))),
                lexical=float(lexical_scores[pid]),
            )
            for pid in best
        )
        return Retrieval(question=question, vector=vector, passages=scored)

    def _passage_vector(self, pid: int) -> np.ndarray:
        return np.asarray(self.index.faiss_index.reconstruct(pid), dtype=np.float32)
