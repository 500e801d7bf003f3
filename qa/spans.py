"""Find typed answer spans inside one sentence.

Every function takes the sentence text and returns ``(start, end)`` offsets
relative to it, so the reader can turn them into exact document offsets. No
function ever builds new text.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from qa.text import LOWER, STOPWORDS, UPPER, terms

SpanList = list[tuple[int, int]]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Capitalised words that are not names when they start a sentence or phrase.
_NOT_NAMES = (
    frozenset(
        """
    The A An In On At This That These Those There It He She They We I You Our Your His Her Their Its
    But And Or So If When While After Before Since Until As What Who Where Why How Which Speaking
    According Ending Mr Mrs Ms
    """.split()
    )
    | frozenset(WEEKDAYS)
    | frozenset(MONTHS)
)
TITLES = frozenset(
    """
    President Ayatollah Gen. General Mr. Mrs. Ms. Dr. Prof. Sen. Senator Rep. Gov. Governor Minister
    Prime King Queen Prince Pope Sheikh Col. Lt. Sgt. Capt. Adm. Secretary Chancellor Judge
    """.split()
)

_NAME_TOKEN = rf"(?:[{UPPER}][{LOWER}]+(?:[-'’][{UPPER}{LOWER}]+)*\.?|[A-Z]\.(?:[A-Z]\.)*|[A-Z]{{2,}})"
_NAME = re.compile(rf"{_NAME_TOKEN}(?:\s+(?:of\s+|al-|bin\s+|de\s+|van\s+)?{_NAME_TOKEN})*")

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|several|"
    "a few|a couple of|a dozen|a hundred|a thousand|a million|a billion|no|none|half"
)
# Units of measure belong to the quantity ("1.5 metres"); counted nouns ("missiles") do not.
_UNITS = (
    "metres|meters|metre|meter|kilometres|kilometers|kilometre|kilometer|km|miles|mile|feet|foot|ft|"
    "inches|inch|cm|mm|kilograms|kilogram|kg|grams|gram|tonnes|tonne|tons|ton|pounds|lbs|lb|litres|"
    "liters|litre|liter|gallons|gallon|acres|acre|hectares|hectare|degrees|mph|km/h|°C|°F"
)
_NUMBER = re.compile(
    r"(?i)(?<![\w$])(?:(?:more|fewer|less) than |at least |at most |about |around |nearly |almost |over |"
    r"some |up to |roughly |approximately )?"
    rf"(?:\$?\d(?:[\d,]*\d)?(?:\.\d+)?%?|(?:{_NUMBER_WORDS}))"
    rf"(?:[ -](?:{_NUMBER_WORDS}|percent|per cent))*"
    rf"(?:[ -]?(?:square |cubic )?(?:{_UNITS}))?(?!\w)"
)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_DATE = re.compile(
    # A recurring day first, so "the first Sunday of every month" is found whole.
    rf"\b(?:(?:the )?(?:first|second|third|fourth|last) (?:{'|'.join(WEEKDAYS)})(?: of (?:every|each|the) month)?|"
    rf"(?:{'|'.join(MONTHS)})(?: \d{{1,2}}(?:st|nd|rd|th)?)?(?:,? \d{{4}})?|"
    rf"(?:{'|'.join(WEEKDAYS)})(?: (?:morning|afternoon|evening|night))?|"
    r"(?:last|next|this|early|late|in|the) (?:week|night|month|year|weekend|morning|spring|summer|autumn|fall|winter)"
    r"(?: of \d{4}| \d{4})?|overnight|yesterday|today|tonight|"
    r"\d{1,2}(?::\d\d)? ?(?:a\.m\.|p\.m\.))"
)
_TIME_PHRASE = re.compile(
    r"\b(?:after|before|during|following|until) (?:(?:a|an|the|his|her|its|their|last|next) )?"
    r"[A-Za-z][\w'’-]*(?: [a-z][\w'’-]*){0,4}(?=[,.;:\"”]|$)"
)
_PLACE = re.compile(
    r"\b(?i:in|at|near|from|to|outside|inside|across|into|toward|towards|of)\s+(?:the\s+|a\s+|an\s+)?"
    r"(?:[a-z-]+\s+){0,3}?(?:of\s+)?"
    rf"({_NAME_TOKEN}(?:\s+{_NAME_TOKEN})*)"
)
_REPORTING = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|warned|warning|warns|claimed|claiming|claims|claim|"
    r"announced|announcing|stated|declared|insisted|argued|noted|wrote|reiterated|demanded)\b"
)
_PRONOUN_ATTRIBUTION = re.compile(r"\b(?:he|she|they|it)\s+(?:said|says|told|added|warned|claimed|wrote|noted)\b", re.I)
_WEEKDAY_OR_TIME = re.compile(
    rf"^(?:\s*(?:on\s+)?(?:{'|'.join(WEEKDAYS)}|today|yesterday|later|also|again|then))+", re.I
)


def quotes(text: str) -> SpanList:
    """Spans of quoted text, without the quote marks or trailing commas.

    A quote left open at the end of the sentence runs to its end; a closing
    mark with no opener (a quote continued from the sentence before) starts the
    span at the sentence start.
    """
    marks: list[tuple[int, bool]] = []  # (position, is_opening)
    for i, ch in enumerate(text):
        if ch == "“":
            marks.append((i, True))
        elif ch == "”":
            marks.append((i, False))
        elif ch == '"':
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            opening = (before.isspace() or before in "([{—–-") and not after.isspace()
            marks.append((i, opening))
    spans: SpanList = []
    open_at: int | None = None
    for i, (pos, opening) in enumerate(marks):
        if opening and open_at is None:
            open_at = pos + 1
        elif not opening:
            start = open_at if open_at is not None else (0 if not spans and i == 0 else None)
            if start is not None:
                spans.append((start, pos))
            open_at = None
    if open_at is not None:
        spans.append((open_at, len(text)))
    return [_trim(text, s, e) for s, e in spans if e - s > 1]


def _trim(text: str, start: int, end: int, chars: str = " ,;:—–-") -> tuple[int, int]:
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces and a sentence's final full stop."""
    start, end = _trim(text, start, end, " \n\t,;—–")
    return (start, end - 1) if end > start and text[end - 1] in ".!?" else (start, end)


_AS = re.compile(r"\s+as\s+")
_AS_END = re.compile(r"[,;:.!?\"“”()]|\s(?:and|or|but|while|because|after|before|when)\s")


def named_as(text: str, known_terms: Collection[str]) -> SpanList:
    """What something the question names is called: "refers to Israel as *the Zionist state*".

    The words after "as" that directly follows a question term, up to punctuation or a conjunction.
    """
    found: SpanList = []
    for match in _AS.finditer(text):
        before = text[: match.start()].split()
        if not before or not set(terms(before[-1])) & set(known_terms):
            continue
        stop = _AS_END.search(text, match.end())
        end = stop.start() if stop else len(text)
        if end > match.end():
            found.append(_trim(text, match.end(), end))
    return found


def outside_quotes(text: str) -> str:
    """The sentence with quoted parts blanked out (same length, offsets kept)."""
    chars = list(text)
    for start, end in quotes(text):
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


def has_reporting_verb(text: str) -> bool:
    """True when the sentence has a reporting verb ("said", "warned", "told") outside its quotes."""
    return bool(_REPORTING.search(outside_quotes(text)))


def has_pronoun_attribution(text: str) -> bool:
    """True when the sentence attributes words to "he/she/they" ("..., he told ...")."""
    return bool(_PRONOUN_ATTRIBUTION.search(outside_quotes(text)))


def names(text: str, proper_nouns: Collection[str] = ()) -> SpanList:
    """Spans of capitalised name sequences ("Gen. Qassem Soleimani", "White House").

    A capitalised word at the start of the sentence counts only when the
    document uses it capitalised elsewhere (``proper_nouns``), so "Speaking"
    is not a name but "Khamenei" is.
    """
    spans: SpanList = []
    for match in _NAME.finditer(text):
        start, end = match.start(), match.end()
        tokens = match.group(0).split()
        # Drop leading words that are capitalised only because they start something.
        while tokens and (
            tokens[0].rstrip(".") in _NOT_NAMES or (start == 0 and tokens[0] not in proper_nouns and len(tokens) == 1)
        ):
            dropped = tokens.pop(0)
            start = text.index(dropped, start) + len(dropped)
            while start < end and text[start].isspace():
                start += 1
        while tokens and tokens[-1].rstrip(".") in _NOT_NAMES:
            dropped = tokens.pop()
            end = text.rindex(dropped, start, end)
            while end > start and text[end - 1].isspace():
                end -= 1
        if tokens and end > start:
            s, e = _trim(text, start, end, " ,;:")
            spans.append(_drop_full_stop(text, s, e))
    return spans


def _drop_full_stop(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a full stop that ends the sentence, not one of an abbreviation like "Gen."."""
    last = text[start:end].split()[-1]
    if last.endswith(".") and "." not in last[:-1] and len(last) > 2 and last not in TITLES:
        return start, end - 1
    return start, end


def possessive_free(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a trailing possessive ("Soleimani's" -> "Soleimani")."""
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            return start, end - len(suffix)
    return start, end


def numbers(text: str) -> SpanList:
    """Spans of quantities ("more than a dozen", "two", "1,200", "40%"), years excluded."""
    spans: SpanList = []
    for match in _NUMBER.finditer(text):
        value = match.group(0).strip()
        if _YEAR.fullmatch(value) or value.lower() in ("no", "none"):
            continue
        if value.lower() in ("a few", "half") and not match.group(0):
            continue
        spans.append(_trim(text, match.start(), match.end()))
    return spans


def dates(text: str) -> SpanList:
    """Spans of dates and times: weekdays, months, years, "last week", "after a meeting"."""
    spans = [(m.start(), m.end()) for m in _DATE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _YEAR.finditer(text)]
    spans += [_trim(text, m.start(), m.end()) for m in _TIME_PHRASE.finditer(text)]
    return spans


def places(text: str) -> SpanList:
    """Spans of proper names after a locative preposition ("in the holy city of Qom" -> "Qom")."""
    spans: SpanList = []
    for match in _PLACE.finditer(text):
        name = match.group(1)
        if name.split()[0] in _NOT_NAMES:
            continue
        spans.append(possessive_free(text, *_drop_full_stop(text, match.start(1), match.end(1))))
    return spans


def reported_clauses(text: str) -> SpanList:
    """Spans of what is reported after a reporting verb, outside quotes.

    "Trump said no Americans were harmed" -> "no Americans were harmed";
    "warning the U.S. that Soleimani's death would lead to reprisals" -> the
    clause after "that".
    """
    blanked = outside_quotes(text)
    spans: SpanList = []
    for match in _REPORTING.finditer(blanked):
        rest_start = match.end()
        window = blanked[rest_start : rest_start + 60]
        that = re.search(r"\bthat\s+", window)
        if that and window[: that.start()].count(",") == 0:
            start = rest_start + that.end()
        else:
            skip = _WEEKDAY_OR_TIME.match(blanked[rest_start:])
            start = rest_start + (skip.end() if skip else 0)
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text) or text[start] in '"“,.' or blanked[start] == " ":
            continue  # the verb introduces a quote or nothing; quotes are handled apart
        stop = re.search(r"[,;]\s|[.!?][\"”’]?\s*$", text[start:])
        end = start + stop.start() if stop else len(text)
        if end - start >= 8:
            spans.append(_trim(text, start, end, " ,;:."))
    return spans


def attributed_to(text: str, speaker_terms: Collection[str], sentence_terms: Collection[str]) -> bool:
    """True when the speaker is named in the sentence outside its quotes."""
    if not speaker_terms:
        return False
    return all(t in sentence_terms for t in speaker_terms) or (
        len(speaker_terms) > 1 and list(speaker_terms)[-1] in sentence_terms
    )


_PHRASE_BREAK = re.compile(r"[,;:()\[\]\"“”—–]|\s-\s|\.(?=\s|$)")
PHRASE_MAX_WORDS = 8
_PHRASE_WORD = re.compile(r"(?:[^\W_]|[$£€])(?:[\w'’.$%-]*[\w%])?")


def phrases(text: str, known_terms: Collection[str]) -> SpanList:
    """Runs of words that the question does not contain, cut at punctuation and at question words.

    "What expression is used to convey upper or lower bounds?" against "Upper and lower bounds
    are usually stated using the big O notation, which ..." gives "are usually stated" and
    "big O notation", among others; the reader keeps the one nearest the question's words.
    Runs are trimmed of stopwords at both ends and kept only up to ``PHRASE_MAX_WORDS`` words.
    """
    known = set(known_terms)
    found: SpanList = []
    run: list[re.Match[str]] = []

    def close() -> None:
        while run and (run[0].group(0).lower() in STOPWORDS or not terms(run[0].group(0))):
            run.pop(0)
        while run and (run[-1].group(0).lower() in STOPWORDS or not terms(run[-1].group(0))):
            run.pop()
        if run and len(run) <= PHRASE_MAX_WORDS:
            found.append((run[0].start(), run[-1].end()))
        run.clear()

    position = 0
    for match in _PHRASE_WORD.finditer(text):
        if _PHRASE_BREAK.search(text[position : match.start()]):
            close()
        word_terms = terms(match.group(0))
        if word_terms and set(word_terms) <= known:
            close()
        else:
            run.append(match)
        position = match.end()
    close()
    return found
