"""Question analysis: what kind of answer is wanted, about whom, with which terms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from index.text import terms
from qa.errors import EmptyQuestionError, QuestionError, QuestionTooLongError


class AnswerType(StrEnum):
    """The kind of span a question asks for."""

    PERSON = "person"
    PLACE = "place"
    DATE = "date"
    NUMBER = "number"
    QUOTE = "quote"
    REASON = "reason"
    DESCRIPTION = "description"


@dataclass(frozen=True)
class Question:
    """An analysed question.

    Attributes:
        text: The question as asked.
        type: The expected answer type.
        speaker: For "what did X say" questions, X in lower case.
        terms: Content terms (stemmed, no stopwords) of the question.
        speaker_terms: Content terms of the speaker.
        focus: For "how many X" questions, the stem of X (what is counted); for "which X"
            questions, the stem of X's last word (what is named).
        yes_no: The question opens with an auxiliary verb ("Were there any casualties?"):
            its answer is a whole statement, not a phrase.
        wants_modifier: "What kind of X": the answer is the word(s) that qualify X
            ("*ballistic* missiles"); ``focus`` is then X.
        asks_wording: A naming verb ("How did X describe Y?", "What does Iran call
            Israel?"): the answer is usually the words quoted.
        about_headline: The question asks about the headline ("What does the headline say
            about ...?", "the title of the article"): the answer is in a document's first line.
            Those words are then not among ``terms``, as the headline does not contain them.
    """

    text: str
    type: AnswerType
    speaker: str | None
    terms: tuple[str, ...]
    speaker_terms: tuple[str, ...]
    focus: str | None = None
    yes_no: bool = False
    wants_modifier: bool = False
    asks_wording: bool = False
    about_headline: bool = False


_YES_NO = re.compile(
    r"^(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must)\b"
)
_NAMING_VERB = re.compile(r"\b(?:describ|call|chant|judg|characteri[sz]|term|label|dub|refer|nicknam|shout)\w*")
_KIND_OF = re.compile(r"\b(?:what|which) (?:type|kind|sort|form|class) of ([a-z][\w-]*)")
_REPORTING = (
    r"(?:say|said|tell|told|claim|claimed|warn|warned|announce|announced|state|stated|declare|add|added|mention)"
)
_QUOTE_PATTERNS = (
    # Not "what is/was ...": "What is the state average growth rate?" has no speaker.
    re.compile(rf"\bwhat (?:did|does|do|has|had|have|will|would) (.+?) (?:\w+ )?{_REPORTING}\b"),
    re.compile(r"\bwhat (?:was|is|were) (.+?)(?:'s|’s) (?:message|statement|warning|quote|comment|words?)\b"),
    re.compile(r"\bhow did (.+?) (?:respond|react|reply)\b"),
    re.compile(r"\b(?:quote|words) (?:of|from|by) (.+?)$"),
)
_AUX = r"(?:did|does|do|was|were|is|are|will|has|had|have)"
# "title" alone is too often someone's title ("What title did he hold?").
_HEADLINE = re.compile(r"\b(?:headlines?|headlined|title of (?:the|this) (?:article|story|report|piece))\b")
# "Which news agency did ...": the words before the auxiliary name the answer's kind; without
# one ("Which river runs ..."), the word after "which".
_WHICH = re.compile(
    rf"^(?:which|what) (?!kind\b|type\b|sort\b|{_AUX}\b)([a-z][\w-]*(?: [a-z][\w-]*){{0,2}}?) {_AUX}\b"
    r"|^which (?!kind\b|type\b|sort\b)([a-z][\w-]*)"
)


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


_TYPE_PATTERNS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        AnswerType.NUMBER,
        _pattern(
            r"\bhow (?:many|much|old|long|far|big|large|often)\b",
            r"\bwhat (?:number|percentage|percent|amount|proportion|share)\b",
            # "What is the population of Qom?": a measured quantity, though asked with "what"
            r"\b(?:what|which) (?:is|was|are|were) (?:the |its |their |his |her )?(?:[\w-]+ ){0,3}"
            r"(?:population|size|area|height|length|width|depth|weight|cost|price|budget|salary|age|distance|"
            r"speed|temperature|rate|total|sum)\b",
        ),
    ),
    (
        AnswerType.DATE,
        _pattern(
            r"^when\b",
            rf"\bwhen {_AUX}\b",
            r"\b(?:what|which) (?:day|date|year|month|time|decade|century)\b",
            r"^until when\b",
        ),
    ),
    (
        AnswerType.PLACE,
        _pattern(
            r"^where\b",
            rf"\bwhere {_AUX}\b",
            r"\b(?:what|which|in what|in which) (?:city|country|place|region|location|town|state|area|continent)\b",
        ),
    ),
    (
        AnswerType.PERSON,
        _pattern(
            r"^(?:who|whom|whose)\b",
            r"\b(?:to|by|with|from|for) whom\b",
            rf"\bwho {_AUX}\b",
            r"\b(?:which|what) (?:person|people|leader|official|president|man|woman|group|organi[sz]ation)\b",
        ),
    ),
    (
        AnswerType.REASON,
        _pattern(r"^why\b", rf"\bwhy {_AUX}\b", r"\bfor what reason\b", r"\bwhat (?:caused|led to)\b"),
    ),
)


def analyze(question: str) -> Question:
    """Analyse a question; works on lower case and without a question mark."""
    text = question.strip()
    lowered = re.sub(r"\s+", " ", text.lower()).rstrip(" ?.!")
    about_headline = bool(_HEADLINE.search(lowered))
    speaker = None
    for pattern in _QUOTE_PATTERNS:
        match = pattern.search(lowered)
        if match:
            # "What does the headline say?" asks what it says, not for someone's quote.
            speaker = None if _HEADLINE.search(match.group(0)) else match.group(1)
            break
    answer_type = AnswerType.DESCRIPTION
    if speaker is not None:
        # "what did X say about Y" asks for X's statement; "what did X say Y did" asks
        # for a description; both cite X's words, so QUOTE serves both.
        answer_type = AnswerType.QUOTE
    else:
        for kind, pattern in _TYPE_PATTERNS:
            if pattern.search(lowered):
                answer_type = kind
                break
    speaker_terms = tuple(terms(speaker)) if speaker else ()
    focus = None
    counted = re.search(r"\bhow many ([a-z][\w-]*)", lowered)
    if counted and (found := terms(counted.group(1))):
        focus = found[0]
    kind_of = _KIND_OF.search(lowered)
    if answer_type is AnswerType.DESCRIPTION and kind_of and (found := terms(kind_of.group(1))):
        focus = found[-1]
    named = None if kind_of else _WHICH.match(lowered)
    if answer_type is AnswerType.DESCRIPTION and named and (found := terms(named.group(1) or named.group(2))):
        focus = found[-1]
    return Question(
        text=text,
        type=answer_type,
        speaker=speaker,
        terms=tuple(dict.fromkeys(terms(_HEADLINE.sub(" ", text.lower()) if about_headline else text))),
        speaker_terms=speaker_terms,
        focus=focus,
        yes_no=bool(_YES_NO.match(lowered)),
        wants_modifier=answer_type is AnswerType.DESCRIPTION and kind_of is not None and focus is not None,
        asks_wording=bool(_NAMING_VERB.search(lowered)),
        about_headline=about_headline,
    )


# Terminal escape sequences (colour, clear screen) go whole, not just their ESC byte.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# Control characters (null bytes, bells) separate words; format characters
# (zero-width, bidi overrides, byte-order marks) sit inside words and go.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMATS = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def check_question(question: object, max_chars: int) -> str:
    """Return the question cleaned, or raise if it cannot be asked.

    Cleaning: Unicode NFC (a letter and its combining accent become one
    character, as in most documents), terminal escape sequences, control and
    bidi-format characters removed, whitespace collapsed. Input over four times the limit is refused
    before any cleaning, so a huge paste costs nothing.

    Raises:
        EmptyQuestionError: Not a string, or nothing left after cleaning.
        QuestionTooLongError: Longer than ``max_chars``.
    """
    if question is None:
        raise EmptyQuestionError("the question is empty; type a question about the document")
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text (str), not {type(question).__name__}; pass a string")
    # Lone surrogates (undecodable bytes from argv, "\ud800" from JSON) cannot be tokenised:
    # each becomes U+FFFD, and the rest of the question is answered.
    question = question.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if len(question) > max_chars * 4:
        raise QuestionTooLongError(
            f"the question has {len(question)} characters, the limit is {max_chars}; ask something shorter"
        )
    cleaned = _FORMATS.sub("", _CONTROLS.sub(" ", _ESCAPES.sub("", unicodedata.normalize("NFC", question))))
    question = " ".join(cleaned.split())
    if not question:
        raise EmptyQuestionError("the question is empty; type a question about the document")
    if len(question) > max_chars:
        raise QuestionTooLongError(
            f"the question has {len(question)} characters, the limit is {max_chars}; ask something shorter"
        )
    return question
