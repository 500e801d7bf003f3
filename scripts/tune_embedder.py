"""What would an embedder tuned on the training data find in a library? (Informational: its weights could
not ship, since only the reader's 30 MB folder may hold weights.)

An experiment for issue 27 (item 3), kept so its figures in docs/evaluation.md can be measured again. It
needs the library benchmark's index (``python -m qa.bench.library``) and touches nothing shipped. All of
MiniLM's weights are fine-tuned on (question, passage holding its answer) pairs of SQuAD v1.1 train's
articles, nine in ten, with in-batch negatives (Karpukhin et al.'s DPR loss; batch 32, lr 2e-5, bf16
autocast; about 14 minutes for 16,000 pairs on two cores); the model is saved to ``--out``, every passage
of the index embedded again with it (about 4 minutes), and two things measured before and after: dense
recall over the whole index for the tenth's questions, and the fit part's answerable library questions
ranked as the retriever ranks them (dense and BM25 fused, then the rerank):

    .venv/bin/python scripts/tune_embedder.py --pairs 16000 --out /tmp/tuned-minilm
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from query_adapter import pairs, recall  # noqa: E402
from title_passages import first_gold_rank, fit_questions  # noqa: E402

from index.embedders.sentence_transformer import bundled_model_path, load_embedder  # noqa: E402
from qa.config import Settings  # noqa: E402


def main() -> int:
    import hashlib

    import torch
    from sentence_transformers import SentenceTransformer

    from index.stores.local import load_index

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=16_000, help="training pairs (one pass)")
    parser.add_argument("--out", type=Path, required=True, help="where the tuned model is saved (outside the repo)")
    args = parser.parse_args()
    work = Settings.from_env().home / "library-bench"
    vectors, questions, positives, articles, _ = pairs(work / "index")
    index = load_index(work / "index")
    texts = [p.text for p in index.passages]
    held_out = {a for a in set(articles) if int(hashlib.sha256(a.encode()).hexdigest()[:8], 16) % 10 == 0}
    train = [i for i, a in enumerate(articles) if a not in held_out]
    test = [i for i, a in enumerate(articles) if a in held_out]
    random.Random(0).shuffle(train)

    torch.set_num_threads(2)
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.max_seq_length = 256
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-5)
    model.train()
    began = time.time()

    def embed(batch: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(model(model.tokenize(batch))["sentence_embedding"], dim=1)

    chosen = train[: args.pairs]
    for step, b in enumerate(range(0, len(chosen), 32)):
        idx = chosen[b : b + 32]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            q = embed([questions[i] for i in idx])
            p = embed([texts[positives[i][0]] for i in idx])
        loss = torch.nn.functional.cross_entropy((q.float() @ p.float().T) / 0.05, torch.arange(len(idx)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 50 == 0:
            print(f"step {step}, loss {loss.item():.3f}, {time.time() - began:.0f} s", flush=True)
    model.eval()
    model.save(str(args.out))

    def encode(with_model: SentenceTransformer, batch: list[str]) -> np.ndarray:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return np.asarray(with_model.encode(batch, batch_size=64, normalize_embeddings=True), dtype=np.float32)

    tuned = encode(model, texts)
    bundled = load_embedder()
    held = [questions[i] for i in test]
    held_positives = [positives[i] for i in test]
    print(f"dense search, {len(test):,} held-out SQuAD train questions, {len(texts):,} passages:")
    print("  bundled", recall(bundled.encode(held) @ vectors.T, held_positives, (1, 5, 10, 50)))
    print("  tuned  ", recall(encode(model, held) @ tuned.T, held_positives, (1, 5, 10, 50)))

    asked = fit_questions(index)
    asked_texts = [q for q, _ in asked]
    print(f"the retriever (fused, reranked), the benchmark's fit part, {len(asked)} library questions:")
    for name, question_vectors, passage_vectors in (
        ("bundled", bundled.encode(asked_texts), vectors),
        ("tuned", encode(model, asked_texts), tuned),
    ):
        ranks = [
            first_gold_rank(q, v, passage_vectors, index.keywords, texts, gold)
            for (q, gold), v in zip(asked, question_vectors, strict=True)
        ]
        found = {k: float(np.mean([r is not None and r <= k for r in ranks])) for k in (5, 10, 20)}
        print(f"  {name}: recall@5 {found[5]:.3f}, @10 {found[10]:.3f}, @20 {found[20]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
