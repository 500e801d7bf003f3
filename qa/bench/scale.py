"""Both stores at scale: ``python -m qa.bench.scale --sizes 10000,100000,500000 [--store URL]``.

For each size, the local store (FAISS + bm25s in one folder) and the PostgreSQL store
(HNSW + BM25 tables) are built from the same documents and asked the same questions:

* build time (splitting, passages, keyword index, vector index, writing; embedding excluded,
  see below), disk size;
* retrieval p50/p95 (dense + BM25 + fusion + fetching the passages; no reader), and dense
  recall@10 against exact search over the same vectors;
* peak memory of a fresh process that opens the store and asks; for PostgreSQL also the size
  of the HNSW index, which the server must keep in its cache to search fast.

The text is real: the articles of ``../shared/data/train`` (SQuAD, Natural Questions, privacy
policies, COVID papers, reviews), and beyond their ~40,000 passages, copies of them with their
names and numbers swapped (:func:`qa.bench.variant`). Embedding 500,000 passages would take
hours on two cores, so the vectors are synthetic, shaped like MiniLM's (:func:`qa.bench.synthetic_vectors`,
seeded by each passage's text so both stores get the same ones); embedding time is the build
throughput row of ``python -m qa.bench``, times the passage count. Questions are real questions
of the same files, with synthetic vectors.

Without ``--store``, a throwaway PostgreSQL is started with ``pgserver`` (the dev extra).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.bench.suite import PEAK, Row, _anchor_vectors, _median, _p95, print_table, synthetic_vectors, variant

TRAIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "train"
QUERIES = 200


class SyntheticEmbedder:
    """MiniLM-shaped unit vectors seeded by each text, with the real tokenizer's token counts."""

    name = "bench/synthetic-minilm"

    def __init__(self, anchors: np.ndarray, tokens: Any) -> None:
        self.anchors = anchors
        self.dimension = int(anchors.shape[1])
        self.max_tokens = tokens.max_tokens
        self._tokens = tokens
        self._cholesky = np.linalg.cholesky(np.cov(anchors.T) + 1e-4 * np.eye(self.dimension)).astype(np.float32)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()))
            v = self.anchors[rng.integers(len(self.anchors))] + rng.standard_normal(self.dimension, np.float32) @ (
                self._cholesky.T
            )
            out[i] = v / np.linalg.norm(v)
        return out

    def count_tokens(self, text: str) -> int:
        return int(self._tokens.count_tokens(text))


def real_articles() -> list[tuple[str, str]]:
    """(name, text) of every article in the shared training files: its paragraphs, blank-line separated."""
    articles = []
    for file in sorted(TRAIN.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))["data"]
        for i, article in enumerate(data):
            text = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
            articles.append((f"{file.stem}/{i:05d}", text))
    return articles


def real_questions(n: int) -> list[str]:
    data = json.loads((TRAIN / "squad-v1.1-train.json").read_text(encoding="utf-8"))["data"]
    questions = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    rng = np.random.default_rng(5)
    return [questions[i] for i in rng.choice(len(questions), n, replace=False)]


def scale_documents(passages: int, embedder: SyntheticEmbedder) -> list[Any]:
    """Documents of real text, copied with other names and numbers until they make ``passages`` passages."""
    from index.documents import make_document
    from index.stores.local import PassageSettings, cut_passages

    articles = real_articles()
    documents, made, copy = [], 0, 0
    while made < passages:
        for name, text in articles:
            document = make_document(f"/scale/{copy}/{name}.txt", text if copy == 0 else variant(text, copy))
            documents.append(document)
            made += len(cut_passages([document], embedder, PassageSettings()))
            if made >= passages:
                break
        copy += 1
    return documents


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


CHILD = (
    """
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from qa.bench.scale import ask
result = ask(*sys.argv[2:])
"""
    + PEAK
    + """
result["peak_mib"] = peak
print(json.dumps(result))
"""
)


class _Named:
    """Stands in for the embedder: questions come with their vectors."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name, self.dimension, self.max_tokens = name, dimension, 256


def ask(kind: str, where: str, queries_file: str) -> dict[str, Any]:
    """In a fresh process: open the store, retrieve for every query, time it and score dense recall@10."""
    from qa.retriever import HybridRetriever, StoreRetriever

    data = np.load(queries_file)
    questions = json.loads(str(data["questions"]))
    truth = [set(map(tuple, t)) for t in json.loads(str(data["truth"]))]
    vectors = data["vectors"]
    embedder: Any = _Named(SyntheticEmbedder.name, vectors.shape[1])
    start = time.perf_counter()
    if kind == "local":
        from index.stores.local import load_index

        index = load_index(Path(where))
        retriever: Any = HybridRetriever(index, embedder)
        ordinal = _ordinals(index.passages)

        def dense(v: np.ndarray) -> list[tuple[str, int]]:
            return [ordinal[pid] for pid, _ in index.search(v, 10)]
    else:
        from index.stores.postgres import PgStore

        store = PgStore(where)
        retriever = StoreRetriever(store, embedder)

        def dense(v: np.ndarray) -> list[tuple[str, int]]:
            with store.snapshot() as snapshot:
                return [h.key for h in snapshot.dense(v, 10)]

    opened = time.perf_counter() - start
    for q, v in zip(questions[:5], vectors[:5], strict=False):  # warm caches and connections
        retriever.retrieve(q, v)
    times = []
    for q, v in zip(questions, vectors, strict=True):
        began = time.perf_counter()
        retriever.retrieve(q, v)
        times.append((time.perf_counter() - began) * 1000)
    recall = float(np.mean([len(set(dense(v)) & t) / len(t) for v, t in zip(vectors, truth, strict=True)]))
    parts = _parts(kind, index if kind == "local" else store, questions, vectors)
    return {"open_s": opened, "p50_ms": _median(times), "p95_ms": _p95(times), "recall": recall, **parts}


def _parts(kind: str, where: Any, questions: Sequence[str], vectors: np.ndarray) -> dict[str, float]:
    """p50 of each step of a retrieval on its own: dense search, keyword search, and (PostgreSQL) the fetch."""
    from index.text import terms

    steps: dict[str, list[float]] = {"dense_ms": [], "keywords_ms": [], "fetch_ms": []}
    for q, v in zip(questions, vectors, strict=True):
        if kind == "local":
            began = time.perf_counter()
            where.search(v, 50)
            middle = time.perf_counter()
            where.keywords.scores(q)
            steps["dense_ms"].append((middle - began) * 1000)
            steps["keywords_ms"].append((time.perf_counter() - middle) * 1000)
            continue
        with where.snapshot() as snapshot:
            began = time.perf_counter()
            hits = snapshot.dense(v, 50)
            middle = time.perf_counter()
            snapshot.keywords(terms(q), 50)
            after = time.perf_counter()
            snapshot.fetch([h.id for h in hits[:5]])
            steps["dense_ms"].append((middle - began) * 1000)
            steps["keywords_ms"].append((after - middle) * 1000)
            steps["fetch_ms"].append((time.perf_counter() - after) * 1000)
    return {name: _median(values) if values else 0.0 for name, values in steps.items()}


def _ordinals(passages: Sequence[Any]) -> list[tuple[str, int]]:
    """Each passage as (document, its ordinal within the document): how both stores name it."""
    seen: dict[str, int] = {}
    out = []
    for p in passages:
        seen[p.document] = seen.get(p.document, -1) + 1
        out.append((p.document, seen[p.document]))
    return out


def _child(kind: str, where: str, queries_file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(__file__).resolve().parents[2]), kind, where, str(queries_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _fresh_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1) if "/postgres?" in url else url.rsplit("/", 1)[0] + f"/{name}"


def bench_size(passages: int, url: str, work: Path, anchors: np.ndarray, tokens: Any) -> list[Row]:
    import faiss
    import psycopg

    from index.stores.local import build_index, save_index
    from index.stores.postgres import PgStore

    embedder = SyntheticEmbedder(anchors, tokens)
    documents = scale_documents(passages, embedder)
    start = time.perf_counter()
    index = build_index(documents, embedder)
    folder = work / f"local-{passages}"
    save_index(index, folder)
    local_build = time.perf_counter() - start
    n = len(index.passages)
    matrix = index.faiss_index.reconstruct_n(0, n)  # IVF indexes are saved with a direct map for this
    rng_questions = real_questions(QUERIES)
    queries = synthetic_vectors(anchors, QUERIES, seed=passages + 1)
    _, truth_ids = faiss.knn(queries, matrix, 10, metric=faiss.METRIC_INNER_PRODUCT)
    ordinal = _ordinals(index.passages)
    truth = [[ordinal[i] for i in row] for row in truth_ids]
    queries_file = work / f"queries-{passages}.npz"
    np.savez(queries_file, questions=json.dumps(rng_questions), truth=json.dumps(truth), vectors=queries)
    kind, sentences = index.manifest.index_type, len(index.sentences)
    del index, matrix

    database = _fresh_database(url, f"scale_{passages}")
    store = PgStore(database)
    start = time.perf_counter()
    store.sync(documents, embedder)
    pg_build = time.perf_counter() - start
    with psycopg.connect(database) as connection:
        row = connection.execute(
            "SELECT pg_database_size(current_database()), pg_relation_size('qa_passages_embedding')"
        ).fetchone()
        disk, hnsw = row if row else (0, 0)
    del documents

    local = _child("local", str(folder), queries_file)
    remote = _child("postgres", database, queries_file)
    local_disk = _disk(folder)
    shutil.rmtree(folder, ignore_errors=True)
    label = f"{n:,} passages ({sentences:,} sentences)"
    return [
        Row(f"{label}: build, embedding excluded", f"local {local_build:.0f} s ({kind}), PostgreSQL {pg_build:.0f} s"),
        Row(f"{label}: disk", f"local {local_disk / 2**20:,.0f} MiB, PostgreSQL {disk / 2**20:,.0f} MiB"),
        Row(
            f"{label}: open, then retrieval p50 / p95 (no reader)",
            f"local {local['open_s']:.2f} s, {local['p50_ms']:.1f} / {local['p95_ms']:.1f} ms; "
            f"PostgreSQL {remote['open_s']:.2f} s, {remote['p50_ms']:.1f} / {remote['p95_ms']:.1f} ms",
        ),
        Row(
            f"{label}: p50 of each step alone (dense / BM25 / fetch)",
            f"local {local['dense_ms']:.1f} / {local['keywords_ms']:.1f} ms; PostgreSQL {remote['dense_ms']:.1f} / "
            f"{remote['keywords_ms']:.1f} / {remote['fetch_ms']:.1f} ms",
        ),
        Row(
            f"{label}: dense recall@10 against exact search",
            f"local {local['recall']:.3f}, PostgreSQL HNSW {remote['recall']:.3f}",
        ),
        Row(
            f"{label}: memory",
            f"local process peak {local['peak_mib']:,.0f} MiB; PostgreSQL client peak {remote['peak_mib']:,.0f} MiB, "
            f"HNSW index {hnsw / 2**20:,.0f} MiB (kept in the server's cache)",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,500000", help="passages per run (comma-separated)")
    parser.add_argument("--store", help="a PostgreSQL server URL (databases scale_N are made there)")
    args = parser.parse_args(argv)
    from index.embedders.sentence_transformer import load_embedder

    work = Path(tempfile.mkdtemp(prefix="qa-bench-scale-"))
    server = None
    url = args.store
    if not url:
        import pgserver

        server = pgserver.get_server(work / "pgdata", cleanup_mode="delete")
        url = server.get_uri()
    anchors = _anchor_vectors()
    tokens = load_embedder(backend="numpy")
    rows: list[Row] = []
    try:
        for size in (int(s) for s in args.sizes.split(",") if s):
            found = bench_size(size, url, work, anchors, tokens)
            rows.extend(found)
            for row in found:  # as they come: the biggest size takes the longest
                print(f"... {row.measure}: {row.value}", file=sys.stderr, flush=True)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
