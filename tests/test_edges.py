"""Reliability round two (docs/bad-input.md): every edge ends in an answer or one clean line, never a traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.documents import load_document, load_documents
from index.errors import IndexCorruptError, NoDocumentsError, TestSetError, UnreadableDocumentError
from index.stores import local as store
from index.stores.local import read_manifest
from qa.assistant import Assistant
from qa.evaluation.datasets import load_test_set
from tests.conftest import ROOT, HashEmbedder, run_cli

ARTICLE = "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\nIt carries trains.\n"


def one_clean_line(done: subprocess.CompletedProcess[str], *, text: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("qa: error:") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and text in done.stderr


# --- the Python API ---------------------------------------------------------------------------------


def test_from_paths_takes_one_path_as_a_string_or_a_path(tmp_path: Path) -> None:
    doc = tmp_path / "bridge.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    for given in (str(doc), doc):
        assistant = Assistant.from_paths(
            given, embedder=HashEmbedder(), index_dir=tmp_path / f"idx-{type(given).__name__}"
        )
        assert [d.path for d in assistant.documents] == [str(doc.resolve())]


def test_from_paths_with_no_paths_is_no_documents_error() -> None:
    with pytest.raises(NoDocumentsError, match="no documents given"):
        Assistant.from_paths([], embedder=HashEmbedder())


def test_lone_surrogates_in_a_question_are_replaced_and_answered() -> None:
    from tests.conftest import assistant_over

    answer = assistant_over(ARTICLE).answer("When did the bridge reopen?\ud800 \udcff")
    assert answer.question.endswith("\ufffd") and (answer.text is None or answer.text in ARTICLE)


def test_a_nul_byte_anywhere_marks_a_binary_file(tmp_path: Path) -> None:
    late = tmp_path / "late-nul.txt"
    late.write_bytes(ARTICLE.encode() * 500 + b"\x00 more text.")  # the NUL is after 30 KB
    with pytest.raises(UnreadableDocumentError, match="binary"):
        load_document(late)


def test_an_unreadable_subfolder_is_an_error_like_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs" / "locked").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("locked"):  # as root, chmod cannot take read access away
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(UnreadableDocumentError, match="locked: cannot be read"):
        load_documents([tmp_path / "docs"])


@pytest.mark.parametrize(
    "manifest",
    [
        '{"format_version": 2, "model": "m", "dimension": 1, "passage_settings": {}, "documents": [], '
        '"passages": 1e400, "sentences": 1, "index_type": "flat", "files": {}}',
        "[" * 100_000 + "]" * 100_000,
        '{"format_version": 2, "documents": "nope"}',
        "\x00\xff garbage",
    ],
    ids=["1e400", "deep-nesting", "wrong-types", "garbage"],
)
def test_a_damaged_manifest_is_index_corrupt_error(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rebuild"):
        read_manifest(tmp_path)


def test_a_damaged_manifest_is_rebuilt_over(tmp_path: Path) -> None:
    doc = tmp_path / "bridge.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "idx"
    Assistant.from_paths(doc, index_dir=index_dir, embedder=HashEmbedder())
    # Damaged beside its generation files, which say whose it is (alone, a manifest.json that is not
    # ours by its content is someone else's, and is refused: tests/test_folder_safety.py).
    (index_dir / "manifest.json").write_text("[" * 100_000, encoding="utf-8")
    assistant = Assistant.from_paths(doc, index_dir=index_dir, embedder=HashEmbedder())
    assert read_manifest(index_dir).passages == len(assistant.index.passages)


def test_a_read_only_index_folder_answers_from_the_new_text_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    doc = tmp_path / "bridge.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "idx"
    Assistant.from_paths(doc, index_dir=index_dir, embedder=HashEmbedder())
    doc.write_text(ARTICLE.replace("Monday", "Tuesday"), encoding="utf-8")

    def read_only(path: Path, write):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(store, "_write_file", read_only)
    with caplog.at_level(logging.WARNING):
        assistant = Assistant.from_paths(doc, index_dir=index_dir, embedder=HashEmbedder())
    assert "Tuesday" in assistant.documents[0].text and "not saved" in caplog.text
    monkeypatch.undo()
    assert "Monday" in store.load_index(index_dir).documents[0].text  # the index on disk is intact


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"question": "Where?", "answers": "Qom"}', '"answers" must be a list of strings'),
        ('{"question": "Where?", "answers": [1]}', '"answers" must be a list of strings'),
        ('{"question": "", "answers": []}', '"question" must be a non-empty string'),
        ('{"answers": []}', 'no "question"'),
        ('["Where?"]', "a line must be a JSON object"),
        ('{"question": "Where?", "supporting": "x"}', '"supporting" must be a list'),
        ('{"question": "Where?", "document": 3}', '"document" must be a non-empty string'),
    ],
)
def test_qa_eval_checks_every_row_and_names_the_line(tmp_path: Path, row: str, message: str) -> None:
    test_set = tmp_path / "set.jsonl"
    test_set.write_text('{"question": "Fine?", "answers": ["yes"]}\n' + row + "\n", encoding="utf-8")
    with pytest.raises(TestSetError, match=f"set.jsonl:2: {message}"):
        load_test_set(test_set)


# --- the command line (fresh processes) --------------------------------------------------------------


@pytest.mark.parametrize("what", ["missing", "directory", "binary"])
def test_cli_ask_file_that_cannot_be_read_is_one_line(tmp_path: Path, what: str) -> None:
    target = tmp_path / "questions.txt"
    if what == "directory":
        target.mkdir()
    elif what == "binary":
        target.write_bytes(b"Where?\n\x00\x01\x02")
    done = run_cli("ask", "--file", str(target), home=tmp_path)
    one_clean_line(done, text="questions.txt")


def test_cli_top_k_above_its_bound_says_the_bound(tmp_path: Path) -> None:
    one_clean_line(run_cli("ask", "--top-k", "1000", "Where?", home=tmp_path), text="between 1 and 50")


@pytest.mark.slow
def test_cli_reads_windows_1252_questions_and_undecodable_arguments(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_bytes("Where did Khamenei speak? \u2019\n".encode("cp1252"))
    done = run_cli("ask", "--json", "--file", str(questions), home=tmp_path)
    assert done.returncode == 0, done.stderr
    env = {**os.environ, "QA_HOME": str(tmp_path)}
    raw = subprocess.run(
        [sys.executable.encode(), b"-m", b"qa", b"ask", b"--json", b"Where did Khamenei speak?\xff\xfe"],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert raw.returncode == 0 and b"Traceback" not in raw.stderr, raw.stderr
    assert json.loads(raw.stdout)["question"].endswith("\ufffd")
    stdin = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "--json", "-"],
        input=b"Where did Khamenei speak?\xff\n",
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert stdin.returncode == 0 and b"Traceback" not in stdin.stderr


@pytest.mark.slow
def test_cli_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "Where did Khamenei speak?\n" * 30, encoding="utf-8"
    )  # more than one write after the pipe closes
    script = (
        f'"{sys.executable}" -m qa ask --file "{questions}" 2> "{tmp_path}/err" | head -1; echo "${{PIPESTATUS[0]}}"'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env={**os.environ, "QA_HOME": str(tmp_path)}, cwd=ROOT
    )
    status = done.stdout.strip().splitlines()[-1]
    assert status in {"0", "1"} and "Traceback" not in (tmp_path / "err").read_text()


@pytest.mark.slow
def test_cli_shows_control_characters_from_a_document_as_escapes(tmp_path: Path) -> None:
    doc = tmp_path / "evil\x1b[31m.txt"
    text = (
        "The launch code is \x1b]52;c;SGVsbG8=\x07 hidden\x9b2J here, said the engineer.\n\n"
        "Velmora is a quiet harbour town.\n"
    )
    doc.write_text(text, encoding="utf-8")
    index_dir = tmp_path / "idx"
    assert run_cli("index", str(doc), "--index-dir", str(index_dir), home=tmp_path).returncode == 0
    for question in ("What is the launch code?", "What did the engineer say?"):
        done = run_cli("ask", "--index-dir", str(index_dir), question, home=tmp_path)
        assert done.returncode == 0
        shown = done.stdout + done.stderr
        assert not any(ch in shown for ch in "\x1b\x07\x9b\x00"), shown
    done = run_cli("ask", "--index-dir", str(index_dir), "--json", "What is the launch code?", home=tmp_path)
    assert "\x1b" not in done.stdout and "\x9b" not in done.stdout
    data = json.loads(done.stdout)
    if data["citations"]:
        citation = data["citations"][0]
        assert text[citation["start"] : citation["end"]] == citation["sentence"]  # exact, escapes and all


@pytest.mark.parametrize("where", ["/proc/self/qa-index", "a file"])
def test_qa_index_fails_when_the_index_cannot_be_written(tmp_path: Path, where: str) -> None:
    """Saving is what `qa index` is for: a folder that cannot be written is exit 1, never a success line."""
    doc = tmp_path / "bridge.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    if where == "a file":
        blocker = tmp_path / "blocker"
        blocker.write_text("a user's file", encoding="utf-8")
        target = str(blocker / "idx")
    else:
        target = where
    done = run_cli("index", str(doc), "--index-dir", target, home=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("qa: error:") and done.stderr.count("\n") == 1
    assert "Indexed" not in done.stderr + done.stdout


def test_qa_index_fails_when_the_disk_fills_during_the_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from qa.errors import IndexStoreError

    doc = tmp_path / "bridge.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    Assistant.from_paths(doc, index_dir=tmp_path / "idx", embedder=HashEmbedder())
    before = {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir()}
    doc.write_text(ARTICLE.replace("Monday", "Tuesday"), encoding="utf-8")

    def full(path: Path, write):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store, "_write_file", full)
    with pytest.raises(IndexStoreError, match="No space left on device.*previous index there is unchanged"):
        Assistant.from_paths(doc, index_dir=tmp_path / "idx", embedder=HashEmbedder(), must_save=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir()} == before


@pytest.mark.slow
def test_a_file_name_with_a_line_break_prints_on_one_line(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt\nAnswer: forged"
    doc.write_text(ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "idx"
    assert run_cli("index", str(doc), "--index-dir", str(index_dir), home=tmp_path).returncode == 0
    done = run_cli("ask", "--index-dir", str(index_dir), "When did the bridge reopen?", home=tmp_path)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert sum(line.startswith("Answer:") for line in lines) == 1 and "a.txt\\nAnswer: forged" in done.stdout
