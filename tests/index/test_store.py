from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.documents import make_document
from index.stores import local as store
from index.stores.local import PassageSettings, build_index, is_current, load_index, read_manifest, save_index
from qa.errors import IndexCorruptError, IndexNotFoundError, ModelMismatchError
from tests.conftest import ROOT, HashEmbedder

DOC_A = make_document("a.txt", "Iran fired missiles at two bases. Nobody was hurt. Trump spoke later.")
DOC_B = make_document("b.txt", "Paris is the capital of France. It has many museums.")


def build(embedder: HashEmbedder, docs=(DOC_A,)):  # type: ignore[no-untyped-def]
    return build_index(list(docs), embedder, settings=PassageSettings(max_tokens=12, overlap=1))


def test_roundtrip_keeps_everything(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    index = build(hash_embedder, (DOC_A, DOC_B))
    manifest = save_index(index, tmp_path)
    loaded = load_index(tmp_path, model=hash_embedder.name)
    assert loaded.manifest == manifest == read_manifest(tmp_path)
    assert loaded.documents == index.documents
    assert loaded.sentences == index.sentences and loaded.passages == index.passages
    query = hash_embedder.encode(["Paris museums"])[0]
    assert loaded.search(query, 3) == index.search(query, 3)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["format_version"] == store.FORMAT_VERSION and data["model"] == hash_embedder.name
    assert data["dimension"] == 64 and [d["sha256"] for d in data["documents"]] == [DOC_A.sha256, DOC_B.sha256]


def test_search_never_returns_padding_labels(hash_embedder: HashEmbedder) -> None:
    index = build(hash_embedder)
    hits = index.search(hash_embedder.encode(["missiles"])[0], 50)  # more than there are passages
    assert len(hits) == len(index.passages) and all(0 <= pid < len(index.passages) for pid, _ in hits)


def test_search_checks_dimension(hash_embedder: HashEmbedder) -> None:
    with pytest.raises(ValueError, match="dimension"):
        build(hash_embedder).search(np.zeros(3, dtype=np.float32), 1)


def test_flat_search_matches_brute_force(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    embedder = HashEmbedder()
    index = build(embedder, (DOC_A, DOC_B))
    vectors = np.stack([index.faiss_index.reconstruct(i) for i in range(len(index.passages))])
    for _ in range(20):
        q = rng.standard_normal(64).astype(np.float32)
        q /= np.linalg.norm(q)
        expected = list(np.argsort(-(vectors @ q))[:3])
        assert [pid for pid, _ in index.search(q, 3)] == expected


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="qa index"):
        load_index(tmp_path)


def test_model_mismatch(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    save_index(build(hash_embedder), tmp_path)
    with pytest.raises(ModelMismatchError, match="built with 'test/hash-embedder'"):
        load_index(tmp_path, model="sentence-transformers/all-MiniLM-L6-v2")


@pytest.mark.parametrize("prefix", ["corpus.", "passages.", "keywords."])
@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "delete"])
def test_damaged_files_are_detected(tmp_path: Path, hash_embedder: HashEmbedder, prefix: str, damage: str) -> None:
    save_index(build(hash_embedder), tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.name.startswith(prefix))
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "append":
        path.write_bytes(bytes(data) + b"\x00junk")
    else:
        path.unlink()
    with pytest.raises(IndexCorruptError, match="rebuild"):
        load_index(tmp_path)


@pytest.mark.parametrize("content", ["", "{", '{"format_version": 1}', '{"format_version": 99, "model": "m"}'])
def test_bad_manifest(tmp_path: Path, content: str) -> None:
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(IndexCorruptError):
        load_index(tmp_path)


def test_failed_write_leaves_previous_index_usable(
    tmp_path: Path, hash_embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build(hash_embedder)
    save_index(old, tmp_path)
    new = build(hash_embedder, (DOC_A, DOC_B))
    real_write = store._write_file

    def failing_write(path: Path, write):  # type: ignore[no-untyped-def]
        if path.name == "manifest.json":
            raise OSError(28, "No space left on device")
        return real_write(path, write)

    monkeypatch.setattr(store, "_write_file", failing_write)
    with pytest.raises(OSError, match="No space"):
        save_index(new, tmp_path)
    monkeypatch.undo()
    loaded = load_index(tmp_path)
    assert [d.path for d in loaded.documents] == ["a.txt"]
    save_index(new, tmp_path)  # the next write succeeds and cleans up
    assert [d.path for d in load_index(tmp_path).documents] == ["a.txt", "b.txt"]
    left = sorted(p.name.split(".")[0] for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert left == ["corpus", "keywords", "manifest", "passages"]  # one generation, the new one


WRITER = """
import sys
sys.path.insert(0, {root!r})
from tests.conftest import HashEmbedder
from index.documents import make_document
from index.stores.local import build_index, save_index
docs = [make_document(f"d{{i}}.txt", "Words here. " * 2000 + f"Doc {{i}}.") for i in range(3)]
index = build_index(docs, HashEmbedder())
print("ready", flush=True)
while True:
    save_index(index, sys.argv[1])
"""


@pytest.mark.slow
def test_killed_writer_never_corrupts_the_index(tmp_path: Path, hash_embedder: HashEmbedder) -> None:
    """Kill a process at random points while it rewrites the index (as Qdrant's CI does)."""
    save_index(build(hash_embedder), tmp_path)
    rng = np.random.default_rng(3)
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER.format(root=str(ROOT)), str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        loaded = load_index(tmp_path)  # old or new, never broken
        assert len(loaded.documents) in (1, 3)


@pytest.mark.slow
def test_an_index_loaded_while_another_process_saves_is_the_old_or_the_new_one_whole(
    tmp_path: Path, hash_embedder: HashEmbedder
) -> None:
    """Saves replace every file of the index; a load in between gets one whole index, never an error."""
    save_index(build(hash_embedder), tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(root=str(ROOT)), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        seen: set[int] = set()
        deadline = time.monotonic() + 4
        loads = 0
        while time.monotonic() < deadline:
            loaded = load_index(tmp_path)  # raises on a half-replaced index
            assert loaded.manifest.sentences == len(loaded.sentences)
            seen.add(len(loaded.documents))
            loads += 1
        assert loads > 20 and 3 in seen, (loads, seen)
    finally:
        writer.kill()
        writer.wait()


def test_is_current(hash_embedder: HashEmbedder) -> None:
    index = build(hash_embedder)
    settings = PassageSettings(max_tokens=12, overlap=1)
    assert is_current(index.manifest, [DOC_A], hash_embedder.name, settings)
    changed = make_document("a.txt", DOC_A.text + " One more.")
    assert not is_current(index.manifest, [changed], hash_embedder.name, settings)
    assert not is_current(index.manifest, [DOC_A], "other-model", settings)
    assert not is_current(index.manifest, [DOC_A], hash_embedder.name, PassageSettings(max_tokens=64))
