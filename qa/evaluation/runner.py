"""Score answers and citations against a test set: ``qa eval`` and :func:`evaluate`.

Every question is answered with abstention switched off, so its would-be
answer and confidence are known; the abstention threshold is then applied
here. That gives the same answers as the assistant at that threshold (the
reader abstains exactly when confidence < threshold) and lets the report
draw the F1-vs-threshold curve that shows where the threshold belongs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.documents import Document, Sentence
from index.embedders.sentence_transformer import Embedder, load_embedder
from index.passages import Passage
from qa.assistant import Assistant, Trace, make_reader
from qa.config import Settings
from qa.errors import ConfigError, TestSetError
from qa.evaluation.datasets import EvalCorpus, EvalQuestion, load_test_set
from qa.evaluation.metrics import best_over_golds, percentile, supports
from qa.readers.base import Reader
from qa.result import Citation
from qa.retriever import Retrieval, ScoredPassage


@dataclass(frozen=True)
class QuestionResult:
    """How one question went.

    ``prediction`` is the answer after the threshold (``None`` = abstained);
    ``raw_prediction`` is what the reader would answer without abstaining.
    ``raw_citation_correct`` says whether the reader's best sentence is a gold
    one; ``citation_correct`` also requires that it did not abstain.
    ``gold_rank`` is the 1-based rank of the first retrieved passage that holds
    a gold sentence (``None``: not retrieved, or no gold sentence).
    """

    id: str
    corpus: str
    question: str
    gold_answers: tuple[str, ...]
    prediction: str | None
    raw_prediction: str | None
    confidence: float
    exact_match: float
    f1: float
    citation: Citation | None
    raw_citation_correct: bool
    citation_correct: bool
    gold_rank: int | None
    latency_ms: float
    own_document: bool | None = None  # the raw answer cites the question's own document (None: no citation)
    outside: bool = False  # asked of an index that does not hold its document (qa eval --outside)

    @property
    def answerable(self) -> bool:
        return bool(self.gold_answers)

    @property
    def abstained(self) -> bool:
        return self.prediction is None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["citation"] = self.citation.to_dict() if self.citation else None
        return data


@dataclass(frozen=True)
class Metrics:
    """Aggregate scores; every rate is a fraction in [0, 1] (SQuAD prints EM and F1 times 100)."""

    exact_match: float
    f1: float
    has_ans_exact_match: float
    has_ans_f1: float
    no_ans_accuracy: float
    citation_accuracy: float
    recall_at_k: float
    mrr: float
    abstention_precision: float
    abstention_recall: float
    latency_ms_p50: float
    latency_ms_p95: float
    n: int
    n_has_ans: int
    n_no_ans: int
    k: int
    threshold: float
    own_document: float = 1.0  # of the answerable questions answered, the share citing their own document
    other_document_answers: int = 0  # answerable questions answered from another document
    outside_refused: float | None = None  # of the outside questions (qa eval --outside), the share refused
    n_outside: int = 0
    documents: int = 0  # documents in the index the questions were asked of (0: one index per test article)

    def to_dict(self) -> dict[str, Any]:
        return {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class Report:
    """The outcome of an evaluation run."""

    name: str
    metrics: Metrics
    results: tuple[QuestionResult, ...]

    def at_threshold(self, threshold: float) -> Metrics:
        """The metrics had the abstention threshold been ``threshold``."""
        return score(
            [apply_threshold(r, threshold) for r in self.results],
            k=self.metrics.k,
            threshold=threshold,
            documents=self.metrics.documents,
        )

    def failures(self) -> list[QuestionResult]:
        """Questions with a wrong answer, a wrong citation or a wrong abstention."""
        return [
            r
            for r in self.results
            if (r.answerable and (r.f1 < 1.0 or not r.citation_correct)) or (not r.answerable and not r.abstained)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "metrics": self.metrics.to_dict(), "results": [r.to_dict() for r in self.results]}


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def score(results: Sequence[QuestionResult], *, k: int, threshold: float, documents: int = 0) -> Metrics:
    """Aggregate per-question results; outside questions count only in ``outside_refused``."""
    outside = [r for r in results if r.outside]
    results = [r for r in results if not r.outside]
    has = [r for r in results if r.answerable]
    answered = [r for r in has if not r.abstained and r.own_document is not None]
    no = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    latencies = [r.latency_ms for r in results]
    return Metrics(
        exact_match=_ratio(sum(r.exact_match for r in results), len(results)),
        f1=_ratio(sum(r.f1 for r in results), len(results)),
        has_ans_exact_match=_ratio(sum(r.exact_match for r in has), len(has)),
        has_ans_f1=_ratio(sum(r.f1 for r in has), len(has)),
        no_ans_accuracy=_ratio(sum(r.abstained for r in no), len(no)),
        citation_accuracy=_ratio(sum(r.citation_correct for r in has), len(has)),
        recall_at_k=_ratio(sum(r.gold_rank is not None and r.gold_rank <= k for r in has), len(has)),
        mrr=_ratio(sum(1.0 / r.gold_rank for r in has if r.gold_rank), len(has)),
        abstention_precision=_ratio(sum(not r.answerable for r in abstained), len(abstained)),
        abstention_recall=_ratio(sum(r.abstained for r in no), len(no)),
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        n=len(results),
        n_has_ans=len(has),
        n_no_ans=len(no),
        k=k,
        threshold=threshold,
        own_document=_ratio(sum(bool(r.own_document) for r in answered), len(answered)) if answered else 1.0,
        other_document_answers=sum(not r.own_document for r in answered),
        outside_refused=_ratio(sum(r.abstained for r in outside), len(outside)) if outside else None,
        n_outside=len(outside),
        documents=documents,
    )


def apply_threshold(result: QuestionResult, threshold: float) -> QuestionResult:
    """Re-decide abstention for another threshold, re-scoring the answer."""
    prediction = result.raw_prediction if result.confidence >= threshold else None
    em, f1 = best_over_golds(prediction, result.gold_answers)
    citation_correct = result.raw_citation_correct and prediction is not None
    return dataclasses.replace(result, prediction=prediction, exact_match=em, f1=f1, citation_correct=citation_correct)


def gold_sentences(question: EvalQuestion, documents: Sequence[Document]) -> set[tuple[str, int, int]]:
    """The gold sentences of a question, as ``(document, start, end)``.

    Raises:
        TestSetError: A supporting snippet matches no sentence (a broken test set).
    """
    sentences: list[Sentence] = [s for d in documents for s in d.sentences]
    gold: set[tuple[str, int, int]] = set()
    for snippet in question.supporting:
        found = {(s.document, s.start, s.end) for s in sentences if supports(s.text, [snippet])}
        if not found:
            raise TestSetError(f"question {question.id}: supporting snippet {snippet!r} is in no sentence")
        gold |= found
    if not question.supporting and not question.gold_offsets:
        # No evidence given: the sentences holding a gold answer are the gold ones.
        gold |= {(s.document, s.start, s.end) for s in sentences if supports(s.text, question.answers)}
    for offset in question.gold_offsets:
        # The sentence holding the answer start, or the next one if it falls between sentences.
        following = [s for s in sentences if s.end > offset]
        if following:
            s = min(following, key=lambda s: (s.document, s.start))
            gold.add((s.document, s.start, s.end))
    return gold


def _paragraph_trace(assistant: Assistant, question: EvalQuestion) -> Trace:
    """Read only the paragraph that holds the question (SQuAD's own, paragraph-level setting)."""
    if question.paragraph is None:
        raise TestSetError(f"question {question.id}: paragraph-level scoring needs a SQuAD test set")
    start, end = question.paragraph
    document = assistant.index.documents[0]
    ids = tuple(i for i, s in enumerate(assistant.index.sentences) if start <= s.start and s.end <= end)
    passage = Passage(
        id=-1, document=document.path, sentence_ids=ids, start=start, end=end, text=document.text[start:end]
    )
    began = time.perf_counter()
    retrieval = Retrieval(
        question.question, np.zeros(0, dtype=np.float32), (ScoredPassage(passage, 1.0, 1.0, 0.0),), assistant.index
    )
    answer = assistant.respond(question.question, retrieval)
    return Trace(answer=answer, retrieval=retrieval, seconds=time.perf_counter() - began)


def _run_corpus(
    corpus: EvalCorpus,
    *,
    embedder: Embedder,
    settings: Settings,
    reader: Reader,
    threshold: float,
    progress: Any,
    paragraphs: bool = False,
    store: str | None = None,
) -> list[QuestionResult]:
    documents = corpus.load()
    never_abstain = dataclasses.replace(settings, abstain_below=0.0)
    assistant = Assistant.from_documents(
        documents, store=store, settings=never_abstain, embedder=embedder, reader=reader
    )
    try:
        return _ask(assistant, corpus, documents, threshold=threshold, progress=progress, paragraphs=paragraphs)
    finally:
        assistant.close()


def _ask(
    assistant: Assistant,
    corpus: EvalCorpus,
    documents: Sequence[Document],
    *,
    threshold: float,
    progress: Any,
    paragraphs: bool = False,
    outside: bool = False,
) -> list[QuestionResult]:
    """Ask a corpus's questions of ``assistant`` (abstention off) and score them; ``documents`` are the
    corpus's own (for an outside question, not in the index: every one must be refused)."""
    own_paths = {d.path for d in documents}
    results = []
    for question in corpus.questions:
        gold = set() if outside else gold_sentences(question, documents)
        trace = _paragraph_trace(assistant, question) if paragraphs else assistant.trace(question.question)
        answer = trace.answer
        gold_rank = next(
            (
                rank
                for rank, scored in enumerate(trace.retrieval.passages, 1)
                if any(
                    (s.document, s.start, s.end) in gold
                    for s in (trace.retrieval.corpus.sentences[i] for i in scored.passage.sentence_ids)
                )
            ),
            None,
        )
        top = answer.citation
        correct = top is not None and (top.document, top.start, top.end) in gold
        raw = QuestionResult(
            id=question.id,
            corpus=corpus.name,
            question=question.question,
            gold_answers=() if outside else question.answers,
            prediction=answer.text,
            raw_prediction=answer.text,
            confidence=answer.confidence,
            exact_match=0.0,
            f1=0.0,
            citation=top,
            raw_citation_correct=correct,
            citation_correct=correct,
            gold_rank=gold_rank,
            latency_ms=trace.seconds * 1000,
            own_document=None if top is None else top.document in own_paths,
            outside=outside,
        )
        results.append(apply_threshold(raw, threshold))
        if progress is not None:
            progress.update(1)
    return results


def evaluate(
    path: str | Path,
    *,
    corpus: Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    threshold: float | None = None,
    embedder: Embedder | None = None,
    reader: Reader | None = None,
    show_progress: bool = False,
    paragraphs: bool = False,
    store: str | None = None,
    library: Sequence[str | Path] | None = None,
    outside: Sequence[str | Path] | None = None,
    index_dir: str | Path | None = None,
) -> Report:
    """Answer every question of a test set and score the answers and citations.

    Args:
        path: A JSON Lines test set or a SQuAD v1.1/v2.0 JSON file.
        corpus: Documents for JSON Lines questions without a ``document`` (default: the bundled article).
        settings: Model, retrieval depth and default threshold.
        threshold: Abstention threshold to score at (default: ``settings.abstain_below``,
            else the reader's own).
        embedder: A loaded embedder to reuse.
        reader: A reader object to evaluate instead of ``settings.reader``.
        show_progress: Show a progress bar on stderr.
        paragraphs: Give the reader only the paragraph that holds each question
            (SQuAD sets; how SQuAD scores are published) instead of retrieving.
        store: A PostgreSQL URL: each test set's documents are indexed there (replacing
            what it held) and searched in it, instead of in memory.
        library: Files and folders to index beside *all* the test set's documents: every
            question is then asked of that one index (a library), not of its own article alone,
            and the metrics say how often the answer cites the question's own document.
        outside: Test sets whose questions are asked of the same index without their documents
            (these must all be refused; ``outside_refused``). Implies one index, as ``library``.
        index_dir: Where to keep that one index, so a second run loads it instead of embedding.

    Raises:
        TestSetError: The test set is malformed or contradicts its documents.
    """
    settings = settings or Settings.from_env()
    if store and paragraphs:
        raise ConfigError("--paragraphs reads each question's own paragraph and searches nothing; drop --store")
    one_index = library is not None or bool(outside)
    if one_index and paragraphs:
        raise ConfigError("--paragraphs reads each question's own paragraph; drop --library and --outside")
    if index_dir is not None and not one_index:
        raise ConfigError(
            "--index-dir keeps the one index of --library or --outside; each test article is indexed alone"
        )
    corpora = load_test_set(path, corpus=corpus)
    outside_corpora = [c for o in outside or () for c in load_test_set(o, corpus=corpus)]
    embedder = embedder or load_embedder(settings.model, backend=settings.backend)
    reader = make_reader(reader, settings)
    if threshold is None:
        threshold = reader.threshold if settings.abstain_below is None else settings.abstain_below
    total = sum(len(c.questions) for c in [*corpora, *outside_corpora])
    if one_index:
        return _evaluate_library(
            Path(path).name,
            corpora,
            outside_corpora,
            library=library or (),
            embedder=embedder,
            settings=settings,
            reader=reader,
            threshold=threshold,
            show_progress=show_progress,
            store=store,
            index_dir=index_dir,
        )
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="questions", unit="q")
    try:
        results = [
            r
            for c in corpora
            for r in _run_corpus(
                c,
                embedder=embedder,
                settings=settings,
                reader=reader,
                threshold=threshold,
                progress=bar,
                paragraphs=paragraphs,
                store=store,
            )
        ]
    finally:
        if bar is not None:
            bar.close()
    metrics = score(results, k=settings.top_k, threshold=threshold)
    return Report(name=Path(path).name, metrics=metrics, results=tuple(results))


def _evaluate_library(
    name: str,
    corpora: Sequence[EvalCorpus],
    outside: Sequence[EvalCorpus],
    *,
    library: Sequence[str | Path],
    embedder: Embedder,
    settings: Settings,
    reader: Reader,
    threshold: float,
    show_progress: bool,
    store: str | None,
    index_dir: str | Path | None,
) -> Report:
    """Every question asked of one index: the test set's documents and the library's."""
    from tqdm import tqdm

    from index.documents import load_documents

    own = [c.load() for c in corpora]
    everything: dict[str, Document] = {}
    for document in [*(d for docs in own for d in docs), *(load_documents(list(library)) if library else [])]:
        everything.setdefault(document.path, document)
    for c in outside:
        inside = [d.path for d in c.load() if d.path in everything]
        if inside:
            raise ConfigError(
                f"--outside questions must be asked without their documents, but {inside[0]} is indexed; "
                "leave it out of the test set's documents and the library"
            )
    never_abstain = dataclasses.replace(settings, abstain_below=0.0)
    assistant = Assistant.from_documents(
        list(everything.values()),
        store=store,
        index_dir=index_dir,
        settings=never_abstain,
        embedder=embedder,
        reader=reader,
        show_progress=show_progress,
    )
    total = sum(len(c.questions) for c in [*corpora, *outside])
    try:
        with tqdm(total=total, desc="questions", unit="q", disable=not show_progress) as bar:
            results = [
                r
                for c, docs in zip(corpora, own, strict=True)
                for r in _ask(assistant, c, docs, threshold=threshold, progress=bar)
            ]
            results += [
                r
                for c in outside
                for r in _ask(assistant, c, c.load(), threshold=threshold, progress=bar, outside=True)
            ]
    finally:
        assistant.close()
    metrics = score(results, k=settings.top_k, threshold=threshold, documents=len(everything))
    return Report(name=name, metrics=metrics, results=tuple(results))


def summary_table(report: Report) -> str:
    """The terminal summary."""
    m = report.metrics
    rows = [
        ("questions", f"{m.n} ({m.n_has_ans} answerable, {m.n_no_ans} not)"),
        ("exact match", f"{m.exact_match:.3f}"),
        ("F1", f"{m.f1:.3f}"),
        ("HasAns EM / F1", f"{m.has_ans_exact_match:.3f} / {m.has_ans_f1:.3f}"),
        ("NoAns accuracy (abstained)", f"{m.no_ans_accuracy:.3f}"),
        ("citation accuracy", f"{m.citation_accuracy:.3f}"),
        (f"retrieval recall@{m.k} / MRR", f"{m.recall_at_k:.3f} / {m.mrr:.3f}"),
        ("abstention precision / recall", f"{m.abstention_precision:.3f} / {m.abstention_recall:.3f}"),
        ("latency p50 / p95", f"{m.latency_ms_p50:.1f} ms / {m.latency_ms_p95:.1f} ms"),
        ("abstention threshold", f"{m.threshold:.2f}"),
    ]
    if m.documents:
        rows[1:1] = [("documents in the index", f"{m.documents} (every question asked of all of them)")]
        rows += [
            ("answers citing their own document", f"{m.own_document:.3f} ({m.other_document_answers} from another)")
        ]
    if m.outside_refused is not None:
        rows += [("outside questions refused", f"{m.outside_refused:.3f} of {m.n_outside}")]
    width = max(len(name) for name, _ in rows)
    lines = [f"{report.name}", "-" * (width + 24)]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def _md(text: str | None) -> str:
    return "—" if text is None else text.replace("|", "\\|").replace("\n", " ")


def markdown_report(report: Report) -> str:
    """A report a person reads: the metrics, then every failure."""
    m = report.metrics
    lines = [f"# Evaluation: {report.name}", "", "| metric | value |", "|---|---|"]
    for key, value in m.to_dict().items():
        lines.append(f"| {key} | {value} |")
    failures = report.failures()
    lines += ["", f"## Failures ({len(failures)} of {m.n})", ""]
    lines += [
        "| id | question | gold | our answer | conf. | our citation | citation ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in failures:
        gold = " / ".join(r.gold_answers) if r.gold_answers else "(no answer)"
        cited = r.citation.sentence if r.citation and not r.abstained else None
        lines.append(
            f"| {r.id} | {_md(r.question)} | {_md(gold)} | {_md(r.prediction)} | {r.confidence:.2f} | "
            f"{_md(cited)} | {'yes' if r.citation_correct else 'no'} |"
        )
    return "\n".join(lines) + "\n"


OUTPUTS = ("results.jsonl", "metrics.json", "report.md", "plot.png")
MARKER = ".qa-eval"  # names the files qa eval wrote here, so a later run may replace them and nothing else


def prepare_output_dir(out_dir: str | Path) -> Path:
    """Check, before any work, that ``out_dir`` can take the outputs without overwriting anyone's file.

    It may be new, or a folder where no output name is taken by a file ``qa eval`` did not write.

    Raises:
        ConfigError: It is a file, it cannot be made or written, or it holds a file of the same name
            that ``qa eval`` did not write.
    """
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder (new, or one qa eval wrote before)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        ours = set(json.loads((out / MARKER).read_text(encoding="utf-8"))) if (out / MARKER).is_file() else set()
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"cannot use --out {out} ({reason}); choose a folder you can write") from None
    taken = sorted(name for name in OUTPUTS if (out / name).exists() and name not in ours)
    if taken:
        raise ConfigError(
            f"--out {out} already holds {', '.join(taken)}, which qa eval did not write; "
            "choose a new or empty folder so nothing of yours is overwritten"
        )
    try:
        (out / MARKER).write_text(json.dumps(list(OUTPUTS)) + "\n", encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc
        raise ConfigError(f"cannot write into --out {out} ({reason}); choose a folder you can write") from None
    return out


def write_outputs(report: Report, out_dir: str | Path) -> list[Path]:
    """Write results.jsonl, metrics.json, report.md and plot.png into ``out_dir`` (see
    :func:`prepare_output_dir`: a file of the same name that qa eval did not write is never replaced)."""
    from qa.evaluation.plots import CurvePoint, plot_report

    out = prepare_output_dir(out_dir)
    written = [out / name for name in OUTPUTS]
    with written[0].open("w", encoding="utf-8") as handle:
        for r in report.results:
            handle.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    written[1].write_text(json.dumps(report.metrics.to_dict(), indent=2) + "\n", encoding="utf-8")
    written[2].write_text(markdown_report(report), encoding="utf-8")
    results = report.results
    plot_report(
        title=f"{report.name}: {report.metrics.n} questions",
        threshold=report.metrics.threshold,
        right=[r.confidence for r in results if r.answerable and r.raw_citation_correct],
        wrong=[r.confidence for r in results if r.answerable and not r.raw_citation_correct],
        unanswerable=[r.confidence for r in results if not r.answerable],
        curve=[
            CurvePoint(t, m.f1, m.has_ans_f1, m.no_ans_accuracy, m.citation_accuracy)
            for t, m in threshold_curve(report)
        ],
        path=written[3],
    )
    return written


def threshold_curve(report: Report, steps: int = 101) -> list[tuple[float, Metrics]]:
    """Metrics at evenly spaced thresholds from 0 to 1."""
    return [(t, report.at_threshold(t)) for t in (i / (steps - 1) for i in range(steps))]


def best_threshold(report: Report) -> float:
    """The threshold with the highest overall F1 (the lowest such, on ties)."""
    curve = threshold_curve(report)
    return max(curve, key=lambda item: (item[1].f1, -item[0]))[0]
