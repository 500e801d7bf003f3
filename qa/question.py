"""Question analysis: what kind of answer is wanted, about whom, with which terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from qa.text import terms


class AnswerType(str, Enum):
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
    """

    text: str
    type: AnswerType
    speaker: str | None
    terms: tuple[str, ...]
    speaker_terms: tuple[str, ...]


_REPORTING = r"(?:say|said|tell|told|claim|claimed|warn|warned|announce|announced|state|stated|declare|add|added|mention)"
_QUOTE_PATTERNS = (
    re.compile(rf"\bwhat (?:did|does|do|has|had|have|was|is|will|would) (.+?) (?:\w+ )?{_REPORTING}\b"),
    re.compile(rf"\bwhat (?:was|is|were) (.+?)(?:'s|’s) (?:message|statement|warning|quote|comment|words?)\b"),
    re.compile(r"\bhow did (.+?) (?:respond|react|reply)\b"),
    re.compile(rf"\b(?:quote|words) (?:of|from|by) (.+?)$"),
)
_TYPE_PATTERNS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.NUMBER, re.compile(r"\bhow (?:many|much)\b|\bwhat (?:number|percentage|amount)\b")),
    (AnswerType.DATE, re.compile(r"^when\b|\bwhen (?:did|does|do|was|were|is|will)\b|\b(?:what|which) (?:day|date|year|month|time)\b|^until when\b")),
    (AnswerType.PLACE, re.compile(r"^where\b|\bwhere (?:did|does|do|was|were|is|are)\b|\b(?:what|which) (?:city|country|place|region|location|town|state|area)\b")),
    (AnswerType.PERSON, re.compile(r"^(?:who|whom|whose)\b|\b(?:to|by|with|from) whom\b|\bwho (?:is|was|did|were)\b|\b(?:which|what) (?:person|leader|official|president|man|woman)\b")),
    (AnswerType.REASON, re.compile(r"^why\b|\bwhy (?:did|does|do|was|were|is)\b|\bfor what reason\b|\bwhat (?:caused|led to)\b")),
)


def analyze(question: str) -> Question:
    """Analyse a question; works on lower case and without a question mark."""
    text = question.strip()
    lowered = re.sub(r"\s+", " ", text.lower()).rstrip(" ?.!")
    speaker = None
    for pattern in _QUOTE_PATTERNS:
        match = pattern.search(lowered)
        if match:
            speaker = match.group(1)
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
    return Question(
        text=text,
        type=answer_type,
        speaker=speaker,
        terms=tuple(dict.fromkeys(terms(text))),
        speaker_terms=speaker_terms,
    )
