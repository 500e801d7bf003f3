"""Fuzzing the edges: `qa index`, `qa ask` and the `answer` endpoint with arbitrary bytes, text and files.

Whatever comes in: exit code 0 or 1 (2 for a question that argparse takes for an option,
such as "--r": usage), an error is one `qa: error:` line, no traceback escapes,
an index that was written still loads, and no file outside the index folder changes.
The command line runs in-process (``qa.cli.main``), with the real model and a real index,
so each example costs milliseconds rather than a process start; undecodable argv bytes
arrive as Python gives them to ``main`` (``os.fsdecode``: lone surrogates).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.stores.local import load_index
from qa.cli import main

pytestmark = pytest.mark.slow

TEXTS = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(os.fsdecode),
    st.sampled_from(
        ["\x1b[2J", "\x00", "\ud800", "../../etc/passwd", "-", "--top-k", "?" * 600, "Where did Khamenei speak?"]
    ),
)
CONTENTS = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(["Rouhani said so.", "\n", "\n\n", ".", "\x00", "“", "Gen.", "\r\n", "a"]), max_size=200
    ).map(lambda parts: "".join(parts).encode("utf-8")),
)


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str]:
    err = io.StringIO()
    real_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))  # "qa ask -" reads questions from here
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exit:  # argparse: a question that looks like an option
                code = int(exit.code or 0)
    finally:
        sys.stdin = real_stdin
    return code, err.getvalue()


def tree(folder: Path, skip: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and skip not in p.parents
    }


def check(code: int, err: str) -> None:
    # 0 answered or abstained, 1 a user error, 2 bad usage ("--r" is taken for an option)
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err
    if code:
        errors = [line for line in err.splitlines() if line.startswith("qa: error:")]
        assert len(errors) == 1, err


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(content=CONTENTS, question=TEXTS, name=st.sampled_from(["doc.txt", "doc.md", "doc.html", "x\x1b[31m.txt"]))
def test_index_and_ask_with_anything(content: bytes, question: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        monkeypatch.setenv("QA_HOME", str(root / "home"))
        (root / "keep.txt").write_text("a file of the user's", encoding="utf-8")
        doc = root / name
        doc.write_bytes(content)
        index_dir = root / "idx"
        before = tree(root, index_dir)
        check(*run("index", str(doc), "--index-dir", str(index_dir)))
        check(*run("ask", question, "--index-dir", str(index_dir)))
        check(*run("ask", "--json", question, "--index-dir", str(index_dir)))
        check(*run("ask", "-", "--index-dir", str(index_dir), stdin=content))  # the file's bytes as questions
        if (index_dir / "manifest.json").exists():
            load_index(index_dir)
        after = tree(root, index_dir)
        home = {k for k in after if k.startswith("home")}  # the default index home may be created
        assert {k: v for k, v in after.items() if k not in home} == before
