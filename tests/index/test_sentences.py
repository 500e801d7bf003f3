from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.documents import make_document
from index.sentences import split_sentences
from tests.conftest import SEED


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gen. Qassem Soleimani died. He was 62.", ["Gen. Qassem Soleimani died.", "He was 62."]),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        ("Forces left the U.S. and went home. Then...", ["Forces left the U.S. and went home.", "Then..."]),
        ("They flew to the U.S. The next day they rested.", ["They flew to the U.S.", "The next day they rested."]),
        ("Warning the U.S. that it would end.", ["Warning the U.S. that it would end."]),
        ('"We won," he said. "It is over."', ['"We won," he said.', '"It is over."']),
        (
            "“Operations do not suffice. What matters is this,” he said.",
            ["“Operations do not suffice.", "What matters is this,” he said."],
        ),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("J. R. Tolkien wrote books. Many did.", ["J. R. Tolkien wrote books.", "Many did."]),
        ("Is it true? Yes! It is.", ["Is it true?", "Yes!", "It is."]),
        (
            "Ayatollah Ali Khamenei, said Wednesday that it was enough.",
            ["Ayatollah Ali Khamenei, said Wednesday that it was enough."],
        ),
        ("It cost 3.5 million dollars. Really.", ["It cost 3.5 million dollars.", "Really."]),
        (
            "Headline Without Stop\nThe body starts here. It goes on.",
            ["Headline Without Stop", "The body starts here.", "It goes on."],
        ),
        ("A wrapped line that\ncontinues here. Next one.", ["A wrapped line that\ncontinues here.", "Next one."]),
    ],
)
def test_splits_known_cases(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_seed_sentences_are_exact_slices_and_boilerplate_is_gone() -> None:
    text = SEED.read_text(encoding="utf-8")
    doc = make_document(str(SEED), text)
    assert all(text[s.start : s.end] == s.text for s in doc.sentences)
    assert not any("IE 11" in s.text or "browser" in s.text for s in doc.sentences)
    rouhani = [s.text for s in doc.sentences if "Rouhani" in s.text]
    assert rouhani == [
        "Iranian President Hassan Rouhani joined Khamenei in striking a defiant tone on Wednesday, "
        "warning the U.S. that Soleimani's death would lead to reprisals."
    ]
    assert any(
        s.text.startswith("Iran’s supreme leader, Ayatollah Ali Khamenei, said Wednesday") for s in doc.sentences
    )


WORDS = st.sampled_from(
    [
        "Iran",
        "said",
        "the",
        "U.S.",
        "Gen.",
        "Mr.",
        "e.g.",
        "3.5",
        "a",
        "Qom",
        "“quoted",
        "words”",
        '"hi,"',
        "it",
        "end.",
        "Stop!",
        "why?",
        "no.",
        "(aside)",
        "x",
        "’tis",
        "—",
        "Washington",
        "A.",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", " \n \n "])


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(WORDS, SEPARATORS), min_size=0, max_size=60))
    lead = draw(st.sampled_from(["", " ", "\n\n"]))
    return lead + "".join(w + s for w, s in parts)


@settings(max_examples=400, deadline=None)
@given(documents())
def test_spans_are_exact_ordered_trimmed_and_cover_every_word(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip()
        previous_end = end
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_unicode_text_gives_exact_slices(text: str) -> None:
    for start, end in split_sentences(text):
        assert text[start:end].strip() == text[start:end] and text[start:end]


@settings(max_examples=200, deadline=None)
@given(documents(), st.booleans())
def test_document_sentences_slice_their_text(text: str, markdown: bool) -> None:
    try:
        doc = make_document("doc.txt", "# Title\n\n" + text if markdown else "Start here. " + text, markdown=markdown)
    except Exception as exc:  # only the documented error may come out
        from qa.errors import EmptyDocumentError

        assert isinstance(exc, EmptyDocumentError)
        return
    for i, sentence in enumerate(doc.sentences):
        assert doc.text[sentence.start : sentence.end] == sentence.text
        assert sentence.index == i
