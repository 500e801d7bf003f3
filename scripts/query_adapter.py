"""Would a linear map of question vectors, fitted on SQuAD v1.1 train, find the right passage more often?

An experiment for issue 27 (item 3, "an embedder tuned on the questions and paragraphs of
../shared/data/train/"), kept so its figures in docs/evaluation.md can be measured again. It needs
the library benchmark's index (``python -m qa.bench.library`` builds it) and touches nothing shipped.

The passage vectors stay as indexed (no index would need rebuilding); only the question's vector is
mapped, ``q' = normalise(q W)`` with ``W`` starting at the identity. ``W`` is fitted by a softmax over
every bulk passage of the training articles (the passage holding the answer against all others,
temperature ``--tau``), on the questions of nine articles in ten; the tenth's questions are searched
in the whole library (40,703 passages) before and after, dense search alone:

    .venv/bin/python scripts/query_adapter.py --epochs 3 --lr 1e-3 --tau 0.05
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.embedders.sentence_transformer import load_embedder  # noqa: E402
from index.stores.local import load_index  # noqa: E402
from qa.bench.library import BULK, DATA  # noqa: E402
from qa.config import Settings  # noqa: E402


def pairs(index_dir: Path) -> tuple[np.ndarray, list[str], list[list[int]], list[str], list[str]]:
    """Every bulk passage's vector, and each SQuAD v1.1 train question with the passages holding its
    answer and its article; with each passage's article."""
    index = load_index(index_dir)
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal).astype(np.float32)
    by_title: dict[str, list[int]] = {}
    for i, passage in enumerate(index.passages):
        if BULK in passage.document and "#" in passage.document:
            by_title.setdefault(passage.document.split("#", 1)[1], []).append(i)
    raw = json.loads((DATA / BULK).read_text(encoding="utf-8"))
    questions: list[str] = []
    positives: list[list[int]] = []
    articles: list[str] = []
    for article in raw["data"]:
        ids = by_title.get(article["title"], [])
        offset = 0  # the benchmark joins an article's paragraphs with blank lines
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = offset + answer["answer_start"]
                end = start + len(answer["text"])
                held = [i for i in ids if index.passages[i].start <= start and end <= index.passages[i].end]
                if held:
                    questions.append(qa["question"])
                    positives.append(held)
                    articles.append(article["title"])
            offset += len(paragraph["context"]) + 2
    passage_article = [p.document.split("#", 1)[1] if BULK in p.document else "" for p in index.passages]
    return vectors, questions, positives, articles, passage_article


def recall(scores: np.ndarray, positives: list[list[int]], ks: tuple[int, ...]) -> dict[int, float]:
    top = np.argsort(-scores, axis=1)[:, : max(ks)]
    return {k: float(np.mean([bool(set(top[j, :k]) & set(p)) for j, p in enumerate(positives)])) for k in ks}


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--work", type=Path, help="the benchmark's folder ($QA_HOME/library-bench)")
    args = parser.parse_args()
    work = args.work or Settings.from_env().home / "library-bench"
    vectors, questions, positives, articles, passage_article = pairs(work / "index")
    held_out = {a for a in set(articles) if int(hashlib.sha256(a.encode()).hexdigest()[:8], 16) % 10 == 0}
    train = [i for i, a in enumerate(articles) if a not in held_out]
    test = [i for i, a in enumerate(articles) if a in held_out]
    embedded = load_embedder().encode(questions, show_progress=True)
    q = torch.from_numpy(embedded)
    p = torch.from_numpy(vectors)
    # The softmax runs over the training articles' passages only: the held-out articles stay unseen.
    seen = torch.tensor([a not in held_out for a in passage_article])
    seen_ids = torch.nonzero(seen).squeeze(1)
    local = -torch.ones(len(p), dtype=torch.long)
    local[seen_ids] = torch.arange(len(seen_ids))
    candidates = p[seen_ids]
    test_positives = [positives[i] for i in test]

    def measure(w: torch.Tensor | None) -> dict[int, float]:
        with torch.no_grad():
            mapped = q[test] if w is None else torch.nn.functional.normalize(q[test] @ w, dim=1)
            return recall((mapped @ p.T).numpy(), test_positives, (1, 5, 10, 20, 50))

    print(f"{len(train)} training questions, {len(test)} held-out, {len(p)} passages", flush=True)
    print("identity", measure(None), flush=True)
    w = torch.nn.Parameter(torch.eye(p.shape[1]))
    optimiser = torch.optim.Adam([w], lr=args.lr)
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        order = rng.permutation(train)
        for b in range(0, len(order), 512):
            idx = order[b : b + 512]
            logits = torch.nn.functional.normalize(q[idx] @ w, dim=1) @ candidates.T / args.tau
            right = torch.zeros_like(logits, dtype=torch.bool)
            for j, i in enumerate(idx):
                right[j, local[positives[i]]] = True
            loss = -(torch.logsumexp(logits.masked_fill(~right, -1e9), 1) - torch.logsumexp(logits, 1)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f"epoch {epoch + 1}", measure(w.detach()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
