"""Who said it: the sentence that names the speaker of a quote attributed only with "he told".

A news quote is often split in two: "Iranian President Hassan Rouhani ... warning the U.S. ..."
then '"You cut Soleimani's hand ...," he told the Fars news agency.' The quote alone does not
say whose words they are, so a citation of it also cites the sentence before (which names
"he"), and, for a "what did X say" question answered from the naming sentence, the quote that
follows. The main citation (the one holding the answer) stays first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.documents import Sentence
from qa.questions.analysis import AnswerType, analyze

_REPORTING = r"(?:said|says|told|tells|added|adds|warned|warns|wrote|writes|declared|insisted|continued)"
# A quote whose speaker is only a pronoun: '..." he told ...' or 'He added: "..."'.
_PRONOUN_QUOTE = re.compile(
    rf"[\"”'’],?\s+(?:he|she|they)\s+{_REPORTING}\b|^(?:he|she|they)\s+{_REPORTING}\b[^\"“]*[\"“]",
    re.IGNORECASE,
)


def needs_speaker(sentence: Sentence) -> bool:
    """Whether the sentence is a quote attributed only with a pronoun."""
    return _PRONOUN_QUOTE.search(sentence.text) is not None


def context_sentences(question: str, cited: Sequence[Sentence], document: Sequence[Sentence]) -> list[Sentence]:
    """Sentences to cite besides ``cited``: the speaker's sentence, or the quote that goes on with it.

    Args:
        question: The question asked.
        cited: The sentences the answer span touches, in document order.
        document: All sentences of their document, in order (``Sentence.index`` indexes it).
    """
    if not cited:
        return []
    extra: list[Sentence] = []
    first, last = cited[0], cited[-1]
    if needs_speaker(first) and first.index > 0:
        extra.append(document[first.index - 1])
    if (
        last.index + 1 < len(document)
        and needs_speaker(document[last.index + 1])
        and analyze(question).type is AnswerType.QUOTE
    ):
        extra.append(document[last.index + 1])
    return [s for s in extra if s not in cited]


# A quotation of at least a few words, in straight or curly quotes.
_QUOTATION = re.compile(r"[\"“]([^\"“”]{12,}?)[,.]?[\"”]")
# The reported claim: what follows "said that", "warning the U.S. that", "told reporters that", or
# "said" directly ("Trump said no Americans were harmed"), to the end of the sentence.
_CLAIM = re.compile(
    rf"(?:\b(?:{_REPORTING}|warning|saying|adding|insisting|declaring)\b[^,;:\"“”]{{0,40}}?\bthat"
    r"|\b(?:said|says|added|adds)(?=\s+(?!that\b)[a-z]))\s+(?P<claim>[^\"“].{8,}?)[.!]?$",
)
# "What did X say (about Y)?" asks for X's words; "What did X say Y did?" asks for a thing.
_TELLS_ASKER = re.compile(
    r"\bwhat (?:did|does|do|has|had|have|will|would) .+? (?:\w+ )?(?:say|said|tell|told)(?: about .*)?$"
)


def what_was_said(question: str, cited: Sequence[Sentence], text: str) -> tuple[int, int] | None:
    """For "What did X say (about Y)?", the span of X's words in the cited sentences, if there is one.

    The reader's span for such a question is often a phrase beside the statement ("striking a
    defiant tone"); people want the statement. First choice, the quoted words in the sentence that
    holds the reader's answer; then the reported claim there ("warning the U.S. that <claim>");
    then a quotation in the other cited sentences (the quote attributed with "he told"). The span
    is verbatim text of ``text`` (the document), never rewritten. None when the question asks
    something else ("what did X say Y did") or nothing quoted or reported is found.
    """
    lowered = re.sub(r"\s+", " ", question.strip().lower()).rstrip(" ?.!")
    if analyze(question).type is not AnswerType.QUOTE or not _TELLS_ASKER.search(lowered):
        return None
    first, rest = cited[:1], cited[1:]
    for sentences, pattern, group in ((first, _QUOTATION, 1), (first, _CLAIM, "claim"), (rest, _QUOTATION, 1)):
        for sentence in sentences:
            match = pattern.search(text, sentence.start, sentence.end)
            if match is not None:
                return match.start(group), match.end(group)
    return None
