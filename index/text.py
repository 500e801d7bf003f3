"""Word-level text helpers shared by keyword search (BM25), the question checks and the reader."""

from __future__ import annotations

import functools
import re

STOPWORDS = frozenset(
    """
    a an the and or but if then else of to in on at by for with from into onto about as is are was were be been
    being am do does did doing done have has had having it its it's this that these those there here he she
    they we you i me him her them us my your his their our what which who whom whose when where why how
    not no nor so than too very can could will would shall should may might must just also any all each
    some such only own same other more most few both until while over under again further once up down out
    off s t don said say says saying tell told according many much
    """.split()
)

# Letters of any script ([^\W_] is a letter or digit), so "Whitcömbe" stays one word.
_WORD = re.compile(r"[A-Za-z]\.(?:[A-Za-z]\.)+|[^\W_]+(?:['’][^\W\d_]+)?")
UPPER = "A-ZÀ-ÖØ-Þ"  # capitals of Latin-1; Latin Extended-A interleaves cases, so it joins LOWER
LOWER = "a-zß-öø-ÿĀ-ſ"


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Lone UTF-16 surrogates and U+0000 as U+FFFD, one for one, so offsets stay.

    No decoded file holds surrogates, but text assembled from UTF-16 code units (PDFium's
    characters, an API caller's string) can, and UTF-8 cannot encode them: hashing, JSON and the
    tokenizer fail. U+0000 (a UTF-16 file can hold it) is text PostgreSQL cannot store; both
    stores get the same replacement, so they keep giving the same answers.
    """
    return _UNSTORABLE.sub("\ufffd", text)


def words(text: str) -> list[str]:
    """Split text into word tokens, keeping dotted acronyms ("U.S.") whole."""
    return _WORD.findall(text)


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce a lower-case word to a crude stem so "strikes"/"strike", "fired"/"fire" match.

    A light suffix stripper on purpose: it only has to make question words meet
    article words, and it must be predictable.
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace(".", "").replace("'", "")
    # (suffix, replacement): "donations" and "donated" both become "donat".
    for suffix, replacement in (
        ("ations", "ate"),
        ("ation", "ate"),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("ers", ""),
        ("er", ""),
        ("ed", ""),
        ("es", ""),
        ("ly", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + replacement
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def terms(text: str) -> list[str]:
    """Content terms of a text: stemmed words without stopwords, in order."""
    out = []
    for word in words(text):
        lowered = word.lower().replace("’", "'")
        base = lowered[:-2] if lowered.endswith("'s") else lowered
        if lowered in STOPWORDS or base in STOPWORDS:
            continue
        out.append(stem(lowered))
    return out
