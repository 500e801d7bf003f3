"""Index kinds (flat, IVF, HNSW), their manifest record, memory-mapped loading, streamed writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.documents import make_document
from index.stores import local as store
from index.stores import vectors as vector_index
from index.stores.local import PassageSettings, build_index, is_current, load_index, save_index
from index.stores.vectors import SearchSettings, build_vector_index, ivf_lists
from qa.errors import ConfigError, IndexCorruptError
from tests.conftest import HashEmbedder

SETTINGS = PassageSettings(max_tokens=12, overlap=0)
TEXT = " ".join(f"Sentence number {i} talks about topic {i % 7} and item {i * 13 % 29}." for i in range(120))
DOCS = [make_document("many.txt", TEXT)]


def unit_vectors(n: int, seed: int = 0, d: int = 32) -> np.ndarray:
    """Points around 40 topics, as text embeddings cluster (uniform noise has no neighbours to find)."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(99).standard_normal((40, d))
    x = (topics[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, d))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_each_kind_is_recorded_saved_and_reloaded(tmp_path: Path, kind: str) -> None:
    embedder = HashEmbedder()
    index = build_index(DOCS, embedder, settings=SETTINGS, search=SearchSettings(kind=kind))
    assert index.manifest.index_type == kind
    save_index(index, tmp_path)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["index_type"] == kind and data["search_settings"]["kind"] == kind
    loaded = load_index(tmp_path)
    assert loaded.manifest.index_params == index.manifest.index_params
    query = embedder.encode(["topic 3 item 5"])[0]
    assert loaded.search(query, 5) == index.search(query, 5)
    # Every kind can give back a passage's vector (the retriever scores BM25-only hits with it).
    assert np.allclose(loaded.faiss_index.reconstruct(3), embedder.encode([loaded.passages[3].text])[0], atol=1e-6)


def test_auto_is_exact_up_to_the_threshold_then_ivf() -> None:
    assert SearchSettings().resolve(50_000) == "flat"
    assert SearchSettings().resolve(50_001) == "ivf"
    assert SearchSettings(kind="hnsw").resolve(10) == "hnsw"
    index = build_index(DOCS, HashEmbedder(), settings=SETTINGS, search=SearchSettings(flat_max=10))
    assert len(index.passages) > 10 and index.manifest.index_type == "ivf"


def test_approximate_kinds_find_what_exact_search_finds() -> None:
    vectors, queries = unit_vectors(4000), unit_vectors(50, seed=1)
    exact, _, _ = build_vector_index(vectors, SearchSettings(kind="flat"))
    _, truth = exact.search(queries, 10)
    for kind in ("ivf", "hnsw"):
        index, built, params = build_vector_index(vectors, SearchSettings(kind=kind))
        _, found = index.search(queries, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
        assert built == kind and recall >= 0.9, (kind, params, recall)


def test_ivf_list_count_leaves_enough_training_points() -> None:
    assert ivf_lists(1_000_000) == 2000
    assert ivf_lists(100) == 2  # 2 * sqrt(100) = 20 lists would train on 5 points each
    assert ivf_lists(5) == 1


def test_changing_the_index_type_makes_the_index_stale() -> None:
    index = build_index(DOCS, HashEmbedder(), settings=SETTINGS)
    assert is_current(index.manifest, DOCS, "test/hash-embedder", SETTINGS, SearchSettings())
    assert not is_current(index.manifest, DOCS, "test/hash-embedder", SETTINGS, SearchSettings(kind="hnsw"))


def test_bad_search_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="index type"):
        SearchSettings(kind="annoy")
    with pytest.raises(ConfigError):
        SearchSettings(nprobe=0)


def test_manifests_from_before_index_types_still_load(tmp_path: Path) -> None:
    save_index(build_index(DOCS, HashEmbedder(), settings=SETTINGS), tmp_path)
    path = tmp_path / "manifest.json"
    data = json.loads(path.read_text())
    data["index_type"] = "flat-ip"
    del data["search_settings"], data["index_params"]
    path.write_text(json.dumps(data))
    loaded = load_index(tmp_path)
    assert loaded.manifest.index_type == "flat" and loaded.manifest.search_settings == SearchSettings()


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_large_files_are_memory_mapped_and_still_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    save_index(build_index(DOCS, HashEmbedder(), settings=SETTINGS, search=SearchSettings(kind=kind)), tmp_path)
    monkeypatch.setattr(vector_index, "MMAP_MIN_BYTES", 0)
    loaded = load_index(tmp_path)
    query = HashEmbedder().encode(["topic 3"])[0]
    assert loaded.search(query, 3)
    faiss_file = next(tmp_path.glob("passages.*"))
    data = bytearray(faiss_file.read_bytes())
    data[-10] ^= 0x01
    # The damaged copy replaces the file (a new inode), as the store's own writes do: truncating a file
    # that `loaded` still maps would make any touch of the mapping a SIGBUS (it crashed a run under load).
    damaged = faiss_file.with_name("damaged.tmp")
    damaged.write_bytes(bytes(data))
    damaged.replace(faiss_file)
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_index(tmp_path)
    del loaded


def test_a_write_that_fails_midway_leaves_the_old_index_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk in the middle of the FAISS file: the old index stays, temporary files go."""
    embedder = HashEmbedder()
    old = build_index(DOCS[:1], embedder, settings=SETTINGS)
    save_index(old, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    sinks: dict[int, int] = {}  # sink -> bytes written; files are written corpus, FAISS, vectors
    real_write = store._HashingSink.write

    def filling_write(self: store._HashingSink, data: bytes) -> int:
        sinks[id(self)] = sinks.get(id(self), 0) + len(data)
        if len(sinks) == 2 and sinks[id(self)] > 100:  # partway through the FAISS file
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(store._HashingSink, "write", filling_write)
    bigger = build_index([*DOCS, make_document("b.txt", TEXT + " More.")], embedder, settings=SETTINGS)
    with pytest.raises(OSError, match="No space"):
        save_index(bigger, tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert [d.path for d in load_index(tmp_path).documents] == ["many.txt"]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("exact_max", [store.EXACT_FILTER_MAX, 0])  # scored exactly, or through a FAISS ID selector
def test_a_document_filter_searches_only_the_allowed_passages(
    monkeypatch: pytest.MonkeyPatch, kind: str, exact_max: int
) -> None:
    monkeypatch.setattr(store, "EXACT_FILTER_MAX", exact_max)
    embedder = HashEmbedder()
    docs = [make_document(f"doc{i}.txt", TEXT[i * 900 : (i + 1) * 900]) for i in range(6)]
    index = build_index(docs, embedder, settings=SETTINGS, search=SearchSettings(kind=kind, nprobe=64))
    allowed = index.passage_ids(["doc2.txt", "doc4.txt"])
    assert len(allowed) and {index.passages[i].document for i in allowed} == {"doc2.txt", "doc4.txt"}
    query = embedder.encode(["topic 3 item 5"])[0]
    hits = index.search(query, 5, allowed)
    assert len(hits) == 5 and all(index.passages[i].document in ("doc2.txt", "doc4.txt") for i, _ in hits)
    # The same passages, in the same order, as exact scoring of the allowed ones alone.
    vectors = np.stack([index.faiss_index.reconstruct(int(i)) for i in allowed])
    expected = [int(allowed[j]) for j in np.argsort(-(vectors @ query), kind="stable")[:5]]
    assert [i for i, _ in hits] == expected
    assert index.search(query, 50, index.passage_ids(["doc1.txt"])) == index.search(
        query, 50, index.passage_ids(["doc1.txt"])
    )
    assert len(index.search(query, 50, index.passage_ids(["doc1.txt"]))) == len(index.passage_ids(["doc1.txt"]))
    assert index.search(query, 5, index.passage_ids(["missing.txt"])) == []
