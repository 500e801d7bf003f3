"""The ``qa`` command line.

Exit codes: 0 success (an abstention is a success), 1 a user error (the
message says what to do), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from qa.errors import ConfigError, QAError

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.result import Answer


def _quiet_libraries() -> None:
    """Keep library chatter (weight-loading bars) off the terminal; our own bars stay."""
    import os

    # Environment, not transformers' own API: importing transformers costs 0.4 s,
    # and most runs never load it (see index/embedders/numpy_encoder.py).
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from index.stores.local import PassageSettings
    from qa.config import Settings

    settings = Settings.from_env()
    changes: dict[str, object] = {}
    if getattr(args, "model", None):
        changes["model"] = args.model
    if getattr(args, "top_k", None) is not None:  # 0 is refused by Settings, never replaced by the default
        changes["top_k"] = args.top_k
    if getattr(args, "reader", None):
        changes["reader"] = args.reader
    if getattr(args, "threshold", None) is not None:
        changes["abstain_below"] = args.threshold
    if getattr(args, "index_type", None):
        from index.stores.vectors import SearchSettings

        changes["search"] = SearchSettings(kind=args.index_type)
    if getattr(args, "passage_tokens", None) is not None or getattr(args, "overlap", None) is not None:
        if args.passage_tokens is not None and args.passage_tokens < 1:
            raise ConfigError(f"--passage-tokens must be at least 1, got {args.passage_tokens}")
        if args.overlap is not None and args.overlap < 0:
            raise ConfigError(f"--overlap must be 0 or more sentences, got {args.overlap}")
        changes["passages"] = PassageSettings(
            max_tokens=settings.passages.max_tokens if args.passage_tokens is None else args.passage_tokens,
            overlap=settings.passages.overlap if args.overlap is None else args.overlap,
        )
    limits = {
        "cpu_seconds": getattr(args, "read_cpu", None),
        "memory_mib": getattr(args, "read_memory", None),
        "wall_seconds": getattr(args, "read_timeout", None),
    }
    if any(v is not None for v in limits.values()):
        changes["read_limits"] = replace(settings.read_limits, **{k: v for k, v in limits.items() if v is not None})
    return replace(settings, **changes)  # type: ignore[arg-type]


def _open_assistant(
    args: argparse.Namespace, *, paths: Sequence[str] | None = None, must_save: bool = False
) -> Assistant:
    from qa.assistant import Assistant

    _quiet_libraries()
    if getattr(args, "store", None):
        if args.index_dir:
            raise QAError("give --store or --index-dir, not both")
        if paths:
            return Assistant.from_paths(paths, store=args.store, settings=_settings(args), show_progress=True)
        return Assistant.from_store(args.store, settings=_settings(args))
    if args.index_dir and not paths:
        return Assistant.open(args.index_dir, model=args.model, settings=_settings(args), show_progress=True)
    return Assistant.from_paths(
        paths or None, index_dir=args.index_dir, settings=_settings(args), show_progress=True, must_save=must_save
    )


# C0 controls but tab and newline, DEL, and C1 controls (U+009B is a one-character CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f]")  # JSON escapes C0 itself, not DEL or C1


def visible(text: str) -> str:
    """Text safe for a terminal: every control character shown as an escape (``\\x1b``), never sent raw.

    A document can hold escape sequences (clearing the screen, OSC 52 writing the
    clipboard); printed raw, the terminal would run them. Tabs and line breaks stay.
    """
    return _CONTROL.sub(lambda m: ascii(m.group(0))[1:-1], text)


def to_json(data: object) -> str:
    """One JSON line with the exact text; DEL and C1 controls escaped too, so no raw control reaches a terminal."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(data, ensure_ascii=False))


def display_path(path: str) -> str:
    """A path relative to the working directory when it is below it, else absolute."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def shown_name(path: str) -> str:
    """A document's path on one line: a line break or tab in a file name is shown as its escape,
    so a name like "a.txt\\nAnswer: yes" can never print a line of its own."""
    return visible(display_path(path)).replace("\n", "\\n").replace("\t", "\\t")


def format_answer(answer: Answer) -> str:
    """The human-readable form of an answer."""
    if answer.abstained:
        lines = [f"The document does not seem to answer this question. (confidence {answer.confidence:.2f})"]
        if answer.closest is not None:
            c = answer.closest
            page = f", page {c.page}" if c.page is not None else ""
            lines.append(f"Closest sentence found, not an answer: {shown_name(c.document)}{page} [{c.start}:{c.end}]")
            lines.append(f"  “{visible(c.sentence)}”")
        return "\n".join(lines)
    lines = [f"Answer: {visible(answer.text or '')}", f"Confidence: {answer.confidence:.2f}"]
    for i, citation in enumerate(answer.citations, 1):
        label = "Cited" if i == 1 else "Also cited"
        page = f", page {citation.page}" if citation.page is not None else ""
        lines.append(f"{label}: {shown_name(citation.document)}{page} [{citation.start}:{citation.end}]")
        lines.append(f"  “{visible(citation.sentence)}”")
    return "\n".join(lines)


def _read_questions(file: str | None) -> str:
    """Questions from a file or stdin, decoded as documents are (UTF-8, UTF-16 with a BOM, else Windows-1252)."""
    from index.documents import decode, read_text

    if file is None or file == "-":
        data = sys.stdin.buffer.read()
        if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            data = data.replace(b"\x00", b"")  # a NUL typed or piped into a question is nothing, not binary
        return decode(data, "standard input")
    return read_text(Path(file))  # its errors name the file and say what to do


def _where(args: argparse.Namespace, assistant: Assistant) -> str:
    if getattr(args, "store", None):
        from index.stores.postgres import redact

        return redact(args.store)
    return str(assistant.index_dir)


def cmd_index(args: argparse.Namespace) -> int:
    assistant = _open_assistant(args, paths=args.paths, must_save=True)  # an index not written is a failure here
    if assistant.store is not None:
        stats = assistant.store.stats()
        print(
            visible(
                f"Indexed {stats.documents} document(s): {stats.sentences} sentences, {stats.passages} passages, "
                f"model {stats.model}, HNSW and BM25 in {_where(args, assistant)}"
            ),
            file=sys.stderr,
        )
        return 0
    m = assistant.index.manifest
    print(
        visible(
            f"Indexed {len(m.documents)} document(s): {m.sentences} sentences, {m.passages} passages, "
            f"model {m.model}, {m.index_type} index, in {_where(args, assistant)}"
        ),
        file=sys.stderr,
    )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.file and args.question is not None:
        raise QAError(f"give a question or --file, not both (got {visible(args.question)!r} and --file {args.file})")
    if args.question == "-" or args.file:
        from qa.config import MAX_QUESTION_CHARS
        from qa.questions.analysis import check_question

        # Lines end at \n (and \r\n, \r) only: str.splitlines() would also cut a question at U+2028,
        # U+0085 or a form feed inside it.
        lines = _read_questions(args.file).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        questions = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                check_question(line, MAX_QUESTION_CHARS)  # fail before the slow model load, naming the line
            except QAError as exc:
                raise QAError(f"question on line {number}: {exc}") from None
            questions.append(line.strip())
        if not questions:
            raise QAError("no questions to ask: the input is empty; give one question a line")
        assistant = _open_assistant(args)
        answers = assistant.answer_many(questions, args.document)
    else:
        if args.question is None:
            raise QAError('no question given; try: qa ask "What did Rouhani say?"')
        from qa.config import MAX_QUESTION_CHARS
        from qa.questions.analysis import check_question

        check_question(args.question, MAX_QUESTION_CHARS)  # fail before the slow model load
        assistant = _open_assistant(args)
        answers = [assistant.answer(args.question, args.document)]
    for answer in answers:
        if args.json:
            print(to_json(answer.to_dict()))
        else:
            if len(answers) > 1:
                print(f"Q: {visible(answer.question)}")
            print(format_answer(answer))
            if len(answers) > 1:
                print()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from ui.app import create_app, launch
    except ImportError as exc:  # gradio is the "ui" extra
        raise QAError(f"the chat needs gradio ({exc}); install it with: pip install -e '.[ui]'") from None

    _quiet_libraries()
    print("Loading the model and the index…", file=sys.stderr)
    app = create_app(args.paths or None, settings=_settings(args), store=args.store, shared_uploads=args.shared_uploads)
    print(f"Indexed {app.assistant.summaries(0)[1]} document(s). Starting the chat…", file=sys.stderr)
    import signal

    # SIGTERM (systemd, docker stop, kill) ends the chat like Ctrl-C: uploads and their index go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        launch(app, host=args.host, port=args.port, allowed_hosts=args.allowed_host)
    finally:
        app.close()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation.runner import evaluate, prepare_output_dir, summary_table, write_outputs

    _quiet_libraries()
    if args.out:
        prepare_output_dir(args.out)  # before the evaluation, not after minutes of it
    report = evaluate(
        args.file,
        corpus=args.corpus or None,
        settings=_settings(args),
        threshold=args.threshold,
        paragraphs=args.paragraphs,
        store=args.store,
        library=args.library,
        outside=args.outside,
        index_dir=args.index_dir,
        show_progress=not args.json or sys.stderr.isatty(),
    )
    if args.out:
        for path in write_outputs(report, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.metrics.to_dict()))
    else:
        print(summary_table(report))
    return 0


def cmd_train_reader(args: argparse.Namespace) -> int:
    try:
        from qa.train.trainer import DataSpec, TrainConfig, check_training_folder, train
    except ImportError as exc:  # torch and transformers are the "train" extra
        raise QAError(
            f"training needs torch and transformers ({exc}); install them: pip install -e '.[train]'"
        ) from None
    check_training_folder(Path(args.out))  # before minutes of loading data
    from index.embedders.sentence_transformer import resolve_model

    _quiet_libraries()
    logging.getLogger("qa.train").setLevel(logging.INFO)
    config = TrainConfig(
        data=tuple(DataSpec.parse(d) for d in args.data),
        base_model=resolve_model(args.base_model)[1],
        hold_out_from=args.hold_out_from,
        hold_out_articles=args.hold_out_articles,
        hold_out=tuple(DataSpec.parse(d) for d in args.hold_out),
        max_length=args.max_length,
        stride=args.stride,
        batch_size=args.batch_size,
        epochs=args.epochs,
        learning_rate=args.lr,
        negatives=args.negatives,
        sentence_negatives=args.sentence_negatives,
        outside_negatives=args.outside_negatives,
        max_empty_windows=args.max_empty_windows,
        warmup=args.warmup,
        max_seconds=args.max_hours * 3600 if args.max_hours else None,
        seed=args.seed,
        bf16=not args.no_bf16,
        checkpoint_every=args.checkpoint_every,
    )
    for spec in config.data:
        if not Path(spec.path).is_file():
            raise QAError(f"{spec.path}: no such training file")
    record = train(config, args.out, resume=args.resume, max_steps=args.max_steps)
    print(json.dumps({k: record[k] for k in ("steps", "windows_trained", "train_seconds", "windows_per_second")}))
    print(f"model written to {Path(args.out) / 'model'}; export it with: qa export-reader {Path(args.out) / 'model'}")
    return 0


def cmd_export_reader(args: argparse.Namespace) -> int:
    try:
        from qa.train.export import export_reader
    except ImportError as exc:
        raise QAError(f"exporting needs the [train] extra ({exc}); install it: pip install -e '.[train]'") from None
    _quiet_libraries()
    out = export_reader(args.model_dir, args.out, quantize=not args.fp32)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(f"exported to {out} ({size / 1e6:.1f} MB); calibrate it with: qa calibrate-reader {out} --data FILE")
    return 0


def cmd_fit_judge(args: argparse.Namespace) -> int:
    from qa.readers.extractive import BUNDLED_READER
    from qa.readers.judge import FEATURES, SIGNALS
    from qa.train.judge import fit_and_write

    folder = Path(args.folder) if args.folder else BUNDLED_READER
    names = tuple(args.features.split(",")) if args.features else FEATURES
    unknown = [n for n in names if n not in SIGNALS]
    if unknown:
        raise QAError(f"unknown signals {unknown}; choose from {', '.join(SIGNALS)}")
    observations = Path(args.observations) if args.observations else None
    if observations is None:
        from qa.config import Settings

        observations = Settings.from_env().home / "library-bench" / f"observations-{folder.name}.jsonl"
    if not observations.is_file():
        raise QAError(f"{observations}: no observations; run `python -m qa.bench.library` first")
    result = fit_and_write(folder, observations, names, write=not args.dry_run)
    print(json.dumps(result, indent=2))
    return 0


def cmd_calibrate_reader(args: argparse.Namespace) -> int:
    from qa.train.calibrate import calibrate

    _quiet_libraries()
    articles = list(args.articles or [])
    if args.hold_out:
        from qa.train.features import held_out_titles
        from qa.train.trainer import DataSpec

        for spec in map(DataSpec.parse, args.hold_out):
            articles += held_out_titles(spec.path, spec.limit or 5)
    if not articles:
        try:
            record = json.loads((Path(args.folder) / "training.json").read_text(encoding="utf-8"))
            articles = record["data"]["held_out_articles"]
        except (OSError, ValueError, KeyError) as exc:
            raise QAError(f"name the held-out articles with --articles ({args.folder}/training.json: {exc})") from None
    if not articles:
        raise QAError("no held-out articles to calibrate on; name them with --articles or --hold-out")
    try:
        result = calibrate(
            args.folder,
            args.data,
            articles,
            top_k=args.top_k,
            plot=args.plot,
            observations_file=args.observations,
        )
    except ValueError as exc:
        raise QAError(str(exc)) from None
    print(json.dumps(result, indent=2))
    return 0


THRESHOLD_HELP = (
    "abstain under this confidence (default: the reader's own, chosen for questions about one's own documents; "
    "the strict SQuAD 2.0 point is in the reader's settings.json, strict_squad2_threshold)"
)
READER_HELP = (
    '"trained" (default: the bundled model), "trained:<folder>", "sentence-only" (whole sentences, '
    'a baseline) or "transformers:<QA model folder or name>"'
)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error (exit code 2, as argparse has it)."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        if "expected one argument" in message or "unrecognized arguments" in message:
            hint = '; a question that starts with "-" goes after --: qa ask -- "-x?"'
        print(f"qa: error: {visible(message)}; see `{self.prog} --help`{hint}", file=sys.stderr)
        raise SystemExit(2)


SHORT_USAGE = """\
qa: answers from your documents, citing the exact sentence.

  qa ask "What did Rouhani say?"       ask the bundled article (or --index-dir DIR after qa index)
  qa serve [PATH...]                   the chat in your browser, on the bundled article or your files

More: qa index, qa eval, qa --help, qa COMMAND --help; docs/cli.md lists every option.
"""


def _version() -> str:
    try:
        return importlib.metadata.version("qa-assistant")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qa",
        description="Ask questions about documents; get a short answer and the exact sentence it came from.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def store_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--store",
            metavar="URL",
            default=os.environ.get("QA_STORE") or None,
            help="keep the index in PostgreSQL with pgvector (postgresql://...; QA_STORE) instead of a folder",
        )

    def read_limits(p: argparse.ArgumentParser) -> None:
        group = p.add_argument_group("reading limits (each file is read in a separate process under them)")
        group.add_argument(
            "--read-cpu", type=float, metavar="SECONDS", help="CPU time reading one file may take (default 60)"
        )
        group.add_argument(
            "--read-memory", type=int, metavar="MIB", help="memory reading one file may take (default 2048)"
        )
        group.add_argument(
            "--read-timeout", type=float, metavar="SECONDS", help="wall-clock time for one file (default 120)"
        )

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="index directory (default: one per corpus under $QA_HOME)")
        p.add_argument("--model", help="embedding model name or path (default: bundled all-MiniLM-L6-v2)")
        store_option(p)

    p_index = sub.add_parser("index", help="index documents (files or directories)")
    p_index.add_argument(
        "paths", nargs="+", metavar="PATH", help=".txt, .md, .html, .pdf or .docx files, or directories"
    )
    common(p_index)
    p_index.add_argument("--passage-tokens", type=int, help="passage size in cl100k tokens (default 128)")
    p_index.add_argument("--overlap", type=int, help="sentences shared by neighbouring passages (default 1)")
    p_index.add_argument(
        "--index-type",
        choices=["auto", "flat", "ivf", "hnsw"],
        help="vector index (default auto: exact search up to 50,000 passages, then IVF)",
    )
    read_limits(p_index)
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="ask a question (the bundled article unless --index-dir)")
    p_ask.add_argument("question", nargs="?", help='the question, or "-" to read one per line from stdin')
    p_ask.add_argument("--file", help="read questions from this file, one per line")
    p_ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p_ask.add_argument("--top-k", type=int, help="passages to retrieve (default 5)")
    p_ask.add_argument("--reader", help=READER_HELP)
    p_ask.add_argument("--threshold", type=float, help=THRESHOLD_HELP)
    p_ask.add_argument(
        "--document",
        action="append",
        metavar="PATTERN",
        help="ask only within the documents this path, file name or glob names ('*.pdf'); repeat for more",
    )
    common(p_ask)
    read_limits(p_ask)
    p_ask.set_defaults(func=cmd_ask)

    p_eval = sub.add_parser(
        "eval",
        help="score answers and citations against a test set (JSON Lines or SQuAD JSON)",
        description=(
            "JSON Lines: one question a line, "
            '{"id", "question", "answers": [...], "supporting": [...], "document": "optional/path"}; '
            "empty answers mean the document does not answer. SQuAD v1.1/v2.0 JSON: each article is "
            "indexed as one document and its questions asked against it."
        ),
    )
    p_eval.add_argument("file", metavar="FILE", help="the test set")
    p_eval.add_argument("--corpus", nargs="+", metavar="PATH", help="documents for questions without one")
    p_eval.add_argument("--json", action="store_true", help="print the aggregate metrics as one JSON object")
    p_eval.add_argument("--out", metavar="DIR", help="write results.jsonl, metrics.json, report.md, plot.png")
    p_eval.add_argument("--threshold", type=float, help="abstention threshold to score at (default: the reader's own)")
    p_eval.add_argument(
        "--paragraphs",
        action="store_true",
        help="SQuAD sets: read each question's own paragraph instead of retrieving (SQuAD's published setting)",
    )
    p_eval.add_argument("--top-k", type=int, help="passages to retrieve (default 5)")
    p_eval.add_argument("--model", help="embedding model name or path")
    p_eval.add_argument("--reader", help=READER_HELP)
    p_eval.add_argument(
        "--store",
        metavar="URL",
        help="index each test set's documents in this PostgreSQL store (it is made to hold only them)",
    )
    p_eval.add_argument(
        "--library",
        nargs="+",
        metavar="PATH",
        help="files and folders indexed beside all the test set's documents; every question is asked of that one index",
    )
    p_eval.add_argument(
        "--outside",
        nargs="+",
        metavar="FILE",
        help="test sets asked of the same index without their documents: each of their questions must be refused",
    )
    p_eval.add_argument("--index-dir", metavar="DIR", help="keep the --library index here, so the next run loads it")
    p_eval.set_defaults(func=cmd_eval)

    p_serve = sub.add_parser("serve", help="start the web chat (the bundled article unless PATHs are given)")
    p_serve.add_argument("paths", nargs="*", metavar="PATH", help="documents to chat about")
    p_serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p_serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p_serve.add_argument(
        "--shared-uploads",
        action="store_true",
        help="every visitor sees and is answered from every upload (default: uploads belong to the browser "
        "session that made them); needed for uploads into a --store",
    )
    p_serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the chat may be opened under, besides IP addresses and localhost (repeatable); "
        "any other Host is refused (DNS rebinding)",
    )
    p_serve.add_argument("--model", help="embedding model name or path (default: bundled all-MiniLM-L6-v2)")
    p_serve.add_argument("--reader", help=READER_HELP)
    p_serve.add_argument("--threshold", type=float, help=THRESHOLD_HELP)
    store_option(p_serve)
    read_limits(p_serve)
    p_serve.set_defaults(func=cmd_serve)

    p_train = sub.add_parser(
        "train-reader",
        help="fine-tune an extractive QA reader on SQuAD-format data (needs the [train] extra)",
        description="Checkpoints and the trained model go to --out; keep it outside the repository.",
    )
    p_train.add_argument("--data", nargs="+", required=True, metavar="FILE[@N]", help="SQuAD JSON files; @N samples N")
    p_train.add_argument("--out", required=True, metavar="DIR", help="checkpoints and the trained model")
    p_train.add_argument("--base-model", default="sentence-transformers/all-MiniLM-L6-v2", help="starting weights")
    p_train.add_argument("--hold-out-from", metavar="FILE", help="hold out whole articles of this file for dev")
    p_train.add_argument("--hold-out-articles", type=int, default=5, help="how many articles to hold out")
    p_train.add_argument(
        "--hold-out",
        nargs="*",
        default=[],
        metavar="FILE@N",
        help="also hold out N whole articles of FILE (calibration)",
    )
    p_train.add_argument("--max-length", type=int, default=256, help="tokens per window")
    p_train.add_argument("--stride", type=int, default=96, help="tokens shared by neighbouring windows")
    p_train.add_argument("--batch-size", type=int, default=32)
    p_train.add_argument("--epochs", type=float, default=1.0)
    p_train.add_argument("--lr", type=float, default=1e-4)
    p_train.add_argument("--negatives", type=float, default=0.2, help="document-level negatives per question")
    p_train.add_argument(
        "--sentence-negatives",
        type=float,
        default=0.0,
        help="share of questions also asked of their paragraph minus the answer's sentence",
    )
    p_train.add_argument(
        "--outside-negatives",
        type=float,
        default=0.0,
        help="share of questions also asked of another article's paragraph",
    )
    p_train.add_argument(
        "--max-empty-windows", type=int, metavar="N", help="no-answer windows kept per question (long documents)"
    )
    p_train.add_argument("--warmup", type=float, default=0.06, help="share of the steps spent warming up")
    p_train.add_argument("--max-hours", type=float, help="stop after this much training time; --resume continues")
    p_train.add_argument("--seed", type=int, default=13)
    p_train.add_argument("--no-bf16", action="store_true", help="train in fp32 even where bf16 is available")
    p_train.add_argument("--checkpoint-every", type=int, default=200, metavar="STEPS")
    p_train.add_argument("--max-steps", type=int, help="stop early (probes)")
    p_train.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint")
    p_train.set_defaults(func=cmd_train_reader)

    p_export = sub.add_parser("export-reader", help="export a trained QA model as int8 ONNX with its tokenizer")
    p_export.add_argument("model_dir", metavar="MODEL_DIR", help="the model folder that train-reader wrote")
    p_export.add_argument("--out", required=True, metavar="FOLDER", help="the reader folder to write")
    p_export.add_argument("--fp32", action="store_true", help="keep float32 weights (about 90 MB) instead of int8")
    p_export.set_defaults(func=cmd_export_reader)

    p_cal = sub.add_parser(
        "calibrate-reader", help="fit a reader folder's confidence and threshold on held-out SQuAD articles"
    )
    p_cal.add_argument("folder", metavar="FOLDER", help="a reader folder written by export-reader")
    p_cal.add_argument(
        "--data", required=True, nargs="+", metavar="FILE", help="the SQuAD files the held-out articles come from"
    )
    p_cal.add_argument(
        "--articles", nargs="*", help="FILE_NAME#TITLE of each article (default: the held-out ones in training.json)"
    )
    p_cal.add_argument(
        "--hold-out", nargs="*", metavar="FILE@N", help="the N articles of FILE that train-reader --hold-out held out"
    )
    p_cal.add_argument(
        "--observations", metavar="JSON", help="cache of the questions' results: read if present, else written"
    )
    p_cal.add_argument("--top-k", type=int, default=5, help="passages retrieved per question (default 5)")
    p_cal.add_argument("--plot", metavar="PNG", help="write the risk-coverage plot per kind here")
    p_cal.set_defaults(func=cmd_calibrate_reader)

    p_judge = sub.add_parser(
        "fit-judge",
        help="fit a reader's judge on the library benchmark's fit part (python -m qa.bench.library first)",
    )
    p_judge.add_argument("folder", metavar="FOLDER", nargs="?", help="the reader folder (default: the shipped one)")
    p_judge.add_argument("--observations", metavar="FILE", help="what the benchmark kept (default: its own file)")
    p_judge.add_argument("--features", help="comma-separated signals (default: qa.readers.judge.FEATURES)")
    p_judge.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    p_judge.set_defaults(func=cmd_fit_judge)
    return parser


class _VisibleFormatter(logging.Formatter):
    """Warnings name files; a file name can hold escape sequences too."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        print(SHORT_USAGE, end="")  # a newcomer's first try: the two commands, not argparse's error
        return 0
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The library only logs; the command line shows warnings (a rebuilt index, a re-read encoding).
    # The handler filters too: a library that sets its own logger to DEBUG (bm25s) stays quiet.
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_VisibleFormatter("qa: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        return int(args.func(args))
    except QAError as exc:
        print(f"qa: error: {visible(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `qa ask … | head -1`: the reader has gone; end quietly (the Python docs' recipe:
        # point stdout at devnull so the interpreter's final flush does not fail again).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
