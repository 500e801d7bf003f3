"""Reader specs: the default span reader against the whole-sentence baseline."""

from __future__ import annotations

import pytest

from qa.assistant import Assistant, make_reader
from qa.config import Settings
from qa.errors import ConfigError
from tests.conftest import assistant_over

TEXT = (
    "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\n"
    "Engineer Dana Whitcombe said the new cables would last a century.\n"
)


def test_sentence_only_answers_with_the_whole_cited_sentence() -> None:
    spans = assistant_over(TEXT, reader="sentence")
    whole = assistant_over(TEXT, reader="sentence-only")
    short, long = spans.answer("When did the bridge reopen?"), whole.answer("When did the bridge reopen?")
    assert short.text == "Monday" and short.reader == "sentence"
    assert long.citation is not None and long.text == long.citation.sentence and long.reader == "sentence-only"
    assert long.citation == short.citation and long.confidence == short.confidence  # same evidence, same abstention


def test_unknown_reader_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sentence-only"):
        make_reader("sentences", Settings())


ARTICLE = (
    "Iranian President Hassan Rouhani joined Khamenei in striking a defiant tone on Wednesday.\n\n"
    '"You cut his hand," he told the semi-official Fars news agency after a Cabinet meeting.\n\n'
    "Iran fired more than a dozen ballistic missiles at two air bases overnight.\n\n"
    'The crowd chanted "Death to America" during the speech.\n\n'
    "There are no reports of casualties so far.\n\n"
    "The United States will place new sanctions on Iran, Trump said.\n\n"
    'Iran usually refers to Israel as the Zionist state and calls its allies a "resistance front."\n'
)


@pytest.fixture(scope="module")
def article() -> Assistant:
    return assistant_over(ARTICLE)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What kind of missiles were fired?", "ballistic"),  # the word that qualifies the noun asked about
        ("What kind of tone did Rouhani strike?", "defiant"),
        ("Which news agency did Rouhani talk to?", "Fars"),  # the name beside the noun asked about
        ("What did the crowd chant?", "Death to America"),  # a naming verb: the quoted words
        ("What does Iran call Israel?", "the Zionist state"),  # ... or what X is referred to "as"
        ("What will the United States place on Iran?", "new sanctions"),  # the phrase beside the question's words
        ("Were there any casualties?", "There are no reports of casualties so far."),  # yes/no: the statement
        # yes/no: the clause that settles it, without the "Trump said" around it
        ("Will the United States place new sanctions on Iran?", "The United States will place new sanctions on Iran"),
    ],
)
def test_description_questions_get_short_answers(article: Assistant, question: str, expected: str) -> None:
    answer = article.answer(question)
    assert answer.text == expected
    assert answer.citation is not None and expected in answer.citation.sentence


def test_headline_questions_read_the_first_line() -> None:
    text = (
        "Mayor says bridge repairs came in under budget\n\n"
        "The mayor said on Monday that the bridge repairs cost less than the council had feared.\n"
    )
    assistant = assistant_over(text)
    answer = assistant.answer("What does the headline say about the bridge repairs?")
    assert answer.citation is not None and answer.citation.start == 0
    assert answer.text == "came in under budget"


def test_answers_that_restate_the_question_lose() -> None:
    text = 'The mayor called the plan "a new plan" at first and "a costly mistake" later.\n'
    assistant = assistant_over(text)
    # "a new plan" stands nearer the question's words but half of it is the question's own word
    assert assistant.answer("What did the mayor call the plan?").text == "a costly mistake"


def test_short_descriptions_can_be_switched_off() -> None:
    from qa.reader import SentenceReader

    whole = assistant_over(ARTICLE, reader=SentenceReader(short_descriptions=False))
    answer = whole.answer("What will the United States place on Iran?")
    assert answer.citation is not None and answer.text == answer.citation.sentence
