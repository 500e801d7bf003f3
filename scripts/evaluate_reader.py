"""Score a reader folder on every test set and record the figures in its model card.

    .venv/bin/python scripts/evaluate_reader.py [FOLDER] [--plots]     # default: the bundled reader

Runs ``qa eval`` (document level, the reader's own threshold) on the bundled article's set, the
second article's set and the shared SQuAD 2.0 file, plus the SQuAD file paragraph-level
(``--paragraphs``); then asks the second article's and the SQuAD file's questions of the bundled
article, which answers none of them (out-of-document: the share refused is the NoAns accuracy).
It writes ``evaluation.json`` into the folder and rewrites its README.md.
``--plots`` also redraws ``docs/eval-seed.png`` and ``docs/eval-squad.png``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation.runner import evaluate, write_outputs  # noqa: E402
from qa.readers.extractive import BUNDLED_READER, load_reader  # noqa: E402
from qa.train.card import write_card  # noqa: E402

SQUAD = ROOT.parent / "shared/data/squad2-dev-2articles.json"
SETS = [  # name, file, paragraph given, plot
    (
        "bundled article (`tests/data/seed_questions.jsonl`)",
        ROOT / "tests/data/seed_questions.jsonl",
        False,
        "eval-seed",
    ),
    ("second article (`tests/data/library_questions.jsonl`)", ROOT / "tests/data/library_questions.jsonl", False, ""),
    ("SQuAD 2.0, 2 articles, document level", SQUAD, False, "eval-squad"),
    ("SQuAD 2.0, 2 articles, paragraph given", SQUAD, True, ""),
]


def out_of_document_set(path: Path) -> Path:
    """The second article's and the SQuAD file's questions, as JSON Lines with no answer, for the bundled article."""
    from qa.evaluation.datasets import load_test_set

    rows = []
    for source in (ROOT / "tests/data/library_questions.jsonl", SQUAD):
        for corpus in load_test_set(source):
            rows += [{"id": f"{source.stem}/{q.id}", "question": q.question, "answers": []} for q in corpus.questions]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--plots"]
    folder = Path(args[0]) if args else BUNDLED_READER
    reader = load_reader(folder)
    rows = []
    figures = {}
    for name, path, paragraphs, plot in SETS:
        report = evaluate(path, reader=reader, paragraphs=paragraphs, show_progress=True)
        if plot and "--plots" in sys.argv:
            with tempfile.TemporaryDirectory() as tmp:
                write_outputs(report, tmp)
                shutil.copyfile(Path(tmp) / "plot.png", ROOT / "docs" / f"{plot}.png")
        m = report.metrics
        figures[name] = m.to_dict()
        rows.append(
            f"| {name} | {m.n} ({m.n_no_ans} unanswerable) | {100 * m.exact_match:.1f} | {100 * m.f1:.1f} | "
            f"{100 * m.has_ans_f1:.1f} | {m.no_ans_accuracy:.3f} | {m.citation_accuracy:.3f} | "
            f"{m.latency_ms_p50:.1f} ms |"
        )
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate(out_of_document_set(Path(tmp) / "outside.jsonl"), reader=reader, show_progress=True)
    m = report.metrics
    figures["out-of-document"] = m.to_dict()
    rows.append(
        f"| out-of-document: the second article's and the SQuAD file's questions asked of the bundled article | "
        f"{m.n} (all unanswerable) | | | | {m.no_ans_accuracy:.3f} | | {m.latency_ms_p50:.1f} ms |"
    )
    markdown = [
        f"`scripts/evaluate_reader.py` (threshold {reader.threshold}, retrieval top 5 unless the paragraph is given):",
        "",
        "| test set | questions | EM | F1 | HasAns F1 | NoAns accuracy | citation accuracy | p50 |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    (folder / "evaluation.json").write_text(json.dumps({"metrics": figures, "markdown": markdown}, indent=2) + "\n")
    write_card(folder)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
