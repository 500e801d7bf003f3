"""Readers turn retrieved passages into an answer with citations.

:class:`Reader` is the seam: anything with ``name`` and ``read(question,
retrieval, index) -> Answer`` can answer. :class:`SentenceReader` is the
offline default:

1. every sentence of the retrieved passages is scored with named features
   (dense similarity to the question, idf-weighted coverage of the question's
   terms by the sentence and by the sentence before it, whether it holds a
   span of the expected type, and for "who/what is X" whether its parse says
   what X is);
2. the best sentence gives the answer span: the words that fill the question's
   gap in a dependency parse (:mod:`qa.syntax`), a typed span (person, place,
   date, number, the quote of the one speaking), the clause that settles a
   yes/no question, or the phrase beside the question's words; the whole
   sentence when nothing fits;
3. a "what did X say" answer whose quote is attributed by "he told ..." also
   cites the sentence that names X, so the answer can rest on two sentences;
4. when the confidence is below ``abstain_below`` it abstains and cites nothing.
"""

from __future__ import annotations

import dataclasses
import math
import re
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from index.documents import Sentence
from index.store import PassageIndex
from qa import spans, syntax
from qa.calibration import DEFAULT as DEFAULT_CALIBRATION
from qa.calibration import Calibration, Evidence
from qa.question import AnswerType, Question, analyze
from qa.result import Answer, Citation, Span
from qa.retriever import Retrieval
from qa.text import terms, words

MIN_STATEMENT_WORDS = 3  # a shorter quote is a flagged term ("bullying"), not what was said
MAX_CONTINUED_QUOTES = 2  # bare quote sentences that still belong to the last named speaker
ADJACENT_CHARS = 3  # a typed span this close to a question term stands beside it
NEAR_CHARS = 30  # ... and this close, in the same clause


# Question types whose best sentence must hold a span of the type, else confidence drops.
TYPED = frozenset({AnswerType.PERSON, AnswerType.PLACE, AnswerType.DATE, AnswerType.NUMBER, AnswerType.QUOTE})
UNIT_WORDS = 4  # how far after a number to look for what it counts


@runtime_checkable
class Reader(Protocol):
    """Reads retrieved passages and answers, citing sentences."""

    name: str

    def read(self, question: str, retrieval: Retrieval, index: PassageIndex) -> Answer:
        """Answer ``question`` from ``retrieval``, or abstain."""
        ...


@dataclass(frozen=True)
class ReaderWeights:
    """Weights of the sentence score, which ranks candidate sentences.

    Attributes:
        dense: Weight of the cosine similarity between question and sentence.
        lexical: Weight of the idf-weighted share of question terms in the sentence.
        context: Weight of the same share counted over the sentence and the one before it
            (a quote attributed with "he said" gets its subject from there).
        type_match: Bonus when the sentence holds a span of the expected answer type.
        definition: Bonus, for "who/what is X" questions, when the parse finds what X is in the
            sentence (an apposition "X, Y," or a copula "Y remained X"): the sentence that
            defines X beats one that only mentions it. Only the leading ``DEFINITION_RERANK``
            sentences are parsed. The same bonus for every gap kind lowered SQuAD citation
            accuracy from .732 to .714; for "is" questions alone it costs .003 there and adds
            .017 on the seed set.
        headline: Bonus for a document's first sentence when the question asks about the
            headline or title.

    A bonus for sentences of the top-ranked passage (0.05 / (1 + rank)) was dropped: switching
    it off raised F1 on all three test sets (scripts/ablation.py; README "Results").
    """

    dense: float = 0.45
    lexical: float = 0.35
    context: float = 0.10
    type_match: float = 0.10
    definition: float = 0.10
    headline: float = 0.30


@dataclass(frozen=True)
class SentenceFeatures:
    """The evidence for one candidate sentence."""

    sentence_id: int
    dense: float
    lexical: float
    context: float
    type_match: float
    score: float
    definition: float = 0.0


@dataclass
class _CorpusStats:
    """Per-index data computed once: sentence terms, idf, proper nouns."""

    sentence_terms: list[frozenset[str]]
    idf: dict[str, float]
    max_idf: float
    proper_nouns: frozenset[str]
    vocabulary: frozenset[str]


def _corpus_stats(index: PassageIndex) -> _CorpusStats:
    sentence_terms = [frozenset(terms(s.text)) for s in index.sentences]
    df: Counter[str] = Counter()
    for ts in sentence_terms:
        df.update(ts)
    n = max(1, len(sentence_terms))
    idf = {t: math.log(1 + n / c) for t, c in df.items()}
    proper: set[str] = set()
    for sentence in index.sentences:
        tokens = sentence.text.split()
        for token in tokens[1:]:
            word = token.strip("\"“”‘’'(),.;:!?")
            if word[:1].isupper():
                proper.add(word)
    vocabulary = frozenset(w.lower() for s in index.sentences for w in words(s.text))
    return _CorpusStats(sentence_terms, idf, math.log(1 + n), frozenset(proper), vocabulary)


class SentenceReader:
    """The default offline reader: scores sentences, extracts typed spans, abstains.

    Args:
        abstain_below: Confidence under which the reader abstains.
        weights: Feature weights of the sentence score.
        calibration: Maps the best sentence's evidence to a confidence.
        short_descriptions: Answer description ("what ...") questions with a short span (the
            word qualifying the noun of "what kind of X", the name beside the noun of "which X",
            the quoted words for naming verbs, else the phrase beside the question's words)
            instead of the whole sentence, and yes/no questions with the clause that settles them.
        max_citations: Most sentences one answer cites.
        parser: Dependency parser that finds the words filling the question's gap
            (:mod:`qa.syntax`); "auto" loads spaCy's English model (once per process), None keeps
            to the word-position rules.
        whole_sentence: Answer with the whole best sentence, no span extraction: the
            "sentence-only" baseline the README compares the default reader against.
    """

    name = "sentence"

    def __init__(
        self,
        *,
        abstain_below: float = 0.5,
        weights: ReaderWeights = ReaderWeights(),
        calibration: Calibration = DEFAULT_CALIBRATION,
        max_citations: int = 2,
        whole_sentence: bool = False,
        short_descriptions: bool = True,
        parser: syntax.Parser | None | Literal["auto"] = "auto",
    ) -> None:
        # Loaded now, not on first use: loading is once per process and must not race other imports.
        self.parser = syntax.load_parser() if parser == "auto" else parser
        self.short_descriptions = short_descriptions
        self.whole_sentence = whole_sentence
        if whole_sentence:
            self.name = "sentence-only"
        self.abstain_below = abstain_below
        self.weights = weights
        self.calibration = calibration
        self.max_citations = max_citations
        self._stats: weakref.WeakKeyDictionary[PassageIndex, _CorpusStats] = weakref.WeakKeyDictionary()

    def stats(self, index: PassageIndex) -> _CorpusStats:
        """Sentence-level data for ``index``, computed on first use and cached."""
        cached = self._stats.get(index)
        if cached is None:
            cached = self._stats[index] = _corpus_stats(index)
        return cached

    # -- scoring -----------------------------------------------------------------

    def _coverage(self, question_terms: Sequence[str], present: Callable[[str], bool], stats: _CorpusStats) -> float:
        weights = [stats.idf.get(t, stats.max_idf) for t in question_terms]
        total = sum(weights)
        if not total:
            return 0.0
        return sum(w for t, w in zip(question_terms, weights, strict=True) if present(t)) / total

    def _previous(self, index: PassageIndex, sid: int) -> int | None:
        sentence = index.sentences[sid]
        return sid - 1 if sentence.index > 0 else None

    def _pronoun_subject(self, sid: int, index: PassageIndex, stats: _CorpusStats) -> frozenset[str]:
        """Terms of whom "he said" in ``sid`` refers to: who speaks in the sentence before (the
        subjects of its reporting verbs), else that sentence's first name."""
        prev = self._previous(index, sid)
        if prev is None:
            return frozenset()
        text = index.sentences[prev].text
        if self.parser is not None:
            # The one who speaks there, not its first name ("In a White House address, Trump said").
            speakers = [(s, e) for s, e in self.parser.speakers(text) if terms(text[s:e])]
            if speakers:
                return frozenset(t for s, e in speakers for t in terms(text[s:e]))
        found = spans.names(spans.outside_quotes(text), stats.proper_nouns)
        return frozenset(terms(text[found[0][0] : found[0][1]])) if found else frozenset()

    def _continues_quote(self, sid: int, index: PassageIndex) -> bool:
        """The sentence is only a quote, with no one named as saying it: the previous speaker goes on."""
        text = index.sentences[sid].text.strip()
        return (
            self._previous(index, sid) is not None
            and text[:1] in '"“'
            and not spans.has_reporting_verb(text)
            and not spans.outside_quotes(text).strip(' .,;:!?"“”')
        )

    def _speaks(
        self, speaker_terms: Sequence[str], sid: int, index: PassageIndex, stats: _CorpusStats, depth: int = 0
    ) -> bool:
        """True when the sentence gives words of the speaker: quoted or reported.

        The speaker is named as the subject of a reporting verb ("X said", "X told ..."), or is
        whom "he said" refers to, or the sentence is a bare quote continuing them.
        """
        text = index.sentences[sid].text
        own = frozenset(terms(spans.outside_quotes(text)))
        named = spans.attributed_to(text, speaker_terms, own)
        if named and self.parser is not None and (speakers := self.parser.speakers(text)):
            # Named as the one speaking, not only mentioned ("Rouhani joined Khamenei ..., warning").
            named = any(spans.attributed_to(text, speaker_terms, frozenset(terms(text[s:e]))) for s, e in speakers)
        by_pronoun = spans.has_pronoun_attribution(text) and spans.attributed_to(
            text, speaker_terms, self._pronoun_subject(sid, index, stats)
        )
        # A quote without a reporting verb (chants, titles) is not the speaker's statement.
        reporting = spans.has_reporting_verb(text)
        found = (named and reporting and bool(spans.quotes(text) or spans.reported_clauses(text))) or (
            by_pronoun and bool(spans.quotes(text))
        )
        if not found and depth < MAX_CONTINUED_QUOTES and self._continues_quote(sid, index):
            # '"We suffered no casualties," he added. "Our forces are prepared."': the second
            # sentence is still the speaker of the first.
            prev = self._previous(index, sid)
            found = prev is not None and self._speaks(speaker_terms, prev, index, stats, depth + 1)
        return found

    def _type_match(self, q: Question, sid: int, index: PassageIndex, stats: _CorpusStats) -> float:
        """How well the sentence offers a span of the expected type.

        For "what did X say": 1 when X is named outside the sentence's quotes and
        the sentence quotes or reports words, or when it quotes "he said" and X
        is the subject of the sentence before. For typed questions: 1 when the
        span stands right beside a question term (an apposition such as "Iran's
        supreme leader, Ayatollah Ali Khamenei"), 0.6 when it is near one, 0.3
        when it is further away. 0 when the sentence has none.
        """
        text = index.sentences[sid].text
        if q.type is AnswerType.QUOTE:
            return 1.0 if self._speaks(q.speaker_terms, sid, index, stats) else 0.0
        if q.type not in TYPED:
            return 0.0  # any sentence has phrases; only typed spans are evidence
        located = self._locate(q, text, stats)
        if located is None:
            return 0.0
        if located[1] <= ADJACENT_CHARS:
            return 1.0
        return 0.6 if located[1] <= NEAR_CHARS else 0.3

    def _typed_spans(self, q: Question, text: str, stats: _CorpusStats) -> spans.SpanList:
        if q.type is AnswerType.PERSON:
            return [spans.possessive_free(text, s, e) for s, e in spans.names(text, stats.proper_nouns)]
        if q.type is AnswerType.PLACE:
            return spans.places(text)
        if q.type is AnswerType.DATE:
            return spans.dates(text)
        if q.type is AnswerType.NUMBER:
            found = spans.numbers(text)
            if q.focus:
                # "How many missiles": prefer quantities of missiles, not of years.
                counted = [(s, e) for s, e in found if q.focus in terms(" ".join(text[e:].split()[:UNIT_WORDS]))]
                return counted or []
            return found
        return []

    def score_sentences(self, q: Question, retrieval: Retrieval, index: PassageIndex) -> list[SentenceFeatures]:
        """Score every sentence of the retrieved passages, best first."""
        stats = self.stats(index)
        w = self.weights
        ids = sorted({sid for scored in retrieval.passages for sid in scored.passage.sentence_ids})
        if not ids:
            return []
        dense = index.sentence_vectors[ids] @ retrieval.vector
        features = []
        for sid, dense_score in zip(ids, dense, strict=True):
            own = stats.sentence_terms[sid]
            prev = self._previous(index, sid)
            prev_terms = stats.sentence_terms[prev] if prev is not None else frozenset()
            lexical = self._coverage(q.terms, own.__contains__, stats)
            context = self._coverage(q.terms, (own | prev_terms).__contains__, stats)
            type_match = self._type_match(q, sid, index, stats)
            score = w.dense * float(dense_score) + w.lexical * lexical + w.context * context + w.type_match * type_match
            if q.about_headline and index.sentences[sid].index == 0:
                score += w.headline
            features.append(SentenceFeatures(sid, float(dense_score), lexical, context, type_match, score))
        features.sort(key=lambda f: (-f.score, f.sentence_id))
        return self._rerank_definitions(q, features, index)

    def _rerank_definitions(
        self, q: Question, features: list[SentenceFeatures], index: PassageIndex
    ) -> list[SentenceFeatures]:
        """Add the ``definition`` bonus to the leading sentences that say what the question's X is."""
        weight = self.weights.definition
        if not weight or self.parser is None or q.type is AnswerType.QUOTE:
            return features
        gap = self.parser.gap(q.text)
        if gap is None or gap.role != "copula":
            return features
        known = set(q.terms)
        head = []
        for f in features[:DEFINITION_RERANK]:
            text = index.sentences[f.sentence_id].text
            filled = self.parser.answer(gap, text)
            if filled is not None and not set(terms(text[filled[0] : filled[1]])) <= known:
                f = dataclasses.replace(f, definition=1.0, score=f.score + weight)
            head.append(f)
        head.sort(key=lambda f: (-f.score, f.sentence_id))
        return head + features[DEFINITION_RERANK:]

    def _unknown_entities(self, question: str, stats: _CorpusStats) -> int:
        """Capitalised question words (not the first word) that the corpus never contains."""
        tokens = words(question)[1:]
        return sum(
            1 for t in tokens if t[:1].isupper() and t.lower() not in stats.vocabulary and t.lower() not in ("i",)
        )

    def evidence(self, q: Question, ranked: Sequence[SentenceFeatures], stats: _CorpusStats) -> Evidence:
        """Describe the best sentence for the confidence model."""
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        unknown = self._unknown_entities(q.text, stats)
        if q.speaker_terms and not any(t in stats.idf for t in q.speaker_terms):
            unknown += 1  # the speaker never appears in the corpus
        return Evidence(
            dense=best.dense,
            lexical=best.lexical,
            context=best.context,
            type_match=best.type_match,
            type_miss=float(q.type in TYPED and best.type_match == 0.0),
            unknown_entities=float(unknown),
            margin=best.score - runner_up,
        )

    # -- spans ---------------------------------------------------------------------

    def _locate(
        self,
        q: Question,
        text: str,
        stats: _CorpusStats,
        filled: tuple[int, int] | None = None,
        region: tuple[int, int] | None = None,
    ) -> tuple[tuple[int, int], int] | None:
        """The typed span of ``text`` nearest the question's terms, and its distance in characters.

        Candidates that only repeat the question are dropped, as are names whose
        last word is in the question (the question's own subject); question
        words are trimmed from the edges ("Iranian President Hassan Rouhani" ->
        "Hassan Rouhani" for "Who is the Iranian president?").
        """
        whole: set[tuple[int, int]] = set()  # candidates kept as they are, question words included
        known = set(q.terms)
        if q.type is AnswerType.QUOTE:
            candidates = spans.quotes(text) or spans.reported_clauses(text)
        elif q.type is AnswerType.DESCRIPTION and self.short_descriptions and not q.yes_no:
            named_focus = self._names_near_focus(q, text, stats)
            whole.update(named_focus)  # "Which river ...": "River Aln", the focus word is part of the name
            candidates = (
                (self._modifiers_of_focus(q, text) if q.wants_modifier else [])
                or named_focus
                or (spans.named_as(text, known) + spans.quotes(text) if q.asks_wording else [])
                or ([filled] if filled else [])
                or spans.phrases(text, set(q.terms))
            )
        elif q.type is AnswerType.PERSON and filled:
            # "According to whom ...": the filling noun phrase ("U.S. officials", "a state
            # disaster fund"), not only the names inside it.
            candidates = [filled, *self._typed_spans(q, text, stats)]
        else:
            candidates = self._typed_spans(q, text, stats)
        named = q.type in (AnswerType.PERSON, AnswerType.PLACE)
        useful = []
        untrimmed: dict[tuple[int, int], tuple[int, int]] = {}
        for s, e in candidates:
            span_terms = terms(text[s:e])
            if e <= s or set(span_terms) <= known or (named and span_terms and span_terms[-1] in known):
                continue
            trimmed = (s, e) if (s, e) in whole else self._trim_known(text, s, e, known)
            untrimmed.setdefault(trimmed, (s, e))
            useful.append(trimmed)
        if not useful:
            return None
        anchors = [m.start() for m in _word_iter(text) if (t := terms(m.group(0))) and t[0] in known]
        if not anchors or q.type is AnswerType.QUOTE:
            return useful[0], len(text)

        def distance(span: tuple[int, int]) -> int:
            s, e = span
            return min(0 if s <= a < e else min(abs(a - s), abs(a - e)) for a in anchors)

        if q.type is AnswerType.DESCRIPTION:

            def repeats(span: tuple[int, int]) -> bool:
                """Half or more of the candidate's terms are the question's: it restates rather than answers."""
                start, end = untrimmed[span]
                found = terms(text[start:end])
                return bool(found) and 2 * sum(t in known for t in found) >= len(found)

            best = min(
                useful, key=lambda span: (repeats(span), _phrase_position(span, anchors, text), distance(span), span[0])
            )
        else:
            best = min(useful, key=lambda span: (not _overlaps(span, region or filled), distance(span), span[0]))
        return best, distance(best)

    def _modifiers_of_focus(self, q: Question, text: str) -> list[tuple[int, int]]:
        """For "what kind of X", the word before X in ``text`` ("*ballistic* missiles")."""
        tokens = list(_word_iter(text))
        found = []
        for before, word in zip(tokens, tokens[1:], strict=False):
            if not ((t := terms(word.group(0))) and t[0] == q.focus):
                continue
            modifier = terms(before.group(0))
            # A stopword, a word of the question or punctuation in between is no modifier.
            if modifier and modifier[0] not in q.terms and not text[before.end() : word.start()].strip():
                found.append((before.start(), before.end()))
        return found

    def _names_near_focus(self, q: Question, text: str, stats: _CorpusStats) -> list[tuple[int, int]]:
        """For "which X" questions, the names in ``text`` within a few words of X ("Fars news agency")."""
        if q.focus is None:
            return []
        tokens = list(_word_iter(text))
        at = [i for i, m in enumerate(tokens) if (t := terms(m.group(0))) and t[0] == q.focus]
        if not at:
            return []
        gaps: dict[tuple[int, int], int] = {}
        for s, e in spans.names(text, stats.proper_nouns):
            inside = [i for i, m in enumerate(tokens) if s <= m.start() < e]
            if inside:
                gaps[(s, e)] = min(abs(i - a) for i in inside for a in at)
        nearest = min(gaps.values(), default=PHRASE_GAP_WORDS + 1)
        return [span for span, gap in gaps.items() if gap == nearest <= PHRASE_GAP_WORDS]

    def _settling_clause(self, q: Question, text: str, stats: _CorpusStats) -> tuple[int, int] | None:
        """For a yes/no question, the clause of ``text`` that settles it.

        "Were any Americans harmed?" against "In a White House address Wednesday, Trump said no
        Americans were harmed in the attack." gives "no Americans were harmed in the attack": the
        comma-separated part that holds most of the question's terms (idf-weighted), reduced to
        what is reported when a reporting verb introduces it. None when no part holds any.
        """
        blanked = spans.outside_quotes(text)  # a comma inside a quote does not split
        cuts = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(blanked)), len(text)]
        parts = [spans.strip_span(text, s, e) for s, e in zip(cuts, cuts[1:], strict=False)]
        scored = [
            (self._coverage(q.terms, set(terms(text[s:e])).__contains__, stats), -s, (s, e)) for s, e in parts if e > s
        ]
        coverage, _, best = max(scored, default=(0.0, 0, (0, 0)))
        if not coverage or best == spans.strip_span(text, 0, len(text)):
            return None
        for s, e in spans.reported_clauses(text):
            if best[0] <= s and e <= best[1]:
                return s, e
        return best

    def _pick_span(self, q: Question, text: str, stats: _CorpusStats) -> tuple[int, int] | None:
        if q.yes_no:
            return self._settling_clause(q, text, stats) if self.short_descriptions else None
        filled = region = None
        if self.parser is not None and (gap := self.parser.gap(q.text)) is not None:
            if gap.role == "adverb":
                region = self.parser.answer(gap, text)  # where a "when"/"where" answer lies
            else:
                filled = self.parser.answer(gap, text)
        located = self._locate(q, text, stats, filled, region)
        return located[0] if located else None

    @staticmethod
    def _trim_known(text: str, start: int, end: int, known: set[str]) -> tuple[int, int]:
        tokens = list(_word_iter(text, start, end))
        if not tokens:
            return start, end
        first, last = 0, len(tokens) - 1

        def known_word(i: int) -> bool:
            found = terms(tokens[i].group(0))
            return bool(found) and set(found) <= known

        def stopword(i: int) -> bool:
            return not terms(tokens[i].group(0))

        # A question word at an edge goes, with the stopwords around it ("new sanctions on Iran" ->
        # "new sanctions"; "The discussion about revenge is something else" -> "something else").
        while True:
            j = first
            while j < last and stopword(j):
                j += 1
            if not (j < last and known_word(j)):
                break
            first = j + 1
            while first < last and stopword(first):
                first += 1
        while True:
            j = last
            while j > first and stopword(j):
                j -= 1
            if not (j > first and known_word(j)):
                break
            last = j - 1
            while last > first and stopword(last):
                last -= 1
        # Keep the span's own edges ("$4.2 million") unless a word was trimmed there.
        new_start = start if first == 0 else tokens[first].start()
        new_end = end if last == len(tokens) - 1 else tokens[last].end()
        return new_start, new_end

    # -- answer --------------------------------------------------------------------

    def read(self, question: str, retrieval: Retrieval, index: PassageIndex) -> Answer:
        q = analyze(question)
        stats = self.stats(index)
        ranked = self.score_sentences(q, retrieval, index)
        if not ranked:
            return Answer(question=question, text=None, citations=(), confidence=0.0, reader=self.name)
        best = ranked[0]
        confidence = self.calibration(self.evidence(q, ranked, stats))
        if confidence < self.abstain_below:
            return Answer(question=question, text=None, citations=(), confidence=confidence, reader=self.name)

        sentence = index.sentences[best.sentence_id]
        cited = [best.sentence_id]
        answer_sentence = sentence
        span: tuple[int, int] | None = None
        if self.whole_sentence:
            pass  # the sentence-only baseline: no span
        elif q.type is AnswerType.QUOTE:
            span, answer_sentence, cited = self._quote_answer(q, best.sentence_id, index, stats)
        else:
            span = self._pick_span(q, sentence.text, stats)
        if span is None:
            span = (0, len(answer_sentence.text))
        start = answer_sentence.start + span[0]
        end = answer_sentence.start + span[1]
        citations = tuple(cite(index.sentences[sid]) for sid in cited[: self.max_citations])
        return Answer(
            question=question,
            text=index.document(answer_sentence.document).text[start:end],
            citations=citations,
            confidence=confidence,
            offset=Span(start, end),
            reader=self.name,
        )

    def _quote_answer(
        self, q: Question, sid: int, index: PassageIndex, stats: _CorpusStats
    ) -> tuple[tuple[int, int] | None, Sentence, list[int]]:
        """Answer "what did X say": X's quote, following "he told ..." across sentences.

        Returns the span within the answering sentence, that sentence, and the
        cited sentence ids (the answering sentence first).
        """
        sentence = index.sentences[sid]
        gap = self.parser.gap(q.text) if self.parser is not None else None
        if self.parser is not None and gap is not None and gap.head not in syntax.REPORTING_LEMMAS:
            # "What did Khamenei say Soleimani stood up to?" asks about what was said: fill that gap.
            filled = self.parser.answer(gap, sentence.text)
            if filled is not None:
                return filled, sentence, [sid]
        own_quotes = spans.quotes(sentence.text)
        prev = self._previous(index, sid)
        if own_quotes:
            cited = [sid]
            if prev is not None and (spans.has_pronoun_attribution(sentence.text) or self._continues_quote(sid, index)):
                cited.append(prev)  # the sentence that says who "he" is, or who goes on speaking
            # A word or two in quotes ("bullying") is a term the writer flags, not the statement.
            statements = [(a, b) for a, b in own_quotes if len(sentence.text[a:b].split()) >= MIN_STATEMENT_WORDS]
            clauses = spans.reported_clauses(sentence.text)
            return (statements or clauses or own_quotes)[0], sentence, cited
        # The sentence names the speaker; their words may follow as "..." he said.
        nxt = sid + 1
        if nxt < len(index.sentences) and index.sentences[nxt].document == sentence.document:
            follower = index.sentences[nxt]
            follow_quotes = spans.quotes(follower.text)
            if follow_quotes and spans.has_pronoun_attribution(follower.text):
                return follow_quotes[0], follower, [nxt, sid]
        clauses = spans.reported_clauses(sentence.text)
        return (clauses[0] if clauses else None), sentence, [sid]


def _overlaps(span: tuple[int, int], other: tuple[int, int] | None) -> bool:
    return other is not None and span[0] < other[1] and other[0] < span[1]


def _phrase_position(span: tuple[int, int], anchors: Sequence[int], text: str) -> int:
    """Rank a phrase by where it stands against the question's words in the sentence.

    0: between two of them ("striking a *defiant* tone"); 1: right after one ("lead to
    *reprisals*"); 2: right before one; 3: elsewhere. Answers to "what" questions mostly
    complete the words the question shares with the sentence.
    """
    start, end = span
    before = [a for a in anchors if a < start]
    after = [a for a in anchors if a >= end]
    if before and after:
        return 0
    if before and len(text[before[-1] : start].split()) <= PHRASE_GAP_WORDS:
        return 1
    if after and len(text[end : after[0]].split()) <= PHRASE_GAP_WORDS - 1:
        return 2
    return 3


_CLAUSE_BREAK = re.compile(r"[,;]\s+|\s[—–]\s")  # where a sentence's clauses part
DEFINITION_RERANK = 5  # leading sentences parsed for the definition bonus (about 3 ms each, cached)
PHRASE_GAP_WORDS = 3  # words from a question word to a phrase that still counts as beside it
_WORD_RE = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")


def _word_iter(text: str, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
    return _WORD_RE.finditer(text, start, len(text) if end is None else end)


def cite(sentence: Sentence) -> Citation:
    """The citation of a sentence: its document, exact text and offsets."""
    return Citation(document=sentence.document, sentence=sentence.text, start=sentence.start, end=sentence.end)
