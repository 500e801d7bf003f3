"""`qa eval` on tiny sets gives exactly the expected numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import TestSetError
from qa.evaluation.datasets import load_test_set
from qa.evaluation.runner import QuestionResult, apply_threshold, score
from tests.conftest import SHARED

ARTICLE = (
    "The Harbour Bakery\n\n"
    "Maria Lopez opened the Harbour Bakery in Valparaiso in 1998. The bakery sells forty kinds of bread.\n\n"
    "Every October it hosts a festival that draws about 3,000 visitors.\n"
)


def result(
    answerable: bool,
    prediction: str | None,
    confidence: float,
    *,
    correct: bool = True,
    rank: int | None = 1,
    gold: tuple[str, ...] = ("Qom",),
) -> QuestionResult:
    return apply_threshold(
        QuestionResult(
            id="x",
            corpus="c",
            question="q",
            gold_answers=gold if answerable else (),
            prediction=prediction,
            raw_prediction=prediction,
            confidence=confidence,
            exact_match=0.0,
            f1=0.0,
            citation=None,
            raw_citation_correct=correct and answerable,
            citation_correct=correct and answerable,
            gold_rank=rank if answerable else None,
            latency_ms=10.0,
        ),
        0.5,
    )


def test_score_by_hand() -> None:
    results = [
        result(True, "Qom", 0.9),  # right: EM 1, F1 1
        result(True, "holy city of Qom", 0.8, rank=2),  # F1 2*(1/4)*1/(1.25) = 0.4
        result(True, "Qom", 0.3, correct=True, rank=None),  # abstains: 0, citation wrong, not retrieved
        result(False, "Tehran", 0.2),  # abstains on unanswerable: 1
        result(False, "Tehran", 0.7),  # answers an unanswerable: 0
    ]
    m = score(results, k=5, threshold=0.5)
    assert (m.n, m.n_has_ans, m.n_no_ans) == (5, 3, 2)
    assert m.exact_match == pytest.approx(2 / 5)
    assert m.f1 == pytest.approx((1 + 0.4 + 0 + 1 + 0) / 5)
    assert m.has_ans_f1 == pytest.approx(1.4 / 3)
    assert m.no_ans_accuracy == 0.5
    assert m.citation_accuracy == pytest.approx(2 / 3)
    assert m.recall_at_k == pytest.approx(2 / 3) and m.mrr == pytest.approx((1 + 0.5) / 3)
    assert m.abstention_precision == 0.5 and m.abstention_recall == 0.5
    assert m.latency_ms_p50 == 10.0


def test_jsonl_and_squad_loading(tmp_path: Path) -> None:
    doc = tmp_path / "bakery.txt"
    doc.write_text(ARTICLE)
    jsonl = tmp_path / "set.jsonl"
    jsonl.write_text(
        json.dumps({"id": "a", "question": "Who?", "answers": ["Maria Lopez"], "document": "bakery.txt"}) + "\n"
    )
    [corpus] = load_test_set(jsonl)
    assert corpus.paths == (doc,) and corpus.questions[0].answers == ("Maria Lopez",)
    squad = SHARED / "data" / "squad2-dev-2articles.json"
    corpora = load_test_set(squad)
    assert [c.name for c in corpora] == ["Computational_complexity_theory", "Southern_California"]
    assert sum(len(c.questions) for c in corpora) == 742
    assert sum(not q.answerable for c in corpora for q in c.questions) == 365
    # every gold offset points at its answer inside the joined article text
    for c in corpora:
        text = c.documents[0].text
        for q in c.questions:
            for answer, offset in zip(q.answers, q.gold_offsets, strict=True):
                assert text[offset : offset + len(answer)] == answer


@pytest.mark.parametrize("content", ["{not json", '{"answers": []}', ""])
def test_malformed_sets(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(TestSetError):
        load_test_set(path)


@pytest.mark.slow
def test_qa_eval_on_a_tiny_set_gives_exact_numbers(tmp_path: Path) -> None:
    (tmp_path / "bakery.txt").write_text(ARTICLE)
    rows = [
        {
            "id": "1",
            "question": "Who opened the Harbour Bakery?",
            "answers": ["Maria Lopez"],
            "supporting": ["Maria Lopez opened"],
        },
        {
            "id": "2",
            "question": "How many visitors does the festival draw?",
            "answers": ["about 3,000"],
            "supporting": ["draws about 3,000"],
        },
        {"id": "3", "question": "What is the capital of Peru?", "answers": [], "supporting": []},
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps({**r, "document": "bakery.txt"}) + "\n" for r in rows))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "qa", "eval", str(path), "--json", "--out", str(out), "--threshold", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "QA_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    # The aggregate is exactly the per-question arithmetic (threshold 0: question 3 is answered, scores 0).
    assert metrics["n"] == 3 and metrics["recall_at_k"] == 1.0 and metrics["mrr"] == 1.0
    assert metrics["f1"] == round(sum(r["f1"] for r in results) / 3, 4)
    assert metrics["has_ans_f1"] == round(sum(r["f1"] for r in results[:2]) / 2, 4)
    assert metrics["no_ans_accuracy"] == 0.0 and results[2]["prediction"] is not None
    assert metrics["citation_accuracy"] == round(sum(r["citation_correct"] for r in results[:2]) / 2, 4)
    assert all(r["prediction"] and r["prediction"] in ARTICLE for r in results)
    assert metrics["latency_ms_p50"] > 0 and metrics["latency_ms_p95"] >= metrics["latency_ms_p50"]
    assert sorted(p.name for p in out.iterdir()) == [
        ".qa-eval",
        "metrics.json",
        "plot.png",
        "report.md",
        "results.jsonl",
    ]
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Failures" in (out / "report.md").read_text()


def test_broken_supporting_snippet_is_reported(tmp_path: Path, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    from qa.evaluation import evaluate

    (tmp_path / "bakery.txt").write_text(ARTICLE)
    path = tmp_path / "broken.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "b1",
                "question": "Who?",
                "answers": ["x"],
                "supporting": ["not in the text"],
                "document": "bakery.txt",
            }
        )
        + "\n"
    )
    with pytest.raises(TestSetError, match="b1.*not in the text"):
        evaluate(path, embedder=hash_embedder)


@pytest.fixture
def tiny_report(tmp_path: Path, hash_embedder):  # type: ignore[no-untyped-def]
    from qa.evaluation import evaluate

    (tmp_path / "bakery.txt").write_text(ARTICLE)
    path = tmp_path / "tiny.jsonl"
    row = {"id": "1", "question": "Who opened the bakery?", "answers": ["Maria Lopez"], "document": "bakery.txt"}
    path.write_text(json.dumps(row) + "\n")
    return evaluate(path, embedder=hash_embedder, reader="sentence-only")


@pytest.mark.parametrize(
    "theirs", [["report.md"], ["metrics.json", "plot.png"], ["results.jsonl"], ["report.md", "results.jsonl"]]
)
def test_eval_out_never_overwrites_a_file_it_did_not_write(tmp_path: Path, tiny_report, theirs: list[str]) -> None:  # type: ignore[no-untyped-def]
    from qa.errors import ConfigError
    from qa.evaluation.runner import write_outputs

    out = tmp_path / "mine"
    out.mkdir()
    for name in theirs:
        (out / name).write_text("the user's own words\n")
    with pytest.raises(ConfigError, match="already holds .*qa eval did not write"):
        write_outputs(tiny_report, out)
    assert all((out / name).read_text() == "the user's own words\n" for name in theirs)
    assert sorted(p.name for p in out.iterdir()) == sorted(theirs)


def test_eval_out_replaces_its_own_earlier_files_and_leaves_others_alone(tmp_path: Path, tiny_report) -> None:  # type: ignore[no-untyped-def]
    from qa.evaluation.runner import write_outputs

    out = tmp_path / "runs"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    first = write_outputs(tiny_report, out)
    second = write_outputs(tiny_report, out)  # a second run into the same folder
    assert first == second and (out / "notes.txt").read_text() == "keep me\n"


def test_eval_out_that_is_a_file_or_cannot_be_written_is_refused_before_the_evaluation(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    a_file = tmp_path / "report.md"
    a_file.write_text("mine\n")
    home = tmp_path / "home"
    for out, message in [
        (a_file, "is a file"),
        (a_file / "sub", "choose a folder you can write"),
        (Path("/proc/qa-eval-out"), "choose a folder you can write"),
    ]:
        done = run_cli("eval", "tests/data/seed_questions.jsonl", "--out", str(out), home=home)
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("qa: error: ") and message in done.stderr and "Traceback" not in done.stderr
        assert not home.exists()  # refused before any index was built
    assert a_file.read_text() == "mine\n"
