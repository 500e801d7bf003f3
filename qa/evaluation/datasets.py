"""Evaluation sets: our JSON Lines format and SQuAD v1.1/v2.0 JSON.

JSON Lines, one question a line::

    {"id": "q1", "question": "...", "answers": ["..."], "supporting": ["..."], "document": "optional/path"}

``answers`` empty means the document does not answer. ``supporting`` holds
snippets of the gold sentence(s). ``document`` is resolved against the file's
folder; questions without one use the corpus given on the command line (the
bundled article by default).

SQuAD: each article becomes one document (its paragraphs joined by blank
lines) and is indexed on its own; every question is asked against the whole
article. The gold sentence is the one holding ``answer_start``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.documents import Document, load_documents, make_document
from qa.config import bundled_documents
from qa.errors import TestSetError


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold answers and gold evidence.

    Attributes:
        id: Identifier from the test set.
        question: The question text.
        answers: Gold answers; empty when the document does not answer.
        supporting: Snippets that identify gold sentences (JSON Lines sets).
        gold_offsets: Character offsets of gold answers in the document (SQuAD sets).
        paragraph: Where the question's own paragraph lies in the document (SQuAD sets).
    """

    id: str
    question: str
    answers: tuple[str, ...]
    supporting: tuple[str, ...] = ()
    gold_offsets: tuple[int, ...] = ()
    paragraph: tuple[int, int] | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class EvalCorpus:
    """Questions that share one corpus, and that corpus (files on disk or documents in memory)."""

    name: str
    questions: tuple[EvalQuestion, ...]
    paths: tuple[Path, ...] = ()
    documents: tuple[Document, ...] = ()

    def load(self) -> list[Document]:
        return list(self.documents) if self.documents else load_documents(list(self.paths))


def load_test_set(path: str | Path, *, corpus: Sequence[str | Path] | None = None) -> list[EvalCorpus]:
    """Read a JSON Lines or SQuAD file into corpora with their questions.

    Raises:
        TestSetError: The file is missing, malformed, or has no questions.
    """
    from index.errors import DocumentError
    from index.readers.text import decode, normalise

    file = Path(path).expanduser()
    try:
        # Decoded as documents and qa ask --file are (UTF-8, UTF-16 or UTF-32 by their mark, else
        # Windows-1252); a byte-order mark is not part of the first line.
        raw = normalise(decode(file.read_bytes(), str(path))).removeprefix("\ufeff")
    except FileNotFoundError:
        raise TestSetError(f"{path}: no such test set") from None
    except (OSError, DocumentError) as exc:
        raise TestSetError(f"{path}: cannot be read ({exc})") from None
    stripped = raw.lstrip()
    data: Any = None
    if stripped.startswith("{") and file.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except RecursionError:
            raise TestSetError(f"{path}: nested too deeply to be a test set") from None
        except ValueError as exc:
            if '"data"' in stripped[:2000]:
                raise TestSetError(f"{path}: not valid JSON ({exc})") from None
    # A .json file holding one object is SQuAD JSON, unless that object is one JSON Lines row.
    if isinstance(data, dict) and "question" not in data:
        corpora = _squad(file, data)
    else:
        corpora = _jsonl(file, raw, corpus)
    if not any(c.questions for c in corpora):
        raise TestSetError(f"{path}: holds no questions")
    return corpora


def _jsonl(file: Path, raw: str, corpus: Sequence[str | Path] | None) -> list[EvalCorpus]:
    default = tuple(Path(p) for p in corpus) if corpus else tuple(bundled_documents())
    groups: dict[tuple[Path, ...], list[EvalQuestion]] = {}
    # Lines end at \n only: a JSON string may hold U+2028 raw, which str.splitlines() would cut at.
    for number, line in enumerate(raw.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row: dict[str, Any] = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise TestSetError(
                f"{file}:{number}: not a JSON line ({type(exc).__name__}); see `qa eval --help`"
            ) from None
        question = EvalQuestion(
            id=str(row.get("id", number)) if isinstance(row, dict) else "",
            question=_field(row, "question", str, file, number),
            answers=_field(row, "answers", list, file, number, default=[]),
            supporting=_field(row, "supporting", list, file, number, default=[]),
        )
        document = _field(row, "document", str, file, number, default=None)
        paths = (file.parent / document,) if document else default
        groups.setdefault(paths, []).append(question)
    return [
        EvalCorpus(name=", ".join(p.name for p in paths), questions=tuple(qs), paths=paths)
        for paths, qs in groups.items()
    ]


def _field(row: Any, name: str, kind: type, file: Path, number: int, *, default: Any = ...) -> Any:
    """One checked field of a JSON Lines row: a string, or a list of strings, as the format says."""
    where = f"{file}:{number}"
    if not isinstance(row, dict):
        raise TestSetError(f'{where}: a line must be a JSON object with a "question"; see `qa eval --help`')
    if name not in row or (row[name] is None and default is None):
        if default is ...:
            raise TestSetError(f'{where}: no "{name}"; every line needs one')
        return tuple(default) if isinstance(default, list) else default
    value = row[name]
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TestSetError(f'{where}: "{name}" must be a list of strings, like ["Qom"], not {value!r:.60}')
        return tuple(value)
    if not isinstance(value, str) or (name == "question" and not value.strip()):
        raise TestSetError(f'{where}: "{name}" must be a non-empty string, not {value!r:.60}')
    if name == "question":
        _check_question(value, where)
    return value


def _check_question(question: str, where: str) -> None:
    """The checks every question gets when asked, here, before any indexing, naming the row."""
    from qa.config import MAX_QUESTION_CHARS
    from qa.errors import QuestionError
    from qa.questions.analysis import check_question

    try:
        check_question(question, MAX_QUESTION_CHARS)
    except QuestionError as exc:
        raise TestSetError(f"{where}: {exc}") from None


def _squad(file: Path, data: dict[str, Any]) -> list[EvalCorpus]:
    """SQuAD v1.1/v2.0 JSON, every level checked: a field of the wrong shape is an error naming where."""

    def need(value: Any, kind: type, where: str, what: str) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TestSetError(f"{file}: {where}: {what}, not {value!r:.60}; see `qa eval --help`")
        return value

    corpora: list[EvalCorpus] = []
    for a, article in enumerate(need(data.get("data"), list, "data", '"data" must be a list of articles')):
        need(article, dict, f"article {a + 1}", "an article must be an object")
        title = str(article.get("title", f"article-{a + 1}"))
        texts: list[str] = []
        questions: list[EvalQuestion] = []
        offset = 0
        paragraphs = need(article.get("paragraphs"), list, title, '"paragraphs" must be a list')
        for p, paragraph in enumerate(paragraphs):
            here = f"{title}, paragraph {p + 1}"
            need(paragraph, dict, here, "a paragraph must be an object")
            context = need(paragraph.get("context"), str, here, '"context" must be a string')
            for qa in need(paragraph.get("qas"), list, here, '"qas" must be a list'):
                need(qa, dict, here, "a question must be an object")
                qid = str(qa.get("id", f"{here}, question {len(questions) + 1}"))
                question = need(qa.get("question"), str, f"question {qid}", '"question" must be a string')
                _check_question(question, f"{file}: question {qid}")  # empty ones included
                impossible = qa.get("is_impossible", False)
                if not isinstance(impossible, bool):  # "false" (a string) is true to bool()
                    raise TestSetError(f'{file}: {qid}: "is_impossible" must be true or false, not {impossible!r:.60}')
                answers = [] if impossible else need(qa.get("answers", []), list, qid, '"answers" must be a list')
                texts_of: list[str] = []
                starts: list[int] = []
                for answer in answers:
                    at = f"question {qid}"
                    need(answer, dict, at, "an answer must be an object")
                    text = need(answer.get("text"), str, at, 'an answer\'s "text" must be a string')
                    start = need(answer.get("answer_start"), int, at, '"answer_start" must be an integer')
                    if not 0 <= start <= len(context) - len(text) or context[start : start + len(text)] != text:
                        raise TestSetError(
                            f"{file}: question {qid}: answer {text!r:.40} is not at answer_start {start} of its "
                            "paragraph; fix the offset"
                        )
                    texts_of.append(text)
                    starts.append(offset + start)
                questions.append(
                    EvalQuestion(
                        id=qid,
                        question=question,
                        answers=tuple(texts_of),
                        gold_offsets=tuple(starts),
                        paragraph=(offset, offset + len(context)),
                    )
                )
            texts.append(context)
            offset += len(context) + 2  # the blank line that joins paragraphs
        if not texts:
            raise TestSetError(f"{file}: {title}: no paragraphs")
        document = make_document(f"{file}#{title}", "\n\n".join(texts))
        corpora.append(EvalCorpus(name=title, questions=tuple(questions), documents=(document,)))
    return corpora
