"""The assistant: a loaded index, a retriever and a reader behind ``answer()``."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from threadpoolctl import ThreadpoolController

from index.documents import (
    PROGRESS_MIN_FILES,
    Document,
    DocumentSummary,
    Sentence,
    Source,
    expand_paths,
    read_changed,
)
from index.embedders.sentence_transformer import Embedder, load_embedder, resolve_model
from index.stores.local import (
    Corpus,
    PassageIndex,
    PassageSettings,
    build_index,
    built_alike,
    check_index_dir,
    is_current,
    load_index,
    read_manifest,
    refresh_stamps,
    save_index,
    stamps_match,
)
from qa.config import Settings, bundled_documents
from qa.errors import ConfigError, IndexNotFoundError, IndexStoreError, NoDocumentsError
from qa.questions.analysis import check_question
from qa.questions.attribution import context_sentences, what_was_said
from qa.readers.base import Candidate, Reader, Reading, SentenceOnlyReader
from qa.readers.judge import CandidateView, Judge, features
from qa.result import Answer, Citation, Span
from qa.retriever import HybridRetriever, Retrieval, StoreRetriever
from qa.selection import select

if TYPE_CHECKING:
    from index.stores.postgres import PgStore
    from index.stores.vectors import SearchSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trace:
    """An answer with the retrieval behind it, for evaluation and debugging."""

    answer: Answer
    retrieval: Retrieval
    seconds: float  # the whole answer
    reading_seconds: float = 0.0  # of which the reader

    def cited_documents(self) -> tuple[Document, ...]:
        """The documents the answer cites (or whose closest sentence it shows), as the retrieval saw them.

        With a PostgreSQL store that is the question's own snapshot: a write that commits after
        the answer cannot put another version of a document beside its offsets.
        """
        cited = [*self.answer.citations, *([self.answer.closest] if self.answer.closest else [])]
        paths = sorted({c.document for c in cited})
        return tuple(self.retrieval.corpus.document(p) for p in paths)


def make_reader(spec: Reader | str | None, settings: Settings) -> Reader:
    """Turn a reader spec into a reader.

    ``None`` means ``settings.reader``. ``"trained"`` is the bundled trained
    model (the default), ``"trained:<folder>"`` another folder exported by
    ``qa export-reader``, ``"sentence-only"`` answers with the whole sentence
    that shares most words with the question (a baseline with no model), and
    ``"transformers:<model>"`` runs any Hugging Face extractive QA model.
    """
    spec = settings.reader if spec is None else spec
    if not isinstance(spec, str):
        return spec
    if spec == "sentence-only":
        return SentenceOnlyReader()
    if spec == "trained" or spec.startswith("trained:"):
        from qa.readers.extractive import BUNDLED_READER, load_reader

        return load_reader(spec.split(":", 1)[1] if ":" in spec else BUNDLED_READER)
    if spec.startswith("transformers:") and len(spec) > len("transformers:"):
        from qa.readers.extractive import ExtractiveReader

        return ExtractiveReader.from_transformers(spec.split(":", 1)[1])
    raise ConfigError(
        f"unknown reader {spec!r}; use 'trained', 'trained:<folder>', 'sentence-only' "
        "or 'transformers:<model name or path>'"
    )


def cite(sentence: Sentence, document: Document | None = None) -> Citation:
    """The citation of a sentence: its document, exact text and offsets, and its page in a PDF ``document``."""
    return Citation(
        document=sentence.document,
        sentence=sentence.text,
        start=sentence.start,
        end=sentence.end,
        page=document.page_at(sentence.start) if document else None,
    )


class Assistant:
    """Answers questions from an indexed corpus and cites the supporting sentences.

    Build one with :meth:`from_paths` (index built or reloaded) or :meth:`open`
    (an existing index directory); the constructor takes ready parts, so tests
    can pass their own index, embedder and reader.

    Args:
        index: The loaded passage index.
        embedder: The model that embeds questions; the index's own model.
        reader: What turns passages into an answer.
        settings: Retrieval depth, abstention threshold and question limits.
        index_dir: Where the index lives on disk, if it does.
    """

    def __init__(
        self,
        index: PassageIndex | PgStore,
        embedder: Embedder,
        *,
        reader: Reader | None = None,
        settings: Settings | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.embedder = embedder
        self.reader = reader or make_reader(None, self.settings)
        self.index_dir = index_dir
        self.retriever: HybridRetriever | StoreRetriever
        # A reader with a judge may read deeper when the first passages give no answer: retrieve that many.
        depth = self.settings.top_k
        if self.judge is not None:
            depth = max(depth, self.settings.read_deeper)
        if isinstance(index, PassageIndex):
            self._index: PassageIndex | None = index
            self.store: PgStore | None = None
            self.retriever = HybridRetriever(index, embedder, top_k=depth)
        else:
            self._index, self.store = None, index
            self.retriever = StoreRetriever(index, embedder, top_k=depth)
        # One question needs one BLAS/OpenMP thread (a 384-wide query vector, a small search).
        # With two, numpy's and faiss's idle OpenBLAS workers spin after each call and take
        # the cores from the reader that runs next: warm answer() p50 went from 101 to 66 ms
        # on 2 cores. The reader's onnxruntime pool is its own and keeps its threads.
        self._threads = ThreadpoolController()
        # A sentence's embedding by this process's model, not read from the store (a folder index and a
        # PostgreSQL store then agree to the last bit); kept for the deeper reading's second look.
        self._sentence_vectors = functools.lru_cache(maxsize=256)(lambda text: self.embedder.encode([text])[0])

    @property
    def index(self) -> PassageIndex:
        """The loaded index (an assistant on a PostgreSQL store has none: it searches in the store).

        Raises:
            ConfigError: This assistant answers from a store.
        """
        if self._index is None:
            raise ConfigError(f"this assistant searches {self.store!r} in place and holds no index in memory")
        return self._index

    @classmethod
    def from_paths(
        cls,
        paths: str | Path | Sequence[str | Path] | None = None,
        *,
        index_dir: str | Path | None = None,
        store: str | None = None,
        settings: Settings | None = None,
        reader: Reader | str | None = None,
        embedder: Embedder | None = None,
        show_progress: bool = False,
        previous: PassageIndex | None = None,
        must_save: bool = False,
    ) -> Assistant:
        """Index documents (or reload their index) and return a ready assistant.

        The index is rebuilt when the documents, the model or the passage
        settings differ from what ``index_dir`` holds; otherwise it is loaded.
        Files whose size, times and inode are as recorded are not even read
        (:class:`~index.documents.FileStamp`), for a folder or a store.
        With ``store`` (a ``postgresql://`` URL) the documents are kept in that
        PostgreSQL store instead (see :mod:`index.stores.postgres`): it is made to hold
        exactly ``paths``, writing only new and changed documents in one transaction.

        Args:
            paths: A file or directory, or several; the bundled article when ``None``.
            index_dir: Where to keep the index; a per-corpus folder under
                ``settings.home`` when omitted.
            store: A PostgreSQL URL to keep the index in, instead of a folder.
            settings: Model and tuning; :meth:`Settings.from_env` when omitted.
            reader: A reader, or a reader spec (:func:`make_reader`).
            embedder: An already loaded embedder (shared between assistants).
            show_progress: Show progress bars while embedding.
            previous: An index whose vectors may be reused when ``index_dir`` holds none (a chat
                session's first upload starts from the served documents' index): only passages
                it lacks are embedded.
            must_save: Fail when the index cannot be written (``qa index``: saving is the point);
                otherwise a folder that cannot be written gives a warning and an index in memory.

        Raises:
            DocumentError: A path is missing, unreadable, binary or empty.
            ModelLoadError: The embedding model cannot be loaded.
            StoreUnavailableError: The store cannot be reached or lacks pgvector.
            ModelMismatchError: The store was built with another embedding model.
        """
        settings = settings or Settings.from_env()
        if isinstance(paths, (str, Path)):  # one path, not a sequence of one-character paths
            paths = [paths]
        if paths is not None and not paths:
            raise NoDocumentsError(
                "no documents given; pass at least one .txt, .md, .html, .pdf or .docx file (or None)"
            )
        if store and index_dir:
            raise ConfigError("give a store or an index folder, not both")
        files = expand_paths(paths if paths is not None else bundled_documents())
        embedder = embedder or load_embedder(settings.model, backend=settings.backend)
        if store:
            from index.stores.postgres import PgStore

            pg = PgStore(store)
            pg.sync_files(files, embedder, settings.passages, show_progress=show_progress, limits=settings.read_limits)
            return cls(pg, embedder, reader=make_reader(reader, settings), settings=settings)
        directory = Path(index_dir).expanduser() if index_dir else settings.index_dir_for([str(f) for f in files])
        index = _open_or_build(files, embedder, directory, settings, show_progress, previous, must_save)
        return cls(index, embedder, reader=make_reader(reader, settings), settings=settings, index_dir=directory)

    @classmethod
    def from_store(
        cls,
        url: str,
        *,
        settings: Settings | None = None,
        reader: Reader | str | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Answer from a PostgreSQL store as it is (``postgresql://...``, see :mod:`index.stores.postgres`).

        Questions are searched inside the store, each in one snapshot, so an assistant sees
        what another process writes as soon as it commits. Without ``embedder``, the store's
        own model is loaded.

        Raises:
            StoreUnavailableError: The server cannot be reached, lacks pgvector, or is empty.
            ModelMismatchError: ``embedder`` is not the model the store was built with.
        """
        from index.stores.postgres import PgStore

        settings = settings or Settings.from_env()
        store = PgStore(url)
        # Reachable, built, same schema and model: fail now, not at the first question.
        with store.snapshot(model=embedder.name if embedder else None) as snapshot:
            model = snapshot.model
        embedder = embedder or load_embedder(model, backend=settings.backend)
        return cls(store, embedder, reader=make_reader(reader, settings), settings=settings)

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Document],
        *,
        index_dir: str | Path | None = None,
        store: str | None = None,
        settings: Settings | None = None,
        reader: Reader | str | None = None,
        embedder: Embedder | None = None,
        show_progress: bool = False,
    ) -> Assistant:
        """Like :meth:`from_paths` for documents already in memory.

        Without ``index_dir`` or ``store`` the index lives in memory only.
        """
        settings = settings or Settings.from_env()
        if not documents:
            raise NoDocumentsError("no documents to index; pass at least one .txt, .md, .html, .pdf or .docx file")
        if store and index_dir:
            raise ConfigError("give a store or an index folder, not both")
        embedder = embedder or load_embedder(settings.model, backend=settings.backend)
        if store:
            from index.stores.postgres import PgStore

            pg = PgStore(store)
            pg.sync(documents, embedder, settings.passages, show_progress=show_progress)
            return cls(pg, embedder, reader=make_reader(reader, settings), settings=settings)
        if index_dir is None:
            index = build_index(
                documents, embedder, settings=settings.passages, search=settings.search, show_progress=show_progress
            )
            directory = None
        else:
            directory = Path(index_dir).expanduser()
            index = _load_or_build(documents, embedder, directory, settings, show_progress)
        return cls(index, embedder, reader=make_reader(reader, settings), settings=settings, index_dir=directory)

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        *,
        settings: Settings | None = None,
        model: str | None = None,
        reader: Reader | str | None = None,
        show_progress: bool = False,
    ) -> Assistant:
        """Open an existing index directory; its manifest names the documents and model.

        Documents that changed on disk since indexing are re-indexed; documents
        that are gone are answered from the text stored in the index.

        Raises:
            IndexNotFoundError: ``index_dir`` holds no index.
            ModelMismatchError: ``model`` differs from the index's model.
        """
        directory = Path(index_dir).expanduser()
        manifest = read_manifest(directory)
        if model is not None and resolve_model(model)[0] != manifest.model:
            load_index(directory, model=resolve_model(model)[0])  # raises ModelMismatchError
        base = settings or Settings.from_env()
        settings = dataclasses.replace(
            base, model=manifest.model, passages=manifest.passage_settings, search=manifest.search_settings
        )
        paths = [d.path for d in manifest.documents]
        if all(Path(p).is_file() for p in paths):
            return cls.from_paths(
                paths, index_dir=directory, settings=settings, reader=reader, show_progress=show_progress
            )
        logger.warning("some indexed documents are gone; answering from the text stored in %s", directory)
        embedder = load_embedder(manifest.model, backend=settings.backend)
        index = load_index(directory, model=embedder.name)
        return cls(index, embedder, reader=make_reader(reader, settings), settings=settings, index_dir=directory)

    def close(self) -> None:
        """Close the store's connections, if this assistant answers from one (a later question reopens them)."""
        if self.store is not None:
            self.store.close()

    @property
    def documents(self) -> tuple[Document, ...]:
        """The indexed documents (for a store, read from it now: all of them, with their text)."""
        if self.store is not None:
            with self.store.snapshot() as snapshot:
                return snapshot.documents()
        return self.index.documents

    def summaries(self, limit: int = 200) -> tuple[tuple[DocumentSummary, ...], int]:
        """The first ``limit`` indexed documents' names and sizes, and how many there are.

        Unlike :attr:`documents`, a store sends no text: a list of a large store stays cheap.
        """
        if self.store is not None:
            with self.store.snapshot() as snapshot:
                return snapshot.summaries(limit)
        shown = tuple(DocumentSummary(d.path, len(d.sentences), len(d.text)) for d in self.index.documents[:limit])
        return shown, len(self.index.documents)

    def check_question(self, question: str) -> str:
        """Return the question stripped, or raise :class:`QuestionError` if it cannot be asked."""
        return check_question(question, self.settings.max_question_chars)

    def answer(self, question: str, documents: str | Sequence[str] | None = None) -> Answer:
        """Answer one question, citing the exact supporting sentence(s).

        Args:
            question: The question.
            documents: Ask only within these documents: paths, file names or globs such as
                ``"*.pdf"`` (:mod:`qa.selection`); every indexed document when ``None``.

        Raises:
            QuestionError: The question is empty or too long.
            NoMatchingDocumentError: ``documents`` names no indexed document.

        Example:
            >>> from qa import Assistant
            >>> assistant = Assistant.from_paths()          # the bundled article
            >>> r = assistant.answer("Where did Khamenei speak?")
            >>> r.text, r.citation.start < r.citation.end
            ('Qom', True)
        """
        question = self.check_question(question)
        chosen = self.select(documents)
        with self._threads.limit(limits=1):
            return self.respond(question, self.retriever.retrieve(question, documents=chosen))

    def document_paths(self) -> list[str]:
        """The paths of every indexed document (for a store, read from it now)."""
        if self.store is not None:
            with self.store.snapshot() as snapshot:
                return snapshot.paths()
        return [d.path for d in self.index.documents]

    def select(self, documents: str | Sequence[str] | None) -> frozenset[str] | None:
        """The indexed paths that ``documents`` names (:func:`qa.selection.select`); ``None``: all.

        Raises:
            NoMatchingDocumentError: ``documents`` names no indexed document.
        """
        if documents is None or (not isinstance(documents, str) and not documents):
            return None
        return select(documents, self.document_paths())

    @property
    def judge(self) -> Judge | None:
        """The reader's judge (:mod:`qa.readers.judge`), if it carries one."""
        return getattr(self.reader, "judge", None)

    @property
    def threshold(self) -> float:
        """The confidence under which the assistant abstains: the settings' override, else the reader's own."""
        return self.reader.threshold if self.settings.abstain_below is None else self.settings.abstain_below

    def read(self, question: str, retrieval: Retrieval, start: int = 0, stop: int | None = None) -> Reading:
        """What the reader proposes for retrieved passages ``start:stop`` (default: the first ``top_k``),
        read in one batch."""
        passages = retrieval.passages[start : self.settings.top_k if stop is None else stop]
        return self.reader.read(question, [p.passage for p in passages], retrieval.corpus.sentences)

    def respond(self, question: str, retrieval: Retrieval, reading: Reading | None = None) -> Answer:
        """Turn the best candidate into an answer, or abstain below the threshold.

        With a judge, the candidates are ranked by its confidence, and when none of the first ``top_k``
        passages' reaches the reader's own threshold, the rest of the retrieved passages (up to
        ``Settings.read_deeper``) are read too and every candidate judged again. The reader's
        threshold, not ``abstain_below``, decides that, so ``qa eval`` (which answers with abstention
        off, then applies the threshold) sees the answers the assistant gives.
        An abstention still shows the closest sentence found (:meth:`closest_sentence`).
        """
        top_k = self.settings.top_k
        first = dataclasses.replace(retrieval, passages=retrieval.passages[:top_k])
        reading = reading or self.read(question, first)
        if self.judge is not None:
            reading = Reading(tuple(c for c, _ in self.judged(question, first, reading)))
            best = reading.best
            if len(retrieval.passages) > top_k and (best is None or best.confidence < self.reader.threshold):
                more = self.read(question, retrieval, top_k, len(retrieval.passages))
                reading = Reading(
                    tuple(c for c, _ in self.judged(question, retrieval, Reading(reading.candidates + more.candidates)))
                )
                first = retrieval
        retrieval = first
        best = reading.best
        if best is None or best.confidence < self.threshold or best.end <= best.start:
            return Answer(
                question=question,
                text=None,
                citations=(),
                confidence=best.confidence if best else 0.0,
                reader=self.reader.name,
                closest=self.closest_sentence(question, retrieval, best),
            )
        return self.build_answer(question, best, retrieval.corpus)

    def judged(
        self, question: str, retrieval: Retrieval, reading: Reading, *, every_signal: bool = False
    ) -> list[tuple[Candidate, dict[str, float]]]:
        """Every candidate with the judge's signals (:mod:`qa.readers.judge`), best first.

        With a reader that carries a judge, a candidate's confidence is the judge's probability and
        the order is by it; otherwise both stay the reader's (its margin, calibrated).

        ``sentence_dense`` costs an embedding per sentence, so it is measured for the candidate the
        judge puts first without it, the others keeping 0: on the library benchmark's fit part that
        gives the figures of measuring every candidate within 0.01 (library answerable F1 0.4251 against
        0.4252, outside questions refused 0.844 against 0.841), at a fifth of the cost.
        ``every_signal`` measures every candidate (the library benchmark keeps them all).
        """
        judge = self.judge
        ranks = {
            (s.passage.document, s.passage.start, s.passage.end): (r, s) for r, s in enumerate(retrieval.passages, 1)
        }
        top_dense = max((s.dense for s in retrieval.passages), default=0.0)
        views = []
        for c in reading.candidates:
            rank, scored = ranks.get((c.passage.document, c.passage.start, c.passage.end), (len(ranks) + 1, None))
            document = retrieval.corpus.document(c.passage.document)
            sentence = " ".join(document.text[t.start : t.end] for t in _touching(retrieval.corpus, c))
            views.append(
                CandidateView(
                    document=document.path,
                    document_key=f"{document.path}\0{document.sha256}",
                    document_text=document.text,
                    passage_text=c.passage.text,
                    answer=document.text[c.start : c.end],
                    sentence_text=sentence,
                    margin=c.margin,
                    dense=scored.dense if scored is not None else 0.0,
                    rank=rank,
                    span=c.score,
                    no_answer=c.no_answer,
                    lexical=scored.lexical if scored is not None else 0.0,
                    fused=scored.score if scored is not None else 0.0,
                    top_dense=top_dense,
                )
            )
        rows = features(question, views, retrieval.documents)
        # An ``_x`` signal is 0 with one document searched: no embedding is needed for it then.
        needed = judge is not None and any(
            k == "sentence_dense" or (k == "sentence_dense_x" and retrieval.documents > 1) for k in judge.weights
        )
        measured: Sequence[int] = range(len(rows)) if every_signal else ()
        if needed and rows and not every_signal:
            assert judge is not None
            measured = (max(range(len(rows)), key=lambda i: (judge(rows[i]), -i)),)
        for i in measured:
            similarity = float(self._sentence_vectors(views[i].sentence_text) @ retrieval.vector)
            rows[i]["sentence_dense"] = similarity
            rows[i]["sentence_dense_x"] = similarity * rows[i]["scale"]
        pairs = list(zip(reading.candidates, rows, strict=True))
        if judge is None:
            return pairs
        rescored = [(dataclasses.replace(c, confidence=judge(row)), row) for c, row in pairs]
        return sorted(rescored, key=lambda pair: -pair[0].confidence)

    def closest_sentence(self, question: str, retrieval: Retrieval, best: Candidate | None) -> Citation | None:
        """The sentence that came closest to answering: the one holding the reader's best span, even below
        the threshold; with no span, the retrieved sentence that shares the most (rare) words with the question.
        """
        corpus = retrieval.corpus
        if best is None or best.end <= best.start:
            # SentenceOnlyReader's candidate is one whole sentence: the sentence it touches is itself.
            best = SentenceOnlyReader().read(question, [p.passage for p in retrieval.passages], corpus.sentences).best
        touched = _touching(corpus, best) if best is not None else []
        return cite(touched[0], corpus.document(touched[0].document)) if touched else None

    def build_answer(self, question: str, candidate: Candidate, corpus: Corpus) -> Answer:
        """The answer text, verbatim, and every sentence the span touches, with exact offsets.

        A quote attributed only with "he told" also cites the sentence that names the speaker
        (:mod:`qa.questions.attribution`); the sentences holding the answer come first. For "What did X
        say?" the answer is X's quoted words or reported claim in those sentences, where the
        reader's span is only beside them (:func:`~qa.questions.attribution.what_was_said`).
        """
        passage = candidate.passage
        cited = _touching(corpus, candidate)
        document = corpus.document(passage.document)
        cited += context_sentences(question, cited, document.sentences)
        text = document.text
        start, end = candidate.start, candidate.end
        said = what_was_said(question, cited, text)
        if said is not None and (said[1] <= start or end <= said[0]):
            # "What did X say?" read as a phrase beside X's words: the quoted words or the claim instead.
            start, end = said
            cited.sort(key=lambda s: not (s.start < end and start < s.end))  # the sentence holding it first
        return Answer(
            question=question,
            text=text[start:end],
            citations=tuple(cite(s, document) for s in cited),
            confidence=candidate.confidence,
            offset=Span(start, end),
            reader=self.reader.name,
        )

    def trace(self, question: str, documents: str | Sequence[str] | None = None) -> Trace:
        """Answer and keep what led there: the retrieved passages and the time taken."""
        question = self.check_question(question)
        chosen = self.select(documents)
        start = time.perf_counter()
        with self._threads.limit(limits=1):
            retrieval = self.retriever.retrieve(question, documents=chosen)
            reading_start = time.perf_counter()
            reading = self.read(question, retrieval)
            reading_seconds = time.perf_counter() - reading_start
            result = self.respond(question, retrieval, reading)
        return Trace(result, retrieval, time.perf_counter() - start, reading_seconds)

    def answer_many(self, questions: Sequence[str], documents: str | Sequence[str] | None = None) -> list[Answer]:
        """Answer several questions, embedding them in one batch (``documents`` as for :meth:`answer`)."""
        checked = [self.check_question(q) for q in questions]
        chosen = self.select(documents)
        vectors = self.embedder.encode(checked)  # a batch: here more threads help
        with self._threads.limit(limits=1):
            return [
                self.respond(q, self.retriever.retrieve(q, vector, documents=chosen))
                for q, vector in zip(checked, vectors, strict=True)
            ]


def _touching(corpus: Corpus, candidate: Candidate) -> list[Sentence]:
    """The sentences of the candidate's passage that its span touches, in order."""
    sentences = [corpus.sentences[i] for i in candidate.passage.sentence_ids]
    return [s for s in sentences if s.start < candidate.end and candidate.start < s.end]


def _open_or_build(
    files: Sequence[Path],
    embedder: Embedder,
    directory: Path,
    settings: Settings,
    show_progress: bool,
    previous: PassageIndex | None = None,
    must_save: bool = False,
) -> PassageIndex:
    """Open the index in ``directory`` if ``files`` are what it holds, else (re)build it.

    Files whose size, times and inode are as the index recorded are not read at all; if any
    differs, every file is read and hashed (:func:`_load_or_build`).
    """
    check_index_dir(directory)
    base = previous if previous is not None and built_alike(previous.manifest, *_built_by(embedder, settings)) else None
    with contextlib.suppress(IndexStoreError):  # no index, or a damaged one: _load_or_build says which
        manifest = read_manifest(directory)
        if built_alike(manifest, *_built_by(embedder, settings)):
            if stamps_match(manifest, files):
                return load_index(directory, model=embedder.name, manifest=manifest)
            if base is None or base.manifest.files != manifest.files:
                base = load_index(directory, model=embedder.name, manifest=manifest)
    # Files an index holds with their stamps unchanged are taken from it; the rest are read and hashed,
    # not split (a current index already holds every sentence).
    known = {}
    if base is not None:
        known = {r.path: (r.stamp, base.document(r.path)) for r in base.manifest.documents if r.stamp is not None}
    sources = read_changed(files, known, show_progress=show_progress, limits=settings.read_limits)
    return _load_or_build(sources, embedder, directory, settings, show_progress, base or previous, must_save)


def _built_by(embedder: Embedder, settings: Settings) -> tuple[str, PassageSettings, SearchSettings]:
    return embedder.name, settings.passages, settings.search


def _load_or_build(
    sources: Sequence[Source | Document],
    embedder: Embedder,
    directory: Path,
    settings: Settings,
    show_progress: bool,
    given: PassageIndex | None = None,
    must_save: bool = False,
) -> PassageIndex:
    """Reload the index in ``directory`` if it is current, else split the documents, build and save it."""
    check_index_dir(directory)  # before minutes of embedding, not after
    # A document taken from an index unread keeps the stamp that index recorded for it.
    recorded = {r.path: r.stamp for r in given.manifest.documents} if given is not None else {}
    stamps = {s.path: s.stamp if isinstance(s, Source) else recorded.get(s.path) for s in sources}
    previous = None
    manifest_of_given = given.manifest if given is not None else None
    if manifest_of_given and built_alike(manifest_of_given, *_built_by(embedder, settings)):
        previous = given
    try:
        manifest = read_manifest(directory)
        if is_current(manifest, sources, *_built_by(embedder, settings)):
            try:  # same text, new stamps (touched, or settled since): record them so the next open reads nothing
                refreshed = refresh_stamps(directory, manifest, stamps)
                if refreshed.files == manifest.files:  # else another process saved meanwhile: load what was checked
                    manifest = refreshed
            except OSError as exc:
                logger.debug("cannot record file stamps in %s (%s); the next open reads the files", directory, exc)
            if given is not None and given.manifest.files == manifest.files:  # this generation, loaded already
                return dataclasses.replace(given, manifest=manifest)
            return load_index(directory, model=embedder.name, manifest=manifest)
        logger.info("documents, model or settings changed; rebuilding the index in %s", directory)
        alike = manifest.model == embedder.name and manifest.passage_settings == settings.passages
        if alike and (previous is None or previous.manifest.files != manifest.files):
            previous = load_index(directory, model=embedder.name)  # its vectors for unchanged passages
    except IndexNotFoundError:
        logger.info("building a new index in %s", directory)
    except IndexStoreError as exc:
        # Never load a damaged index silently, never fail for one either: the documents are here.
        logger.warning("the index in %s cannot be used (%s); rebuilding it from the documents", directory, exc)
    from tqdm import tqdm

    quiet = not show_progress or len(sources) < PROGRESS_MIN_FILES
    documents = [
        s.split() if isinstance(s, Source) else s
        for s in tqdm(sources, desc="splitting into sentences", unit="doc", disable=quiet)
    ]
    index = build_index(
        documents,
        embedder,
        settings=settings.passages,
        search=settings.search,
        show_progress=show_progress,
        previous=previous,
    )
    del previous  # its FAISS index may be large
    try:
        # The saved manifest (its stamps) goes with the index: the next upload reads only the new file.
        index = dataclasses.replace(index, manifest=save_index(index, directory, stamps=stamps))
    except OSError as exc:
        if must_save:
            raise IndexStoreError(
                f"cannot write the index in {directory} ({exc.strerror or exc}); nothing was saved and a "
                "previous index there is unchanged; free some space or give --index-dir a folder you can write"
            ) from None
        # A read-only or impossible index folder (a read-only QA_HOME, /proc) or a full disk: answer
        # from what was built, and say it is not kept and what to do; a previous index stays as it was.
        logger.warning(
            "cannot write the index in %s (%s); answering from an index in memory that is not saved "
            "(set QA_HOME or --index-dir to a folder you can write)",
            directory,
            exc.strerror or exc,
        )
    return index


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The assistant over the bundled article, built or loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant.from_paths()
        return _default


def answer(question: str, documents: str | Sequence[str] | None = None) -> Answer:
    """Answer a question about the bundled article (``documents``: as for :meth:`Assistant.answer`).

    The index is built (first time) or loaded on the first call.

    Example:
        >>> from qa import answer
        >>> r = answer("What did Rouhani say?")
        >>> "cut Soleimani's hand" in r.text
        True
        >>> r.citation.sentence in open(r.citation.document, encoding="utf-8").read()
        True

    Raises:
        QuestionError: The question is empty or too long.
    """
    return default_assistant().answer(question, documents)
