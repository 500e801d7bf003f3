"""The dependency-parse gap filler, with the real spaCy English model."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from qa import syntax
from qa.assistant import Assistant
from qa.reader import SentenceReader
from tests.conftest import ROOT, assistant_over


@pytest.fixture(scope="module")
def parser() -> syntax.Parser:
    loaded = syntax.load_parser()
    assert loaded is not None, "the spaCy English model ships with the project's dependencies"
    return loaded


def fill(parser: syntax.Parser, question: str, sentence: str) -> str | None:
    gap = parser.gap(question)
    assert gap is not None, question
    found = parser.answer(gap, sentence)
    return None if found is None else sentence[found[0] : found[1]]


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # the object of a preposition, stranded at the end of the question or fronted
        (
            "Whom did Soleimani stand against in Gaza?",
            'He said Soleimani went to the Gaza Strip to "stand against the Zionists."',
            "the Zionists",
        ),
        (
            "According to whom did Iran fire the missiles?",
            "Iran fired a dozen missiles at two air bases overnight, according to U.S. officials.",
            "U.S. officials",
        ),
        (
            "What did the firm repair the bridge with?",
            "A local firm repaired the bridge with steel.",
            "steel",
        ),
        # a preamble before the wh-word is not part of the question's structure
        (
            "According to Rouhani, what would the general's death lead to?",
            "Rouhani warned that the general's death would lead to reprisals.",
            "reprisals",
        ),
        # the subject of an active verb, and of a passive one (its "with"/"by" phrase)
        ("Who repaired the bridge?", "A local firm repaired the bridge in two years.", "A local firm"),
        (
            "Who paid for most of the repairs?",
            "The repairs cost $4.2 million, most of it paid by a state disaster fund.",
            "a state disaster fund",
        ),
        (
            "What interrupted the speech?",
            "Khamenei gave a tribute in a speech that was interrupted with chants of protest.",
            "chants of protest",
        ),
        # the object of a verb matched by its lemma ("withdrew" for "withdraw")
        (
            "What did the army withdraw from the city?",
            "The army withdrew its heavy guns from the city on Friday.",
            "its heavy guns",
        ),
        # the other side of "is": an apposition, or the subject of a copular verb
        (
            "Who is Iran's supreme leader?",
            "Iran's supreme leader, Ayatollah Ali Khamenei, said Wednesday that the strikes were a slap in the face.",
            "Ayatollah Ali Khamenei",
        ),
        (
            "What is the country's ultimate goal?",
            "Ending U.S. influence remained the country's ultimate goal, he said.",
            "Ending U.S. influence",
        ),
        # "what X": when the role finds nothing, a noun phrase headed by X
        (
            "What theorems are responsible for the limits?",
            "The limits follow from the time and space hierarchy theorems.",
            "the time and space hierarchy theorems",
        ),
        # what someone does for a living: the title before their name, not what they said
        (
            "What does Priya Nair do for a living?",
            "Local shop owner Priya Nair said the council should have spent the money on the wall.",
            "Local shop owner",
        ),
        # what someone does, up to a comma-separated clause
        (
            "What has the U.S. done since leaving the deal?",
            "The U.S. has since imposed tough new sanctions, driving down Iran's oil exports.",
            "imposed tough new sanctions",
        ),
    ],
)
def test_fills_the_gap(parser: syntax.Parser, question: str, sentence: str, expected: str) -> None:
    assert fill(parser, question, sentence) == expected


def test_when_questions_get_the_asked_verbs_phrase(parser: syntax.Parser) -> None:
    sentence = "He ruled out talks on a 2015 nuclear deal, which Trump withdrew from in 2018."
    region = fill(parser, "When did Trump withdraw from the nuclear deal?", sentence)
    assert region is not None and "2018" in region and "2015" not in region


def test_no_gap_or_no_filling(parser: syntax.Parser) -> None:
    assert parser.gap("Were there any casualties?") is None  # yes/no: nothing to fill
    assert parser.gap("Tell me about the bridge") is None
    # the sentence never has the question's verb: no answer rather than a guess
    assert fill(parser, "Who repaired the bridge?", "The bridge reopened on Monday.") is None
    # a pronoun is no answer to "who"
    assert fill(parser, "Who repaired the bridge?", "He repaired the bridge.") is None


def test_missing_model_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="qa.syntax"):
        assert syntax.load_parser("no_such_spacy_model") is None
    assert "no spaCy English model" in caplog.text


def test_loading_the_parser_leaves_torch_importable() -> None:
    # spaCy is imported with torch hidden (a faster cold start); torch must still work afterwards.
    code = (
        "import sys; from qa.syntax import load_parser; assert load_parser() is not None; "
        "assert 'torch' not in sys.modules; import torch; print(torch.ones(2).sum().item())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.0"


ARTICLE = (
    "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\n"
    "Engineer Dana Whitcombe said the new cables would last a century.\n\n"
    "A local firm from Carrow repaired the bridge with steel from Sweden.\n"
)


def test_reader_uses_the_parse_and_can_do_without() -> None:
    parsed = assistant_over(ARTICLE)
    plain = assistant_over(ARTICLE, reader=SentenceReader(parser=None))
    question = "What did the firm repair the bridge with?"
    with_parse, without = parsed.answer(question), plain.answer(question)
    assert with_parse.text == "steel"  # the parse attaches "from Sweden" to "repaired"
    assert without.text != with_parse.text
    assert with_parse.citation == without.citation  # the parse picks the span, not the sentence


@pytest.mark.parametrize(
    ("sentence", "speakers"),
    [
        # the subject of the verb a reporting participle hangs from, not the one merely mentioned
        ("Rouhani joined Khamenei in striking a defiant tone, warning the U.S. of reprisals.", ["Rouhani"]),
        ('"What is important is this," Ayatollah Ali Khamenei said in the speech.', ["Ayatollah Ali Khamenei"]),
        ('"You cut his hand," he told the news agency.', ["he"]),
        ("The bridge reopened on Monday.", []),
    ],
)
def test_reporting_subjects(parser: syntax.Parser, sentence: str, speakers: list[str]) -> None:
    assert [sentence[s:e] for s, e in parser.speakers(sentence)] == speakers


def test_quotes_go_to_the_speaker_not_to_whoever_is_mentioned() -> None:
    text = (
        "Rouhani joined Khamenei in striking a defiant tone, warning the U.S. that the killing would lead to reprisals.\n\n"
        "Khamenei said the strikes were a slap in the face.\n"
    )
    answer = assistant_over(text).answer("What did Khamenei say?")
    assert answer.text == "the strikes were a slap in the face"
    plain = assistant_over(text, reader=SentenceReader(parser=None))
    assert plain.answer("What did Khamenei say?").text != answer.text  # word rules take the mention


def test_the_sentence_that_defines_x_answers_who_is_x() -> None:
    from qa.reader import ReaderWeights

    text = (
        "The city's mayor spoke about the city's mayor race and the mayor's budget on Monday.\n\n"
        "The city's mayor, Ana Ruiz, opened the bridge.\n"
    )
    question = "Who is the city's mayor?"
    answer = assistant_over(text).answer(question)
    assert answer.text == "Ana Ruiz"
    no_bonus = SentenceReader(weights=ReaderWeights(definition=0.0))
    other = assistant_over(text, reader=no_bonus).answer(question)
    assert other.citation is not None and other.citation.sentence.startswith("The city's mayor spoke")


SPEECH = (
    "In a White House address on Monday, Mayor Ruiz said the bridge was safe.\n\n"
    '"We found no cracks," she added. "Our engineers checked every cable twice."\n\n'
    'Ruiz also said the critics had "panicked" over nothing and promised to "keep the tolls low."\n'
)


@pytest.fixture(scope="module")
def speech() -> Assistant:
    return assistant_over(SPEECH)


def test_a_bare_quote_goes_on_with_the_last_speaker(speech: Assistant) -> None:
    # "she added" refers to the one speaking before (Ruiz), not to the first name there (White House);
    # the next sentence, a bare quote, is still hers.
    answer = speech.answer("What did Ruiz say about the engineers?")
    assert answer.text == "Our engineers checked every cable twice."
    assert answer.citation is not None and answer.citation.sentence.startswith('"Our engineers')
    assert len(answer.citations) == 2  # and the sentence that says who is speaking


def test_a_flagged_word_is_not_the_statement(speech: Assistant) -> None:
    answer = speech.answer("What did Ruiz also say?")
    assert answer.text == "keep the tolls low."  # the quote of three words or more, not "panicked"


def test_a_question_about_what_was_said_fills_its_gap(speech: Assistant) -> None:
    assert speech.answer("What did Ruiz say the critics had panicked over?").text == "nothing"
