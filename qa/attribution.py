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
from qa.question import AnswerType, analyze

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
