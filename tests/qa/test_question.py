from __future__ import annotations

import pytest

from qa.errors import EmptyQuestionError, QuestionTooLongError
from qa.questions.analysis import AnswerType, analyze, check_question


@pytest.mark.parametrize(
    ("question", "kind", "speaker"),
    [
        ("What did Rouhani say?", AnswerType.QUOTE, "rouhani"),
        ("what did rouhani say", AnswerType.QUOTE, "rouhani"),
        ("What did Trump claim Iran appears to be doing?", AnswerType.QUOTE, "trump"),
        ("What was Khamenei's message?", AnswerType.QUOTE, "khamenei"),
        ("Who is Iran's supreme leader?", AnswerType.PERSON, None),
        ("To whom did Rouhani speak?", AnswerType.PERSON, None),
        ("Where did Khamenei speak", AnswerType.PLACE, None),
        ("In which city did he speak?", AnswerType.PLACE, None),
        ("When did Trump withdraw from the deal?", AnswerType.DATE, None),
        ("What year was the deal made?", AnswerType.DATE, None),
        ("How many missiles did Iran fire?", AnswerType.NUMBER, None),
        ("how old is he", AnswerType.NUMBER, None),
        ("What is the population of Qom?", AnswerType.NUMBER, None),  # a measured quantity asked with "what"
        ("What is the state average growth rate?", AnswerType.NUMBER, None),  # "state" the noun, no speaker
        ("Why did Iran attack?", AnswerType.REASON, None),
        ("What effect have the sanctions had?", AnswerType.DESCRIPTION, None),
    ],
)
def test_answer_type_and_speaker(question: str, kind: AnswerType, speaker: str | None) -> None:
    q = analyze(question)
    assert (q.type, q.speaker) == (kind, speaker)


def test_terms_skip_question_words_and_stem() -> None:
    assert analyze("How many missiles did Iran fire?").terms == ("missil", "iran", "fir")


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", None])
def test_empty_question(bad: object) -> None:
    with pytest.raises(EmptyQuestionError, match="empty"):
        check_question(bad, 100)


def test_long_question() -> None:
    with pytest.raises(QuestionTooLongError, match="101 characters, the limit is 100"):
        check_question("x" * 101, 100)
    assert check_question("  ok?  ", 100) == "ok?"


@pytest.mark.parametrize(
    ("question", "yes_no", "focus", "wants_modifier"),
    [
        ("Were there any casualties?", True, None, False),
        ("has khamenei ruled out talks", True, None, False),
        ("Which news agency did Rouhani talk to?", False, "agency", False),
        ("Which river runs past the flood wall?", False, "riv", False),
        ("What kind of missiles were fired?", False, "missil", True),
        ("Downtown Burbank is an example of what kind of district?", False, "district", True),
        ("What did the crowd chant?", False, None, False),
        ("What does Priya Nair do for a living?", False, None, False),  # "what does": no "which X"
    ],
)
def test_yes_no_which_and_kind_of_questions(
    question: str, yes_no: bool, focus: str | None, wants_modifier: bool
) -> None:
    q = analyze(question)
    assert (q.yes_no, q.focus, q.wants_modifier) == (yes_no, focus, wants_modifier)


def test_headline_questions() -> None:
    q = analyze("What does the headline say about the missile strikes?")
    assert q.about_headline and q.type is AnswerType.DESCRIPTION and q.speaker is None
    assert q.terms == ("missil", "strik")  # the headline does not contain the word "headline"
    assert not analyze("What title did Khamenei hold?").about_headline
