"""Hybrid passage retrieval: dense and BM25, fused by reciprocal rank.

Dense search finds paraphrases; BM25 finds rare names and numbers the small
embedding model blurs. Reciprocal rank fusion (Cormack et al., 2009) combines
the two rankings without having to calibrate their scores against each other.

:class:`HybridRetriever` searches a loaded index (FAISS and bm25s in memory);
:class:`StoreRetriever` searches a PostgreSQL store in place (HNSW and BM25 in SQL).
Both rank the same way, so they return the same passages.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from index.embedders.sentence_transformer import Embedder
from index.passages import Passage
from index.stores.local import Corpus, PassageIndex
from index.text import terms
from qa.errors import ConfigError
from qa.questions.weights import cover, passage_terms, question_words

if TYPE_CHECKING:
    from index.stores.postgres import PgStore

RRF_K = 60  # the constant from the RRF paper; damps the influence of top ranks
# The best fused passages are ranked again by how much of the question each holds, its words weighted by
# their rarity in English (qa/questions/weights.py): in a library of hundreds of articles, passages of
# the right topic but the wrong article rank high on meaning alone. Chosen on the library benchmark's fit
# part (python -m qa.bench.library; docs/evaluation.md): recall@5 0.800 -> 0.847 there.
RERANK_POOL = 20
COVER_WEIGHT = 0.06  # against fused scores of at most 2 / 61 = 0.033


@dataclass(frozen=True)
class ScoredPassage:
    """A retrieved passage with the evidence for it."""

    passage: Passage
    score: float  # fused RRF score, plus the question's share in it (rerank)
    dense: float  # cosine similarity with the question
    lexical: float  # BM25 score (0 when no term matched)


@dataclass(frozen=True)
class Retrieval:
    """The outcome of one search: the passages, the question's vector, and where the
    passages' sentence ids and documents resolve (the index, or what a store returned)."""

    question: str
    vector: np.ndarray
    passages: tuple[ScoredPassage, ...]
    corpus: Corpus
    documents: int = 1  # how many documents were searched (the index's, or a filter's)


K = TypeVar("K", bound=Hashable)


def fuse(
    dense: Sequence[K], lexical: Sequence[K], top_k: int, order: Mapping[K, tuple[object, ...]]
) -> list[tuple[K, float]]:
    """Reciprocal rank fusion of two rankings; ties go to the passage first in corpus order (``order``)."""
    fused: dict[K, float] = {}
    for ranking in (dense, lexical):
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused, key=lambda key: (-fused[key], order[key]))[:top_k]
    return [(key, fused[key]) for key in best]


def rerank(
    question: str, fused: Sequence[tuple[K, float]], text_of: Mapping[K, str], top_k: int
) -> list[tuple[K, float]]:
    """The fused passages ranked again by fused score plus :data:`COVER_WEIGHT` times the rarity-weighted share
    of the question's words each holds; ties keep the fused order."""
    asked = question_words(question)
    scored = [(key, score + COVER_WEIGHT * cover(asked, passage_terms(text_of[key]))) for key, score in fused]
    order = sorted(range(len(scored)), key=lambda i: (-scored[i][1], i))
    return [scored[i] for i in order[:top_k]]


class _Retriever:
    """What both retrievers share: the question's embedding and how deep to rank."""

    def __init__(self, embedder: Embedder, top_k: int, candidates: int) -> None:
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        if candidates < top_k:
            raise ConfigError(f"candidates ({candidates}) must be at least top_k ({top_k})")
        self.embedder = embedder
        self.top_k = top_k
        self.candidates = candidates

    def embed(self, question: str) -> np.ndarray:
        """Embed a question once; the reader reuses the vector."""
        return self.embedder.encode([question])[0]


class HybridRetriever(_Retriever):
    """Retrieve the top passages of an index for a question.

    Args:
        index: The loaded passage index.
        embedder: Embeds questions; must be the model the index was built with.
        top_k: How many passages to return.
        candidates: How deep each ranking goes before fusion.
    """

    def __init__(self, index: PassageIndex, embedder: Embedder, *, top_k: int = 5, candidates: int = 50) -> None:
        super().__init__(embedder, top_k, candidates)
        self.index = index

    def retrieve(
        self, question: str, vector: np.ndarray | None = None, documents: frozenset[str] | None = None
    ) -> Retrieval:
        """Return the ``top_k`` passages for a question, best first; with ``documents`` (paths), only theirs."""
        if vector is None:
            vector = self.embed(question)
        allowed = None if documents is None else self.index.passage_ids(documents)
        dense_hits = self.index.search(vector, self.candidates, allowed)
        dense = dict(dense_hits)
        lexical_scores = self.index.keywords.scores(question)
        if allowed is not None:
            kept = np.zeros_like(lexical_scores)
            kept[allowed] = lexical_scores[allowed]
            lexical_scores = kept
        # Stable: equal scores keep corpus order, as the store's search does.
        ranked = np.argsort(-lexical_scores, kind="stable")[: self.candidates]
        lexical_order = [int(i) for i in ranked if lexical_scores[i] > 0]
        ids = [pid for pid, _ in dense_hits]
        pool = fuse(ids, lexical_order, max(self.top_k, RERANK_POOL), {pid: (pid,) for pid in (*ids, *lexical_order)})
        best = rerank(question, pool, {pid: self.index.passages[pid].text for pid, _ in pool}, self.top_k)
        scored = tuple(
            ScoredPassage(
                passage=self.index.passages[pid],
                score=score,
                dense=dense.get(pid, float(np.dot(vector, self._passage_vector(pid)))),
                lexical=float(lexical_scores[pid]),
            )
            for pid, score in best
        )
        searched = len(self.index.documents) if documents is None else len(documents)
        return Retrieval(question=question, vector=vector, passages=scored, corpus=self.index, documents=searched)

    def _passage_vector(self, pid: int) -> np.ndarray:
        return np.asarray(self.index.faiss_index.reconstruct(pid), dtype=np.float32)


class StoreRetriever(_Retriever):
    """Retrieve the top passages from a PostgreSQL store, searching inside the database.

    Each question is one read-only snapshot: its dense search, keyword search and the
    passages' documents all come from the same state of the store, even while another
    process writes to it.

    Args:
        store: The store (:class:`index.stores.postgres.PgStore`).
        embedder: Embeds questions; must be the model the store was built with.
        top_k: How many passages to return.
        candidates: How deep each ranking goes before fusion.
    """

    def __init__(self, store: PgStore, embedder: Embedder, *, top_k: int = 5, candidates: int = 50) -> None:
        super().__init__(embedder, top_k, candidates)
        self.store = store

    def retrieve(
        self, question: str, vector: np.ndarray | None = None, documents: frozenset[str] | None = None
    ) -> Retrieval:
        """Return the ``top_k`` passages for a question, best first; with ``documents`` (paths), only theirs."""
        if vector is None:
            vector = self.embed(question)
        with self.store.snapshot(model=self.embedder.name) as snapshot:
            dense = snapshot.dense(vector, self.candidates, documents)
            lexical = snapshot.keywords(terms(question), self.candidates, documents)
            order = {h.id: h.key for h in (*dense, *lexical)}
            pool = fuse([h.id for h in dense], [h.id for h in lexical], max(self.top_k, RERANK_POOL), order)
            excerpt = snapshot.fetch([pid for pid, _ in pool])
            best = rerank(question, pool, {pid: excerpt.passages[pid].text for pid, _ in pool}, self.top_k)
            searched = snapshot.count_documents() if documents is None else len(documents)
        cosine = {h.id: h.score for h in dense}
        bm25 = {h.id: h.score for h in lexical}
        scored = tuple(
            ScoredPassage(
                passage=excerpt.passages[pid],
                score=score,
                dense=cosine.get(pid, float(np.dot(vector, excerpt.vectors[pid]))),
                lexical=bm25.get(pid, 0.0),
            )
            for pid, score in best
        )
        return Retrieval(question=question, vector=vector, passages=scored, corpus=excerpt, documents=searched)
