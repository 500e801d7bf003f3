"""A BERT sentence encoder in plain numpy, for models like the bundled MiniLM.

Why not sentence-transformers here: importing it (torch, transformers,
scikit-learn) takes about 4.5 s of a 5.3 s cold ``qa ask`` on two cores, and
its per-call overhead is most of the time of embedding one short question.
The forward pass of a six-layer BERT is a dozen matrix products, which numpy
runs through the same BLAS. ``tokenizers`` (Rust, the model's own
``tokenizer.json``) tokenises exactly as sentence-transformers does, and the
weights come from the model's ``model.safetensors``. Vectors agree with
sentence-transformers' to about 1e-6 (tests/index/test_numpy_embedder.py), so
an index built by either is searched by the other; the manifest records the
model, not the backend.

Only models this reproduces exactly are accepted (:func:`supports`): a
``BertModel`` with absolute positions and GELU, mean pooling, then L2
normalisation. Anything else goes to sentence-transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelLoadError

_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]
BATCH_SIZE = 32  # sorted by length first, so padding stays small


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def supports(folder: str | Path) -> bool:
    """Tell whether the model in ``folder`` is one this encoder reproduces exactly."""
    root = Path(folder)
    try:
        modules = _read_json(root / "modules.json")
        config = _read_json(root / "config.json")
        pooling = _read_json(root / "1_Pooling" / "config.json")
    except (OSError, ValueError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") is True and not any(
        pooling.get(k)
        for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )
    return (
        [m.get("type") for m in modules] == _MODULES
        and [m.get("path") for m in modules][:2] == ["", "1_Pooling"]
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and mean_only
        and (root / "model.safetensors").is_file()
        and (root / "tokenizer.json").is_file()
    )


def _is_linear(key: str) -> bool:
    """Tell whether a weight is a linear layer's (stored out x in, used transposed)."""
    return key.endswith("dense.weight") or (".self." in key and key.endswith(".weight"))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyBertEmbedder:
    """Mean-pooled, normalised BERT sentence vectors computed with numpy.

    Args:
        folder: A sentence-transformers model folder that :func:`supports` accepts.
        name: The model name recorded in index manifests.
    """

    def __init__(self, folder: str | Path, *, name: str) -> None:
        from safetensors.numpy import load_file
        from scipy.special import erf
        from tokenizers import Tokenizer

        root = Path(folder)
        if not supports(root):
            raise ModelLoadError(f"{root} is not a BERT mean-pooling model; load it with sentence-transformers")
        config = _read_json(root / "config.json")
        st_file = root / "sentence_bert_config.json"
        st_config = _read_json(st_file) if st_file.exists() else {}
        self.name = name
        self.dimension = int(config["hidden_size"])
        self.max_tokens = int(st_config.get("max_seq_length") or config["max_position_embeddings"])
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._erf = erf
        weights = load_file(str(root / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        # Linear weights transposed once, so every product is x @ W.
        self._w = {
            key[len(prefix) :]: np.ascontiguousarray(value.T if _is_linear(key) else value, dtype=np.float32)
            for key, value in weights.items()
            if key.startswith(prefix) and not key.endswith("position_ids")
        }
        # Set up once and never changed: reconfiguring a shared tokenizer is what
        # makes concurrent calls fail with "Already borrowed".
        self._tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._counter = Tokenizer.from_file(str(root / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()

    def count_tokens(self, text: str) -> int:
        # Untruncated: the passage splitter needs the true length.
        return len(self._counter.encode(text).ids)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]
        if show_progress and len(batches) > 1:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Embedding", unit="batch")
        for batch in batches:
            length = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), length), dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.float32)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[batch] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        batch, length = ids.shape
        heads, size = self._heads, self.dimension // self._heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        # Padded keys get a large negative score, as transformers does with finfo.min.
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q = split(x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"])
            k = split(x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"])
            v = split(x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"])
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            norm = p + "attention.output.LayerNorm."
            x = _layer_norm(attended + x, w[norm + "weight"], w[norm + "bias"], self._eps)
            hidden = x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
            hidden = hidden * 0.5 * (1.0 + self._erf(hidden * np.float32(1 / np.sqrt(2))))  # exact GELU
            out = hidden @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self._eps)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)
