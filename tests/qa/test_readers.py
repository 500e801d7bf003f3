"""Readers and the assistant's side of reading: specs, decoding, abstention, citations, the shipped model."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.documents import Sentence
from index.passages import Passage
from qa.assistant import make_reader
from qa.config import Settings
from qa.errors import ConfigError, ModelLoadError
from qa.readers.base import Candidate, Reading, SentenceOnlyReader
from qa.readers.decoding import best_window_span
from qa.readers.extractive import BUNDLED_READER, ExtractiveReader, load_reader
from tests.conftest import assistant_over

TEXT = (
    "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\n"
    "Engineer Dana Whitcombe said the new cables would last a century. She thanked the crews.\n"
)


class FixedReader:
    """Proposes one fixed document span with a fixed confidence (to test the assistant's side)."""

    name = "fixed"

    def __init__(self, start: int, end: int, confidence: float, threshold: float = 0.5) -> None:
        self.span, self.confidence, self.threshold = (start, end), confidence, threshold

    def read(self, question: str, passages: Sequence[Passage], sentences: Sequence[Sentence]) -> Reading:
        passage = next(p for p in passages if p.start <= self.span[0] and self.span[1] <= p.end)
        return Reading((Candidate(passage, *self.span, 3.0, 1.0, self.confidence),))


def test_best_window_span_respects_context_order_and_length() -> None:
    start = np.array([5.0, 0.0, 9.0, 1.0, 0.0, 8.0])
    end = np.array([5.0, 0.0, 0.0, 7.0, 2.0, 0.0])
    mask = np.array([False, False, True, True, True, True])  # token 1 is the question
    span = best_window_span(start, end, mask, max_answer_tokens=5)
    assert span is not None and (span.start_token, span.end_token, span.score, span.null_score) == (2, 3, 16.0, 10.0)
    # one token at most: token 2 alone (9 + 0) beats token 3 (1 + 7) and token 5 (8 + 0)
    span = best_window_span(start, end, mask, max_answer_tokens=1)
    assert span is not None and (span.start_token, span.end_token, span.score) == (2, 2, 9.0)
    assert best_window_span(start, end, np.zeros(6, dtype=bool)) is None


def test_a_span_over_two_sentences_cites_both_with_exact_offsets() -> None:
    start = TEXT.index("the new cables")
    end = TEXT.index("thanked the crews") + len("thanked the crews")
    assistant = assistant_over(TEXT, reader=FixedReader(start, end, 0.9))
    answer = assistant.answer("What did the engineer say?")
    assert answer.text == TEXT[start:end] and answer.offset is not None and answer.offset.start == start
    assert [c.sentence for c in answer.citations] == [
        "Engineer Dana Whitcombe said the new cables would last a century.",
        "She thanked the crews.",
    ]
    assert all(TEXT[c.start : c.end] == c.sentence for c in answer.citations)
    assert answer.reader == "fixed" and answer.confidence == 0.9


def test_the_assistant_abstains_below_the_readers_own_threshold_or_the_override() -> None:
    start = TEXT.index("Monday")
    low = assistant_over(TEXT, reader=FixedReader(start, start + 6, 0.4, threshold=0.5))
    answer = low.answer("When did the bridge reopen?")
    assert answer.abstained and answer.citations == () and answer.confidence == 0.4
    high = assistant_over(TEXT, reader=FixedReader(start, start + 6, 0.4, threshold=0.3))
    assert high.answer("When did the bridge reopen?").text == "Monday"
    high.settings = Settings(abstain_below=0.45)  # an explicit setting wins over the reader's
    assert high.answer("When did the bridge reopen?").abstained


def test_sentence_only_answers_with_the_whole_sentence_sharing_most_words() -> None:
    assistant = assistant_over(TEXT, reader="sentence-only")
    answer = assistant.answer("When did the harbour bridge reopen?")
    assert answer.citation is not None and answer.text == answer.citation.sentence
    assert answer.text.startswith("The harbour bridge") and answer.reader == "sentence-only"
    assert isinstance(make_reader("sentence-only", Settings()), SentenceOnlyReader)


def test_unknown_reader_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sentence-only"):
        make_reader("sentences", Settings())


def test_the_shipped_reader_loads_passes_its_checksums_and_is_the_default() -> None:
    reader = make_reader(None, Settings())
    assert isinstance(reader, ExtractiveReader) and reader.name == "trained"
    assert 0.0 < reader.threshold < 1.0
    assert load_reader() is load_reader()  # loaded once per process
    total = sum(f.stat().st_size for f in BUNDLED_READER.iterdir() if f.is_file())
    assert total <= 30_000_000  # the repository's limit for weights


def test_a_damaged_reader_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "reader"
    shutil.copytree(BUNDLED_READER, folder)
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="damaged.*reinstall"):
        ExtractiveReader.from_folder(folder)
    (folder / "settings.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not a reader folder"):
        ExtractiveReader.from_folder(folder)


def test_long_passages_are_read_whole_in_overlapping_windows() -> None:
    reader = load_reader()
    text = " ".join(f"Sentence number {i} names the colour teal." for i in range(200))
    passage = Passage(0, "doc.txt", (0,), 0, len(text), text)
    windows = reader.windows("Which colour?", [passage])
    assert len(windows) > 3 and all(len(w.ids) <= reader.settings.max_length for w in windows)
    covered = {i for w in windows for o in w.offsets if o is not None for i in range(*o)}
    assert {i for i, ch in enumerate(text) if ch.isalnum()} <= covered  # no word is cut away


QUOTED = (
    "Mayor Ines Alvarado opened the bridge on Monday, promising faster trains.\n\n"
    '"This bridge will carry us for a century," she told reporters after the ceremony.\n\n'
    "The repairs took two years.\n"
)


def test_a_quote_attributed_with_a_pronoun_also_cites_the_sentence_naming_the_speaker() -> None:
    start = QUOTED.index("This bridge")
    assistant = assistant_over(
        QUOTED, reader=FixedReader(start, start + len("This bridge will carry us for a century"), 0.9)
    )
    answer = assistant.answer("What will the bridge do?")
    assert [c.sentence[:12] for c in answer.citations] == [
        '"This bridge',
        "Mayor Ines A",
    ]  # the answer's sentence first
    assert all(QUOTED[c.start : c.end] == c.sentence for c in answer.citations)


def test_a_speech_question_answered_from_the_naming_sentence_cites_the_quote_that_follows() -> None:
    start = QUOTED.index("promising faster trains")
    span = FixedReader(start, start + len("promising faster trains"), 0.9)
    said = assistant_over(QUOTED, reader=span).answer("What did Alvarado say?")
    # Her words are the quote that follows: it becomes the answer, its sentence cited first.
    assert said.text == "This bridge will carry us for a century"
    assert said.offset is not None and QUOTED[said.offset.start : said.offset.end] == said.text
    assert [c.sentence[:12] for c in said.citations] == ['"This bridge', "Mayor Ines A"]
    other = assistant_over(QUOTED, reader=span).answer("When did the bridge open?")  # not a speech question
    assert [c.sentence[:12] for c in other.citations] == ["Mayor Ines A"]


REPORTED = (
    "Governor Ada Brook toured the dam on Friday, warning the U.S. Army that the spillway would fail by spring.\n\n"
    "Engineers said repairs would cost $40 million.\n"
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Brook say?", "the spillway would fail by spring"),  # the reported claim, not "toured the dam"
        ("what did the governor say about the dam", "the spillway would fail by spring"),
        ("What did Brook say she toured?", "the dam"),  # asks for a thing, not her words: the reader's span stays
        ("Where was Brook on Friday?", "the dam"),
    ],
)
def test_what_was_said_takes_the_claim_only_for_questions_about_someones_words(question: str, expected: str) -> None:
    start = REPORTED.index("the dam")
    answer = assistant_over(REPORTED, reader=FixedReader(start, start + len("the dam"), 0.9)).answer(question)
    assert answer.text == expected and answer.offset is not None
    assert REPORTED[answer.offset.start : answer.offset.end] == expected
    assert answer.citations[0].sentence.startswith("Governor Ada Brook")
