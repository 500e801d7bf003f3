"""Resolve follow-up questions against the previous turn, offline and predictably.

Two rules, both visible to the user because the chat shows the rewritten
question:

- a question with a third-person pronoun and no name of its own takes the
  main entity of the previous question: "What did Trump say?" then "Did he
  mention casualties?" searches "Did Trump mention casualties?";
- an elliptical "And Rouhani?" / "What about Rouhani?" repeats the previous
  question with the new entity: "What did Rouhani say?".
"""

from __future__ import annotations

import re

from index.text import UPPER
from qa.questions.analysis import AnswerType, analyze

_PRONOUNS = {
    "he": "{e}",
    "she": "{e}",
    "him": "{e}",
    "his": "{e}'s",
    "her": "{e}'s",
    "they": "{e}",
    "them": "{e}",
    "their": "{e}'s",
}
_PRONOUN_RE = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b", re.IGNORECASE)
_ELLIPSIS_RE = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(.+?)\s*\??\s*$", re.IGNORECASE)
_NAME_RE = re.compile(rf"\b[{UPPER}][\w’'-]*(?:\s+[{UPPER}][\w’'-]*)*")
_QUESTION_WORDS = frozenset(
    "What Who Whom Whose When Where Why How Which Did Does Do Is Are Was Were Has Have Had Can Could Will Would "
    "And The A An In On At To Of For".split()
)


def main_entity(question: str) -> str | None:
    """The entity a question is about: its speaker, else its first capitalised name."""
    speaker = analyze(question).speaker
    if speaker:
        start = question.lower().find(speaker)
        return question[start : start + len(speaker)] if start >= 0 else speaker
    names = _names(question)
    return names[0] if names else None


def _names(question: str) -> list[str]:
    """Capitalised names after the first word (which is capitalised anyway)."""
    first = re.match(r"\s*\S+", question)
    rest_start = first.end() if first else 0
    found = []
    for match in _NAME_RE.finditer(question, rest_start):
        words = [w for w in match.group(0).split() if w not in _QUESTION_WORDS]
        if words:
            found.append(" ".join(words))
    return found


def _has_own_name(question: str) -> bool:
    return bool(_names(question))


def resolve_followup(question: str, previous: str | None, previous_answer: str | None = None) -> str:
    """Rewrite ``question`` using the previous (already resolved) question, if it needs it.

    Args:
        question: The new question as typed.
        previous: The previous question as it was searched.
        previous_answer: The previous short answer; when the previous question
            asked "who", the person it named is what "he" or "she" refers to.

    Returns:
        The question unchanged when it stands on its own or there is no
        previous question, else the rewritten question.
    """
    if not previous:
        return question
    entity = main_entity(previous)
    if previous_answer and analyze(previous).type is AnswerType.PERSON and len(previous_answer.split()) <= 5:
        entity = previous_answer
    if entity is None:
        return question
    entity = re.sub(r"['’]s$", "", entity)
    if entity.islower():
        entity = entity.title()
    ellipsis = _ELLIPSIS_RE.match(question)
    if ellipsis and len(ellipsis.group(1).split()) <= 4:
        new_entity = ellipsis.group(1)
        return re.sub(re.escape(entity), new_entity, previous, count=1, flags=re.IGNORECASE)
    if _has_own_name(question) or not _PRONOUN_RE.search(question):
        return question
    return _PRONOUN_RE.sub(lambda m: _PRONOUNS[m.group(1).lower()].format(e=entity), question, count=1)
