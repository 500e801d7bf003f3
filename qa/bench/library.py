"""The library benchmark: questions asked of one article and of a library of hundreds.

``python -m qa.bench.library`` builds a library from ``../shared/data/train/`` (training data
only, never the test sets):

* the bulk: the 442 articles of SQuAD v1.1 train, as documents only (their questions are
  training data and are never asked);
* *inside* articles, never trained on by the shipped reader: 5 held-out SQuAD 2.0 dev articles
  (answerable questions and SQuAD 2.0's unanswerable ones, written to sit close to the text),
  PolicyQA privacy policies and COVID-QA papers; they join the library and their questions are
  asked of it, and of their own article alone (document level);
* *outside* questions, whose documents are not in the library: articles of the same sources left
  out of it, and (report part) ``tests/data/seed_questions.jsonl`` and
  ``library_questions.jsonl``; for fitting, also SQuAD v1.1 dev and Natural Questions (QED)
  questions. Each of these must be refused.

The held-out articles are split once, by a hash of their names, into a *fit* part (the judge
and its threshold are fitted and chosen on it: ``--fit``) and a *report* part (only reported).
Every question's candidates are kept with the judge's signals (:mod:`qa.readers.judge`), so
fitting and scoring again cost nothing (``--observations``).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.documents import Document, make_document
from qa.config import PACKAGE_ROOT, Settings
from qa.evaluation.datasets import EvalCorpus, EvalQuestion, load_test_set
from qa.evaluation.metrics import best_over_golds
from qa.readers.judge import FEATURES, Judge

DATA = PACKAGE_ROOT.parent / "shared" / "data" / "train"
BULK = "squad-v1.1-train.json"
SQUAD_HELD_OUT = ("Force", "French_and_Indian_War", "Pharmacy", "Scottish_Parliament", "Yuan_dynasty")
TEST_OUTSIDE = ("tests/data/seed_questions.jsonl", "tests/data/library_questions.jsonl")
KINDS = ("answerable", "close", "outside")
MODES = ("document", "library")
SEED = 13


@dataclass(frozen=True)
class Article:
    source: str  # the file it comes from
    corpus: EvalCorpus
    part: str  # "fit" or "report"
    role: str  # "inside" (in the library, questions asked) or "outside" (left out, questions asked)


@dataclass(frozen=True)
class CandidateRow:
    """One candidate of one question: the judge's signals and how it would score."""

    features: dict[str, float]
    document: str
    f1: float
    cited_right: bool  # its first cited sentence is a gold sentence of the question's own document


@dataclass(frozen=True)
class QuestionRow:
    """One question asked in one mode, with every candidate the reader proposed."""

    id: str
    question: str
    article: str
    source: str
    part: str
    kind: str  # answerable, close or outside
    mode: str  # document or library
    candidates: tuple[CandidateRow, ...]
    gold_rank: int | None  # 1-based rank of the first passage holding a gold sentence, among 50
    seconds: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuestionRow:
        return cls(**{**data, "candidates": tuple(CandidateRow(**c) for c in data["candidates"])})


def _split(name: str) -> float:
    """A stable number in [0, 1) per name: the split does not move when files are reordered."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def _sample(questions: Sequence[EvalQuestion], n: int, seed: str) -> list[EvalQuestion]:
    rng = random.Random(f"{SEED}:{seed}")
    return sorted(rng.sample(list(questions), min(n, len(questions))), key=lambda q: q.id)


def plan(data: Path = DATA) -> tuple[list[Document], list[Article]]:
    """The library's bulk documents and the held-out articles, split into parts and roles."""
    bulk = bulk_documents(data / BULK)
    articles: list[Article] = []
    squad = {c.name: c for c in load_test_set(data / "squad-v2.0-dev-30articles.json")}
    for i, title in enumerate(sorted(SQUAD_HELD_OUT)):  # 3 fit, 2 report: only five were never trained on
        c = squad[title]
        answerable = _sample([q for q in c.questions if q.answerable], 80, title)
        close = _sample([q for q in c.questions if not q.answerable], 80, title + "/close")
        corpus = dataclasses.replace(c, questions=tuple(answerable + close))
        articles.append(Article("squad-v2.0-dev-30articles.json", corpus, "fit" if i % 2 == 0 else "report", "inside"))
    for file, inside, outside, per_article in (("policyqa.json", 8, 4, 40), ("covid-qa.json", 12, 8, 40)):
        ordered = sorted(load_test_set(data / file), key=lambda c: _split(c.name))
        for part, start in (("fit", 0), ("report", inside + outside)):
            chosen = ordered[start : start + inside + outside]
            for j, c in enumerate(chosen):
                corpus = dataclasses.replace(c, questions=tuple(_sample(c.questions, per_article, c.name)))
                articles.append(Article(file, corpus, part, "inside" if j < inside else "outside"))
    # Fit-only outside questions in the library's own genre (Wikipedia): its articles are never in it.
    for file, n in (("squad-v1.1-dev-extra.json", 300), ("qed-natural-questions.json", 300)):
        corpora = load_test_set(data / file)
        pool = [(c, q) for c in corpora for q in c.questions]
        picked = random.Random(f"{SEED}:{file}").sample(pool, n)
        for c, q in picked:
            articles.append(Article(file, dataclasses.replace(c, questions=(q,)), "fit", "outside"))
    for path in TEST_OUTSIDE:
        for c in load_test_set(PACKAGE_ROOT / path):
            articles.append(Article(Path(path).name, c, "report", "outside"))
    return bulk, articles


def bulk_documents(path: Path) -> list[Document]:
    """The articles of a SQuAD file as documents (paragraphs joined by blank lines, as ``qa eval``
    reads SQuAD), their questions left aside."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        make_document(f"{path}#{a['title']}", "\n\n".join(p["context"] for p in a["paragraphs"])) for a in raw["data"]
    ]


def library_documents(bulk: Sequence[Document], articles: Sequence[Article]) -> list[Document]:
    """The library: the bulk and every inside article, in a fixed order."""
    return [*bulk, *(d for a in articles if a.role == "inside" for d in a.corpus.load())]


def observe_question(
    assistant: Any, question: EvalQuestion, own: Document | None, deep: Any
) -> tuple[list[CandidateRow], int | None, float]:
    """Ask one question with abstention off and keep every candidate with its signals."""
    from qa.evaluation.runner import gold_sentences

    text = assistant.check_question(question.question)
    began = time.perf_counter()
    retrieval = assistant.retriever.retrieve(text)
    reading = assistant.read(text, retrieval)
    judged = assistant.judged(text, retrieval, reading)
    seconds = time.perf_counter() - began
    gold = gold_sentences(question, [own]) if own is not None and question.answerable else set()
    rows = []
    for candidate, signals in judged:
        answer = assistant.build_answer(text, candidate, retrieval.corpus)
        top = answer.citation
        f1 = best_over_golds(answer.text, question.answers)[1] if question.answerable else 0.0
        right = top is not None and (top.document, top.start, top.end) in gold
        rows.append(CandidateRow(signals, candidate.passage.document, f1, right))
    rank = None
    if gold:
        ranked = deep.retrieve(text, retrieval.vector)
        for r, scored in enumerate(ranked.passages, 1):
            sentences = (ranked.corpus.sentences[i] for i in scored.passage.sentence_ids)
            if any((s.document, s.start, s.end) in gold for s in sentences):
                rank = r
                break
    return rows, rank, seconds


def observe(
    articles: Sequence[Article],
    library: Sequence[Document],
    *,
    index_dir: Path,
    settings: Settings,
    out: Path,
    show_progress: bool = True,
) -> list[QuestionRow]:
    """Ask every question of the plan at document level (inside articles) and of the library."""
    from tqdm import tqdm

    from index.embedder import load_embedder
    from index.store import build_index
    from qa.assistant import Assistant
    from qa.retriever import HybridRetriever

    embedder = load_embedder(settings.model, backend=settings.backend)
    never = dataclasses.replace(settings, abstain_below=0.0)
    big = Assistant.from_documents(library, index_dir=index_dir, settings=never, embedder=embedder, show_progress=True)
    deep = HybridRetriever(big.index, embedder, top_k=50)
    own_outside = _document_outside(articles)
    total = sum(len(a.corpus.questions) for a in articles) + sum(
        len(a.corpus.questions) + len(own_outside.get(a.corpus.name, ())) for a in articles if a.role == "inside"
    )
    rows: list[QuestionRow] = []
    with tqdm(total=total, desc="library benchmark", unit="q", disable=not show_progress) as bar:
        for article in articles:
            own = article.corpus.load()[0] if article.role == "inside" else None
            asked = [
                ("library", big, deep, q, "outside" if own is None else _kind(q)) for q in article.corpus.questions
            ]
            if own is not None:
                index = build_index([own], embedder, settings=never.passages, search=never.search, previous=big.index)
                alone = Assistant(index, embedder, reader=big.reader, settings=never)
                alone_deep = HybridRetriever(index, embedder, top_k=50)
                asked += [("document", alone, alone_deep, q, _kind(q)) for q in article.corpus.questions]
                asked += [
                    ("document", alone, alone_deep, q, "outside") for q in own_outside.get(article.corpus.name, ())
                ]
            for mode, assistant, retriever, q, kind in asked:
                candidates, rank, seconds = observe_question(
                    assistant, q, own if kind != "outside" else None, retriever
                )
                rows.append(
                    QuestionRow(
                        q.id,
                        q.question,
                        article.corpus.name,
                        article.source,
                        article.part,
                        kind,
                        mode,
                        tuple(candidates),
                        rank,
                        seconds,
                    )
                )
                bar.update(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(json.dumps(dataclasses.asdict(r)) for r in rows) + "\n", encoding="utf-8")
    return rows


def _kind(question: EvalQuestion) -> str:
    return "answerable" if question.answerable else "close"


def _document_outside(articles: Sequence[Article], per_article: int = 20) -> dict[str, list[EvalQuestion]]:
    """For each inside article: answerable questions of other held-out articles of its part, whose answers
    its text does not hold, to be asked of it alone (what a user asks that one document never covers)."""
    out: dict[str, list[EvalQuestion]] = {}
    for a in articles:
        if a.role != "inside":
            continue
        text = "\n".join(d.text for d in a.corpus.load()).lower()
        pool = [
            q
            for b in articles
            if b is not a and b.part == a.part and b.source not in ("seed_questions.jsonl", "library_questions.jsonl")
            for q in b.corpus.questions
            if q.answerable and not any(x.lower() in text for x in q.answers)
        ]
        chosen = random.Random(f"{SEED}:outside:{a.corpus.name}").sample(pool, min(per_article, len(pool)))
        out[a.corpus.name] = [dataclasses.replace(q, answers=(), gold_offsets=(), paragraph=None) for q in chosen]
    return out


# ---- scoring -------------------------------------------------------------------------------------

Scorer = Callable[[Mapping[str, float]], float]


def choose(row: QuestionRow, scorer: Scorer) -> tuple[CandidateRow | None, float]:
    """The candidate the assistant would answer with under ``scorer``, and its confidence."""
    if not row.candidates:
        return None, 0.0
    scored = [(scorer(c.features), i) for i, c in enumerate(row.candidates)]
    confidence, i = max(scored, key=lambda s: (s[0], -s[1]))
    return row.candidates[i], confidence


@dataclass(frozen=True)
class Figures:
    """One mode's figures on a set of questions at one threshold."""

    answerable_f1: float
    citation: float
    close_refused: float
    outside_refused: float
    own_document: float  # answered questions whose answer cites the question's own document
    other_document: int  # answerable questions answered from another document
    recall_at_5: float
    recall_at_10: float
    recall_at_50: float
    n: dict[str, int]


def figures(rows: Sequence[QuestionRow], scorer: Scorer, threshold: float) -> Figures:
    by_kind: dict[str, list[QuestionRow]] = {k: [r for r in rows if r.kind == k] for k in KINDS}
    f1s, cites, own, other = [], [], [], 0
    for r in by_kind["answerable"]:
        best, confidence = choose(r, scorer)
        answered = best is not None and confidence >= threshold
        f1s.append(best.f1 if answered and best else 0.0)
        cites.append(bool(answered and best and best.cited_right))
        if answered and best:
            is_own = best.document.endswith("#" + r.article) or best.document.endswith("/" + r.article)
            own.append(is_own)
            other += not is_own
    refused = {
        k: float(np.mean([(c := choose(r, scorer))[0] is None or c[1] < threshold for r in by_kind[k]]))
        if by_kind[k]
        else math.nan
        for k in ("close", "outside")
    }
    ranks = [r.gold_rank for r in by_kind["answerable"]]
    return Figures(
        answerable_f1=float(np.mean(f1s)) if f1s else math.nan,
        citation=float(np.mean(cites)) if cites else math.nan,
        close_refused=refused["close"],
        outside_refused=refused["outside"],
        own_document=float(np.mean(own)) if own else math.nan,
        other_document=other,
        recall_at_5=_recall(ranks, 5),
        recall_at_10=_recall(ranks, 10),
        recall_at_50=_recall(ranks, 50),
        n={k: len(v) for k, v in by_kind.items()},
    )


def _recall(ranks: Sequence[int | None], k: int) -> float:
    return float(np.mean([r is not None and r <= k for r in ranks])) if ranks else math.nan


# ---- fitting -------------------------------------------------------------------------------------

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
        for c in r.candidates:
            xs.append([c.features[k] for k in names])
            ys.append(1.0 if r.kind == "answerable" and c.f1 >= 0.5 and c.cited_right else 0.0)
            ws.append(w / len(r.candidates))
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


def mix_f1(rows: Sequence[QuestionRow], scorer: Scorer, threshold: float, weights: np.ndarray) -> float:
    """F1 over a stream of questions in the assumed mix: an answerable question scores its F1 (0 when
    refused or citing another document), a close or outside one 1 when refused."""
    total = 0.0
    for r, w in zip(rows, weights, strict=True):
        best, confidence = choose(r, scorer)
        answered = best is not None and confidence >= threshold
        if r.kind == "answerable":
            total += w * (best.f1 if answered and best and best.cited_right else 0.0)
        else:
            total += w * (0.0 if answered else 1.0)
    return total / weights.sum()


def choose_threshold(rows: Sequence[QuestionRow], scorer: Scorer) -> float:
    """The rule: the lowest threshold whose mix F1 is within :data:`TOLERANCE` of the best."""
    weights = question_weights(rows)
    scores = [mix_f1(rows, scorer, t, weights) for t in GRID]
    best = max(scores)
    return next(t for t, s in zip(GRID, scores, strict=True) if s >= best - TOLERANCE)


# ---- the command ---------------------------------------------------------------------------------


def margin_scorer(folder: Path) -> Scorer:
    """The reader's margin calibration, as before the judge."""
    from qa.readers.extractive import ReaderSettings

    settings = ReaderSettings.from_dict(json.loads((folder / "settings.json").read_text(encoding="utf-8")))
    return lambda row: settings.calibration(row["margin"])


def table(rows: Sequence[QuestionRow], columns: Sequence[tuple[str, Scorer, float]]) -> str:
    """The Markdown table of the report part: per mode, each scorer's figures."""
    lines = [
        "| scorer | mode | answerable F1 | citation | close refused | outside refused | own document | "
        "from another document | recall@5 / @10 / @50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, scorer, threshold in columns:
        for mode in MODES:
            f = figures([r for r in rows if r.mode == mode], scorer, threshold)
            lines.append(
                f"| {name} @{threshold:.2f} | {mode} | {f.answerable_f1:.3f} | {f.citation:.3f} | "
                f"{f.close_refused:.3f} | {f.outside_refused:.3f} | {f.own_document:.3f} | {f.other_document} | "
                f"{f.recall_at_5:.3f} / {f.recall_at_10:.3f} / {f.recall_at_50:.3f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.library", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the training data folder (../shared/data/train)")
    parser.add_argument(
        "--work", type=Path, help="where the library index and observations live ($QA_HOME/library-bench)"
    )
    parser.add_argument("--reader", type=Path, help="reader folder (default: the shipped one)")
    parser.add_argument(
        "--fit", action="store_true", help="fit the judge and its threshold on the fit part and store them"
    )
    parser.add_argument("--again", action="store_true", help="ask every question again, even with observations kept")
    args = parser.parse_args(argv)
    from qa.readers.extractive import BUNDLED_READER

    settings = Settings.from_env()
    folder = args.reader or BUNDLED_READER
    work = args.work or settings.home / "library-bench"
    observations = work / f"observations-{folder.name}.jsonl"
    if observations.is_file() and not args.again:
        rows = [
            QuestionRow.from_dict(json.loads(line))
            for line in observations.read_text(encoding="utf-8").split("\n")
            if line
        ]
    else:
        bulk, articles = plan(args.data)
        settings = dataclasses.replace(settings, reader=f"trained:{folder}")
        rows = observe(
            articles, library_documents(bulk, articles), index_dir=work / "index", settings=settings, out=observations
        )
    fit_rows = [r for r in rows if r.part == "fit"]
    report_rows = [r for r in rows if r.part == "report"]
    before = margin_scorer(folder)
    before_threshold = json.loads((folder / "settings.json").read_text(encoding="utf-8"))["threshold"]
    columns: list[tuple[str, Scorer, float]] = [("margin (before)", before, before_threshold)]
    if args.fit:
        judge = fit_judge(fit_rows)
        threshold = choose_threshold(fit_rows, judge)
        print(json.dumps({"judge": judge.to_dict(), "threshold": threshold}, indent=1))
        columns.append(("judge", judge, threshold))
    print(f"fit part: {len(fit_rows)} questions asked; report part: {len(report_rows)}")
    print(table(report_rows, columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
