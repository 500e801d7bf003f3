"""The library benchmark: questions asked of one article and of a library of hundreds.

``python -m qa.bench.library`` builds a library from ``../shared/data/train/`` (training data
only, never the test sets):

* the bulk: the 442 articles of SQuAD v1.1 train, as documents only (their questions are
  training data and are never asked);
* *inside* articles, never trained on by the shipped reader: 5 held-out SQuAD 2.0 dev articles
  (answerable questions and SQuAD 2.0's unanswerable ones, written to sit close to the text),
  and COVID-QA papers; they join the library and their questions are
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
from qa.readers.judge import Judge

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
    candidates: tuple[CandidateRow, ...]  # read from the top passages (Settings.top_k)
    gold_rank: int | None  # 1-based rank of the first passage holding a gold sentence, among 50
    seconds: float
    deeper: tuple[CandidateRow, ...] = ()  # read from the top passages and the next ones (Settings.read_deeper)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuestionRow:
        return cls(
            **{
                **data,
                "candidates": tuple(CandidateRow(**c) for c in data["candidates"]),
                "deeper": tuple(CandidateRow(**c) for c in data.get("deeper", ())),
            }
        )


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
    # COVID-QA papers, not PolicyQA policies: a policy question names no website ("Do you share my data
    # with third parties?"), so in a library of policies every policy answers it; it is neither inside nor
    # outside. (The reader scores F1 0.05 on them even given the policy alone.)
    for file, inside, outside, per_article in (("covid-qa.json", 12, 8, 40),):
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
    assistant: Any, question: EvalQuestion, own: Document | None, deep: Any, depth: int
) -> tuple[list[CandidateRow], list[CandidateRow], int | None, float]:
    """Ask one question with abstention off and keep every candidate with its signals: those of the top
    passages, and those of the top ``depth`` passages (reading deeper)."""
    from qa.evaluation.runner import gold_sentences
    from qa.readers.base import Reading
    from qa.retriever import Retrieval

    text = assistant.check_question(question.question)
    began = time.perf_counter()
    ranked = deep.retrieve(text)  # the top 50: read to ``depth``, searched for the gold passage's rank
    wide = dataclasses.replace(ranked, passages=ranked.passages[:depth])
    reading = assistant.read(text, wide, 0, depth)
    seconds = time.perf_counter() - began
    first = dataclasses.replace(wide, passages=wide.passages[: assistant.settings.top_k])
    top = {(p.passage.document, p.passage.start, p.passage.end) for p in first.passages}
    first_reading = Reading(
        tuple(c for c in reading.candidates if (c.passage.document, c.passage.start, c.passage.end) in top)
    )
    gold = gold_sentences(question, [own]) if own is not None and question.answerable else set()

    def rows_of(retrieval: Retrieval, read: Reading) -> list[CandidateRow]:
        rows = []
        for candidate, signals in assistant.judged(text, retrieval, read, every_signal=True):
            answer = assistant.build_answer(text, candidate, retrieval.corpus)
            cited = answer.citation
            f1 = best_over_golds(answer.text, question.answers)[1] if question.answerable else 0.0
            right = cited is not None and (cited.document, cited.start, cited.end) in gold
            rows.append(CandidateRow(signals, candidate.passage.document, f1, right))
        return rows

    rows, deeper = rows_of(first, first_reading), rows_of(wide, reading)
    rank = None
    if gold:
        for r, scored in enumerate(ranked.passages, 1):
            sentences = (ranked.corpus.sentences[i] for i in scored.passage.sentence_ids)
            if any((s.document, s.start, s.end) in gold for s in sentences):
                rank = r
                break
    return rows, deeper, rank, seconds


def observe(
    articles: Sequence[Article],
    library: Sequence[Document],
    *,
    index_dir: Path,
    settings: Settings,
    out: Path,
    depth: int = 10,
    show_progress: bool = True,
) -> list[QuestionRow]:
    """Ask every question of the plan at document level (inside articles) and of the library."""
    from tqdm import tqdm

    from index.embedders.sentence_transformer import load_embedder
    from index.stores.local import build_index
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
                candidates, deeper, rank, seconds = observe_question(
                    assistant, q, own if kind != "outside" else None, retriever, depth
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
                        tuple(deeper),
                    )
                )
                bar.update(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(json.dumps(dataclasses.asdict(r)) for r in rows) + "\n", encoding="utf-8")
    return rows


def answered_elsewhere(row: QuestionRow) -> bool:
    """An outside question some candidate answers right (its gold answer, from a library document)."""
    return row.kind == "outside" and any(c.f1 >= 0.5 for c in (*row.candidates, *row.deeper))


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


_MEASURED_FOR_LEADER = ("sentence_dense", "sentence_dense_x")


def as_answering(candidates: Sequence[CandidateRow], scorer: Scorer) -> Sequence[CandidateRow]:
    """The candidates as the assistant judges them: the sentence similarity measured only for the
    candidate the judge puts first without it (:meth:`qa.assistant.Assistant.judged`), 0 for the others."""
    weights = getattr(scorer, "weights", {})
    if not candidates or not any(k in weights for k in _MEASURED_FOR_LEADER):
        return candidates
    blind = [{**c.features, **dict.fromkeys(_MEASURED_FOR_LEADER, 0.0)} for c in candidates]
    leader = max(range(len(candidates)), key=lambda i: (scorer(blind[i]), -i))
    return [c if i == leader else dataclasses.replace(c, features=blind[i]) for i, c in enumerate(candidates)]


def _best(candidates: Sequence[CandidateRow], scorer: Scorer) -> tuple[CandidateRow | None, float]:
    if not candidates:
        return None, 0.0
    candidates = as_answering(candidates, scorer)
    scored = [(scorer(c.features), i) for i, c in enumerate(candidates)]
    confidence, i = max(scored, key=lambda s: (s[0], -s[1]))
    return candidates[i], confidence


def choose(row: QuestionRow, scorer: Scorer, deeper_below: float | None = None) -> tuple[CandidateRow | None, float]:
    """The candidate the assistant would answer with under ``scorer``, and its confidence.

    ``deeper_below``: as the assistant does (:meth:`qa.assistant.Assistant.respond`), when the first
    passages' best is under it, the deeper reading's candidates are judged instead.
    """
    best, confidence = _best(row.candidates, scorer)
    if deeper_below is not None and row.deeper and confidence < deeper_below:
        return _best(row.deeper, scorer)
    return best, confidence


def with_scale(row: QuestionRow, library_documents: int) -> QuestionRow:
    """Observations made before the judge knew the library's size: add ``scale`` and the ``_x`` signals."""
    scale = math.log10(library_documents) if row.mode == "library" else 0.0

    def scaled(c: CandidateRow) -> CandidateRow:
        if "scale" in c.features:
            return c
        extra = {f"{k}_x": v * scale for k, v in c.features.items()}
        return dataclasses.replace(c, features={**c.features, **extra, "scale": scale})

    return dataclasses.replace(
        row, candidates=tuple(map(scaled, row.candidates)), deeper=tuple(map(scaled, row.deeper))
    )


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


def figures(rows: Sequence[QuestionRow], scorer: Scorer, threshold: float, deeper: bool = True) -> Figures:
    by_kind: dict[str, list[QuestionRow]] = {k: [r for r in rows if r.kind == k] for k in KINDS}
    f1s, cites, own, other = [], [], [], 0
    below = threshold if deeper else None
    for r in by_kind["answerable"]:
        best, confidence = choose(r, scorer, below)
        answered = best is not None and confidence >= threshold
        f1s.append(best.f1 if answered and best else 0.0)
        cites.append(bool(answered and best and best.cited_right))
        if answered and best:
            is_own = best.document.endswith("#" + r.article) or best.document.endswith("/" + r.article)
            own.append(is_own)
            other += not is_own
    refused = {
        k: float(np.mean([(c := choose(r, scorer, below))[0] is None or c[1] < threshold for r in by_kind[k]]))
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


# ---- the command ---------------------------------------------------------------------------------


def margin_scorer(folder: Path) -> Scorer:
    """The reader's margin calibration, as before the judge."""
    from qa.readers.extractive import ReaderSettings

    settings = ReaderSettings.from_dict(json.loads((folder / "settings.json").read_text(encoding="utf-8")))
    return lambda row: settings.calibration(row["margin"])


Column = tuple[str, Scorer, float, bool]  # name, scorer, threshold, reads deeper when weak


def table(rows: Sequence[QuestionRow], columns: Sequence[Column]) -> str:
    """The Markdown table of the report part: per mode, each scorer's figures."""
    lines = [
        "| scorer | mode | answerable F1 | citation | close refused | outside refused | own document | "
        "from another document | recall@5 / @10 / @50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, scorer, threshold, deeper in columns:
        for mode in MODES:
            f = figures([r for r in rows if r.mode == mode], scorer, threshold, deeper)
            lines.append(
                f"| {name} @{threshold:.2f} | {mode} | {f.answerable_f1:.3f} | {f.citation:.3f} | "
                f"{f.close_refused:.3f} | {f.outside_refused:.3f} | {f.own_document:.3f} | {f.other_document} | "
                f"{f.recall_at_5:.3f} / {f.recall_at_10:.3f} / {f.recall_at_50:.3f} |"
            )
    return "\n".join(lines)


def load_rows(observations: Path, data: Path = DATA) -> list[QuestionRow]:
    """The observations a run of the benchmark kept (``scale`` added where an older run lacks it)."""
    rows = [
        QuestionRow.from_dict(json.loads(line)) for line in observations.read_text(encoding="utf-8").split("\n") if line
    ]
    if any("scale" not in c.features for r in rows for c in r.candidates[:1]):
        bulk, articles = plan(data)
        size = len(library_documents(bulk, articles))
        rows = [with_scale(r, size) for r in rows]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.library", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the training data folder (../shared/data/train)")
    parser.add_argument(
        "--work", type=Path, help="where the library index and observations live ($QA_HOME/library-bench)"
    )
    parser.add_argument("--reader", type=Path, help="reader folder (default: the shipped one)")
    parser.add_argument("--again", action="store_true", help="ask every question again, even with observations kept")
    args = parser.parse_args(argv)
    from qa.readers.extractive import BUNDLED_READER

    settings = Settings.from_env()
    folder = args.reader or BUNDLED_READER
    work = args.work or settings.home / "library-bench"
    observations = work / f"observations-{folder.name}.jsonl"
    if args.again or not observations.is_file():
        bulk, articles = plan(args.data)
        settings = dataclasses.replace(settings, reader=f"trained:{folder}")
        library = library_documents(bulk, articles)
        observe(articles, library, index_dir=work / "index", settings=settings, out=observations)
    rows = load_rows(observations, args.data)
    fit_rows = [r for r in rows if r.part == "fit"]
    report_rows = [r for r in rows if r.part == "report"]
    stored = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    before_threshold = stored.get("judge_figures", {}).get("margin_threshold", stored["threshold"])
    columns: list[Column] = [("margin (before)", margin_scorer(folder), before_threshold, False)]
    if stored.get("judge"):
        judge = Judge.from_dict(stored["judge"])
        columns.append(("judge, top 5 only", judge, stored["threshold"], False))
        columns.append(("judge, reading deeper (shipped)", judge, stored["threshold"], True))
    print(f"fit part: {len(fit_rows)} questions asked; report part: {len(report_rows)}")
    print(table(report_rows, columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
