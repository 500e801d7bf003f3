from __future__ import annotations

import pytest

from index.documents import load_document, make_document
from index.passages import count_cl100k, make_passages
from qa.errors import ConfigError
from tests.conftest import SEED


def test_cl100k_counts_offline() -> None:
    assert count_cl100k("hello world") == 2  # the same ids as tiktoken's cl100k_base


@pytest.mark.parametrize(("max_tokens", "overlap"), [(16, 0), (40, 1), (128, 1), (128, 2), (1000, 0)])
def test_passages_are_sentence_aligned_slices_within_budget(max_tokens: int, overlap: int) -> None:
    doc = load_document(SEED)
    passages = make_passages([doc], max_tokens=max_tokens, overlap=overlap)
    seen: set[int] = set()
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        first, last = doc.sentences[p.sentence_ids[0]], doc.sentences[p.sentence_ids[-1]]
        assert list(p.sentence_ids) == list(range(p.sentence_ids[0], p.sentence_ids[-1] + 1))
        # Never over the budget (counted sentence by sentence, as passages are built), whatever a sentence's length.
        assert (
            sum(count_cl100k(doc.sentences[i].text) for i in p.sentence_ids) <= max_tokens
            or count_cl100k(p.text) <= max_tokens
        )
        if (p.start, p.end) != (first.start, last.end):  # a piece of one over-long sentence
            assert len(p.sentence_ids) == 1 and first.start <= p.start < p.end <= first.end
            assert count_cl100k(first.text) > max_tokens
        seen.update(p.sentence_ids)
    assert seen == set(range(len(doc.sentences)))  # every sentence is retrievable


def test_overlap_shares_sentences() -> None:
    doc = load_document(SEED)
    passages = make_passages([doc], max_tokens=60, overlap=1)
    sentences = doc.sentences
    whole = [
        p
        for p in passages
        if (p.start, p.end) == (sentences[p.sentence_ids[0]].start, sentences[p.sentence_ids[-1]].end)
    ]
    for a, b in zip(whole, whole[1:], strict=False):
        if len(a.sentence_ids) > 1 and b.sentence_ids[0] <= a.sentence_ids[-1] + 1:
            assert a.sentence_ids[-1] in b.sentence_ids


LONG_SENTENCES = {
    "a 200 KB list": lambda: ", ".join(f"item {i} is blue" for i in range(14_000)),
    "no spaces at all": lambda: "x" * 50_000,
    "CJK": lambda: "漢字" * 20_000,
    "one long word among spaces": lambda: "a " * 3000 + "b" * 20_000 + " c" * 3000,
}


@pytest.mark.parametrize("make", LONG_SENTENCES.values(), ids=LONG_SENTENCES.keys())
def test_an_over_long_sentence_is_cut_into_overlapping_pieces_within_the_budget(make) -> None:  # type: ignore[no-untyped-def]
    long = make()
    doc = make_document("x.txt", f"Alice opened the shop. {long}. Bob found the key.")
    words = lambda text: len(text.split()) + len(text) // 4 + 2  # noqa: E731 - a model counter that charges length
    passages = make_passages([doc], max_tokens=128, overlap=1, model_max_tokens=256, count_model_tokens=words)
    long_id = next(s.index for s in doc.sentences if len(s.text) > 1000)
    pieces = [p for p in passages if p.sentence_ids == (long_id,)]
    assert len(pieces) > 1
    for piece in pieces:
        assert doc.text[piece.start : piece.end] == piece.text and piece.text.strip() == piece.text
        assert count_cl100k(piece.text) <= 128 and words(piece.text) <= 256
    sentence = doc.sentences[long_id]
    covered = sorted((p.start, p.end) for p in pieces)
    assert covered[0][0] == sentence.start and covered[-1][1] == sentence.end
    assert all(b[0] <= a[1] for a, b in zip(covered, covered[1:], strict=False))  # no gap between pieces
    assert {p.sentence_ids for p in passages} >= {(0,), (long_id,), (long_id + 1,)}


def test_model_limit_is_respected() -> None:
    doc = make_document("x.txt", " ".join(f"Sentence number {i} is here." for i in range(40)))
    passages = make_passages(
        [doc], max_tokens=10_000, overlap=0, model_max_tokens=30, count_model_tokens=lambda t: len(t.split()) + 2
    )
    assert len(passages) > 1
    for p in passages:
        assert sum(len(doc.sentences[i].text.split()) + 2 for i in p.sentence_ids) <= 30


def test_sentence_ids_continue_across_documents() -> None:
    a = make_document("a.txt", "One. Two. Three.")
    b = make_document("b.txt", "Four. Five.")
    passages = make_passages([a, b], max_tokens=1000, overlap=0)
    assert [(p.document, p.sentence_ids) for p in passages] == [("a.txt", (0, 1, 2)), ("b.txt", (3, 4))]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, -1)])
def test_bad_settings(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ConfigError):
        make_passages([make_document("a.txt", "One.")], max_tokens=max_tokens, overlap=overlap)
