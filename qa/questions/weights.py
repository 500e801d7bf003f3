"""How much of a question a text holds, each word weighted by its rarity in English.

Used by retrieval (a passage holding the question's rare words ranks higher) and by the judge
(:mod:`qa.readers.judge`). Rarity comes from wordfreq's Zipf scale, not from the index's own
statistics, so a folder index and a PostgreSQL store weigh every word alike.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from index.text import STOPWORDS, stem, terms, words

MAX_RARITY = 7.0  # Zipf 0 (a word wordfreq never saw) weighs 7; "the" (Zipf 7.7) weighs nothing


@functools.lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """How rare a lower-case word is in English, 0 (very common) to 7 (never seen): 7 minus its Zipf frequency."""
    from wordfreq import zipf_frequency

    return max(0.0, MAX_RARITY - zipf_frequency(word, "en"))


@functools.lru_cache(maxsize=4096)
def question_words(question: str) -> tuple[tuple[str, float], ...]:
    """The question's content words as ``(stem, rarity)``, each stem once."""
    seen: dict[str, float] = {}
    for word in words(question):
        lowered = word.lower().replace("’", "'")
        base = lowered[:-2] if lowered.endswith("'s") else lowered
        if lowered in STOPWORDS or base in STOPWORDS:
            continue
        key = stem(lowered)
        seen[key] = max(seen.get(key, 0.0), rarity(base.replace(".", "")))
    return tuple(seen.items())


@functools.lru_cache(maxsize=4096)
def passage_terms(text: str) -> frozenset[str]:
    """The stemmed terms of a passage's text."""
    return frozenset(terms(text))


def document_terms(key: str, text: str) -> frozenset[str]:
    """The stemmed terms of a document's text, cached by ``key`` (its path and hash) and text."""
    return _document_terms(key, len(text), text)


@functools.lru_cache(maxsize=512)
def _document_terms(key: str, size: int, text: str) -> frozenset[str]:
    return frozenset(terms(text))


def cover(question: Sequence[tuple[str, float]], found: frozenset[str]) -> float:
    """The rarity-weighted share of the question's words in ``found`` (1 when the question has none)."""
    total = sum(w for _, w in question)
    if total <= 0:
        return 1.0
    return sum(w for t, w in question if t in found) / total
