"""Fitting the judge from the library benchmark's observations, and storing it with the reader."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from qa.bench.library import CandidateRow, QuestionRow, answered_elsewhere, choose, figures, load_rows
from qa.readers.extractive import BUNDLED_READER, ExtractiveReader
from qa.readers.judge import SIGNALS
from qa.train.judge import choose_threshold, fit_and_write, fit_judge, question_weights


def signals(margin: float, missing: float) -> dict[str, float]:
    row = dict.fromkeys(SIGNALS, 0.0)
    row.update(margin=margin, missing_rare=missing, passage_cover=1.0 - missing)
    return row


def rows(n: int = 300, seed: int = 0) -> list[QuestionRow]:
    """Questions whose right candidates have high margins and no missing words; outside ones lack a rare word."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        kind = ("answerable", "answerable", "outside", "close")[i % 4]
        mode = ("document", "library")[i // 4 % 2]
        right = kind == "answerable" and rng.random() < 0.7
        margin = rng.gauss(4.0 if right else 0.0, 1.5)
        missing = 0.0 if kind != "outside" else rng.uniform(0.4, 1.0)
        candidate = CandidateRow(signals(margin, missing), f"doc{i % 7}", 1.0 if right else 0.0, right)
        made.append(
            QuestionRow(str(i), "q?", f"article{i % 9}", f"source{i % 2}", "fit", kind, mode, (candidate,), 1, 0.01)
        )
    return made


def test_the_fit_learns_the_signals_that_separate_right_from_wrong() -> None:
    fitted = rows()
    judge = fit_judge(fitted, ("margin", "missing_rare"))
    assert judge.weights["margin"] > 0 > judge.weights["missing_rare"]
    threshold = choose_threshold(fitted, judge)
    assert 0.01 <= threshold <= 0.95
    at = figures([r for r in fitted if r.mode == "library"], judge, threshold)
    assert at.outside_refused > 0.9 and at.answerable_f1 > 0.5


def test_each_mode_and_kind_weighs_its_share_of_the_mix() -> None:
    fitted = rows()
    weights = question_weights(fitted)
    for mode in ("document", "library"):
        share = {
            kind: sum(w for r, w in zip(fitted, weights, strict=True) if r.mode == mode and r.kind == kind)
            for kind in ("answerable", "outside", "close")
        }
        total = sum(share.values())
        assert share["answerable"] / total == pytest.approx(0.7)
        assert share["outside"] / total == pytest.approx(0.2)


def test_outside_questions_the_library_answers_are_left_out_of_fitting() -> None:
    row = rows(4)[2]
    assert row.kind == "outside" and not answered_elsewhere(row)
    assert answered_elsewhere(QuestionRow(**{**row.__dict__, "candidates": (CandidateRow({}, "d", 1.0, False),)}))


def test_choose_reads_deeper_only_below_the_threshold() -> None:
    weak = CandidateRow(signals(-2.0, 0.0), "a", 0.0, False)
    strong = CandidateRow(signals(6.0, 0.0), "b", 1.0, True)
    row = QuestionRow("1", "q?", "a", "s", "fit", "answerable", "library", (weak,), 1, 0.0, (weak, strong))
    judge = fit_judge(rows(), ("margin",))
    assert choose(row, judge)[0] is weak
    assert choose(row, judge, deeper_below=0.5)[0] is strong


def test_fit_and_write_stores_the_judge_the_reader_then_uses(tmp_path: Path) -> None:
    folder = tmp_path / "reader"
    shutil.copytree(BUNDLED_READER, folder)
    observations = tmp_path / "observations.jsonl"
    made = rows()
    observations.write_text("\n".join(json.dumps(r.__dict__, default=lambda o: o.__dict__) for r in made) + "\n")
    assert len(load_rows(observations)) == len(made)
    result = fit_and_write(folder, observations, ("margin", "missing_rare"))
    stored = json.loads((folder / "settings.json").read_text())
    assert stored["judge"]["features"] == ["margin", "missing_rare"] and stored["threshold"] == result["threshold"]
    assert stored["judge_figures"]["margin_threshold"] == 0.15  # the margin calibration's own, kept for reference
    reader = ExtractiveReader.from_folder(folder)
    assert reader.judge is not None and reader.threshold == result["threshold"]
    assert "The judge" in (folder / "README.md").read_text()
