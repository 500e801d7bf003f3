"""Reliability round three, the low items of issue 23 (docs/bad-input.md): each class with several instances."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from index.documents import load_document, read_source
from index.errors import UnreadableDocumentError
from qa.config import Settings
from qa.errors import ConfigError, TestSetError
from qa.evaluation.datasets import load_test_set
from tests.conftest import ROOT, run_cli
from tests.test_edges import ARTICLE, one_clean_line

# --- files that are not regular files -----------------------------------------------------------


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    return path


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "sock.txt"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return path


SPECIAL = {
    "a FIFO nobody writes to": _fifo,
    "a UNIX socket": _socket,
    "/dev/zero": lambda _: Path("/dev/zero"),
    "/dev/urandom": lambda _: Path("/dev/urandom"),
    "/dev/null": lambda _: Path("/dev/null"),
}


@pytest.mark.parametrize("make", SPECIAL.values(), ids=SPECIAL.keys())
def test_a_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(UnreadableDocumentError, match="not a regular file"):
        read_source(path)  # no hang waiting for a writer, no endless read, no MemoryError


def test_qa_index_on_a_fifo_is_one_line_not_a_hang(tmp_path: Path) -> None:
    done = run_cli("index", str(_fifo(tmp_path)), "--index-dir", str(tmp_path / "idx"), home=tmp_path / "home")
    one_clean_line(done, text="not a regular file")


# --- settings: refused, never silently replaced -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "Who?", "--top-k", "0"], "between 1 and 50"),
        (["ask", "Who?", "--top-k", "-2"], "between 1 and 50"),
        (["index", "seeds", "--passage-tokens", "0"], "--passage-tokens must be at least 1"),
        (["index", "seeds", "--passage-tokens", "-5"], "--passage-tokens must be at least 1"),
        (["index", "seeds", "--overlap", "-1"], "--overlap must be 0 or more"),
    ],
    ids=["top-k-0", "top-k-negative", "passage-tokens-0", "passage-tokens-negative", "overlap-negative"],
)
def test_zero_or_negative_settings_are_refused_not_replaced_by_defaults(
    tmp_path: Path, args: list[str], message: str
) -> None:
    one_clean_line(run_cli(*args, home=tmp_path / "home"), text=message)


@pytest.mark.parametrize(
    "changes",
    [
        {"top_k": 2.5},
        {"top_k": True},
        {"top_k": "5"},
        {"abstain_below": "0.5"},
        {"max_question_chars": 0},
        {"max_question_chars": 1.5},
        {"model": None},
    ],
    ids=["top_k-float", "top_k-bool", "top_k-str", "threshold-str", "max-chars-0", "max-chars-float", "model-none"],
)
def test_settings_of_the_wrong_type_fail_when_made(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Settings(**changes)  # type: ignore[arg-type]


# --- QA_HOME where nothing can be written ---------------------------------------------------------


@pytest.mark.slow
def test_an_unwritable_qa_home_answers_with_a_warning(tmp_path: Path) -> None:
    env = {**os.environ, "QA_HOME": "/proc/qa-home-cannot-exist"}
    done = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "How many missiles did Iran fire?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0 and "more than a dozen" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr and "set QA_HOME or --index-dir to a folder you can write" in done.stderr


def test_a_qa_home_under_a_file_is_one_line_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_cli("ask", "Who?", home=blocker / "home")
    one_clean_line(done, text="is under a file")


# --- test sets: every row checked before indexing, naming where ---------------------------------


def _squad(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


CONTEXT = "Maria Lopez opened the bakery in 1998."


def _qa(**fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "q1",
        "question": "Who opened the bakery?",
        "answers": [{"text": "Maria Lopez", "answer_start": 0}],
    }
    row.update(fields)
    return row


BAD_SQUAD = {
    "data is an object": ({"data": {}}, '"data" must be a list'),
    "data is missing": ({"version": "v2.0"}, '"data" must be a list'),
    "an article is a string": ({"data": ["Bakery"]}, "an article must be an object"),
    "paragraphs missing": ({"data": [{"title": "B"}]}, '"paragraphs" must be a list'),
    "context not a string": (
        {"data": [{"title": "B", "paragraphs": [{"context": 5, "qas": []}]}]},
        '"context" must be a string',
    ),
    "question null": (
        {"data": [{"title": "B", "paragraphs": [{"context": CONTEXT, "qas": [_qa(question=None)]}]}]},
        '"question" must be a string',
    ),
    "question empty": (
        {"data": [{"title": "B", "paragraphs": [{"context": CONTEXT, "qas": [_qa(question="  ")]}]}]},
        "empty",
    ),
    "question only invisible characters": (
        {"data": [{"title": "B", "paragraphs": [{"context": CONTEXT, "qas": [_qa(question="\u200b\u202e")]}]}]},
        "empty",
    ),
    "answer_start past the end": (
        {
            "data": [
                {
                    "title": "B",
                    "paragraphs": [
                        {"context": CONTEXT, "qas": [_qa(answers=[{"text": "Maria Lopez", "answer_start": 500}])]}
                    ],
                }
            ]
        },
        "not at answer_start 500",
    ),
    "answer_start negative": (
        {
            "data": [
                {
                    "title": "B",
                    "paragraphs": [{"context": CONTEXT, "qas": [_qa(answers=[{"text": "Maria", "answer_start": -3}])]}],
                }
            ]
        },
        "not at answer_start -3",
    ),
    "answer_start elsewhere": (
        {
            "data": [
                {
                    "title": "B",
                    "paragraphs": [
                        {"context": CONTEXT, "qas": [_qa(answers=[{"text": "Maria Lopez", "answer_start": 5}])]}
                    ],
                }
            ]
        },
        "not at answer_start 5",
    ),
    "answer_start a string": (
        {
            "data": [
                {
                    "title": "B",
                    "paragraphs": [
                        {"context": CONTEXT, "qas": [_qa(answers=[{"text": "Maria", "answer_start": "0"}])]}
                    ],
                }
            ]
        },
        '"answer_start" must be an integer',
    ),
}


@pytest.mark.parametrize(("data", "message"), BAD_SQUAD.values(), ids=BAD_SQUAD.keys())
def test_a_squad_file_of_the_wrong_shape_is_refused_naming_where(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(TestSetError, match=message):
        load_test_set(_squad(tmp_path, data))


def test_qa_eval_refuses_a_bad_squad_file_before_indexing(tmp_path: Path) -> None:
    done = run_cli("eval", str(_squad(tmp_path, {"data": {}})), home=tmp_path / "home")
    one_clean_line(done, text='"data" must be a list')
    assert not (tmp_path / "home").exists()


def test_a_json_lines_set_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "bridge.txt").write_text(ARTICLE, encoding="utf-8")
    path = tmp_path / "set.jsonl"
    row = {"question": "When did the bridge reopen?", "answers": ["Monday"], "document": "bridge.txt"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8-sig")
    (corpus,) = load_test_set(path)
    assert corpus.questions[0].question == "When did the bridge reopen?"


@pytest.mark.parametrize("question", ["\u200b", "\u202e\u2066", "\x07\x1b[2J", "x" * 501])
def test_a_json_lines_question_that_cannot_be_asked_names_its_line_before_indexing(
    tmp_path: Path, question: str
) -> None:
    path = tmp_path / "set.jsonl"
    good = json.dumps({"question": "When did the bridge reopen?", "answers": ["Monday"]})
    path.write_text(good + "\n" + json.dumps({"question": question, "answers": []}) + "\n", encoding="utf-8")
    with pytest.raises(TestSetError, match=r"set\.jsonl:2: "):
        load_test_set(path)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1e"])
def test_a_line_separator_inside_a_question_does_not_split_it(tmp_path: Path, separator: str) -> None:
    path = tmp_path / "set.jsonl"
    question = f"When did the bridge{separator} reopen?"
    path.write_text(
        json.dumps({"question": question, "answers": ["Monday"]}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (corpus,) = load_test_set(path)
    assert [q.question for q in corpus.questions] == [question]


@pytest.mark.slow
def test_qa_ask_file_keeps_a_question_with_a_line_separator_whole(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("How many missiles did Iran\u2028 fire?\nWhere did Khamenei\x85 speak?\n", encoding="utf-8")
    done = run_cli("ask", "--file", str(questions), "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 2  # two questions, not four


def test_qa_ask_file_names_the_line_of_a_question_that_cannot_be_asked(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("Who is Rouhani?\n" + "x" * 600 + "\n", encoding="utf-8")
    one_clean_line(run_cli("ask", "--file", str(questions), home=tmp_path / "home"), text="question on line 2")


# --- Word: content controls and nested tables ------------------------------------------------------


def _docx_with_body(path: Path, body_xml: str) -> Path:
    """A real .docx (python-docx's template) whose body is replaced by ``body_xml``."""
    import zipfile

    from tests.documents_made import word_file

    word_file(path.with_suffix(".tmp.docx"), [("paragraph", "placeholder")])
    with (
        zipfile.ZipFile(path.with_suffix(".tmp.docx")) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                start, end = text.index("<w:body>") + len("<w:body>"), text.index("<w:sectPr")
                data = (text[:start] + body_xml + text[end:]).encode("utf-8")
            target.writestr(item, data)
    return path


def _p(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _table(*rows: list[str]) -> str:
    return (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(f"<w:tc>{cell}</w:tc>" for cell in row) + "</w:tr>" for row in rows)
        + "</w:tbl>"
    )


WORD_BODIES = {
    "block content control": (
        f"<w:sdt><w:sdtContent>{_p('The keeper is Ingrid Alvestad.')}</w:sdtContent></w:sdt>",
        ["The keeper is Ingrid Alvestad."],
    ),
    "inline content control": (
        '<w:p><w:r><w:t xml:space="preserve">The keeper is </w:t></w:r><w:sdt><w:sdtContent><w:r><w:t>Ingrid Alvestad</w:t></w:r></w:sdtContent></w:sdt><w:r><w:t>.</w:t></w:r></w:p>',
        ["The keeper is Ingrid Alvestad."],
    ),
    "nested content controls": (
        f"<w:sdt><w:sdtContent><w:sdt><w:sdtContent>{_p('Deep text stays.')}</w:sdtContent></w:sdt></w:sdtContent></w:sdt>",
        ["Deep text stays."],
    ),
    "table nested in a cell": (
        _table([_p("Ship"), _p("Notes")], [_p("Aurora"), _table([_p("Built in 1990.")], [_p("Refitted in 2010.")])]),
        ["Ship | Notes", "Aurora | Built in 1990. Refitted in 2010."],
    ),
    "content control around a row": (
        "<w:tbl><w:sdt><w:sdtContent><w:tr><w:tc>"
        + _p("Hidden row text.")
        + "</w:tc></w:tr></w:sdtContent></w:sdt></w:tbl>",
        ["Hidden row text."],
    ),
    "content control in a cell": (
        _table([f"<w:sdt><w:sdtContent>{_p('Cell control text.')}</w:sdtContent></w:sdt>"]),
        ["Cell control text."],
    ),
}


@pytest.mark.parametrize(("body", "blocks"), WORD_BODIES.values(), ids=WORD_BODIES.keys())
def test_word_text_in_content_controls_and_nested_tables_is_kept(tmp_path: Path, body: str, blocks: list[str]) -> None:
    document = load_document(_docx_with_body(tmp_path / "form.docx", body))
    assert document.text == "\n\n".join(blocks)


# --- PDF: a stamp on every page is text, not a scan -----------------------------------------------


@pytest.mark.parametrize("where", [30, 570])  # the bottom and the top margin of a 595-point page
def test_a_pdf_whose_only_text_is_a_repeated_margin_line_is_read_not_called_scanned(
    tmp_path: Path, where: float
) -> None:
    from tests.documents_made import drawn_pdf

    path = drawn_pdf(tmp_path / "stamp.pdf", [[(40, where, "Confidential draft for the harbour board.")]] * 3)
    document = load_document(path)
    assert "Confidential draft for the harbour board." in document.text
