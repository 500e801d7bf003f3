"""Build, save and load the passage index.

On disk an index is one directory::

    manifest.json              format version, model, dimension, settings,
                               documents with sha256 and file stamp, counts,
                               and the sha256 of every file below
    corpus.<gen>.npz           documents' text, sentence and passage spans
                               (format 2: corpus.<gen>.json, still read)
    passages.<gen>.faiss       FAISS inner-product index of passage vectors
                               (flat, IVF or HNSW: see index/stores/vectors.py)
    keywords.<gen>.npz         BM25 scores of the passages (index/stores/keywords.py);
                               an index saved without it builds it on load

Only passages are embedded: the reader reads passage text, so sentences need
their spans, not vectors (format 1 also stored sentence vectors, which halved
build speed; a format-1 index is rebuilt).

Large files (``MMAP_MIN_BYTES`` and up) are memory-mapped on load, not read
into memory; files are streamed to disk and hashed as they are written.

Writes are crash-safe: each save writes new ``<gen>`` files, fsyncs them,
then replaces ``manifest.json`` atomically (temporary file, fsync,
``os.replace``, fsync of the directory). Until that rename the old manifest
still names the old, untouched files, so an interrupted or failed write leaves
the previous index usable. Loading verifies every checksum and count before
FAISS reads anything (FAISS accepts bit-flipped vectors silently).

The manifest records each document's :class:`~index.documents.FileStamp` (size,
times, inode) as it was read, so reopening an unchanged corpus looks at its
files' metadata and reads none of them (:func:`stamps_match`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import gc
import hashlib
import io
import json
import logging
import os
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.documents import Document, FileStamp, Sentence, Source, files_unchanged
from index.embedders.sentence_transformer import Embedder
from index.errors import IndexCorruptError, IndexNotFoundError, IndexStoreError, ModelMismatchError
from index.passages import Passage, count_cl100k, make_passages
from index.stores.keywords import KeywordIndex
from index.stores.vectors import (
    DEFAULT_SEARCH,
    SearchSettings,
    build_vector_index,
    open_vector_index,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)  # format 2 kept the corpus in JSON
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PassageSettings:
    """How documents are cut into passages; part of the manifest."""

    max_tokens: int = 128
    overlap: int = 1


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the manifest records it."""

    path: str
    sha256: str
    sentences: int
    stamp: FileStamp | None = None  # the file's when it was last read whole (see stamps_match)


@dataclass(frozen=True)
class Manifest:
    """What an index directory holds and how it was built."""

    format_version: int
    model: str
    dimension: int
    passage_settings: PassageSettings
    documents: tuple[DocumentRecord, ...]
    passages: int
    sentences: int
    index_type: str  # what was built: flat, ivf or hnsw
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    search_settings: SearchSettings = SearchSettings()  # what was asked for
    index_params: dict[str, int] = field(default_factory=dict)  # nlist, nprobe, ef_search...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            format_version=int(data["format_version"]),
            model=str(data["model"]),
            dimension=int(data["dimension"]),
            passage_settings=PassageSettings(**data["passage_settings"]),
            documents=tuple(
                DocumentRecord(
                    str(d["path"]),
                    str(d["sha256"]),
                    int(d["sentences"]),
                    FileStamp(**d["stamp"]) if d.get("stamp") else None,
                )
                for d in data["documents"]
            ),
            passages=int(data["passages"]),
            sentences=int(data["sentences"]),
            index_type={"flat-ip": "flat"}.get(data["index_type"], str(data["index_type"])),
            files=dict(data["files"]),
            search_settings=SearchSettings(**data.get("search_settings", {})),
            index_params={str(k): int(v) for k, v in data.get("index_params", {}).items()},
        )


class Corpus(Protocol):
    """Where passages' sentence ids and document paths resolve: a :class:`PassageIndex`, or the
    excerpt of a store that a question fetched (:class:`index.stores.postgres.Excerpt`)."""

    @property
    def sentences(self) -> Sequence[Sentence]: ...

    def document(self, path: str) -> Document: ...


@dataclass(frozen=True, eq=False)
class PassageIndex:
    """A loaded index: the corpus, its passages and sentences, and the passage vectors.

    ``sentences`` and ``passages`` are corpus-wide lists; ``Passage.sentence_ids``
    index into ``sentences``.
    """

    manifest: Manifest
    documents: tuple[Document, ...]
    sentences: tuple[Sentence, ...]
    passages: tuple[Passage, ...]
    faiss_index: Any
    keywords: KeywordIndex

    @functools.cached_property
    def _by_path(self) -> dict[str, tuple[Document, int]]:
        """Each document with the corpus-wide id of its first sentence."""
        table: dict[str, tuple[Document, int]] = {}
        offset = 0
        for doc in self.documents:
            table[doc.path] = (doc, offset)
            offset += len(doc.sentences)
        return table

    def document(self, path: str) -> Document:
        """Return the document with this path."""
        return self._by_path[path][0]

    def sentence_id(self, sentence: Sentence) -> int:
        """Return the corpus-wide id of a sentence."""
        return self._by_path[sentence.document][1] + sentence.index

    @functools.cached_property
    def _passages_by_document(self) -> dict[str, list[int]]:
        table: dict[str, list[int]] = {}
        for i, passage in enumerate(self.passages):
            table.setdefault(passage.document, []).append(i)
        return table

    def passage_ids(self, documents: Iterable[str]) -> np.ndarray:
        """The ids of every passage of these documents (paths), in corpus order."""
        table = self._passages_by_document
        ids = sorted(i for path in documents for i in table.get(path, ()))
        return np.array(ids, dtype=np.int64)

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Return up to ``k`` ``(passage id, inner product)`` pairs, best first.

        ``allowed``: search only these passage ids (a document filter). Up to
        ``EXACT_FILTER_MAX`` of them are scored exactly, whatever the index kind (an IVF index
        probing a few lists could miss a small document entirely); more are searched by the index
        itself with a FAISS ID selector.
        """
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.manifest.dimension:
            # FAISS only asserts this, and asserts vanish under python -O.
            raise ValueError(f"query has dimension {query.shape[1]}, index has {self.manifest.dimension}")
        k = min(k, len(self.passages) if allowed is None else len(allowed))
        if k <= 0:
            return []
        if allowed is not None and len(allowed) <= EXACT_FILTER_MAX:
            exact = self.faiss_index.reconstruct_batch(allowed) @ query[0]
            top = np.argsort(-exact, kind="stable")[:k]
            return [(int(allowed[i]), float(exact[i])) for i in top]
        if allowed is not None:
            scores, labels = self.faiss_index.search(query, k, params=_selector(self.faiss_index, allowed))
        else:
            scores, labels = self.faiss_index.search(query, k)
        # FAISS pads missing results with label -1; items[-1] would cite the last passage.
        return [(int(i), float(s)) for i, s in zip(labels[0], scores[0], strict=True) if i >= 0]


EXACT_FILTER_MAX = 20_000  # passages a document filter scores exactly (about 1 ms per 1,000)


def _selector(index: Any, allowed: np.ndarray) -> Any:
    """Search parameters that keep only ``allowed`` ids, with the index's own probe settings."""
    import faiss as faiss_module

    faiss: Any = faiss_module  # its type stubs lag the SWIG classes' keyword arguments
    selector = faiss.IDSelectorBatch(allowed)
    if hasattr(index, "nprobe"):
        return faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
    if hasattr(index, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)


def build_index(
    documents: Sequence[Document],
    embedder: Embedder,
    *,
    settings: PassageSettings = PassageSettings(),
    search: SearchSettings = DEFAULT_SEARCH,
    show_progress: bool = False,
    previous: PassageIndex | None = None,
) -> PassageIndex:
    """Cut documents into passages and embed the passages.

    ``previous``: an index built with the same embedder and passage settings; a passage
    it already holds (same document text, same span) keeps its vector, so changing one
    document of many embeds only that document's passages. Nothing is written to disk;
    see :func:`save_index`.
    """
    passages = cut_passages(documents, embedder, settings)
    if show_progress:
        logger.info("embedding %d passages", len(passages))
    vectors = _embed(passages, documents, embedder, previous, show_progress)
    return assemble_index(documents, passages, vectors, model=embedder.name, settings=settings, search=search)


def cut_passages(documents: Sequence[Document], embedder: Embedder, settings: PassageSettings) -> list[Passage]:
    """The passages of ``documents`` as ``settings`` cut them, within the embedder's token limit."""
    return make_passages(
        documents,
        max_tokens=settings.max_tokens,
        overlap=settings.overlap,
        model_max_tokens=embedder.max_tokens,
        count_tokens=count_cl100k,
        count_model_tokens=embedder.count_tokens,
    )


def assemble_index(
    documents: Sequence[Document],
    passages: Sequence[Passage],
    vectors: np.ndarray,
    *,
    model: str,
    settings: PassageSettings,
    search: SearchSettings = DEFAULT_SEARCH,
) -> PassageIndex:
    """An in-memory index of documents and their embedded passages: vector index, BM25, manifest."""
    dimension = int(vectors.shape[1])
    sentences = tuple(s for d in documents for s in d.sentences)
    # Inner product equals cosine similarity on the normalised vectors the embedder returns.
    faiss_index, kind, params = build_vector_index(vectors, search)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=model,
        dimension=dimension,
        passage_settings=settings,
        documents=tuple(DocumentRecord(d.path, d.sha256, len(d.sentences)) for d in documents),
        passages=len(passages),
        sentences=len(sentences),
        index_type=kind,
        search_settings=search,
        index_params=params,
    )
    keywords = KeywordIndex.build([p.text for p in passages])
    return PassageIndex(manifest, tuple(documents), sentences, tuple(passages), faiss_index, keywords)


def _embed(
    passages: Sequence[Passage],
    documents: Sequence[Document],
    embedder: Embedder,
    previous: PassageIndex | None,
    show_progress: bool,
) -> np.ndarray:
    """Passage vectors: reused from ``previous`` where it holds the same passage, else embedded."""
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    known: dict[tuple[str, int, int], int] = {}
    if previous is not None and previous.manifest.dimension == embedder.dimension:
        sha = {d.path: d.sha256 for d in previous.documents}
        known = {(sha[p.document], p.start, p.end): i for i, p in enumerate(previous.passages)}
    sha = {d.path: d.sha256 for d in documents}
    todo: list[int] = []
    for i, passage in enumerate(passages):
        old = known.get((sha[passage.document], passage.start, passage.end))
        if old is None:
            todo.append(i)
        else:
            assert previous is not None
            vectors[i] = previous.faiss_index.reconstruct(old)
    if known:
        logger.info("reusing %d passage vectors; embedding %d", len(passages) - len(todo), len(todo))
    if todo:
        vectors[todo] = embedder.encode([passages[i].text for i in todo], show_progress=show_progress)
    return vectors


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HashingSink:
    """A file-like sink that hashes what passes through it, so big files are hashed as written."""

    def __init__(self, handle: io.BufferedWriter) -> None:
        self._handle = handle
        self._sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        return self._handle.write(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _write_file(path: Path, write: Callable[[_HashingSink], object]) -> str:
    """Write a file through a temporary name, fsync and rename it; return its sha256.

    Readers see the old file or the whole new one. Python's own writes raise on
    a full disk, unlike FAISS's ``write_index`` to a path (RELIABILITY.md).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            sink = _HashingSink(handle)
            write(sink)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return sink.hexdigest()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index directory while writing it."""
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _corpus_bytes(index: PassageIndex) -> bytes:
    """The corpus as one ``.npz``: documents' paths and checksums as JSON, all their text as one
    UTF-8 array, sentence and passage spans as integer arrays.

    Format 2 kept all of it in JSON; parsing its 46,000 small lists was 50 ms of a 0.25 s reopen.
    """
    doc_ids = {d.path: i for i, d in enumerate(index.documents)}
    documents = [
        {"path": d.path, "sha256": d.sha256, "length": len(d.text), **({"pages": list(d.pages)} if d.pages else {})}
        for d in index.documents
    ]
    rows = []
    for p in index.passages:
        first = p.sentence_ids[0]
        if p.sentence_ids != tuple(range(first, first + len(p.sentence_ids))):
            raise ValueError(f"passage {p.id} holds sentences {p.sentence_ids}, not a run; passages are runs")
        rows.append((doc_ids[p.document], first, len(p.sentence_ids), p.start, p.end))
    buffer = io.BytesIO()
    np.savez(
        buffer,
        documents=np.frombuffer(json.dumps(documents, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        text=np.frombuffer("".join(d.text for d in index.documents).encode("utf-8"), dtype=np.uint8),
        sentences=np.array(
            [(doc_ids[s.document], s.index, s.paragraph, s.start, s.end) for s in index.sentences], dtype=np.int64
        ).reshape(-1, 5),
        passages=np.array(rows, dtype=np.int64).reshape(-1, 5),
    )
    return buffer.getvalue()


_CorpusRows = tuple[list[dict[str, Any]], list[str], list[list[int]], list[list[int]]]


def _read_corpus(data: bytes, format_version: int) -> _CorpusRows:
    """Documents' records, texts, sentence rows and passage rows ``(doc, first sentence, count, start, end)``."""
    if format_version == 2:  # JSON, still read so an index built before format 3 opens without re-embedding
        corpus = json.loads(data.decode("utf-8"))
        documents = corpus["documents"]
        passages = [[d, ids[0], len(ids), start, end] for d, ids, start, end in corpus["passages"]]
        return documents, [d["text"] for d in documents], corpus["sentences"], passages
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        documents = json.loads(arrays["documents"].tobytes().decode("utf-8"))
        text = arrays["text"].tobytes().decode("utf-8")
        sentences, passages = arrays["sentences"].tolist(), arrays["passages"].tolist()
    texts, at = [], 0
    for d in documents:
        texts.append(text[at : at + d["length"]])
        at += d["length"]
    if at != len(text):
        raise ValueError("document lengths do not add up to the stored text")
    return documents, texts, sentences, passages


# Every name the store writes: generation files (format 1 also wrote sentence vectors), the
# manifest, the lock, and the temporary files of _write_file. Cleanup deletes only these, so
# a folder shared with anything else never loses a file the store did not write.
_GENERATION = (
    r"(?:corpus\.[0-9a-f]{12}\.(?:npz|json)|passages\.[0-9a-f]{12}\.faiss|keywords\.[0-9a-f]{12}\.npz"
    r"|sentences\.[0-9a-f]{12}\.npy)"
)
_OWN_FILE = re.compile(rf"{_GENERATION}|\.(?:{_GENERATION}|manifest\.json)\.[A-Za-z0-9_]+\.tmp|manifest\.json|\.lock")
_GENERATION_FILE = re.compile(_GENERATION)
_STALE = re.compile(rf"{_GENERATION}|\.(?:{_GENERATION}|manifest\.json)\.[A-Za-z0-9_]+\.tmp")


def _ours(path: Path) -> bool:
    """Whether ``path`` is a manifest this store wrote: JSON holding its format version, model and files."""
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(64 * 2**20))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and {"format_version", "model", "files"} <= data.keys()


def is_store_file(name: str) -> bool:
    """Tell whether a file name is one the index store writes (and may therefore remove)."""
    return _OWN_FILE.fullmatch(name) is not None


def check_index_dir(directory: str | Path) -> None:
    """Refuse a folder that holds other files and is not an index: the store must never share one blindly.

    Raises:
        IndexStoreError: ``directory`` is a file, or holds files the store did not write and no index.
    """
    target = Path(directory).expanduser()
    if target.exists() and not target.is_dir():
        raise IndexStoreError(f"--index-dir {directory} is a file; give a folder for the index")
    for above in target.parents:  # before minutes of embedding: a path that runs through a file
        if above.exists():
            if not above.is_dir():
                raise IndexStoreError(
                    f"the index folder {directory} is under a file ({above}); set QA_HOME or --index-dir to a folder"
                )
            break
    if not target.is_dir():
        return
    try:
        names = [p.name for p in target.iterdir()]
    except OSError as exc:
        raise IndexStoreError(f"cannot read the index folder {directory} ({exc.strerror})") from None
    # A manifest.json is ours by its content, never by its name (a web extension's or a PWA's is
    # not), or by the generation files beside it (a damaged one of ours is rebuilt over).
    if MANIFEST in names and (_ours(target / MANIFEST) or any(_GENERATION_FILE.fullmatch(n) for n in names)):
        return
    others = sorted(n for n in names if not is_store_file(n))
    if MANIFEST in names:
        others.insert(0, MANIFEST)  # first: the file a user would least expect us to take
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise IndexStoreError(
            f"{directory} holds other files ({shown}) and no index; give --index-dir an empty or new folder "
            "(never the documents' own folder)"
        )


def save_index(
    index: PassageIndex, directory: str | Path, *, stamps: Mapping[str, FileStamp | None] | None = None
) -> Manifest:
    """Persist an index into ``directory`` atomically; return the manifest written.

    ``stamps``: the :class:`FileStamp` of each document's file as it was read, by path; with
    them, reopening the index reads no unchanged file (:func:`stamps_match`).

    Files are streamed to new names (no second copy in memory); only the final
    rename of ``manifest.json`` makes them the index, so a failure or a kill
    before it leaves the previous index as it was. Only files the store itself
    writes are ever removed (see :func:`is_store_file`).

    Raises:
        IndexStoreError: ``directory`` holds other files and is not an index.
    """
    import faiss

    target = Path(directory).expanduser()
    check_index_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    generation = secrets.token_hex(6)
    corpus = _corpus_bytes(index)
    keywords = index.keywords.to_bytes()
    writers: dict[str, Callable[[_HashingSink], object]] = {
        f"corpus.{generation}.npz": lambda sink: sink.write(corpus),
        f"keywords.{generation}.npz": lambda sink: sink.write(keywords),
        f"passages.{generation}.faiss": lambda sink: faiss.write_index(
            index.faiss_index,
            faiss.PyCallbackIOWriter(sink.write),  # type: ignore[attr-defined]
        ),
    }
    with _locked(target):
        try:
            files = {name: _write_file(target / name, write) for name, write in writers.items()}
            _fsync_dir(target)
            documents = _stamped(index.manifest.documents, stamps or {})
            # Always the current format: that is what the files just written are.
            manifest = dataclasses.replace(
                index.manifest, format_version=FORMAT_VERSION, files=files, documents=documents
            )
            _write_manifest(target, manifest)  # the commit point
        except BaseException:
            # The manifest still names the old files; drop this generation's. (After a
            # SIGKILL they stay until the next successful save removes them.)
            for name in writers:
                with contextlib.suppress(OSError):
                    (target / name).unlink()
            raise
        _fsync_dir(target)
        # Only now are the old generation's files unreferenced; temp files of a killed save go too.
        for stale in target.iterdir():
            if _STALE.fullmatch(stale.name) and stale.name not in files:
                with contextlib.suppress(OSError):
                    stale.unlink()
    return manifest


def read_manifest(directory: str | Path) -> Manifest:
    """Read and check ``manifest.json`` without loading anything else.

    Raises:
        IndexNotFoundError: The directory has no manifest.
        IndexCorruptError: The manifest is unreadable or of another format.
    """
    path = Path(directory).expanduser() / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"no index in {directory}; build one with `qa index PATH... --index-dir {directory}`"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:  # 100,000 nested brackets: RecursionError
        raise IndexCorruptError(f"{path} is unreadable ({type(exc).__name__}); rebuild with `qa index`") from None
    try:
        manifest = Manifest.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:  # "passages": 1e400
        raise IndexCorruptError(f"{path} is malformed ({type(exc).__name__}); rebuild with `qa index`") from None
    if manifest.format_version not in READABLE_FORMATS:
        raise IndexCorruptError(
            f"{directory} holds index format {manifest.format_version}, this version reads formats "
            f"{' and '.join(map(str, READABLE_FORMATS))}; rebuild with `qa index`"
        )
    return manifest


def _named(directory: Path, manifest: Manifest, prefix: str) -> Path:
    names = [n for n in manifest.files if n.startswith(prefix)]
    if len(names) != 1:
        raise IndexCorruptError(f"{directory}: manifest names no {prefix} file; rebuild with `qa index`")
    return directory / names[0]


def _checked(path: Path, manifest: Manifest, digest: str) -> None:
    if digest != manifest.files[path.name]:
        raise IndexCorruptError(f"{path} fails its checksum; rebuild with `qa index`")


def _open_all(directory: Path, manifest: Manifest, stack: contextlib.ExitStack) -> dict[str, io.BufferedReader]:
    """Every file the manifest names, opened at once, right after the manifest was read.

    An open file stays readable when a save by another process removes it, so the files read are
    the ones this manifest names: the old index or the new one, whole.
    """
    opened: dict[str, io.BufferedReader] = {}
    for name in manifest.files:
        try:
            opened[name] = stack.enter_context((directory / name).open("rb"))
        except FileNotFoundError:
            raise _Vanished(f"{directory / name} is missing; rebuild with `qa index`") from None
        except OSError:
            raise IndexCorruptError(f"{directory / name} is unreadable; rebuild with `qa index`") from None
    return opened


def _read_verified(directory: Path, manifest: Manifest, prefix: str, opened: Mapping[str, io.BufferedReader]) -> bytes:
    """The bytes of a file named in the manifest, checked against its sha256."""
    path = _named(directory, manifest, prefix)
    try:
        data = opened[path.name].read()
    except OSError:
        raise IndexCorruptError(f"{path} is missing or unreadable; rebuild with `qa index`") from None
    _checked(path, manifest, _sha256(data))
    return data


def _verified_path(directory: Path, manifest: Manifest, prefix: str, opened: Mapping[str, io.BufferedReader]) -> Path:
    """The path of a file named in the manifest, hashed in chunks and checked, for a reader that opens it.

    FAISS reads (or maps) the file itself: that is one copy of the vectors, where reading the
    bytes and deserialising them made two (17 ms of a 0.18 s reopen at 11,600 passages).
    Generation files are never rewritten, so the file read is the file checked.
    """
    path = _named(directory, manifest, prefix)
    handle = opened[path.name]
    try:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        raise IndexCorruptError(f"{path} is missing or unreadable; rebuild with `qa index`") from None
    _checked(path, manifest, digest)
    # The open file itself, by its descriptor, where the system names one: a save that removed the
    # path since leaves this file as it was checked.
    by_descriptor = Path(f"/proc/self/fd/{handle.fileno()}")
    return by_descriptor if by_descriptor.exists() else path


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of acyclic objects are made.

    Its generation passes run over every new object and find nothing to free; pausing them took
    loading an 11,601-passage index from 0.20 to 0.14 s. Nothing made here forms a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_index(directory: str | Path, *, model: str | None = None, manifest: Manifest | None = None) -> PassageIndex:
    """Load and verify an index directory.

    Args:
        directory: The index directory.
        model: The model name the caller will embed questions with; when given
            and different from the index's, loading fails instead of comparing
            vectors from two different spaces.
        manifest: Its manifest, when the caller has just read it (:func:`read_manifest`).

    Raises:
        IndexNotFoundError, IndexCorruptError, ModelMismatchError.
    """
    root = Path(directory).expanduser()
    for attempt in range(_LOAD_ATTEMPTS):
        used = manifest or read_manifest(root)
        try:
            with _no_gc():
                return _load_index(directory, model=model, manifest=used)
        except _Vanished:
            # Another process saved in between: the manifest read names files its save has since
            # removed, and the new manifest names a whole new index: load that one.
            fresh = read_manifest(root)
            if attempt == _LOAD_ATTEMPTS - 1 or fresh == used:
                raise
            manifest = fresh
    raise AssertionError("unreachable")


_LOAD_ATTEMPTS = 10


class _Vanished(IndexCorruptError):
    """A file the manifest names is gone: a save by another process replaced the index meanwhile."""


def _load_index(directory: str | Path, *, model: str | None, manifest: Manifest | None) -> PassageIndex:
    root = Path(directory).expanduser()
    manifest = manifest or read_manifest(root)
    if model is not None and model != manifest.model:
        raise ModelMismatchError(
            f"the index in {directory} was built with {manifest.model!r}, not {model!r}; "
            f"rebuild it with `qa index PATH... --index-dir {directory} --model {model}` "
            "or ask without --model"
        )
    with contextlib.ExitStack() as stack:
        opened = _open_all(root, manifest, stack)
        return _assemble(root, directory, manifest, opened)


def _assemble(
    root: Path, directory: str | Path, manifest: Manifest, opened: Mapping[str, io.BufferedReader]
) -> PassageIndex:
    corpus_data = _read_verified(root, manifest, "corpus.", opened)
    try:
        docs_raw, texts, sentence_rows, passage_rows = _read_corpus(corpus_data, manifest.format_version)
    except (ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:  # it passed its checksum
        raise IndexCorruptError(f"{directory}: cannot read the corpus file ({exc}); rebuild with `qa index`") from None
    faiss_path = _verified_path(root, manifest, "passages.", opened)
    try:
        faiss_index = open_vector_index(faiss_path, manifest.index_type, manifest.index_params)
    except (RuntimeError, KeyError) as exc:
        raise IndexCorruptError(f"{directory}: FAISS cannot read the index ({exc}); rebuild it") from None

    paths = [d["path"] for d in docs_raw]
    sentences_by_doc: list[list[Sentence]] = [[] for _ in docs_raw]
    all_sentences: list[Sentence] = []
    for doc_i, idx, paragraph, start, end in sentence_rows:
        sentence = Sentence(paths[doc_i], idx, paragraph, start, end, texts[doc_i][start:end])
        sentences_by_doc[doc_i].append(sentence)
        all_sentences.append(sentence)
    documents = tuple(
        Document(d["path"], texts[i], d["sha256"], tuple(sentences_by_doc[i]), tuple(d.get("pages", ())))
        for i, d in enumerate(docs_raw)
    )
    passages = tuple(
        Passage(i, paths[doc_i], tuple(range(first, first + count)), start, end, texts[doc_i][start:end])
        for i, (doc_i, first, count, start, end) in enumerate(passage_rows)
    )
    counts_ok = (
        len(passages) == manifest.passages == faiss_index.ntotal
        and len(all_sentences) == manifest.sentences
        and faiss_index.d == manifest.dimension
    )
    if not counts_ok:
        raise IndexCorruptError(f"{directory}: vector and text counts disagree; rebuild with `qa index`")
    if any(name.startswith("keywords.") for name in manifest.files):
        keyword_data = _read_verified(root, manifest, "keywords.", opened)
        try:
            keywords = KeywordIndex.from_bytes(keyword_data)
        except ValueError as exc:
            raise IndexCorruptError(f"{directory}: {exc}; rebuild with `qa index`") from None
        if keywords.size != len(passages):
            raise IndexCorruptError(f"{directory}: keyword and passage counts disagree; rebuild with `qa index`")
    else:  # saved before keywords were stored
        keywords = KeywordIndex.build([p.text for p in passages])
    return PassageIndex(manifest, documents, tuple(all_sentences), passages, faiss_index, keywords)


def is_current(
    manifest: Manifest,
    documents: Sequence[Document | Source],
    model: str,
    settings: PassageSettings,
    search: SearchSettings = DEFAULT_SEARCH,
) -> bool:
    """Tell whether an index on disk was built from these documents, model and settings."""
    wanted = tuple((d.path, d.sha256) for d in documents)
    have = tuple((d.path, d.sha256) for d in manifest.documents)
    return have == wanted and built_alike(manifest, model, settings, search)


def built_alike(manifest: Manifest, model: str, settings: PassageSettings, search: SearchSettings) -> bool:
    """Tell whether an index was built with this model and these passage and search settings."""
    return manifest.model == model and manifest.passage_settings == settings and manifest.search_settings == search


def stamps_match(manifest: Manifest, files: Sequence[Path]) -> bool:
    """Tell, from the files' metadata alone, that ``files`` are the documents the index holds, unchanged
    (:func:`~index.documents.files_unchanged`)."""
    return files_unchanged(files, {record.path: record.stamp for record in manifest.documents})


def _stamped(records: Sequence[DocumentRecord], stamps: Mapping[str, FileStamp | None]) -> tuple[DocumentRecord, ...]:
    return tuple(dataclasses.replace(r, stamp=stamps.get(r.path, r.stamp)) for r in records)


def refresh_stamps(directory: str | Path, manifest: Manifest, stamps: Mapping[str, FileStamp | None]) -> Manifest:
    """Record new stamps for documents whose text is unchanged (touched, copied back, just settled).

    Only ``manifest.json`` is rewritten, atomically, and only while it is still ``manifest``:
    an index another process saved meanwhile is left as it is. The next open then needs no
    reading. Returns the manifest on disk.

    Raises:
        OSError: The folder cannot be written (the index still opens, by reading the files).
    """
    updated = dataclasses.replace(manifest, documents=_stamped(manifest.documents, stamps))
    if updated == manifest:
        return manifest
    target = Path(directory).expanduser()
    with _locked(target):
        current = read_manifest(target)
        if current != manifest:
            return current
        _write_manifest(target, updated)
        _fsync_dir(target)
    return updated


def _write_manifest(target: Path, manifest: Manifest) -> None:
    """Replace ``manifest.json`` atomically (:func:`_write_file`)."""
    text = json.dumps(manifest.to_dict(), indent=2).encode("utf-8")
    _write_file(target / MANIFEST, lambda sink: sink.write(text))
