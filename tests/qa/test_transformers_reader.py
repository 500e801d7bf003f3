"""``transformers:PATH``: any Hugging Face QA folder through the same windows and decoding (tiny random BERT)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import make_document
from qa.assistant import Assistant
from qa.config import Settings
from qa.errors import ModelLoadError
from qa.readers.extractive import ExtractiveReader
from tests.conftest import SEED, HashEmbedder


def test_answers_are_exact_slices_with_their_sentences(tiny_qa_model: Path) -> None:
    document = make_document(str(SEED), SEED.read_text(encoding="utf-8"))
    settings = Settings(reader=f"transformers:{tiny_qa_model}", abstain_below=0.0, top_k=3)
    assistant = Assistant.from_documents([document], settings=settings, embedder=HashEmbedder())
    assert isinstance(assistant.reader, ExtractiveReader)
    for question in ["What did Rouhani say?", "Where did Khamenei speak?", "How many missiles did Iran fire?"]:
        answer = assistant.answer(question)
        assert answer.reader == f"transformers:{tiny_qa_model}"
        assert answer.text is not None and answer.offset is not None
        assert document.text[answer.offset.start : answer.offset.end] == answer.text
        assert answer.citations
        for c in answer.citations:
            assert document.text[c.start : c.end] == c.sentence
            assert c.start < answer.offset.end and answer.offset.start < c.end  # the span lies in it
        assert 0.0 <= answer.confidence <= 1.0


def test_it_can_abstain(tiny_qa_model: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, reader=f"transformers:{tiny_qa_model}", abstain_below=1.0)
    assistant = Assistant.from_documents(
        [make_document("a.txt", "Maria Lopez opened the bakery in 1998. It sells bread.")],
        settings=settings,
        embedder=HashEmbedder(),
    )
    answer = assistant.answer("Who opened the bakery?")
    assert answer.abstained and answer.citation is None  # nothing reaches confidence 1.0


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="tokenizer|cannot load"):
        ExtractiveReader.from_transformers(str(tmp_path / "nothing-here"))


@pytest.mark.slow
def test_cli_reader_option(tiny_qa_model: Path, tmp_path: Path) -> None:
    import json

    from tests.conftest import run_cli

    done = run_cli(
        "ask", "--json", "--reader", f"transformers:{tiny_qa_model}", "Where did Khamenei speak?", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reader"] == f"transformers:{tiny_qa_model}"
