"""Reader specs: the default span reader against the whole-sentence baseline."""

from __future__ import annotations

import pytest

from index.documents import make_document
from qa.assistant import Assistant, make_reader
from qa.config import Settings
from qa.errors import ConfigError
from tests.conftest import HashEmbedder

TEXT = (
    "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\n"
    "Engineer Dana Whitcombe said the new cables would last a century.\n"
)


def test_sentence_only_answers_with_the_whole_cited_sentence() -> None:
    document = make_document("bridge.txt", TEXT)
    spans = Assistant.from_documents([document], embedder=HashEmbedder(), reader="sentence")
    whole = Assistant.from_documents([document], embedder=HashEmbedder(), reader="sentence-only")
    short, long = spans.answer("When did the bridge reopen?"), whole.answer("When did the bridge reopen?")
    assert short.text == "Monday" and short.reader == "sentence"
    assert long.citation is not None and long.text == long.citation.sentence and long.reader == "sentence-only"
    assert long.citation == short.citation and long.confidence == short.confidence  # same evidence, same abstention


def test_unknown_reader_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sentence-only"):
        make_reader("sentences", Settings())
