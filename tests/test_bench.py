"""The benchmark runs end to end (tiny sizes) and prints one table with a verdict per target."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qa.bench.suite import synthetic_vectors, variant
from tests.conftest import ROOT, SEED


def test_variants_rewrite_names_and_numbers_but_keep_the_text_shape() -> None:
    text = SEED.read_text(encoding="utf-8")
    one, two = variant(text, 1), variant(text, 2)
    assert one != text and one != two and variant(text, 1) == one  # deterministic per copy
    assert one.count("\n\n") == text.count("\n\n")


def test_synthetic_vectors_are_unit_length() -> None:
    anchors = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float32)
    vectors = synthetic_vectors(anchors, 1000, seed=3)
    assert vectors.shape == (1000, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_bench_prints_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "qa.bench", "--runs", "1", "--smoke", "--sizes", "3000", "--kinds", "flat,ivf",
         "--real-passages", "0", "--build-articles", "2", "--home", str(tmp_path),
         "--baseline-reader", str(ROOT / "qa/models/minilm-squad")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == "| measure | value | target | verdict |"
    text = done.stdout
    for measure in (
        "cold start",
        "warm `answer()` p50",
        "of which the reader",
        "split + passages, only punctuation",
        "build throughput",
        "3,000 vectors, ivf",
        "shipped reader / `minilm-squad`",
    ):
        assert measure in text
    assert text.count("| met |") + text.count("| missed (") >= 4


def test_bench_refuses_an_unknown_section() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qa.bench", "--only", "warm,nonsense"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2 and "unknown section(s) nonsense" in done.stderr
