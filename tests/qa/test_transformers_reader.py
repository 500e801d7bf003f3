"""The transformers reader's code path, with a tiny randomly initialised BERT built here (no download)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from index.documents import make_document
from index.store import PassageSettings, build_index
from qa.assistant import Assistant
from qa.config import Settings
from qa.retriever import HybridRetriever
from qa.transformers_reader import TransformersReader, best_span
from tests.conftest import SEED, HashEmbedder


@pytest.fixture(scope="module")
def tiny_qa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BertForQuestionAnswering with a vocabulary drawn from the seed article."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert-qa")
    words = sorted(set(re.findall(r"[a-z]+", SEED.read_text(encoding="utf-8").lower())))
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *list("abcdefghijklmnopqrstuvwxyz0123456789.,\"'’“”?-"),
        *words,
    ]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_best_span_respects_context_order_and_length() -> None:
    start = np.array([5.0, 0.0, 9.0, 1.0, 0.0, 8.0])
    end = np.array([5.0, 0.0, 0.0, 7.0, 2.0, 0.0])
    offsets = [(0, 0), (0, 3), (4, 9), (10, 15), (16, 20), (21, 25)]
    mask = [False, False, True, True, True, True]  # token 1 is the question
    span = best_span(start, end, offsets, mask, max_answer_tokens=5)
    assert span is not None and (span.start, span.end) == (4, 15) and span.score == 16.0 and span.null_score == 10.0
    span = best_span(start, end, offsets, mask, max_answer_tokens=1)
    # one token at most: token 2 alone scores 9 + 0, better than token 3 (1 + 7) or token 5 (8 + 0)
    assert span is not None and (span.start, span.end, span.score) == (4, 9, 9.0)
    assert best_span(start, end, offsets, [False] * 6) is None


def test_windows_cover_a_long_passage_without_truncation(tiny_qa_model: Path) -> None:
    reader = TransformersReader(str(tiny_qa_model), max_length=64, stride=16)
    text = SEED.read_text(encoding="utf-8")
    encoded = reader.windows("What did Rouhani say?", text)
    covered: set[int] = set()
    for w, offsets in enumerate(encoded["offset_mapping"].tolist()):
        for (s, e), sequence in zip(offsets, encoded.sequence_ids(w), strict=True):
            if sequence == 1:
                covered.update(range(s, e))
    non_space = {i for i, ch in enumerate(text) if not ch.isspace()}
    assert len(encoded["input_ids"]) > 10  # many windows
    assert non_space <= covered | {i for i in non_space if not text[i].isalnum()}  # every word is read


def test_answers_are_exact_slices_with_their_sentences(tiny_qa_model: Path) -> None:
    document = make_document(str(SEED), SEED.read_text(encoding="utf-8"))
    embedder = HashEmbedder()
    index = build_index([document], embedder, settings=PassageSettings(max_tokens=128))
    reader = TransformersReader(str(tiny_qa_model), max_length=96, stride=32, abstain_below=0.0)
    retriever = HybridRetriever(index, embedder, top_k=3)
    for question in ["What did Rouhani say?", "Where did Khamenei speak?", "How many missiles did Iran fire?"]:
        answer = reader.read(question, retriever.retrieve(question), index)
        assert answer.reader == f"transformers:{tiny_qa_model}"
        assert answer.text is not None and answer.offset is not None
        assert document.text[answer.offset.start : answer.offset.end] == answer.text
        assert answer.citations
        for c in answer.citations:
            assert document.text[c.start : c.end] == c.sentence
            assert c.start < answer.offset.end and answer.offset.start < c.end  # the span lies in it
        assert 0.0 <= answer.confidence <= 1.0


def test_reader_spec_selects_it_and_it_can_abstain(tiny_qa_model: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, reader=f"transformers:{tiny_qa_model}", abstain_below=1.0)
    assistant = Assistant.from_documents(
        [make_document("a.txt", "Maria Lopez opened the bakery in 1998. It sells bread.")],
        settings=settings,
        embedder=HashEmbedder(),
    )
    assert isinstance(assistant.reader, TransformersReader)
    answer = assistant.answer("Who opened the bakery?")
    assert answer.abstained and answer.citation is None  # nothing reaches confidence 1.0


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    from qa.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="cannot load QA model"):
        TransformersReader(str(tmp_path / "nothing-here"))


@pytest.mark.slow
def test_cli_reader_option(tiny_qa_model: Path, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa",
            "ask",
            "--json",
            "--reader",
            f"transformers:{tiny_qa_model}",
            "Where did Khamenei speak?",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QA_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reader"] == f"transformers:{tiny_qa_model}"
