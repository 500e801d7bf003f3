"""The FAISS index over passage vectors: which kind, how it is built, how it is opened.

Measured on this project's 2-core machine (``python -m qa.bench``, docs/performance.md
"Speed and scale"): exact search (flat inner product) costs about 0.06 ms per
thousand passages, so it stays under about 3 ms up to ``FLAT_MAX_PASSAGES``.
Above that ``auto`` builds an inverted-file index (IVF, flat codes, about
2 * sqrt(n) lists, 1/8 of them probed): at a million passages it answers in
15 ms with recall@10 1.000 against exact search on synthetic vectors (0.974 on
the 11,601-passage real-text bench corpus), builds in 15 s and needs no memory beyond the
vectors (1.5 GB searched from a memory-mapped file). HNSW (M=32) searched in
0.5 ms at recall 0.982 but took 115 s to build on two cores and adds a graph of
2 * M links per vector; it stays available as ``hnsw`` for corpora that are
queried far more than they are built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ConfigError

KINDS = ("auto", "flat", "ivf", "hnsw")
FLAT_MAX_PASSAGES = 50_000  # auto: exact search up to here
MMAP_MIN_BYTES = 64 * 2**20  # memory-map index files from this size on
IVF_TRAIN_PER_LIST = 40  # FAISS warns below 39 training points per list
HNSW_M = 32


@dataclass(frozen=True)
class SearchSettings:
    """Which vector index to build; recorded in the manifest.

    Attributes:
        kind: ``"auto"`` (flat up to ``flat_max`` passages, else IVF), ``"flat"``,
            ``"ivf"`` or ``"hnsw"``.
        flat_max: Largest corpus, in passages, that ``auto`` searches exactly.
        nprobe: IVF lists visited per query; ``None`` visits 1/8 of them (at least 32).
        ef_search: HNSW candidate list size per query.
    """

    kind: str = "auto"
    flat_max: int = FLAT_MAX_PASSAGES
    nprobe: int | None = None
    ef_search: int = 128

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"index type must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.flat_max < 0 or (self.nprobe is not None and self.nprobe < 1) or self.ef_search < 1:
            raise ConfigError("flat_max must be >= 0, nprobe and ef_search >= 1")

    def resolve(self, passages: int) -> str:
        """The kind of index to build for a corpus of this many passages."""
        if self.kind != "auto":
            return self.kind
        return "flat" if passages <= self.flat_max else "ivf"


DEFAULT_SEARCH = SearchSettings()


def ivf_lists(passages: int) -> int:
    """Number of IVF lists: about 2 * sqrt(n), and enough training points for each."""
    return max(1, min(round(2 * math.sqrt(passages)), passages // IVF_TRAIN_PER_LIST))


def build_vector_index(vectors: np.ndarray, settings: SearchSettings) -> tuple[Any, str, dict[str, int]]:
    """Build a FAISS inner-product index over unit vectors.

    Returns:
        The index, its kind (``flat``, ``ivf`` or ``hnsw``) and its parameters,
        which the manifest records so that loading restores them.
    """
    import faiss

    n, dimension = vectors.shape
    kind = settings.resolve(n)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    params: dict[str, int] = {}
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        params = {"m": HNSW_M, "ef_search": settings.ef_search}
    else:
        nlist = ivf_lists(n)
        quantizer: Any = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index frees it
        # A fixed, spread sample keeps training time bounded and builds reproducible.
        step = max(1, n // (nlist * IVF_TRAIN_PER_LIST))
        index.train(vectors[::step] if n else np.zeros((1, dimension), dtype=np.float32))
        # 1/8 of the lists: recall@10 0.974 on the real-text bench corpus (0.920 with 1/16).
        params = {"nlist": nlist, "nprobe": settings.nprobe or max(32, nlist // 8)}
    if n:
        index.add(vectors)
    if kind == "ivf":
        index.make_direct_map()  # lets the retriever reconstruct a passage's vector; saved with it
    _apply(index, kind, params)
    return index, kind, params


def _apply(index: Any, kind: str, params: dict[str, int]) -> None:
    """Set the query-time parameters recorded for an index."""
    if kind == "ivf":
        index.nprobe = min(params["nprobe"], params["nlist"])
    elif kind == "hnsw":
        index.hnsw.efSearch = params["ef_search"]


def open_vector_index(path: Path, kind: str, params: dict[str, int]) -> Any:
    """Read an index file; files of ``MMAP_MIN_BYTES`` or more are memory-mapped read-only.

    Index files are never rewritten in place (each save writes new names), so a
    mapping never sees a file change under it (RELIABILITY.md: SIGBUS).
    """
    import faiss

    flags = 0
    if path.stat().st_size >= MMAP_MIN_BYTES:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
        if kind in ("flat", "hnsw"):
            flags |= faiss.IO_FLAG_MMAP_IFC  # maps the flat vector storage too
    index = faiss.read_index(str(path), flags)
    _apply(index, kind, params)
    return index
