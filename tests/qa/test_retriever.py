from __future__ import annotations

import pytest

from index.documents import make_document
from index.stores.local import PassageSettings, build_index
from qa.errors import ConfigError
from qa.retriever import HybridRetriever
from tests.conftest import HashEmbedder

TEXT = (
    "The river Zubrowka floods every spring. Farmers plant rice near its banks.\n\n"
    "The capital hosts a glass museum. Tourists visit the museum in summer.\n\n"
    "Local bakers sell honey bread. The bread festival is in October."
)


@pytest.fixture
def retriever(hash_embedder: HashEmbedder) -> HybridRetriever:
    index = build_index(
        [make_document("t.txt", TEXT)], hash_embedder, settings=PassageSettings(max_tokens=12, overlap=0)
    )
    return HybridRetriever(index, hash_embedder, top_k=2)


def test_rare_word_is_found_by_bm25(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("Zubrowka")
    assert "Zubrowka" in result.passages[0].passage.text
    assert result.passages[0].lexical > 0


def test_results_are_fused_and_bounded(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("When is the bread festival?")
    assert len(result.passages) == 2
    assert "festival" in result.passages[0].passage.text
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)


def test_question_of_stopwords_only_still_retrieves(retriever: HybridRetriever) -> None:
    assert len(retriever.retrieve("what is it?").passages) == 2


@pytest.mark.parametrize(("top_k", "candidates"), [(0, 50), (10, 5)])
def test_bad_depth(hash_embedder: HashEmbedder, top_k: int, candidates: int) -> None:
    index = build_index([make_document("t.txt", TEXT)], hash_embedder)
    with pytest.raises(ConfigError):
        HybridRetriever(index, hash_embedder, top_k=top_k, candidates=candidates)


def test_rerank_lifts_the_passage_that_holds_the_questions_rare_words() -> None:
    from qa.retriever import COVER_WEIGHT, rerank

    fused = [("generic", 0.030), ("specific", 0.029), ("none", 0.031)]
    texts = {
        "generic": "The player was old and he won the match.",
        "specific": "Soleimani was 62 years old.",
        "none": "Rain fell on the harbour all week.",
    }
    ranked = rerank("How old was Soleimani?", fused, texts, 3)
    assert [key for key, _ in ranked] == ["specific", "generic", "none"]
    assert ranked[0][1] == pytest.approx(0.029 + COVER_WEIGHT)  # every question word is there
    assert rerank("How old was Soleimani?", fused, texts, 1) == ranked[:1]
    # A question of stopwords alone weighs every passage alike: the fused order stands.
    assert [k for k, _ in rerank("what is the", fused, texts, 3)] == ["none", "generic", "specific"]
