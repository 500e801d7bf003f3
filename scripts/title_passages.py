"""Would passages embedded and keyword-indexed with their document's title be found more often in a library?

An experiment for issue 27 (item 3), kept so its figures in docs/evaluation.md can be measured again
(Haystack's ``embed_meta_fields``, DPR's "title [SEP] passage"). It needs the library benchmark's index
(``python -m qa.bench.library`` builds it) and touches nothing shipped: every passage of it is embedded
again as ``title + "\\n" + text`` (about 5 minutes here), the title being the SQuAD article's name or the
file's stem, and the benchmark's fit-part answerable library questions are ranked as the retriever ranks
them (dense and BM25 fused, then the rerank), with the title in the dense side, the keyword side, both or
neither:

    .venv/bin/python scripts/title_passages.py
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.embedders.sentence_transformer import load_embedder  # noqa: E402
from index.stores.keywords import KeywordIndex  # noqa: E402
from index.stores.local import PassageIndex, load_index  # noqa: E402
from qa.bench.library import plan  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.evaluation.runner import gold_sentences  # noqa: E402
from qa.retriever import RERANK_POOL, fuse, rerank  # noqa: E402


def title_of(path: str) -> str:
    return (path.split("#", 1)[1] if "#" in path else Path(path).stem).replace("_", " ")


def first_gold_rank(
    question: str, vector: np.ndarray, vectors: np.ndarray, keywords: KeywordIndex, texts: Sequence[str], gold: set[int]
) -> int | None:
    dense = [int(i) for i in np.argsort(-(vectors @ vector))[:50]]
    scores = keywords.scores(question)
    lexical = [int(i) for i in np.argsort(-scores, kind="stable")[:50] if scores[i] > 0]
    pool = fuse(dense, lexical, RERANK_POOL, {i: (i,) for i in (*dense, *lexical)})
    ranked = rerank(question, pool, {i: texts[i] for i, _ in pool}, RERANK_POOL)
    return next((r for r, (i, _) in enumerate(ranked, 1) if i in gold), None)


def fit_questions(index: PassageIndex) -> list[tuple[str, set[int]]]:
    """The library benchmark's fit-part answerable questions, each with the ids of the passages of
    ``index`` (its library) that hold a gold sentence."""
    _, articles = plan()
    asked: list[tuple[str, set[int]]] = []
    for article in articles:
        if article.part != "fit" or article.role != "inside":
            continue
        own = article.corpus.load()[0]
        for q in article.corpus.questions:
            if q.answerable:
                gold = gold_sentences(q, [own])
                ids = {
                    i
                    for i, p in enumerate(index.passages)
                    if p.document == own.path
                    and any((s.document, s.start, s.end) in gold for s in (index.sentences[j] for j in p.sentence_ids))
                }
                asked.append((q.question, ids))
    return asked


def main() -> int:
    index = load_index(Settings.from_env().home / "library-bench" / "index")
    plain = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal).astype(np.float32)
    texts = [p.text for p in index.passages]
    titled_texts = [f"{title_of(p.document)}\n{p.text}" for p in index.passages]
    embedder = load_embedder()
    titled = embedder.encode(titled_texts, show_progress=True)
    keywords = {False: index.keywords, True: KeywordIndex.build(titled_texts)}
    vectors = {False: plain, True: titled}
    asked = fit_questions(index)
    questions = embedder.encode([q for q, _ in asked])
    print(f"{len(asked)} questions, {len(texts):,} passages")
    print("| title in | recall@1 | @5 | @10 | @20 |\n|---|---|---|---|---|")
    for name, dense_title, keyword_title in (
        ("neither", False, False),
        ("dense", True, False),
        ("keywords", False, True),
        ("both", True, True),
    ):
        ranks = [
            first_gold_rank(q, v, vectors[dense_title], keywords[keyword_title], texts, gold)
            for (q, gold), v in zip(asked, questions, strict=True)
        ]
        cells = " | ".join(f"{np.mean([r is not None and r <= k for r in ranks]):.3f}" for k in (1, 5, 10, 20))
        print(f"| {name} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
