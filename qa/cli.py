"""The ``qa`` command line.

Exit codes: 0 success (an abstention is a success), 1 a user error (the
message says what to do), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAError

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.result import Answer


def _quiet_libraries() -> None:
    """Keep library chatter (weight-loading bars) off the terminal; our own bars stay."""
    import logging
    import os

    # Environment, not transformers' own API: importing transformers costs 0.4 s,
    # and most runs never load it (see index/numpy_embedder.py).
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from index.store import PassageSettings
    from qa.config import Settings

    settings = Settings.from_env()
    changes: dict[str, object] = {}
    if getattr(args, "model", None):
        changes["model"] = args.model
    if getattr(args, "top_k", None):
        changes["top_k"] = args.top_k
    if getattr(args, "reader", None):
        changes["reader"] = args.reader
    if getattr(args, "index_type", None):
        from index.vector_index import SearchSettings

        changes["search"] = SearchSettings(kind=args.index_type)
    if getattr(args, "passage_tokens", None) or getattr(args, "overlap", None) is not None:
        changes["passages"] = PassageSettings(
            max_tokens=args.passage_tokens or settings.passages.max_tokens,
            overlap=settings.passages.overlap if args.overlap is None else args.overlap,
        )
    return replace(settings, **changes)  # type: ignore[arg-type]


def _open_assistant(args: argparse.Namespace, *, paths: Sequence[str] | None = None) -> Assistant:
    from qa.assistant import Assistant

    _quiet_libraries()
    if args.index_dir and not paths:
        return Assistant.open(args.index_dir, model=args.model, settings=_settings(args), show_progress=True)
    return Assistant.from_paths(paths or None, index_dir=args.index_dir, settings=_settings(args), show_progress=True)


def display_path(path: str) -> str:
    """A path relative to the working directory when it is below it, else absolute."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def format_answer(answer: Answer) -> str:
    """The human-readable form of an answer."""
    if answer.abstained:
        return f"The document does not answer this question. (confidence {answer.confidence:.2f})"
    lines = [f"Answer: {answer.text}", f"Confidence: {answer.confidence:.2f}"]
    for i, citation in enumerate(answer.citations, 1):
        label = "Cited" if i == 1 else "Also cited"
        lines.append(f"{label}: {display_path(citation.document)} [{citation.start}:{citation.end}]")
        lines.append(f"  “{citation.sentence}”")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    assistant = _open_assistant(args, paths=args.paths)
    m = assistant.index.manifest
    print(
        f"Indexed {len(m.documents)} document(s): {m.sentences} sentences, {m.passages} passages, "
        f"model {m.model}, {m.index_type} index, in {assistant.index_dir}",
        file=sys.stderr,
    )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.question == "-" or args.file:
        source = sys.stdin if args.question == "-" or args.file == "-" else open(args.file, encoding="utf-8")
        with source:
            questions = [line.strip() for line in source if line.strip()]
        assistant = _open_assistant(args)
        answers = assistant.answer_many(questions)
    else:
        if args.question is None:
            raise QAError('no question given; try: qa ask "What did Rouhani say?"')
        from qa.config import MAX_QUESTION_CHARS
        from qa.question import check_question

        check_question(args.question, MAX_QUESTION_CHARS)  # fail before the slow model load
        assistant = _open_assistant(args)
        answers = [assistant.answer(args.question)]
    for answer in answers:
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            if len(answers) > 1:
                print(f"Q: {answer.question}")
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
    app = create_app(args.paths or None, settings=_settings(args))
    print(f"Indexed {len(app.assistant.documents)} document(s). Starting the chat…", file=sys.stderr)
    launch(app, host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import evaluate, summary_table, write_outputs

    _quiet_libraries()
    report = evaluate(
        args.file,
        corpus=args.corpus or None,
        settings=_settings(args),
        threshold=args.threshold,
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


READER_HELP = (
    '"sentence" (default, offline), "sentence-only" (whole sentences, a baseline) '
    'or "transformers:<QA model name or path>"'
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions about documents; get a short answer and the exact sentence it came from.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="index directory (default: one per corpus under $QA_HOME)")
        p.add_argument("--model", help="embedding model name or path (default: bundled all-MiniLM-L6-v2)")

    p_index = sub.add_parser("index", help="index documents (files or directories)")
    p_index.add_argument("paths", nargs="+", metavar="PATH", help=".txt, .md or .html files, or directories")
    common(p_index)
    p_index.add_argument("--passage-tokens", type=int, help="passage size in cl100k tokens (default 128)")
    p_index.add_argument("--overlap", type=int, help="sentences shared by neighbouring passages (default 1)")
    p_index.add_argument(
        "--index-type",
        choices=["auto", "flat", "ivf", "hnsw"],
        help="vector index (default auto: exact search up to 50,000 passages, then IVF)",
    )
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="ask a question (the bundled article unless --index-dir)")
    p_ask.add_argument("question", nargs="?", help='the question, or "-" to read one per line from stdin')
    p_ask.add_argument("--file", help="read questions from this file, one per line")
    p_ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p_ask.add_argument("--top-k", type=int, help="passages to retrieve (default 5)")
    p_ask.add_argument("--reader", help=READER_HELP)
    common(p_ask)
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
    p_eval.add_argument("--threshold", type=float, help="abstention threshold to score at (default 0.5)")
    p_eval.add_argument("--top-k", type=int, help="passages to retrieve (default 5)")
    p_eval.add_argument("--model", help="embedding model name or path")
    p_eval.add_argument("--reader", help=READER_HELP)
    p_eval.set_defaults(func=cmd_eval)

    p_serve = sub.add_parser("serve", help="start the web chat (the bundled article unless PATHs are given)")
    p_serve.add_argument("paths", nargs="*", metavar="PATH", help="documents to chat about")
    p_serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p_serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p_serve.add_argument("--model", help="embedding model name or path (default: bundled all-MiniLM-L6-v2)")
    p_serve.add_argument("--reader", help=READER_HELP)
    p_serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The library only logs; the command line shows warnings (a rebuilt index, a re-read encoding).
    import logging

    # The handler filters too: a library that sets its own logger to DEBUG (bm25s) stays quiet.
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("qa: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        return int(args.func(args))
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
