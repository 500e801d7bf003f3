"""Calibrate a reader folder on held-out articles: margin -> P(right), and the threshold.

The questions are asked as at run time: each held-out article is indexed as
one document, retrieval picks the passages, the reader reads them. For each
question the best candidate's margin (span score minus its window's
no-answer score) is recorded with whether answering it would be right
(answerable and F1 >= 0.5 against the gold answers). A logistic fit of
right-or-wrong on the margin (Platt scaling) gives the confidence; the
threshold is the lowest confidence within one F1 point of the best SQuAD 2.0 F1 on the same
questions (an abstention scores 1 on an unanswerable question, 0 on an
answerable one). Both go into the folder's settings.json. The reliability
plot uses leave-one-article-out predictions, so it shows how the
calibration does on articles it was not fitted on.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.datasets import load_test_set
from qa.extractive import Calibration, ExtractiveReader, ReaderSettings
from qa.metrics import best_over_golds

TOLERANCE = 0.01  # F1 (0-1) given up on the held-out split for a lower threshold


@dataclass(frozen=True)
class Observation:
    article: str
    margin: float
    right: bool  # answering would be right
    f1: float  # F1 of the raw answer (0 for unanswerable questions)
    answerable: bool


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, steps: int = 50) -> Calibration:
    """Two-parameter logistic regression by Newton's method (the fit is convex; 50 steps is plenty)."""
    w = np.zeros(2)
    features = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(features @ w, -50, 50)))
        gradient = features.T @ (p - y) + l2 * w
        hessian = (features * (p * (1 - p))[:, None]).T @ features + l2 * np.eye(2)
        w -= np.linalg.solve(hessian, gradient)
    return Calibration(slope=float(w[0]), intercept=float(w[1]))


def f1_at(observations: Sequence[Observation], confidences: Sequence[float], threshold: float) -> float:
    """SQuAD 2.0 F1 (0-1) had the assistant abstained below ``threshold``."""
    total = 0.0
    for o, c in zip(observations, confidences, strict=True):
        answered = c >= threshold
        total += (o.f1 if answered else 0.0) if o.answerable else (0.0 if answered else 1.0)
    return total / max(len(observations), 1)


def best_threshold(observations: Sequence[Observation], confidences: Sequence[float]) -> float:
    grid = [round(t, 3) for t in np.linspace(0.05, 0.95, 91)]
    scores = [f1_at(observations, confidences, t) for t in grid]
    best = max(scores)
    # Half the held-out questions are unanswerable (SQuAD 2.0), far more than in the articles people
    # bring, and the F1 curve is flat near its top: among thresholds within TOLERANCE of the best,
    # the lowest, so the assistant answers whenever that costs (almost) nothing on held-out data.
    near = [t for t, s in zip(grid, scores, strict=True) if s >= best - TOLERANCE]
    return near[0]


def observe(folder: str | Path, test_set: str | Path, articles: Sequence[str], *, top_k: int) -> list[Observation]:
    """Ask every question of the held-out articles through the full assistant."""
    from qa.assistant import Assistant
    from qa.config import Settings

    settings = dataclasses.replace(Settings.from_env(), top_k=top_k, abstain_below=0.0)
    reader = ExtractiveReader.from_folder(folder)
    wanted = {a.split("#", 1)[-1] for a in articles}
    observations: list[Observation] = []
    from tqdm import tqdm

    from index.embedder import load_embedder

    embedder = load_embedder(settings.model, backend=settings.backend)
    corpora = [c for c in load_test_set(test_set) if c.name in wanted]
    with tqdm(total=sum(len(c.questions) for c in corpora), desc="calibration questions", unit="q") as bar:
        for corpus in corpora:
            assistant = Assistant.from_documents(corpus.load(), settings=settings, embedder=embedder, reader=reader)
            for q in corpus.questions:
                question = assistant.check_question(q.question)
                reading = assistant.read(question, assistant.retriever.retrieve(question))
                best = reading.best
                if best is None:
                    observations.append(Observation(corpus.name, -20.0, False, 0.0, q.answerable))
                else:
                    text = assistant.index.document(best.passage.document).text[best.start : best.end]
                    f1 = best_over_golds(text, q.answers)[1] if q.answerable else 0.0
                    observations.append(Observation(corpus.name, best.margin, f1 >= 0.5, f1, q.answerable))
                bar.update(1)
    return observations


def calibrate(
    folder: str | Path, test_set: str | Path, articles: Sequence[str], *, top_k: int = 5, plot: str | Path | None = None
) -> dict[str, Any]:
    """Fit the calibration and the threshold and write them into the folder's settings.json."""
    from qa.train.export import write_settings

    root = Path(folder)
    observations = observe(root, test_set, articles, top_k=top_k)
    x = np.array([o.margin for o in observations])
    y = np.array([1.0 if o.right else 0.0 for o in observations])
    calibration = fit_logistic(x, y)
    held_out = np.zeros(len(observations))
    names = sorted({o.article for o in observations})
    for name in names:  # leave one article out, for the reliability plot and an honest log loss
        inside = np.array([o.article != name for o in observations])
        fitted = fit_logistic(x[inside], y[inside])
        held_out[~inside] = [fitted(m) for m in x[~inside]]
    confidences = [calibration(m) for m in x]
    threshold = best_threshold(observations, confidences)
    eps = 1e-6
    log_loss = float(-np.mean(y * np.log(held_out + eps) + (1 - y) * np.log(1 - held_out + eps)))
    figures = {
        "questions": len(observations),
        "answerable": sum(o.answerable for o in observations),
        "articles": names,
        "f1_at_threshold": round(100 * f1_at(observations, confidences, threshold), 2),
        "f1_at_margin_0": round(100 * f1_at(observations, [1.0 if m > 0 else 0.0 for m in x], 0.5), 2),
        "leave_one_article_out_log_loss": round(log_loss, 4),
        "auc": round(_auc(x, y), 4),
    }
    settings = json.loads((root / "settings.json").read_text(encoding="utf-8"))
    base = ReaderSettings.from_dict(settings)
    write_settings(
        root,
        dataclasses.replace(base, calibration=calibration, threshold=threshold),
        calibration_figures=figures,
    )
    if plot:
        reliability_plot(held_out, y, plot)
    from qa.train.card import write_card

    write_card(root)
    return {"calibration": dataclasses.asdict(calibration), "threshold": threshold, **figures}


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a right answer outranks a wrong one (Mann-Whitney)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return math.nan
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def reliability_plot(predicted: np.ndarray, right: np.ndarray, path: str | Path, bins: int = 10) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(predicted, edges) - 1, 0, bins - 1)
    centres, observed, counts = [], [], []
    for b in range(bins):
        inside = which == b
        if inside.any():
            centres.append(float(predicted[inside].mean()))
            observed.append(float(right[inside].mean()))
            counts.append(int(inside.sum()))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(centres, observed, marker="o", label="trained reader (leave one article out)")
    for c, o, n in zip(centres, observed, counts, strict=True):
        ax.annotate(str(n), (c, o), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("confidence (predicted probability the answer is right)")
    ax.set_ylabel("fraction right")
    ax.set_title("Reader calibration on held-out SQuAD 2.0 articles")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
