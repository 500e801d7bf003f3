"""Fit the reader's confidence model on our own test sets and print (or write) it.

    python scripts/calibrate.py            # fit, print coefficients and cross-validated scores
    python scripts/calibrate.py --write    # also rewrite the DEFAULT block of qa/calibration.py

The label of a question is 1 when it is answerable and the reader's best
sentence is a gold sentence, else 0 (unanswerable questions are all 0), so the
confidence estimates "the cited sentence answers this question".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT / "tests/data/seed_questions.jsonl", ROOT / "tests/data/library_questions.jsonl"]
FEATURES = ["dense", "lexical", "context", "type_match", "type_miss", "unknown_entities", "margin"]


def collect() -> tuple[np.ndarray, np.ndarray]:
    from index.embedder import load_embedder
    from qa.assistant import Assistant
    from qa.datasets import load_test_set
    from qa.evaluation import gold_sentences
    from qa.question import analyze
    from qa.reader import SentenceReader

    embedder = load_embedder()
    rows, labels = [], []
    for path in SETS:
        for corpus in load_test_set(path):
            documents = corpus.load()
            assistant = Assistant.from_documents(documents, embedder=embedder)
            reader = assistant.reader
            assert isinstance(reader, SentenceReader)
            for question in corpus.questions:
                q = analyze(question.question)
                retrieval = assistant.retriever.retrieve(question.question)
                ranked = reader.score_sentences(q, retrieval, assistant.index)
                evidence = reader.evidence(q, ranked, reader.stats(assistant.index)).as_dict()
                best = assistant.index.sentences[ranked[0].sentence_id]
                gold = gold_sentences(question, documents)
                rows.append([evidence[f] for f in FEATURES])
                labels.append(int(question.answerable and (best.document, best.start, best.end) in gold))
    return np.array(rows), np.array(labels)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    x, y = collect()
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x, y)
    loo = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000), x, y, cv=LeaveOneOut(), method="predict_proba")[
        :, 1
    ]
    print(f"{len(y)} questions, {int(y.sum())} with a right best sentence")
    print(
        f"AUC in sample {roc_auc_score(y, model.predict_proba(x)[:, 1]):.3f}, leave-one-out {roc_auc_score(y, loo):.3f}"
    )
    coefficients = {name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    block = (
        "DEFAULT = Calibration(\n"
        f"    intercept={round(float(model.intercept_[0]), 3)},\n"
        "    coefficients={\n"
        + "".join(f'        "{name}": {w},\n' for name, w in coefficients.items())
        + "    },\n)\n"
    )
    print(block)
    if "--write" in sys.argv:
        path = ROOT / "qa/calibration.py"
        text = path.read_text()
        text = re.sub(r"DEFAULT = Calibration\(.*?\n\)\n", block, text, flags=re.S)
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
