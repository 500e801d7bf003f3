"""Property: whatever the document and the question, the answer and its citations are exact slices.

The real bundled reader runs (onnxruntime, a few ms a question); abstention is off, so every
question produces a span."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.documents import make_document
from index.stores.local import PassageSettings, build_index
from qa.assistant import Assistant
from qa.config import Settings
from qa.errors import EmptyDocumentError, QuestionError
from qa.questions.analysis import check_question
from tests.conftest import HashEmbedder

EMBEDDER = HashEmbedder()
WORDS = st.sampled_from(
    "the a said told missile missiles fired Iran Trump Rouhani Qom Monday 2020 12 dozen more than "
    "people $4.2 million U.S. Gen. Dr. Smith Ölund Zoë café 50% on in at of warned that".split()
)
PIECES = st.one_of(
    WORDS,
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6),
    st.sampled_from(['"', "“", "”", "'", ",", ".", "?", "!", ";", ":", "—", "(", ")", "\n", "\n\n", "  "]),
)
TEXTS = st.lists(PIECES, min_size=1, max_size=80).map(" ".join)
QUESTIONS = st.tuples(
    st.sampled_from(["Who", "When", "Where", "How many", "What did", "Why", "What", ""]),
    st.lists(st.one_of(WORDS, st.text(max_size=5)), max_size=8).map(" ".join),
    st.sampled_from(["?", "", " say?", " said?"]),
).map(lambda parts: " ".join(parts).strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, QUESTIONS)
def test_reader_never_returns_text_that_is_not_in_the_source(text: str, question: str) -> None:
    try:
        document = make_document("fuzz.txt", text)
        question = check_question(question, 500)
    except (EmptyDocumentError, QuestionError):
        return
    index = build_index([document], EMBEDDER, settings=PassageSettings(max_tokens=40, overlap=1))
    assistant = Assistant(index, EMBEDDER, settings=Settings(top_k=3, abstain_below=0.0))  # never abstain
    answer = assistant.answer(question)
    if answer.text is None:
        assert answer.citations == ()
        return
    # The indexed text is the source, character for character; only U+0000, which PostgreSQL cannot
    # store, is read as U+FFFD in both stores (index.text.storable), so every offset still holds.
    source = document.text
    assert len(source) == len(text) and source == text.replace("\x00", "\ufffd")
    assert answer.offset is not None
    assert source[answer.offset.start : answer.offset.end] == answer.text
    assert answer.citations and all(source[c.start : c.end] == c.sentence for c in answer.citations)
    # The citations are exactly the sentences the span touches, in order.
    assert all(c.start < answer.offset.end and answer.offset.start < c.end for c in answer.citations)
    assert [c.start for c in answer.citations] == sorted(c.start for c in answer.citations)


# Each of these is one or more reader tokens per character, so a question under the 500-character
# limit can hold far more tokens than the reader's 256-token window.
DENSE = {
    "CJK": "中",
    "question marks": "?",
    "emoji": "😀",
    "Arabic letters": "ب ",
    "Devanagari": "क",
    "digits": "7 ",
    "mathematical letters": "𝐀",
    "Hangul": "한",
}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(DENSE)), st.integers(min_value=130, max_value=499), st.booleans())
def test_a_question_over_the_readers_token_budget_is_answered_or_refused_never_a_crash(
    kind: str, length: int, with_words: bool
) -> None:
    prefix = "Who opened the bakery? " if with_words else ""
    question = (prefix + DENSE[kind] * length)[:499]
    assistant = Assistant.from_documents(
        [make_document("doc.txt", "Alice opened the bakery in 1998. It sells bread.")], embedder=EMBEDDER
    )
    result = assistant.answer(question)  # no "Truncation error"
    if result.text is not None:
        assert result.citation is not None and result.text in result.citation.sentence


@pytest.mark.parametrize("kilobytes", [50, 200, 1000])
def test_one_very_long_sentence_is_read_in_bounded_windows(kilobytes: int) -> None:
    """A 1 MB sentence cost over 100 s a question (read whole, ~0.1 s per KB); its pieces cost what any passage does."""
    long = ", ".join(f"item {i} is blue" for i in range(kilobytes * 1024 // 16))
    text = f"Alice opened the bakery in 1998. The inventory lists {long}. It sells bread."
    assistant = Assistant.from_documents([make_document("doc.txt", text)], embedder=EMBEDDER)
    for question in ("Who opened the bakery?", "What colour is item 40 in the inventory?"):
        trace = assistant.trace(question)
        passages = [s.passage for s in trace.retrieval.passages]
        windows = assistant.reader.windows(question, passages)  # type: ignore[attr-defined]
        # Retrieved: the passages read first and, when those give nothing, the ones read deeper.
        assert len(windows) <= 2 * len(passages) <= 2 * max(assistant.settings.top_k, assistant.settings.read_deeper)
        if trace.answer.citation is not None:
            assert text[trace.answer.citation.start : trace.answer.citation.end] == trace.answer.citation.sentence
