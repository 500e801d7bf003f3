"""Fit the judge (:mod:`qa.readers.judge`) on the fit part of the library benchmark: ``qa fit-judge``.

The observations come from ``python -m qa.bench.library`` (every question of the fit part asked at
document level and of the library, every candidate kept with its signals); fitting reads them and
asks nothing. The judge is a weighted logistic regression of "this candidate is right" on the
signals; its threshold is the reader's rule over the assumed mix of questions (:data:`MIX`),
applied to each mode (one document, a library) apart: one article's is the threshold, a library's
is folded into the judge as an offset of its log-odds (:func:`with_library_threshold`). Both go
into the reader folder's settings.json, with the figures behind them; the report part is never
looked at here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from qa.bench.library import (
    KINDS,
    MODES,
    QuestionRow,
    Scorer,
    _split,
    answered_elsewhere,
    choose,
    figures,
)
from qa.readers.judge import FEATURES, Judge

MIX = {"answerable": 0.70, "outside": 0.20, "close": 0.10}  # the reader's assumed mix (docs/reader.md)
TOLERANCE = 0.002
GRID = [round(t, 3) for t in np.linspace(0.01, 0.95, 95)]


def question_weights(rows: Sequence[QuestionRow], mix: Mapping[str, float] = MIX) -> np.ndarray:
    """Each mode counts alike; within it each kind has its share of ``mix``, each source alike within a kind."""
    counts: dict[tuple[str, str, str], int] = {}
    for r in rows:
        counts[r.mode, r.kind, r.source] = counts.get((r.mode, r.kind, r.source), 0) + 1
    sources = {(m, k): sum(1 for mm, kk, _ in counts if (mm, kk) == (m, k)) for m in MODES for k in KINDS}
    modes = {m for m, _, _ in counts}
    return np.array(
        [mix[r.kind] / len(modes) / sources[r.mode, r.kind] / counts[r.mode, r.kind, r.source] for r in rows]
    )


def fit_judge(rows: Sequence[QuestionRow], names: Sequence[str] = FEATURES, *, l2: float = 1.0) -> Judge:
    """A weighted logistic fit of "this candidate is right" on every candidate of every question.

    Right: an answerable question's candidate with F1 >= 0.5 that cites a gold sentence of the
    question's own document; candidates of close and outside questions are never right. A
    question's candidates share its weight, so a question read in ten passages counts as one.
    """
    weights = question_weights(rows)
    xs, ys, ws = [], [], []
    for r, w in zip(rows, weights, strict=True):
        readings = [c for c in (r.candidates, r.deeper) if c]  # the first reading, and the deeper one
        for candidates in readings:
            for c in candidates:
                xs.append([c.features[k] for k in names])
                ys.append(1.0 if r.kind == "answerable" and c.f1 >= 0.5 and c.cited_right else 0.0)
                ws.append(w / len(candidates) / len(readings))
    x, y, sample = np.array(xs), np.array(ys), np.array(ws)
    sample = sample * len(sample) / sample.sum()
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    theta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(100):  # Newton's method; the problem is convex
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ theta, -50, 50)))
        gradient = z.T @ (sample * (p - y)) + penalty * theta
        hessian = (z * (sample * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Judge(
        weights=dict(zip(names, map(float, theta[:-1]), strict=True)),
        intercept=float(theta[-1]),
        mean=dict(zip(names, map(float, mean), strict=True)),
        scale=dict(zip(names, map(float, scale), strict=True)),
    )


def question_score(row: QuestionRow, scorer: Scorer, threshold: float) -> float:
    """One question's part of the mix F1: an answerable one scores its F1 (0 when refused or citing
    another sentence), a close or outside one 1 when refused."""
    best, confidence = choose(row, scorer, threshold)
    answered = best is not None and confidence >= threshold
    if row.kind == "answerable":
        return best.f1 if answered and best is not None and best.cited_right else 0.0
    return 0.0 if answered else 1.0


def mix_f1(rows: Sequence[QuestionRow], scorer: Scorer, threshold: float, weights: np.ndarray) -> float:
    """F1 over a stream of questions in the assumed mix (:func:`question_score`, weighted)."""
    total = sum(w * question_score(r, scorer, threshold) for r, w in zip(rows, weights, strict=True))
    return total / weights.sum()


def choose_threshold(rows: Sequence[QuestionRow], scorer: Scorer) -> float:
    """The rule: the lowest threshold whose mix F1 is within :data:`TOLERANCE` of the best."""
    weights = question_weights(rows)
    scores = [mix_f1(rows, scorer, t, weights) for t in GRID]
    best = max(scores)
    return next(t for t, s in zip(GRID, scores, strict=True) if s >= best - TOLERANCE)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def with_library_threshold(rows: Sequence[QuestionRow], judge: Judge) -> tuple[Judge, float]:
    """The rule applied to each mode apart: one article's threshold, and the library's folded into the
    judge as an offset of its log-odds (:attr:`Judge.library_offset`), so one threshold keeps both.

    Without it one threshold serves both modes, and a signal that sharpens the judge in a library
    moves the operating point of one article too.
    """
    document = [r for r in rows if r.mode == "document"]
    library = [r for r in rows if r.mode == "library"]
    if not document or not library:
        return judge, choose_threshold(rows, judge)
    plain = dataclasses.replace(judge, library_offset=0.0, library_scale=0.0)
    alone, many = choose_threshold(document, plain), choose_threshold(library, plain)
    scale = max((c.features["scale"] for r in library for c in r.candidates[:1]), default=0.0)
    return dataclasses.replace(plain, library_offset=_logit(alone) - _logit(many), library_scale=scale), alone


def cross_validated(rows: Sequence[QuestionRow], names: Sequence[str], folds: int = 4) -> dict[str, float]:
    """Mix F1 and per-kind figures of judges fitted without each fold of articles, scored on it.

    Folds are whole articles (outside questions of the fit-only files by their own articles), so a
    judge never scores questions about an article it was fitted on.
    """
    fold_of = {r.article: int(_split("fold:" + r.article) * folds) for r in rows}
    scored: list[tuple[QuestionRow, float]] = []  # (question, its score under the judge fitted without it)
    for k in range(folds):
        train = [r for r in rows if fold_of[r.article] != k]
        judge, threshold = with_library_threshold(train, fit_judge(train, names))
        scored += [(r, question_score(r, judge, threshold)) for r in rows if fold_of[r.article] == k]
    weights = question_weights([r for r, _ in scored])
    per: dict[str, list[float]] = {}
    for r, value in scored:
        per.setdefault(f"{r.mode}/{r.kind}", []).append(value)
    total = sum(w * value for (_, value), w in zip(scored, weights, strict=True))
    return {"mix_f1": total / weights.sum(), **{k: float(np.mean(v)) for k, v in sorted(per.items())}}


def write_judge(folder: Path, judge: Judge, threshold: float, rows: Sequence[QuestionRow]) -> None:
    """Store the judge and its threshold in the reader folder's settings.json, with the figures behind them."""
    from qa.readers.extractive import ReaderSettings
    from qa.train.card import write_card
    from qa.train.export import write_settings

    data = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    base = ReaderSettings.from_dict(data)
    extra = {k: v for k, v in data.items() if k not in ReaderSettings.__dataclass_fields__}
    by = {m: figures([r for r in rows if r.mode == m], judge, threshold) for m in MODES}
    extra["judge_figures"] = {
        "mix": dict(MIX),
        "rule": (
            "lowest threshold whose F1 over a question stream in the proportions of `mix` is within "
            f"{TOLERANCE * 100:g} point of the best (grid 0.01-0.95), chosen for one document and for the library "
            "apart; the library's enters the judge as `library_offset` on its log-odds"
        ),
        "margin_threshold": base.threshold
        if base.judge is None
        else data.get("judge_figures", {}).get("margin_threshold", base.threshold),
        "questions": {f"{m}/{k}": n for m, f in by.items() for k, n in f.n.items()},
        "sources": sorted({r.source for r in rows}),
        "at_threshold": {
            m: {
                "answerable_f1": round(f.answerable_f1, 4),
                "citation": round(f.citation, 4),
                "close_refused": round(f.close_refused, 4),
                "outside_refused": round(f.outside_refused, 4),
            }
            for m, f in by.items()
        },
        "command": "python -m qa.bench.library && qa fit-judge",
    }
    write_settings(folder, dataclasses.replace(base, judge=judge.to_dict(), threshold=threshold), **extra)
    write_card(folder)


def fit_and_write(
    folder: Path, observations: Path, names: Sequence[str] = FEATURES, *, write: bool = True
) -> dict[str, object]:
    """Fit on the observations' fit part (outside questions the library answers left out); store the judge."""
    from qa.bench.library import load_rows

    rows = load_rows(observations)
    fit_rows = [r for r in rows if r.part == "fit" and not answered_elsewhere(r)]
    judge, threshold = with_library_threshold(fit_rows, fit_judge(fit_rows, names))
    if write:
        write_judge(folder, judge, threshold, fit_rows)
    return {"judge": judge.to_dict(), "threshold": threshold, "cross_validated": cross_validated(fit_rows, names)}
