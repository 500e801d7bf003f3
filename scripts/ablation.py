"""What each idea of the default reader is worth: switch one off at a time and score all test sets.

Usage: python scripts/ablation.py   (prints a Markdown table; about five minutes on two cores)

Rows: the default reader; the sentence-only baseline (no span extraction); the default answering
description ("what ...") questions with the whole sentence; the default without spaCy's dependency
parses (qa/syntax.py); and the default with one sentence-ranking feature's weight set to 0. The
confidence model and threshold stay as they are.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from index.embedder import load_embedder
from qa.evaluation import evaluate
from qa.reader import ReaderWeights, SentenceReader

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "seed": ROOT / "tests/data/seed_questions.jsonl",
    "second article": ROOT / "tests/data/library_questions.jsonl",
    "SQuAD 2 articles": ROOT.parent / "shared/data/squad2-dev-2articles.json",
}


def readers() -> dict[str, SentenceReader]:
    variants = {
        "default": SentenceReader(abstain_below=0.0),
        "no span extraction (sentence-only)": SentenceReader(abstain_below=0.0, whole_sentence=True),
        "no short answers to description questions": SentenceReader(abstain_below=0.0, short_descriptions=False),
        "no dependency parses (word-position rules only)": SentenceReader(abstain_below=0.0, parser=None),
    }
    for field in dataclasses.fields(ReaderWeights):
        weights = dataclasses.replace(ReaderWeights(), **{field.name: 0.0})
        variants[f"without {field.name} ranking feature"] = SentenceReader(abstain_below=0.0, weights=weights)
    return variants


def main() -> None:
    embedder = load_embedder()
    sets = {name: path for name, path in SETS.items() if path.exists()}
    header = ["reader"] + [f"{name} {m}" for name in sets for m in ("F1", "HasAns F1", "citation")]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, reader in readers().items():
        cells = [label]
        for path in sets.values():
            m = evaluate(path, embedder=embedder, reader=reader).metrics
            cells += [f"{m.f1:.3f}", f"{m.has_ans_f1:.3f}", f"{m.citation_accuracy:.3f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
