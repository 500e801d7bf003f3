"""Reopening an index: unchanged files are not read, changed ones always are (and only they), older formats
still open."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index import documents
from index.documents import expand_paths
from index.stores.local import load_index, read_manifest
from qa.assistant import Assistant
from tests.conftest import CountingEmbedder

ARTICLES = {
    f"article{i}.txt": f"Article {i} is about river town {i}. Its mayor opened bridge {i} in spring.\n"
    for i in range(4)
}
TICK = 0.05  # past any file system's change-time tick but FAT's; enough for the filesystems tests run on


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every document file read whole from now on."""
    seen: list[Path] = []
    real = documents._read_file

    def counting(path: Path) -> tuple[bytes, os.stat_result]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(documents, "_read_file", counting)
    return seen


@pytest.fixture
def settle(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Let time pass for the stamps: files just written count as settled from then on."""
    return lambda: monkeypatch.setattr(documents, "SETTLED_NS", 0)


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _open(folder: Path, index_dir: Path, embedder: CountingEmbedder | None = None) -> Assistant:
    return Assistant.from_paths(
        folder, index_dir=index_dir, embedder=embedder or CountingEmbedder(), reader="sentence-only"
    )


def _hashed_once_then_trusted(
    open_with: Callable[[CountingEmbedder], object], reads: list[Path], expected: int = len(ARTICLES)
) -> None:
    """The next open reads and hashes ``expected`` files and embeds nothing; the one after reads none."""
    reads.clear()
    embedder = CountingEmbedder()
    open_with(embedder)
    assert len(reads) == expected and embedder.seen == []
    reads.clear()
    open_with(CountingEmbedder())
    assert reads == []


def _rewrite_keeping_mtime(target: Path, text: str) -> None:
    """Rewrite a file as ``cp -p`` would: same size, modification time put back; only the change time moves."""
    before = target.stat()
    time.sleep(TICK)
    assert len(text.encode("utf-8")) == before.st_size
    target.write_text(text, encoding="utf-8")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_an_unchanged_corpus_reopens_without_reading_a_file(
    tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    settle()
    folder = _corpus(tmp_path / "docs")
    built = _open(folder, tmp_path / "index")
    assert len(reads) == len(ARTICLES)
    assert all(record.stamp is not None for record in read_manifest(tmp_path / "index").documents)

    reads.clear()
    embedder = CountingEmbedder()
    reopened = _open(folder, tmp_path / "index", embedder)
    assert reads == [] and embedder.seen == []
    assert reopened.index.documents == built.index.documents
    assert reopened.index.passages == built.index.passages
    assert (
        reopened.answer("Who opened bridge 2?").citation.sentence
        == built.answer("Who opened bridge 2?").citation.sentence
    )


def test_a_file_rewritten_with_its_times_put_back_is_read_again(
    tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    """``cp -p``, ``rsync -t`` and ``touch -r`` keep the modification time; the change time still moves."""
    settle()
    folder = _corpus(tmp_path / "docs")
    _open(folder, tmp_path / "index")
    target = folder / "article1.txt"
    changed = ARTICLES["article1.txt"].replace("river", "canal").replace("spring", "winter")
    _rewrite_keeping_mtime(target, changed)

    reads.clear()
    reopened = _open(folder, tmp_path / "index")
    assert reads == [target.resolve()]  # the others' stamps still hold: taken from the index unread
    assert reopened.index.document(str(target.resolve())).text == changed


def test_a_file_changed_just_now_is_hashed_until_its_times_settle(
    tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    folder = _corpus(tmp_path / "docs")
    _open(folder, tmp_path / "index")  # the files were written a moment ago: no stamps trusted
    assert all(record.stamp is None for record in read_manifest(tmp_path / "index").documents)

    reads.clear()
    _open(folder, tmp_path / "index")
    assert len(reads) == len(ARTICLES)  # read and hashed, not trusted

    settle()  # time passes: hashed, found the same, stamps recorded
    _hashed_once_then_trusted(lambda embedder: _open(folder, tmp_path / "index", embedder), reads)
    assert all(record.stamp is not None for record in read_manifest(tmp_path / "index").documents)


def test_a_touched_file_is_hashed_once_and_nothing_is_embedded(
    tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    settle()
    folder = _corpus(tmp_path / "docs")
    _open(folder, tmp_path / "index")
    os.utime(folder / "article0.txt")
    _hashed_once_then_trusted(lambda embedder: _open(folder, tmp_path / "index", embedder), reads, expected=1)


def test_a_new_or_removed_file_is_noticed_without_its_stamp(
    tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    settle()
    folder = _corpus(tmp_path / "docs")
    _open(folder, tmp_path / "index")
    (folder / "article9.txt").write_text("Article 9 names the ferry Saga.\n", encoding="utf-8")
    reads.clear()
    embedder = CountingEmbedder()
    assert "ferry Saga" in _open(folder, tmp_path / "index", embedder).index.passages[-1].text
    assert reads == [(folder / "article9.txt").resolve()]  # one new file in a folder: one file read
    assert embedder.seen == ["Article 9 names the ferry Saga."]
    (folder / "article9.txt").unlink()
    assert all("Saga" not in p.text for p in _open(folder, tmp_path / "index").index.passages)


def _as_format_2(index_dir: Path) -> None:
    """Rewrite a saved index's corpus as format 2 wrote it (JSON), as an index from before format 3 is."""
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    index = load_index(index_dir)
    doc_ids = {d.path: i for i, d in enumerate(index.documents)}
    corpus = {
        "documents": [{"path": d.path, "sha256": d.sha256, "text": d.text} for d in index.documents],
        "sentences": [[doc_ids[s.document], s.index, s.paragraph, s.start, s.end] for s in index.sentences],
        "passages": [[doc_ids[p.document], list(p.sentence_ids), p.start, p.end] for p in index.passages],
    }
    old_name = next(n for n in manifest["files"] if n.startswith("corpus."))
    new_name = old_name.replace(".npz", ".json")
    data = json.dumps(corpus).encode("utf-8")
    (index_dir / new_name).write_bytes(data)
    (index_dir / old_name).unlink()
    del manifest["files"][old_name]
    manifest["files"][new_name] = hashlib.sha256(data).hexdigest()
    manifest["format_version"] = 2
    for record in manifest["documents"]:
        del record["stamp"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_an_index_of_format_2_opens_without_embedding_and_is_rewritten_in_format_3_on_change(
    tmp_path: Path, settle: Callable[[], None]
) -> None:
    settle()
    folder = _corpus(tmp_path / "docs")
    built = _open(folder, tmp_path / "index")
    _as_format_2(tmp_path / "index")

    embedder = CountingEmbedder()
    old = _open(folder, tmp_path / "index", embedder)
    assert embedder.seen == []
    assert old.index.documents == built.index.documents and old.index.passages == built.index.passages
    assert read_manifest(tmp_path / "index").format_version == 2  # stamps recorded, nothing else rewritten

    (folder / "article3.txt").write_text("Article 3 now names the lighthouse keeper Marta.\n", encoding="utf-8")
    embedder = CountingEmbedder()
    new = _open(folder, tmp_path / "index", embedder)
    assert embedder.seen == ["Article 3 now names the lighthouse keeper Marta."]  # the others' vectors kept
    assert read_manifest(tmp_path / "index").format_version == 3
    assert sorted(p.name.split(".")[-1] for p in (tmp_path / "index").glob("corpus.*")) == ["npz"]
    reloaded = load_index(tmp_path / "index")
    assert reloaded.passages == new.index.passages and reloaded.documents == new.index.documents
    vectors = [reloaded.faiss_index.reconstruct(i) for i in range(reloaded.faiss_index.ntotal)]
    np.testing.assert_array_equal(vectors, [new.index.faiss_index.reconstruct(i) for i in range(len(vectors))])


def test_paths_come_back_resolved_and_in_path_order(tmp_path: Path) -> None:
    """Folders are resolved once, not each file; the result must equal resolving each file."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c.txt").write_text("C.", encoding="utf-8")
    (tmp_path / "b-c.txt").write_text("B-C.", encoding="utf-8")  # '-' sorts before '/' as text, after as a path
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "t.txt").write_text("T.", encoding="utf-8")
    (tmp_path / "b" / "link.txt").symlink_to(tmp_path / "real" / "t.txt")
    (tmp_path / "b" / "folder-link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "b" / ".hidden.txt").write_text("H.", encoding="utf-8")

    named = [tmp_path / "b-c.txt", tmp_path / "b" / ".." / "b" / "c.txt", tmp_path / "b" / "link.txt"]
    assert expand_paths(named) == sorted({p.resolve() for p in named})
    walked = expand_paths([tmp_path / "b", tmp_path / "b-c.txt"])
    assert (
        walked
        == sorted(walked)
        == [
            (tmp_path / "b" / "c.txt").resolve(),
            (tmp_path / "b-c.txt").resolve(),
            (tmp_path / "real" / "t.txt").resolve(),  # the link's target; the linked folder is not walked
        ]
    )


@pytest.mark.slow
def test_a_postgresql_store_opened_with_unchanged_files_reads_none(
    pg_url: str, tmp_path: Path, reads: list[Path], settle: Callable[[], None]
) -> None:
    import psycopg

    settle()
    folder = _corpus(tmp_path / "docs")

    def open_store(embedder: CountingEmbedder | None = None) -> Assistant:
        return Assistant.from_paths(
            folder, store=pg_url, embedder=embedder or CountingEmbedder(), reader="sentence-only"
        )

    built = open_store()
    assert len(reads) == len(ARTICLES)
    reads.clear()
    embedder = CountingEmbedder()
    again = open_store(embedder)
    assert reads == [] and embedder.seen == []
    question = "Who opened bridge 2?"
    assert again.answer(question).citation.sentence == built.answer(question).citation.sentence

    os.utime(folder / "article0.txt")  # touched: every file hashed once, nothing embedded, stamp recorded
    _hashed_once_then_trusted(open_store, reads)

    changed = ARTICLES["article1.txt"].replace("river", "canal")  # read again, and only it re-embedded
    _rewrite_keeping_mtime(folder / "article1.txt", changed)
    embedder = CountingEmbedder()
    open_store(embedder)
    assert embedder.seen == [changed.strip()]

    with psycopg.connect(pg_url, autocommit=True) as connection:  # a store made before file stamps
        connection.execute("ALTER TABLE qa_documents DROP COLUMN stamp")
    _hashed_once_then_trusted(open_store, reads)  # the column comes back with the stamps
