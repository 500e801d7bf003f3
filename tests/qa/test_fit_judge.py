"""Fitting the judge from the library benchmark's observations, and storing it with the reader."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
from pathlib import Path

import pytest

from qa.bench.library import CandidateRow, QuestionRow, answered_elsewhere, as_answering, choose, figures, load_rows
from qa.readers.extractive import BUNDLED_READER, ExtractiveReader
from qa.readers.judge import SIGNALS, Judge
from qa.train.judge import choose_threshold, fit_and_write, fit_judge, question_weights, with_library_threshold
from tests.qa.test_judge import linear


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


def test_each_mode_keeps_its_own_operating_point_under_one_threshold() -> None:
    """A library where outside questions look likelier (higher margins) wants a higher threshold than one
    article; the library's threshold enters the judge as a log-odds offset, so one threshold keeps both."""
    made = []
    for r in rows(600, seed=3):
        if r.mode == "library":
            c = r.candidates[0]
            lift = 2.5 if r.kind != "answerable" else 0.0
            features = {**c.features, "scale": 2.0, "margin": c.features["margin"] + lift}
            r = dataclasses.replace(r, candidates=(dataclasses.replace(c, features=features),))
        made.append(r)
    plain = fit_judge(made, ("margin", "missing_rare"))
    judge, threshold = with_library_threshold(made, plain)
    alone = choose_threshold([r for r in made if r.mode == "document"], plain)
    many = choose_threshold([r for r in made if r.mode == "library"], plain)
    assert threshold == alone < many and judge.library_scale == 2.0
    assert judge.library_offset == pytest.approx(math.log(alone / (1 - alone)) - math.log(many / (1 - many)))
    for mode, plain_threshold in (("document", alone), ("library", many)):
        part = [r for r in made if r.mode == mode]
        assert figures(part, judge, threshold) == figures(part, plain, plain_threshold)
    half = {**made[0].candidates[0].features, "scale": 1.0}  # halfway to the library's size: half the offset
    z = math.log(plain(half) / (1 - plain(half)))
    assert judge(half) == pytest.approx(1 / (1 + math.exp(-(z + judge.library_offset / 2))))
    assert Judge.from_dict(judge.to_dict()) == judge


def test_the_benchmark_scores_the_sentence_similarity_as_the_assistant_measures_it() -> None:
    """Only the leader without it keeps its sentence similarity, as in Assistant.judged."""
    uses = linear(margin=1.0, sentence_dense_x=2.0)
    lead = CandidateRow({**signals(3.0, 0.0), "sentence_dense_x": 0.1}, "a", 0.0, False)
    close = CandidateRow({**signals(2.9, 0.0), "sentence_dense_x": 0.9}, "b", 1.0, True)
    assert [c.features["sentence_dense_x"] for c in as_answering((lead, close), uses)] == [0.1, 0.0]
    row = QuestionRow("1", "q?", "a", "s", "fit", "answerable", "library", (lead, close), 1, 0.0)
    assert choose(row, uses)[0] is not None and choose(row, uses)[0].document == "a"
    assert as_answering((lead, close), fit_judge(rows(), ("margin",))) == (lead, close)  # a judge without it
