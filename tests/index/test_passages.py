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
        assert (p.start, p.end) == (first.start, last.end)
        assert list(p.sentence_ids) == list(range(p.sentence_ids[0], p.sentence_ids[-1] + 1))
        if len(p.sentence_ids) > 1:  # a single over-long sentence may exceed the budget
            assert sum(count_cl100k(doc.sentences[i].text) for i in p.sentence_ids) <= max_tokens
        seen.update(p.sentence_ids)
    assert seen == set(range(len(doc.sentences)))  # every sentence is retrievable


def test_overlap_shares_sentences() -> None:
    doc = load_document(SEED)
    passages = make_passages([doc], max_tokens=60, overlap=1)
    for a, b in zip(passages, passages[1:], strict=False):
        if len(a.sentence_ids) > 1:
            assert a.sentence_ids[-1] in b.sentence_ids


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
