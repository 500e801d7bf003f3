"""Split text into sentences, returning character spans into the text.

The splitter never copies or rewrites text: it only returns ``(start, end)``
pairs, so ``text[start:end]`` is always the exact sentence as written. That is
what makes every citation verifiable against the original file.

Rules, in order:
- blank lines and single line breaks between lines that do not end a sentence
  are handled by :func:`blocks` (a headline without a full stop is its own block);
- inside a block, a boundary is ``.``, ``!`` or ``?`` (plus closing quotes or
  brackets) followed by whitespace and a token that can start a sentence;
- a full stop after a known abbreviation (``Gen.``, ``Mr.``, ``U.S.``) or an
  initial (``J. Smith``) is not a boundary, unless a dotted acronym is followed
  by a word that typically starts a sentence (``... in the U.S. The next day``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Titles and common abbreviations that end with a full stop but rarely end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen col lt sgt capt cmdr adm maj gov sen rep rev hon pres supt
    st jr sr mt ft inc co corp ltd llc bros no nos vol vs etc al fig approx dept est
    jan feb mar apr jun jul aug sep sept oct nov dec
    e.g i.e a.m p.m u.s u.k u.n e.u u.s.a d.c
    """.split()
)

# Titles come before a name, so they never end a sentence, even at the end of a line; other
# abbreviations ("35 ms.", "Oct.", "No.") at the end of a line do (else a file of such lines is one sentence).
TITLES = frozenset("mr mrs dr prof gen col lt sgt capt cmdr adm maj gov sen rep rev hon pres supt".split())

# After a dotted acronym such as "U.S.", these words usually begin a new sentence.
SENTENCE_STARTERS = frozenset(
    """
    the a an he she it they we i you his her its their our this that these those
    but and so yet however meanwhile there in on at after before when while if
    """.split()
)

_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
# Linear time: a match starts only at the first mark of a run (the lookbehind), and the
# possessive quantifiers never backtrack, so "....." x 2 MB is one pass, not one pass per dot.
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[" + re.escape(_CLOSERS) + r"]*+(?=\s)")
# Linear: a match starts only at the first blank of a run (the lookbehind), and the possessive run
# never backtracks; "[ \t]*\n" tried from every blank of a 100,000-space line took 9-13 s.
_LINE_BREAK = re.compile(r"(?<![ \t])[ \t]*+\n\s*+")
# A paragraph break: whitespace holding a blank line, matched from the first blank of its run only.
_PARAGRAPH_BREAK = re.compile(r"(?<!\s)\s*?\n[ \t]*\n\s*+")
_ITEM = re.compile(r"(?:[-*+]|\d+[.)]|#+)\s")
_CAPITALISED = re.compile(r"[A-Z0-9\"'“‘(\[]")
_FINAL_MARKS = ".!?,;:"
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def blocks(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield the spans of paragraphs: runs of text separated by blank lines.

    Leading and trailing whitespace is excluded from every span.
    """
    end = len(text) if end is None else end
    at = start
    # One pass over the breaks (a lazy match with a lookahead re-scanned each run of blanks per
    # character inside it); U+FEFF, a byte-order mark kept at the start of a text, is never text.
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        span = _trimmed(text, at, match.start())
        if span:
            yield span
        at = match.end()
    span = _trimmed(text, at, end)
    if span:
        yield span


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
        end -= 1
    return (start, end) if start < end else None


def _is_boundary(text: str, stop: int, next_start: int) -> bool:
    """Decide whether the punctuation ending at ``stop`` ends a sentence."""
    following = text[next_start : next_start + 40]
    if not following:
        return True
    first = following[0]
    if not (first.isupper() or first.isdigit() or first in _OPENERS):
        return False
    # Strip closing quotes to find the punctuation itself.
    core_end = stop
    while core_end > 0 and text[core_end - 1] in _CLOSERS:
        core_end -= 1
    if text[core_end - 1] != ".":
        return True  # "!" and "?" always end a sentence here
    if core_end != stop:
        return True  # '... said." Next' : a full stop inside a closing quote ends it
    word_match = _WORD_BEFORE.search(text[max(0, core_end - 20) : core_end])
    if not word_match:
        return True
    word = word_match.group(1)
    lowered = word.lower()
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    if lowered in ABBREVIATIONS and "\n" in text[stop:next_start]:
        # "ms" after a number is a unit; a title before a name goes on after a line break
        return (
            lowered not in TITLES
            or text[max(0, core_end - len(word) - 2) : core_end - len(word)].strip()[-1:].isdigit()
        )
    if lowered in ABBREVIATIONS or "." in word:
        next_word = re.match(r"[\"'“‘(\[]*([A-Za-z]+)", following)
        dotted = "." in word
        if dotted and next_word and next_word.group(1).lower() in SENTENCE_STARTERS:
            return True
        return False
    return True


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return the sentence spans of ``text[start:end]`` as absolute offsets.

    Args:
        text: The whole document text.
        start: Where the region to split begins.
        end: Where it ends; the end of ``text`` when omitted.

    Returns:
        Spans ``(s, e)`` in order, without surrounding whitespace, so that
        ``text[s:e]`` is the sentence verbatim.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for block_start, block_end in blocks(text, start, end):
        for line_start, line_end in _lines(text, block_start, block_end):
            sentence_start = line_start
            for match in _BOUNDARY.finditer(text, line_start, line_end):
                stop = match.end()
                next_start = stop
                while next_start < line_end and text[next_start].isspace():
                    next_start += 1
                if next_start >= line_end:
                    break
                if _is_boundary(text, stop, next_start):
                    spans.append((sentence_start, stop))
                    sentence_start = next_start
            spans.append((sentence_start, line_end))
    # Every span trimmed of what is not text at its ends: blanks the patterns do not name (U+2028
    # before a line break) and U+FEFF, which is invisible wherever it stands.
    return [span for s, e in spans if (span := _trimmed(text, s, e))]


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split a block at line breaks that follow a finished sentence or a title line.

    A wrapped paragraph (line breaks in the middle of sentences) stays one unit,
    and line breaks after sentence punctuation are left to the sentence rules;
    a list item, or a short line without final punctuation followed by a
    capitalised line (a headline), is its own unit.
    """
    # Positions, never copies of "the rest": each break is looked at in constant time
    # (copying the remainder at every break made 'a\n' x 1M quadratic: 52 s).
    line_start = start
    for match in _LINE_BREAK.finditer(text, start, end):
        line_end = match.start()
        rest = match.end()
        looks_like_item = _ITEM.match(text, rest, end) is not None
        # A short line without final punctuation, followed by a capitalised line, is a headline.
        headline = (
            _stripped_length(text, line_start, line_end) < 80
            and not _ends_with_mark(text, line_start, line_end)
            and _CAPITALISED.match(text, rest, end) is not None
        )
        if looks_like_item or headline:
            if _stripped_length(text, line_start, line_end):
                yield line_start, line_end
            line_start = rest
    if _stripped_length(text, line_start, end):
        yield line_start, end


def _stripped_length(text: str, start: int, end: int) -> int:
    """``len(text[start:end].strip())`` without the copy: the ends are walked over whitespace only."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return end - start


def _ends_with_mark(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends with ``.!?,;:`` and any closing quotes or brackets."""
    while end > start and text[end - 1] in _CLOSERS:
        end -= 1
    return end > start and text[end - 1] in _FINAL_MARKS
