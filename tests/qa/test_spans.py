from __future__ import annotations

import pytest

from qa import spans
from qa.text import terms

S_ROUHANI = (
    '"You cut Soleimani\'s hand from his body, your foot will be cut from the region," he told the '
    "semi-official Fars news agency after a Cabinet meeting."
)


def pick(text: str, found: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in found]


def test_quotes_straight_curly_and_open_ended() -> None:
    assert pick(S_ROUHANI, spans.quotes(S_ROUHANI)) == [
        "You cut Soleimani's hand from his body, your foot will be cut from the region"
    ]
    curly = "“Military operations do not suffice."
    assert pick(curly, spans.quotes(curly)) == ["Military operations do not suffice."]
    continued = 'What is important is this," Khamenei said.'
    assert pick(continued, spans.quotes(continued)) == ["What is important is this"]
    two = 'chants of "Death to America" and "Death to Israel."'
    assert pick(two, spans.quotes(two)) == ["Death to America", "Death to Israel."]


def test_pronoun_attribution_outside_quotes_only() -> None:
    assert spans.has_pronoun_attribution(S_ROUHANI)
    assert not spans.has_pronoun_attribution('"Then he said nothing," Trump added.')


def test_names_skip_sentence_openers() -> None:
    text = "Speaking before a large crowd in the holy city of Qom, Khamenei gave a tribute to Gen. Qassem Soleimani."
    assert pick(text, spans.names(text)) == ["Qom", "Khamenei", "Gen. Qassem Soleimani"]
    assert pick("Khamenei spoke.", spans.names("Khamenei spoke.", {"Khamenei"})) == ["Khamenei"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Iran fired more than a dozen ballistic missiles at two Iraqi air bases.", ["more than a dozen", "two"]),
        ("It cost $1,200 in 2019, up 40%.", ["$1,200", "40%"]),
        ("There were no casualties.", []),
        # units of measure stay with the quantity; counted nouns do not
        (
            "They raised the floor by 1.5 metres across 3,000 square miles and 12 km of road.",
            ["1.5 metres", "3,000 square miles", "12 km"],
        ),
    ],
)
def test_numbers(text: str, expected: list[str]) -> None:
    assert pick(text, spans.numbers(text)) == expected


def test_dates_and_places() -> None:
    text = "Khamenei has ruled out talks on a 2015 nuclear deal, which Trump withdrew from in 2018."
    assert pick(text, spans.dates(text)) == ["2015", "2018"]
    text = "In a White House address Wednesday, Trump said no Americans were harmed."
    assert pick(text, spans.places(text)) == ["White House"]
    assert "Wednesday" in pick(text, spans.dates(text))
    text = "The repair café is held on the first Sunday of every month, and on Monday."
    assert pick(text, spans.dates(text)) == ["the first Sunday of every month", "Monday"]
    text = "Work will begin next spring, or in the summer of 2027."
    assert pick(text, spans.dates(text)) == ["next spring", "the summer of 2027", "2027"]
    text = "he told the agency after a Cabinet meeting."
    assert pick(text, spans.dates(text)) == ["after a Cabinet meeting"]


def test_reported_clauses() -> None:
    text = "In a White House address Wednesday, Trump said no Americans were harmed in the attack."
    assert pick(text, spans.reported_clauses(text)) == ["no Americans were harmed in the attack"]
    text = "Rouhani joined Khamenei on Wednesday, warning the U.S. that Soleimani's death would lead to reprisals."
    assert pick(text, spans.reported_clauses(text)) == ["Soleimani's death would lead to reprisals"]
    assert spans.reported_clauses('"We won," he said.') == []


def test_places_drop_the_sentence_full_stop_but_keep_abbreviations() -> None:
    text = "The talks were held in the city of Zanjanabad."
    assert pick(text, spans.places(text)) == ["Zanjanabad"]
    text = "They met in St. Louis."
    assert pick(text, spans.places(text)) == ["St. Louis"]


def test_phrases_are_runs_of_new_words_cut_at_question_words_and_punctuation() -> None:
    text = "Upper and lower bounds are usually stated using the big O notation, which hides constant factors."
    question = set(terms("What expression is used to convey upper or lower bounds?"))
    found = [text[s:e] for s, e in spans.phrases(text, question)]
    assert "Upper and lower" not in found  # the question's own words
    assert "usually stated using the big O notation" in found  # stopwords trimmed from the edges
    assert "hides constant factors" in found
    assert all(text[s:e] == text[s:e].strip() for s, e in spans.phrases(text, set()))
    accented = "The café in Mérida serves crème brûlée."
    assert [accented[s:e] for s, e in spans.phrases(accented, set(terms("What does it serve?")))] == [
        "café in Mérida",
        "crème brûlée",
    ]


def test_named_as_takes_what_a_question_term_is_called() -> None:
    text = 'Iran refers to Israel as the Zionist state and describes its allies as a "resistance front."'
    assert pick(text, spans.named_as(text, terms("What does Iran call Israel?"))) == ["the Zionist state"]
    assert spans.named_as("He worked as a teacher.", terms("What does Iran call Israel?")) == []
