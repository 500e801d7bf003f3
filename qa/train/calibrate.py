"""Calibrate a reader folder for the questions people ask about their own documents.

The calibration set is made of held-out training articles (never of the test
sets), each indexed as one document and asked as at run time: retrieval picks
the passages, the reader reads them. Three kinds of question are kept apart:

``answerable``
    the article's own answerable questions, from several sources (Wikipedia
    for SQuAD, privacy policies, scientific papers);
``outside``
    answerable questions of *other* held-out articles asked against this one:
    what a user asks that the document never covers;
``close``
    SQuAD 2.0's unanswerable questions, written on purpose to sit close to the
    text (a strict test that real users rarely set).

For each question the best candidate's margin (span score minus its window's
no-answer score) is recorded with whether answering would be right
(answerable, F1 >= 0.5). The confidence is a logistic fit of right-or-wrong on
the margin (Platt scaling), each kind weighted to its share of the assumed
:data:`MIX`, so a confidence is the probability of being right among questions
asked in that mix. The default threshold is the :func:`choose_threshold` rule
on the same mix; the strict SQuAD 2.0 point (best F1 over ``answerable`` and
``close`` alone, half of them unanswerable) is recorded beside it for users who
want it (``--threshold``). Both go into the folder's settings.json.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.evaluation.datasets import EvalCorpus, EvalQuestion, load_test_set
from qa.evaluation.metrics import best_over_golds
from qa.readers.extractive import Calibration, ExtractiveReader, ReaderSettings

KINDS = ("answerable", "outside", "close")
# Who asks what, assumed: people ask about their own documents, so most questions are answered
# somewhere in the text; most of the rest are about things the text never mentions; some are on
# topic but not said ("How old is Rouhani?"), for which SQuAD 2.0's near-misses stand in.
MIX: dict[str, float] = {"answerable": 0.70, "outside": 0.20, "close": 0.10}
TOLERANCE = 0.002  # utility (0-1) given up for a lower threshold: among near-equal points, answer more
OUTSIDE_PER_ARTICLE = 40  # outside questions asked of each held-out article


@dataclass(frozen=True)
class Observation:
    """One calibration question's best candidate."""

    article: str
    kind: str  # one of KINDS
    source: str  # the file the article comes from
    margin: float
    right: bool  # answering would be right (answerable and F1 >= 0.5)
    f1: float  # F1 of the raw answer (0 for questions the article does not answer)
    score: float = math.nan  # the span's score (start + end logits)
    no_answer: float = math.nan  # its window's [CLS] score

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def fit_logistic(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, *, l2: float = 1e-3, steps: int = 50
) -> Calibration:
    """Two-parameter (weighted) logistic regression by Newton's method; the fit is convex."""
    w = np.zeros(2)
    sample = np.ones_like(x) if weights is None else weights * len(x) / weights.sum()
    features = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(features @ w, -50, 50)))
        gradient = features.T @ (sample * (p - y)) + l2 * w
        hessian = (features * (sample * p * (1 - p))[:, None]).T @ features + l2 * np.eye(2)
        w -= np.linalg.solve(hessian, gradient)
    return Calibration(slope=float(w[0]), intercept=float(w[1]))


def mix_weights(observations: Sequence[Observation], mix: Mapping[str, float] = MIX) -> np.ndarray:
    """Per-observation weights that give each kind its share of ``mix``, split evenly between its sources.

    Within a kind every source counts the same, so 700 privacy-policy questions do not outweigh
    71 about scientific papers.
    """
    counts: dict[tuple[str, str], int] = {}
    for o in observations:
        counts[o.kind, o.source] = counts.get((o.kind, o.source), 0) + 1
    sources = {k: sum(kind == k for kind, _ in counts) for k in KINDS}
    return np.array([mix[o.kind] / sources[o.kind] / counts[o.kind, o.source] for o in observations])


def kind_scores(
    observations: Sequence[Observation], confidences: Sequence[float], threshold: float
) -> dict[str, float]:
    """Per kind at ``threshold``, sources weighted alike: answerable -> mean F1 (0 when abstaining);
    the others -> share refused."""
    weights = mix_weights(observations, {k: 1.0 for k in KINDS})
    scores: dict[str, float] = {k: 0.0 for k in KINDS}
    totals: dict[str, float] = {k: 0.0 for k in KINDS}
    for o, c, w in zip(observations, confidences, weights, strict=True):
        answered = c >= threshold
        scores[o.kind] += w * ((o.f1 if answered else 0.0) if o.answerable else (0.0 if answered else 1.0))
        totals[o.kind] += w
    return {k: (scores[k] / totals[k] if totals[k] else math.nan) for k in KINDS}


def utility(scores: Mapping[str, float], mix: Mapping[str, float]) -> float:
    """SQuAD 2.0-style F1 of a stream of questions in the proportions of ``mix``."""
    used = {k: w for k, w in mix.items() if w > 0 and not math.isnan(scores[k])}
    return sum(w * scores[k] for k, w in used.items()) / sum(used.values())


GRID = [round(t, 3) for t in np.linspace(0.01, 0.95, 95)]


def choose_threshold(
    observations: Sequence[Observation], confidences: Sequence[float], mix: Mapping[str, float] = MIX
) -> float:
    """The rule: the lowest threshold whose mix F1 is within :data:`TOLERANCE` of the best on the grid."""
    scores = [utility(kind_scores(observations, confidences, t), mix) for t in GRID]
    best = max(scores)
    return next(t for t, s in zip(GRID, scores, strict=True) if s >= best - TOLERANCE)


STRICT_MIX = {"answerable": 0.5, "outside": 0.0, "close": 0.5}  # SQuAD 2.0 dev: half unanswerable, adversarial


def calibration_corpora(files: Sequence[str | Path], articles: Sequence[str]) -> list[tuple[str, EvalCorpus]]:
    """The held-out articles (``file#title``, as training.json names them) as one-document corpora,
    each with the name of its file."""
    wanted: dict[str, set[str]] = {}
    for a in articles:
        name, _, title = a.partition("#")
        wanted.setdefault(name, set()).add(title)
    corpora: list[tuple[str, EvalCorpus]] = []
    for f in files:
        name = Path(f).name
        corpora += [(name, c) for c in load_test_set(f) if c.name in wanted.get(name, set())]
    found = {f"{name}#{c.name}" for name, c in corpora}
    missing = [a for a in articles if a not in found]
    if missing:
        raise ValueError(f"held-out articles not found in {', '.join(map(str, files))}: {missing[:3]}")
    return corpora


def outside_questions(corpora: Sequence[EvalCorpus], index: int, count: int, seed: int) -> list[EvalQuestion]:
    """Answerable questions of the other articles whose answers this article's text does not contain."""
    text = "\n".join(d.text for d in corpora[index].load()).lower()
    pool = [
        q
        for j, c in enumerate(corpora)
        if j != index
        for q in c.questions
        if q.answerable and not any(a.lower() in text for a in q.answers)
    ]
    chosen = random.Random(seed + index).sample(pool, min(count, len(pool)))
    return [dataclasses.replace(q, answers=(), gold_offsets=(), paragraph=None) for q in chosen]


def observe(
    folder: str | Path,
    sourced: Sequence[tuple[str, EvalCorpus]],
    *,
    top_k: int,
    seed: int = 13,
    show_progress: bool = True,
) -> list[Observation]:
    """Ask every calibration question through the full assistant, abstention off."""
    from tqdm import tqdm

    from index.embedders.sentence_transformer import load_embedder
    from qa.assistant import Assistant
    from qa.config import Settings

    settings = dataclasses.replace(Settings.from_env(), top_k=top_k, abstain_below=0.0)
    reader = ExtractiveReader.from_folder(folder)
    embedder = load_embedder(settings.model, backend=settings.backend)
    corpora = [c for _, c in sourced]
    asked = [
        [*((("answerable" if q.answerable else "close"), q) for q in c.questions)]
        + [("outside", q) for q in outside_questions(corpora, i, OUTSIDE_PER_ARTICLE, seed)]
        for i, c in enumerate(corpora)
    ]
    observations: list[Observation] = []
    with tqdm(total=sum(map(len, asked)), desc="calibration questions", unit="q", disable=not show_progress) as bar:
        for (source, corpus), questions in zip(sourced, asked, strict=True):
            assistant = Assistant.from_documents(corpus.load(), settings=settings, embedder=embedder, reader=reader)
            for kind, q in questions:
                question = assistant.check_question(q.question)
                best = assistant.read(question, assistant.retriever.retrieve(question)).best
                if best is None:
                    observations.append(Observation(corpus.name, kind, source, -20.0, False, 0.0))
                else:
                    text = assistant.index.document(best.passage.document).text[best.start : best.end]
                    f1 = best_over_golds(text, q.answers)[1] if q.answerable else 0.0
                    observations.append(
                        Observation(corpus.name, kind, source, best.margin, f1 >= 0.5, f1, best.score, best.no_answer)
                    )
                bar.update(1)
    return observations


def fit(observations: Sequence[Observation], mix: Mapping[str, float] = MIX) -> dict[str, Any]:
    """The calibration, both thresholds and the figures that justify them."""
    x = np.array([o.margin for o in observations])
    y = np.array([1.0 if o.right else 0.0 for o in observations])
    weights = mix_weights(observations, mix)
    calibration = fit_logistic(x, y, weights)
    held_out = np.zeros(len(observations))
    for name in sorted({o.article for o in observations}):  # leave one article out: an honest log loss
        inside = np.array([o.article != name for o in observations])
        fitted = fit_logistic(x[inside], y[inside], weights[inside])
        held_out[~inside] = [fitted(m) for m in x[~inside]]
    confidences = [calibration(m) for m in x]
    threshold = choose_threshold(observations, confidences, mix)
    # The strict point is SQuAD 2.0's own: its articles only, half their questions unanswerable.
    squad = {o.source for o in observations if o.kind == "close"}
    in_squad = [i for i, o in enumerate(observations) if o.source in squad]
    squad_obs = [observations[i] for i in in_squad]
    squad_conf = [confidences[i] for i in in_squad]
    strict = choose_threshold(squad_obs, squad_conf, STRICT_MIX)
    eps = 1e-6
    log_loss = -np.sum(weights * (y * np.log(held_out + eps) + (1 - y) * np.log(1 - held_out + eps))) / weights.sum()
    at = kind_scores(observations, confidences, threshold)
    return {
        "calibration": calibration,
        "threshold": threshold,
        "figures": {
            "mix": dict(mix),
            "rule": (
                "lowest threshold whose F1 over a question stream in the proportions of `mix` "
                f"is within {TOLERANCE * 100:g} point of the best (grid 0.01-0.95)"
            ),
            "questions": {k: sum(o.kind == k for o in observations) for k in KINDS},
            "sources": sorted({o.source for o in observations}),
            "articles": sorted({o.article for o in observations}),
            "at_threshold": {
                "answerable_f1": round(100 * at["answerable"], 2),
                "outside_refused": round(at["outside"], 4),
                "close_refused": round(at["close"], 4),
                "mix_f1": round(100 * utility(at, mix), 2),
            },
            "strict_squad2_threshold": strict,
            "squad2_f1_at_strict": round(100 * utility(kind_scores(squad_obs, squad_conf, strict), STRICT_MIX), 2),
            "squad2_f1_at_threshold": round(
                100 * utility(kind_scores(squad_obs, squad_conf, threshold), STRICT_MIX), 2
            ),
            "leave_one_article_out_log_loss": round(float(log_loss), 4),
            "auc": {k: round(_auc(x, y, [o.kind in ("answerable", k) for o in observations]), 4) for k in KINDS},
        },
        "confidences": confidences,
    }


def calibrate(
    folder: str | Path,
    files: Sequence[str | Path],
    articles: Sequence[str],
    *,
    top_k: int = 5,
    plot: str | Path | None = None,
    observations_file: str | Path | None = None,
) -> dict[str, Any]:
    """Fit the calibration and the threshold and write them into the folder's settings.json.

    Args:
        folder: The reader folder (model.onnx, settings.json).
        files: SQuAD-format files that hold the held-out articles.
        articles: The held-out articles, ``file#title`` (training.json lists them).
        top_k: Passages retrieved per question, as at run time.
        plot: Where to draw the risk-coverage plot per kind.
        observations_file: A JSON file of observations: read if it exists (no questions asked), else written.
    """
    from qa.train.card import write_card
    from qa.train.export import write_settings

    root = Path(folder)
    cache = Path(observations_file) if observations_file else None
    if cache is not None and cache.is_file():
        observations = [Observation(**o) for o in json.loads(cache.read_text(encoding="utf-8"))]
    else:
        observations = observe(root, calibration_corpora(files, articles), top_k=top_k)
        if cache is not None:
            cache.write_text(json.dumps([dataclasses.asdict(o) for o in observations]) + "\n", encoding="utf-8")
    result = fit(observations)
    settings = json.loads((root / "settings.json").read_text(encoding="utf-8"))
    base = ReaderSettings.from_dict(settings)
    # A judge was fitted on the old margins and threshold: it goes (refit it with `qa fit-judge`).
    write_settings(
        root,
        dataclasses.replace(base, calibration=result["calibration"], threshold=result["threshold"], judge=None),
        calibration_figures=result["figures"],
    )
    if plot:
        risk_coverage_plot(observations, result["confidences"], result["threshold"], result["figures"], plot)
    write_card(root)
    return {
        "calibration": dataclasses.asdict(result["calibration"]),
        "threshold": result["threshold"],
        **result["figures"],
    }


def _auc(scores: np.ndarray, labels: np.ndarray, where: Sequence[bool]) -> float:
    """Probability that a right answer outranks a wrong one (Mann-Whitney), among ``where``."""
    mask = np.array(where)
    s, y = scores[mask], labels[mask]
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return math.nan
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def risk_coverage_plot(
    observations: Sequence[Observation],
    confidences: Sequence[float],
    threshold: float,
    figures: Mapping[str, Any],
    path: str | Path,
) -> None:
    """Left: risk against coverage as the threshold moves, for answerable questions and for the assumed mix.
    Right: the share of each kind answered at each threshold (for the kinds the document does not
    answer, that share is the risk)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = np.array(confidences)
    kinds = np.array([o.kind for o in observations])
    right = np.array([o.right for o in observations])
    thresholds = np.linspace(0.0, 1.0, 201)
    fig, (left, rightax) = plt.subplots(1, 2, figsize=(11, 4.6))
    labels = {
        "answerable": "answerable (its own article)",
        "outside": "outside (another article's question)",
        "close": "close to the text (SQuAD 2.0 unanswerable)",
    }
    colours = {"answerable": "tab:blue", "outside": "tab:orange", "close": "tab:red"}
    # Risk-coverage over the assumed mix: coverage = share of all questions answered,
    # risk = share of the answers that are wrong (a wrong span, or any answer to an unanswerable).
    weights = mix_weights(observations, figures["mix"])
    cover, risk = [], []
    for t in thresholds:
        answered = conf >= t
        total = weights[answered].sum()
        cover.append(total / weights.sum())
        risk.append(weights[answered & ~right].sum() / total if total else np.nan)
    left.plot(
        cover, risk, color="black", label="assumed mix " + ", ".join(f"{k} {v:.0%}" for k, v in figures["mix"].items())
    )
    for kind in KINDS:
        inside = kinds == kind
        answered = [(conf[inside] >= t).mean() for t in thresholds]
        if kind == "answerable":  # for the other kinds every answer is wrong: their risk is 1 at any coverage
            wrong = [
                ((conf[inside] >= t) & ~right[inside]).sum() / max((conf[inside] >= t).sum(), 1) for t in thresholds
            ]
            left.plot(answered, wrong, color=colours[kind], label=labels[kind])
            rightax.plot(
                thresholds,
                [((conf[inside] >= t) & right[inside]).mean() for t in thresholds],
                color=colours[kind],
                linestyle=":",
                label="answerable: answered right",
            )
        rightax.plot(thresholds, answered, color=colours[kind], label=f"{labels[kind]}: answered")
    i = int(np.argmin(np.abs(thresholds - threshold)))
    left.plot([cover[i]], [risk[i]], "ko")
    left.annotate(f"default {threshold:.2f}", (cover[i], risk[i]), textcoords="offset points", xytext=(6, 6))
    left.set_xlabel("coverage (share of questions answered)")
    left.set_ylabel("risk (share of answers that are wrong)")
    left.set_title("Risk against coverage")
    left.legend(fontsize=7, loc="upper left")
    for t, style, name in (
        (threshold, "-", f"default {threshold:.2f}"),
        (figures["strict_squad2_threshold"], "--", f"strict SQuAD 2.0 {figures['strict_squad2_threshold']:.2f}"),
    ):
        rightax.axvline(t, color="grey", linestyle=style, label=name)
    rightax.set_xlabel("threshold (confidence)")
    rightax.set_ylabel("share of the kind's questions")
    rightax.set_title("What each threshold answers")
    rightax.legend(fontsize=7, loc="upper right")
    fig.suptitle("Reader calibration on held-out articles, asked document-level", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
