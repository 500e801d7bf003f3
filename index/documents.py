"""Documents and their sentences, each with its exact character span.

A :class:`Document` keeps the text exactly as read from the file (for HTML,
the text extracted from it), and its :class:`Sentence` objects keep
``start``/``end`` offsets into that text: ``document.text[s.start:s.end] ==
s.text`` holds for every sentence. Boilerplate such as "IE 11 is not
supported" is never removed from the text (that would shift offsets); its
sentences are simply not produced, so they can never be cited.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.errors import (
    ConfigError,
    DocumentNotFoundError,
    DocumentTooLargeError,
    EmptyDocumentError,
    NoDocumentsError,
    UnreadableDocumentError,
)
from index.readers.box import ReadLimits, box_for
from index.readers.html import html_to_text as html_to_text  # where callers found it before
from index.readers.pdf import page_at
from index.readers.text import decode, normalise
from index.sentences import blocks, split_sentences
from index.text import storable

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

# Paragraphs that are page furniture rather than article content. A paragraph
# is dropped only when it is short and matches one of these, so a long article
# paragraph that mentions a browser is kept.
BOILERPLATE_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:IE|Internet Explorer)\s*\d*\s+is not supported",
        r"\bvisit our site on another browser\b",
        r"\b(?:update|upgrade) your browser\b",
        r"\bthis site uses cookies\b|\baccept (?:all )?cookies\b",
        r"\bsign up for (?:our|the) newsletter\b|\bsubscribe to our newsletter\b",
        r"^\s*advertisement\s*$",
        r"^\s*(?:share|tweet|email|print)(?:\s+this(?: article| story)?)?\s*$",
        r"\bclick here to\b",
        r"\benable javascript\b|\bjavascript is (?:disabled|required)\b",
    )
)
BOILERPLATE_MAX_CHARS = 300


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document.

    Attributes:
        document: Path of the document it belongs to.
        index: Position of the sentence within its document (0-based).
        paragraph: Position of its paragraph within the document (0-based).
        start: Offset of its first character in the document text.
        end: Offset just past its last character.
        text: ``document_text[start:end]``.
    """

    document: str
    index: int
    paragraph: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Document:
    """A document: its path, its text as read, its checksum and its sentences."""

    path: str
    text: str
    sha256: str
    sentences: tuple[Sentence, ...]
    pages: tuple[int, ...] = ()  # a PDF's: the offset in ``text`` where each page begins

    @property
    def name(self) -> str:
        """The file name, for display."""
        return Path(self.path).name

    def page_at(self, offset: int) -> int | None:
        """The 1-based page of a PDF that holds ``text[offset]``; None for documents without pages."""
        return page_at(self.pages, offset)


@dataclass(frozen=True)
class DocumentSummary:
    """What a list of documents shows: the path and the size, without the text."""

    path: str
    sentences: int
    characters: int

    @property
    def name(self) -> str:
        """The file name, for display."""
        return Path(self.path).name


def is_boilerplate(paragraph: str) -> bool:
    """Tell whether a paragraph is page furniture that must never be cited."""
    if len(paragraph) > BOILERPLATE_MAX_CHARS:
        return False
    return any(p.search(paragraph) for p in BOILERPLATE_PATTERNS)


def _markdown_content_spans(text: str) -> Iterable[tuple[int, int]]:
    """Yield the spans of Markdown paragraphs to split, skipping code and markers.

    Block markers (``#``, ``>``, ``-``, ``1.``) are excluded from the span so a
    cited heading or list item reads as text, while offsets stay exact. Lines
    of one wrapped paragraph form one span.
    """
    in_fence = False
    offset = 0
    current: tuple[int, int] | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        marker = re.match(r"[ \t]*(?:#{1,6}[ \t]+|>[ \t]*|[-*+][ \t]+|\d+[.)][ \t]+)+", line)
        breaks = (
            not stripped
            or in_fence
            or stripped.startswith(("```", "~~~"))
            or marker is not None
            or re.fullmatch(r"(?:[-*_=][ \t]*){3,}", stripped) is not None
        )
        if breaks and current:
            yield current
            current = None
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        elif stripped and not in_fence and not re.fullmatch(r"(?:[-*_=][ \t]*){3,}", stripped):
            start = offset + (marker.end() if marker else len(line) - len(line.lstrip()))
            end = offset + len(line.rstrip())
            if start < end:
                current = (current[0], end) if current else (start, end)
                if stripped.startswith("#"):
                    yield current  # a heading is a paragraph of its own
                    current = None
        offset += len(line)
    if current:
        yield current


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_document(
    path: str, text: str, *, markdown: bool = False, sha256: str | None = None, pages: Sequence[int] = ()
) -> Document:
    """Split a text into sentences and wrap it as a :class:`Document`.

    Args:
        path: The name the document is cited under.
        text: The full text; offsets refer to it.
        markdown: Treat the text as Markdown (skip code fences and block markers).
        sha256: The text's checksum, when the caller has it already.
        pages: For a PDF's text, the offset where each page begins.

    Raises:
        EmptyDocumentError: No sentence is left after boilerplate removal.
    """
    text = storable(text)
    regions = _markdown_content_spans(text) if markdown else blocks(text)
    sentences: list[Sentence] = []
    paragraph = 0
    for region_start, region_end in regions:
        if is_boilerplate(text[region_start:region_end]):
            continue
        for start, end in split_sentences(text, region_start, region_end):
            sentences.append(Sentence(path, len(sentences), paragraph, start, end, text[start:end]))
        paragraph += 1
    if not sentences:
        raise EmptyDocumentError(
            f"{path}: no article text found (the file is empty or only page boilerplate); "
            "pass a document with some sentences"
        )
    return Document(
        path=path, text=text, sha256=sha256 or _sha256(text), sentences=tuple(sentences), pages=tuple(pages)
    )


MAX_DOCUMENT_BYTES = 20 * 2**20
"""Largest file read (20 MiB, about 4 million words: some hours of embedding on two cores)."""


def read_text(path: Path) -> str:
    """Read a text file (see :func:`index.readers.text.decode`), refusing binary and oversized files."""
    return normalise(decode(read_bytes(path), str(path)))


def read_bytes(path: Path) -> bytes:
    """A document's bytes, refusing oversized files and saying why a file cannot be read."""
    return _read_file(path)[0]


def _only_regular(path: Path, mode: int) -> None:
    """Refuse a directory, a pipe, a device or a socket by its mode."""
    if stat.S_ISDIR(mode):
        raise DocumentNotFoundError(f"{path}: is a directory, not a document")
    if not stat.S_ISREG(mode):
        raise UnreadableDocumentError(
            f"{path}: is not a regular file (a pipe, device or socket); save its content to a file and give that"
        )


def _read_file(path: Path) -> tuple[bytes, os.stat_result]:
    """A document's bytes and its metadata, taken before the bytes: a write during the read changes it.

    Only a regular file is read (a FIFO would block until a writer came, a device like /dev/zero
    never ends), and never more than the size limit, whatever the size it reports (/proc files say 0).
    """
    try:
        mode = os.stat(path).st_mode
        _only_regular(path, mode)
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (if one replaced
        # the file since the check above).
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (DocumentNotFoundError, UnreadableDocumentError):
        raise
    except FileNotFoundError:
        raise DocumentNotFoundError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise UnreadableDocumentError(f"{path}: cannot be read ({exc.strerror})") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        _only_regular(path, info.st_mode)
    with os.fdopen(descriptor, "rb") as handle:
        too_large = DocumentTooLargeError(
            f"{path}: over the {MAX_DOCUMENT_BYTES // 2**20} MiB limit for one document; split it into smaller files"
        )
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise too_large
        try:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise UnreadableDocumentError(f"{path}: cannot be read ({exc.strerror})") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise too_large
    return data, info


# A file changed this soon after its last change may still be in the same timestamp tick
# (a jiffy on ext4, 2 s on FAT), so an edit of the same size could keep the same times.
SETTLED_NS = 3 * 10**9


@dataclass(frozen=True)
class FileStamp:
    """A file's size, times and inode when it was read: the same stamp later means the same bytes.

    This is git's index check. The change time is part of it because nobody can set it: a tool
    that rewrites a file and restores its modification time (``touch -r``, ``cp -p``, ``rsync -t``)
    still moves the change time, so the file is read again.
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileStamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)

    @classmethod
    def settled(cls, info: os.stat_result, now_ns: int | None = None) -> FileStamp | None:
        """The stamp, or ``None`` while the file changed too recently for its times to tell edits apart."""
        now = time.time_ns() if now_ns is None else now_ns
        if now - max(info.st_mtime_ns, info.st_ctime_ns) < SETTLED_NS:
            return None
        return cls.of(info)


@dataclass(frozen=True)
class Source:
    """A document read and hashed but not yet split: enough to tell whether an index is current.

    Splitting is most of the cost of loading a document, and an index that is current
    already holds every sentence, so reopening one splits nothing (:func:`read_sources`).
    """

    path: str
    text: str
    sha256: str
    markdown: bool
    pages: tuple[int, ...] = ()
    stamp: FileStamp | None = None  # the file's, when read and settled (see FileStamp.settled)

    def split(self) -> Document:
        """The document with its sentences (:func:`make_document`)."""
        return make_document(self.path, self.text, markdown=self.markdown, sha256=self.sha256, pages=self.pages)


def read_source(path: str | Path, *, limits: ReadLimits | None = None) -> Source:
    """Read one document from disk, without splitting it (see :func:`load_document`)."""
    file = Path(path).expanduser()
    if not file.exists():
        raise DocumentNotFoundError(f"{path}: no such file or directory; check the path")
    return _read_resolved(file.resolve(), limits)


def files_unchanged(files: Sequence[Path], stamps: Mapping[str, FileStamp | None]) -> bool:
    """Tell, from the files' metadata alone, that ``files`` are exactly the files of ``stamps``, unchanged.

    ``stamps`` maps each path a store holds to the :class:`FileStamp` it recorded; a path
    recorded without one (never read while settled) fails, and the caller reads and hashes.
    """
    if len(files) != len(stamps):
        return False
    for file in files:
        recorded = stamps.get(str(file))
        if recorded is None:
            return False
        try:
            info = os.stat(file)
        except OSError:
            return False
        if FileStamp.of(info) != recorded:
            return False
    return True


def _read_resolved(file: Path, limits: ReadLimits | None = None) -> Source:
    data, info = _read_file(file)
    stamp = FileStamp.settled(info)
    read = box_for(limits).extract(data, str(file), file.suffix.lower())
    if read.pages:
        # The pages are part of what is cited: a new layout of the same text is a new document.
        digest = _sha256(read.text + "\x00" + ",".join(map(str, read.pages)))
        return Source(str(file), read.text, digest, False, read.pages, stamp)
    return Source(str(file), read.text, _sha256(read.text), markdown=read.markdown, stamp=stamp)


def load_document(path: str | Path, *, limits: ReadLimits | None = None) -> Document:
    """Read one document from disk and split it into sentences.

    The document's ``path`` is the absolute path, so a citation opens from any
    working directory. For ``.txt`` and ``.md`` files, ``document.text`` is
    the file content (UTF-8, line endings normalised to ``\\n``); for HTML it
    is the visible text extracted from the page.

    Raises:
        DocumentNotFoundError: The path does not exist.
        UnreadableDocumentError: The file is binary.
        DocumentTooLargeError: The file is over ``MAX_DOCUMENT_BYTES``.
        EmptyDocumentError: The file has no article text.
    """
    return read_source(path, limits=limits).split()


def _walk(root: str) -> list[str]:
    """Supported files under ``root``, resolved, hidden files and folders skipped.

    An unreadable subfolder is an error, as an unreadable file is: indexing
    part of what was asked for, silently, would answer from the wrong corpus.
    Symbolic links to folders are not followed; links to files are, to their
    targets. Only links are resolved one by one: below a resolved folder, a
    plain entry's path is already resolved.
    """
    found: list[str] = []
    pending = [os.path.realpath(root)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            raise UnreadableDocumentError(
                f"{exc.filename}: cannot be read ({exc.strerror}); fix its permissions or leave it out"
            ) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in SUPPORTED_SUFFIXES and entry.is_file():
                    found.append(os.path.realpath(entry.path) if entry.is_symlink() else entry.path)
            except OSError:  # vanished while listed
                continue
    return found


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Turn files and directories into a sorted list of resolved document files.

    A directory contributes its supported files (recursively, hidden ones
    skipped). A file named directly is always used, whatever its suffix.

    Works on strings and resolves each folder once, not each file: pathlib and
    per-file ``resolve()`` took 44 ms of a 0.25 s reopen of 1,439 files.

    Raises:
        DocumentNotFoundError: A path does not exist.
        UnreadableDocumentError: A subfolder cannot be listed (as a file that cannot be read).
        NoDocumentsError: No document was found at all.
    """
    files: set[str] = set()
    folders: dict[str, str] = {}
    for raw in paths:
        if not isinstance(raw, (str, os.PathLike)):
            raise ConfigError(f"a document path must be a str or a pathlib.Path, not {type(raw).__name__}")
        path = os.path.expanduser(os.fspath(raw))
        try:
            info = os.lstat(path)
            link = stat.S_ISLNK(info.st_mode)
            if link:
                info = os.stat(path)
        except OSError:
            raise DocumentNotFoundError(f"{raw}: no such file or directory; check the path") from None
        if stat.S_ISDIR(info.st_mode):
            found = _walk(path)
            if not found:
                raise NoDocumentsError(
                    f"{raw}: no readable documents in this directory (looked for {', '.join(SUPPORTED_SUFFIXES)})"
                )
            files.update(found)
            continue
        folder, name = os.path.split(path)
        if link or name in ("", ".", ".."):
            files.add(os.path.realpath(path))
        else:  # not a link itself: its resolved folder joined with its name is its resolved path
            if folder not in folders:
                folders[folder] = os.path.realpath(folder or ".")
            files.add(os.path.join(folders[folder], name))
    files = _utf8_named(files, named={os.path.realpath(os.path.expanduser(os.fspath(p))) for p in paths})
    if not files:
        raise NoDocumentsError("no documents given; pass at least one .txt, .md, .html, .pdf or .docx file")
    # Ordered as Path objects order (by component), which corpus order and sentence ids follow.
    return [Path(f) for f in sorted(files, key=lambda f: f.split(os.sep))]


def shown_path(path: str) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8_named(files: set[str], named: set[str]) -> set[str]:
    """Files whose paths are UTF-8 (what JSON, PostgreSQL and a citation can carry).

    A file named directly with a path that is not is refused in one line; one found in a folder is
    left out with a warning, and the rest of the folder is read.

    Raises:
        UnreadableDocumentError: A file given by name has a path that is not UTF-8.
    """
    kept: set[str] = set()
    for file in files:
        try:
            file.encode("utf-8")
        except UnicodeEncodeError:
            if file in named:
                raise UnreadableDocumentError(
                    f"{shown_path(file)}: the file name is not UTF-8; rename the file (its text can be anything)"
                ) from None
            logger.warning("%s: left out, its name is not UTF-8; rename it to index it", shown_path(file))
            continue
        kept.add(file)
    return kept


def read_sources(paths: Sequence[str | Path], *, limits: ReadLimits | None = None) -> list[Source]:
    """Read every document under ``paths`` (files or directories), without splitting them.

    A file whose text is identical to one already read is skipped with a
    warning: two copies would fill the top passages with the same sentences.
    """
    return read_files(expand_paths(paths), limits=limits)


def read_files(files: Sequence[Path], *, show_progress: bool = False, limits: ReadLimits | None = None) -> list[Source]:
    """Read resolved document files (:func:`expand_paths`), skipping repeated texts (:func:`read_sources`).

    Each file is parsed in the reading box (:mod:`index.readers.box`) under ``limits`` (the
    defaults when None).
    """
    from tqdm import tqdm

    # A bar only where there is something to wait for: a folder of a few files reads in a blink.
    quiet = not show_progress or len(files) < PROGRESS_MIN_FILES
    return _each_text_once(
        _read_resolved(path, limits) for path in tqdm(files, desc="reading documents", unit="file", disable=quiet)
    )


_Read = TypeVar("_Read", Source, Source | Document)


def _each_text_once(items: Iterable[_Read]) -> list[_Read]:
    """``items`` in order, each text once: a later file with a text already seen is skipped with a warning
    (two copies would fill the top passages with the same sentences)."""
    kept: list[_Read] = []
    seen: dict[str, str] = {}
    for item in items:
        if item.sha256 in seen:
            logger.warning("%s has the same text as %s; indexing it once", item.path, seen[item.sha256])
            continue
        seen[item.sha256] = item.path
        kept.append(item)
    return kept


def read_changed(
    files: Sequence[Path],
    known: Mapping[str, tuple[FileStamp, Document]],
    *,
    show_progress: bool = False,
    limits: ReadLimits | None = None,
) -> list[Source | Document]:
    """Like :func:`read_files`, but a file whose stamp is one ``known`` recorded (by path) is not read:
    the document ``known`` holds for it is returned instead, already split.

    One new file in a folder of thousands (a chat upload beside a served folder, ``qa index DIR``
    again) then reads one file, not thousands; the stamp is the same check that lets an unchanged
    index open without reading anything (:func:`files_unchanged`). Repeated texts are skipped as by
    :func:`read_files`, the first in ``files`` kept.
    """
    from tqdm import tqdm

    unchanged: dict[Path, Document] = {}
    for file in files:
        entry = known.get(str(file))
        if entry is None:
            continue
        try:
            if FileStamp.of(os.stat(file)) == entry[0]:
                unchanged[file] = entry[1]
        except OSError:
            continue  # gone or unreadable: reading it says which
    to_read = sum(f not in unchanged for f in files)
    quiet = not show_progress or to_read < PROGRESS_MIN_FILES
    with tqdm(total=to_read, desc="reading documents", unit="file", disable=quiet) as bar:

        def each(file: Path) -> Source | Document:
            if file in unchanged:
                return unchanged[file]
            source = _read_resolved(file, limits)
            bar.update(1)
            return source

        return _each_text_once(each(file) for file in files)


PROGRESS_MIN_FILES = 50


def load_documents(paths: Sequence[str | Path], *, limits: ReadLimits | None = None) -> list[Document]:
    """Load and split every document under ``paths`` (see :func:`read_sources`)."""
    return [source.split() for source in read_sources(paths, limits=limits)]
