from __future__ import annotations

import dataclasses

import pytest

from qa.result import Answer, Citation, Span


def test_answer_round_trips_through_dict() -> None:
    citation = Citation(document="/tmp/a.txt", sentence="Qom is a city.", start=10, end=24)
    answer = Answer(question="Where?", text="Qom", citations=(citation,), confidence=0.9, offset=Span(10, 13))
    data = answer.to_dict()
    assert data["answer"] == "Qom" and data["citations"] == [
        {"document": "/tmp/a.txt", "sentence": "Qom is a city.", "start": 10, "end": 24, "page": None}
    ]
    assert Answer.from_dict(data) == answer
    assert answer.citation == citation and not answer.abstained
    on_a_page = dataclasses.replace(answer, citations=(dataclasses.replace(citation, page=3),))
    assert on_a_page.to_dict()["citations"][0]["page"] == 3 and Answer.from_dict(on_a_page.to_dict()) == on_a_page


def test_abstention_has_no_citation() -> None:
    answer = Answer(question="Who?", text=None, citations=(), confidence=0.1)
    assert answer.citation is None and answer.abstained
    assert answer.to_dict()["citations"] == [] and answer.to_dict()["answer"] is None
    assert answer.to_dict()["closest"] is None


def test_an_abstention_keeps_its_closest_sentence_apart_from_citations() -> None:
    near = Citation(document="/tmp/a.txt", sentence="Qom is a city.", start=10, end=24, page=2)
    answer = Answer(question="Who?", text=None, citations=(), confidence=0.1, closest=near)
    data = answer.to_dict()
    assert data["answer"] is None and data["citations"] == []  # scoring sees an abstention
    assert data["closest"] == {
        "document": "/tmp/a.txt",
        "sentence": "Qom is a city.",
        "start": 10,
        "end": 24,
        "page": 2,
    }
    assert Answer.from_dict(data) == answer and answer.citation is None


def test_results_are_frozen() -> None:
    answer = Answer(question="q", text=None, citations=(), confidence=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.text = "x"  # type: ignore[misc]
