"""The judge's signals, its stored form, and how the assistant uses it (ranking, reading deeper)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import pytest

from index.documents import Sentence, make_document
from index.passages import Passage
from qa.assistant import Assistant
from qa.config import Settings
from qa.questions.weights import rarity
from qa.readers.base import Candidate, Reading
from qa.readers.judge import FEATURES, SIGNALS, CandidateView, Judge, features, wants_number
from tests.conftest import HashEmbedder


def view(answer: str, text: str, *, document: str = "a.txt", margin: float = 3.0, rank: int = 1) -> CandidateView:
    return CandidateView(
        document=document,
        document_key=f"{document}\0{hash(text)}",
        document_text=text,
        passage_text=text,
        answer=answer,
        margin=margin,
        dense=0.5,
        rank=rank,
    )


TENNIS = "The 26-year-old tennis player won in three sets. He thanked the crowd in Melbourne."


def test_rare_words_weigh_more_than_common_ones() -> None:
    assert rarity("soleimani") > rarity("tennis") > rarity("the")
    assert rarity("zzqxj") == pytest.approx(7.0)


def test_a_document_that_never_names_the_questions_rare_word_scores_it_missing() -> None:
    (outside,) = features("How old was Soleimani?", [view("26", TENNIS)])
    (inside,) = features("How old was the tennis player?", [view("26", TENNIS)])
    assert outside["missing_rare"] > 0.6 and inside["missing_rare"] == 0.0
    assert outside["document_cover"] < 0.5 < inside["document_cover"] == 1.0


def test_a_number_question_with_no_number_in_the_answer_is_a_type_mismatch() -> None:
    assert wants_number("How many missiles did Iran fire?") and not wants_number("Who cut the ribbon?")
    rows = features("How many sets did he win?", [view("three sets", TENNIS), view("the crowd", TENNIS)])
    assert [r["type_mismatch"] for r in rows] == [0.0, 1.0]


def test_the_answers_own_sentence_is_measured_apart_from_its_passage() -> None:
    first, second = TENNIS.split(". ")
    near = dataclasses.replace(view("three sets", TENNIS), sentence_text=first + ".")
    far = dataclasses.replace(view("the crowd", TENNIS), sentence_text=second)
    # "Melbourne" is in the passage, but only the second sentence holds it.
    rows = features("How many sets were won by the tennis player in Melbourne?", [near, far])
    assert [r["passage_missing"] for r in rows] == [0.0, 0.0]
    assert rows[0]["sentence_missing"] > 0.3 and rows[1]["sentence_missing"] > 0.3
    assert rows[0]["sentence_cover"] > rows[1]["sentence_cover"] and rows[0]["passage_cover"] == 1.0
    (whole,) = features("Who thanked the crowd?", [view("He", TENNIS)])  # no sentence known: the passage stands in
    assert whole["sentence_cover"] == whole["passage_cover"] == 1.0


def test_a_who_question_answered_without_a_name_and_an_answer_echoing_the_question() -> None:
    rows = features("Who thanked the crowd?", [view("He", TENNIS), view("the crowd", TENNIS)])
    assert [r["name_mismatch"] for r in rows] == [0.0, 1.0]
    assert [r["echo"] for r in rows] == [0.0, 1.0]
    (where,) = features("Where did he thank the crowd?", [view("Melbourne", TENNIS)])
    assert where["name_mismatch"] == 0.0 and where["echo"] == 0.0


def test_other_gap_compares_with_the_best_candidate_of_another_document() -> None:
    rows = features(
        "Who won?",
        [
            view("He", TENNIS, margin=5.0),
            view("crowd", TENNIS, margin=1.0, rank=2),
            view("She", "She won the final.", document="b.txt", margin=2.0, rank=3),
        ],
    )
    assert [r["other_gap"] for r in rows] == [3.0, -1.0, -3.0]
    (alone,) = features("Who won?", [view("He", TENNIS)])
    assert alone["other_gap"] == 10.0  # no other document read: the ceiling


def test_the_number_of_documents_searched_scales_the_x_signals() -> None:
    (one,) = features("Who won?", [view("He", TENNIS)], documents=1)
    (many,) = features("Who won?", [view("He", TENNIS)], documents=10_000)
    assert one["scale"] == 0.0 and many["scale"] == pytest.approx(4.0)
    assert one["margin_x"] == 0.0 and many["margin_x"] == pytest.approx(4.0 * many["margin"])
    assert set(many) == set(SIGNALS)


def test_a_judge_round_trips_and_refuses_signals_it_does_not_know() -> None:
    judge = Judge(
        weights={"margin": 1.0, "missing_rare": -2.0},
        intercept=-0.5,
        mean={"margin": 0.0, "missing_rare": 0.0},
        scale={"margin": 2.0, "missing_rare": 1.0},
    )
    assert Judge.from_dict(judge.to_dict()) == judge
    row = {"margin": 4.0, "missing_rare": 0.5}
    assert judge(row) == pytest.approx(1 / (1 + math.exp(-(-0.5 + 2.0 - 1.0))))
    with pytest.raises(ValueError, match="unknown judge features"):
        Judge.from_dict({**judge.to_dict(), "features": ["margin", "shoe_size"]})


class ScriptedReader:
    """A reader whose spans are fixed per passage (the test is of the assistant, not of a model)."""

    name = "scripted"

    def __init__(self, margins: dict[str, float], threshold: float, judge: Judge | None) -> None:
        self.margins = margins
        self.threshold = threshold
        self.judge = judge
        self.read_passages: list[list[str]] = []

    def read(self, question: str, passages: Sequence[Passage], sentences: Sequence[Sentence]) -> Reading:
        self.read_passages.append([p.document for p in passages])
        found = [
            Candidate(p, p.start, p.start + 4, self.margins.get(p.document, -5.0), 0.0, 0.5)
            for p in passages
            if p.document in self.margins
        ]
        return Reading(tuple(sorted(found, key=lambda c: -c.margin)))


def linear(**weights: float) -> Judge:
    """A judge of plain weights on unstandardised signals, no intercept."""
    return Judge(weights=weights, intercept=0.0, mean=dict.fromkeys(weights, 0.0), scale=dict.fromkeys(weights, 1.0))


MARGIN_ONLY = linear(margin=1.0)


def assistant(
    margins: dict[str, float], judge: Judge | None, read_deeper: int = 10
) -> tuple[Assistant, ScriptedReader]:
    documents = [make_document(f"d{i}.txt", f"Report {i} about the harbour and its cranes.") for i in range(12)]
    reader = ScriptedReader(margins, threshold=0.5, judge=judge)
    settings = Settings(top_k=3, read_deeper=read_deeper, abstain_below=None)
    return Assistant.from_documents(documents, embedder=HashEmbedder(), reader=reader, settings=settings), reader


def test_it_reads_deeper_only_when_the_first_passages_give_nothing_above_the_threshold() -> None:
    strong, reader = assistant({f"d{i}.txt": 4.0 for i in range(12)}, MARGIN_ONLY)
    assert not strong.answer("Which harbour?").abstained
    assert len(reader.read_passages) == 1 and len(reader.read_passages[0]) == 3

    weak, reader = assistant({f"d{i}.txt": -3.0 for i in range(12)}, MARGIN_ONLY)
    answer = weak.answer("Which harbour?")
    assert answer.abstained  # nothing anywhere
    assert [len(p) for p in reader.read_passages] == [3, 7]  # then the next seven, not the first three again
    assert not set(reader.read_passages[0]) & set(reader.read_passages[1])


def test_a_deeper_passage_that_answers_is_taken() -> None:
    probe, _ = assistant({}, MARGIN_ONLY)
    ranked = [p.passage.document for p in probe.retriever.retrieve("Which harbour?").passages]
    deep = ranked[7]  # a passage past the first three
    helped, reader = assistant({deep: 4.0}, MARGIN_ONLY)
    answer = helped.answer("Which harbour?")
    assert answer.citation is not None and answer.citation.document == deep
    assert answer.confidence == pytest.approx(1 / (1 + math.exp(-4.0)))


def test_without_a_judge_or_with_read_deeper_0_it_reads_the_first_passages_only() -> None:
    for judge, depth in ((None, 10), (MARGIN_ONLY, 0)):
        weak, reader = assistant({f"d{i}.txt": -3.0 for i in range(12)}, judge, depth)
        weak.answer("Which harbour?")
        assert [len(p) for p in reader.read_passages] == [3]


def test_every_shipped_feature_is_a_known_signal() -> None:
    assert set(FEATURES) <= set(SIGNALS)


class Counting:
    """An embedder that counts its calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Any:
        self.calls += 1
        return self.inner.encode(texts, show_progress=show_progress)


def test_the_sentence_similarity_is_embedded_only_when_the_judge_uses_it_and_for_its_leader() -> None:
    uses = linear(margin=1.0, sentence_dense=1.0)
    margins = {f"d{i}.txt": 4.0 - i / 10 for i in range(12)}  # d0 leads on the margin
    for judge, expected in ((MARGIN_ONLY, False), (uses, True)):
        helper, _ = assistant(margins, judge)
        question = "Which harbour?"
        retrieval = helper.retriever.retrieve(question)
        reading = helper.read(question, retrieval)
        counting = Counting(helper.embedder)
        helper.embedder = counting
        judged = {c.passage.document: row for c, row in helper.judged(question, retrieval, reading)}
        assert counting.calls == (1 if expected else 0)  # one sentence, the leader's, or none
        every = {c.passage.document: row for c, row in helper.judged(question, retrieval, reading, every_signal=True)}
        for document, row in every.items():
            sentence = retrieval.corpus.document(document).text  # one sentence per document
            assert row["sentence_dense"] == pytest.approx(
                float(counting.inner.encode([sentence])[0] @ retrieval.vector)
            )
        leader = min(judged, key=lambda d: int(d[1:-4]))  # the first on every other signal
        measured = {d for d, row in judged.items() if row["sentence_dense"] != 0.0}
        assert measured == ({leader} if expected else set())
        if expected:
            assert judged[leader]["sentence_dense"] == every[leader]["sentence_dense"]
