"""Settings and their environment overrides, read in one place.

Environment variables:
    QA_HOME       where default indexes live (default: ``$XDG_CACHE_HOME/qa-assistant``
                  or ``~/.cache/qa-assistant``)
    QA_MODEL      embedding model name or path (default: the bundled all-MiniLM-L6-v2)
    QA_TOP_K      passages retrieved per question (default 5)
    QA_READER     "trained" (default: the bundled reader), "trained:<folder>", "sentence-only"
                  or "transformers:<model name or path>"
    QA_INDEX_TYPE vector index: "auto" (default: exact up to 50,000 passages, then IVF),
                  "flat", "ivf" or "hnsw"
    QA_BACKEND    how the model runs: "auto" (default: numpy where it reproduces the
                  model exactly, else sentence-transformers), "numpy", "sentence-transformers"
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.embedders.sentence_transformer import BACKENDS, DEFAULT_MODEL
from index.readers.box import ReadLimits
from index.stores.local import PassageSettings
from index.stores.vectors import SearchSettings
from qa.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PACKAGE_ROOT / "seeds"
MAX_QUESTION_CHARS = 500
MAX_TOP_K = 50  # the retriever ranks 50 candidates per side before fusion; the reader reads them all at once


@dataclass(frozen=True)
class Settings:
    """Everything an :class:`~qa.Assistant` can be tuned with.

    Attributes:
        model: Embedding model name or local path.
        home: Folder for default index directories.
        passages: Passage size and overlap.
        top_k: Passages retrieved per question.
        abstain_below: Confidence under which the assistant says the text does not answer;
            ``None`` uses the reader's own threshold (the trained reader's is chosen on held-out data).
        reader: ``"trained"`` (default), ``"trained:<folder>"``, ``"sentence-only"`` or
            ``"transformers:<QA model folder or name>"``.
        max_question_chars: Longest question accepted.
        backend: How the embedding model runs; see :func:`index.embedders.sentence_transformer.load_embedder`.
        search: Which vector index to build; see :mod:`index.stores.vectors`.
        read_limits: What reading one document file may cost (CPU, memory, wall clock) in the
            reading box (:mod:`index.readers.box`).
        read_deeper: When the ``top_k`` passages give no answer above the reader's threshold, read the
            next ones too, up to this many passages in all (readers with a judge only; ``0`` never).
    """

    model: str = DEFAULT_MODEL
    home: Path = field(default_factory=lambda: default_home({}))
    passages: PassageSettings = PassageSettings()
    top_k: int = 5
    abstain_below: float | None = None
    reader: str = "trained"
    max_question_chars: int = MAX_QUESTION_CHARS
    backend: str = "auto"
    search: SearchSettings = SearchSettings()
    read_deeper: int = 10
    read_limits: ReadLimits = ReadLimits()

    def __post_init__(self) -> None:
        # Types first: Settings(top_k=2.5) fails here, with a message, not later inside a search.
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int):
            raise ConfigError(f"top_k must be a whole number of passages, got {self.top_k!r}")
        if self.abstain_below is not None and (
            isinstance(self.abstain_below, bool) or not isinstance(self.abstain_below, int | float)
        ):
            raise ConfigError(f"abstain_below must be a number in [0, 1] or None, got {self.abstain_below!r}")
        if isinstance(self.max_question_chars, bool) or not isinstance(self.max_question_chars, int):
            raise ConfigError(f"max_question_chars must be a whole number, got {self.max_question_chars!r}")
        if (
            isinstance(self.read_deeper, bool)
            or not isinstance(self.read_deeper, int)
            or not (0 <= self.read_deeper <= MAX_TOP_K)
        ):
            raise ConfigError(
                f"read_deeper must be a whole number of passages from 0 to {MAX_TOP_K}, got {self.read_deeper!r}"
            )
        if self.max_question_chars < 1:
            raise ConfigError(f"max_question_chars must be at least 1, got {self.max_question_chars}")
        if not isinstance(self.model, str) or not isinstance(self.reader, str):
            raise ConfigError("model and reader must be names or folders (strings)")
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise ConfigError(
                f"top_k (--top-k, QA_TOP_K) must be between 1 and {MAX_TOP_K}, got {self.top_k}; "
                f"ask for {MAX_TOP_K} or fewer passages"
            )
        if self.abstain_below is not None and not 0.0 <= self.abstain_below <= 1.0:
            raise ConfigError(f"abstain_below (--threshold) must be a confidence in [0, 1], got {self.abstain_below}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read overrides from the environment (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        top_k = env.get("QA_TOP_K", "5")
        try:
            k = int(top_k)
        except ValueError:
            raise ConfigError(f"QA_TOP_K must be a whole number, got {top_k!r}") from None
        return cls(
            # Empty is unset, as for a shell's VAR= : never "the current folder as a model".
            model=env.get("QA_MODEL") or DEFAULT_MODEL,
            home=default_home(env),
            top_k=k,
            reader=env.get("QA_READER") or "trained",
            backend=env.get("QA_BACKEND") or "auto",
            search=SearchSettings(kind=env.get("QA_INDEX_TYPE") or "auto"),
        )

    def index_dir_for(self, paths: Sequence[str]) -> Path:
        """The default index directory of a corpus: one per set of documents and model."""
        key = hashlib.sha256("\n".join([self.model, *sorted(paths)]).encode("utf-8")).hexdigest()[:16]
        return self.home / "indexes" / key


def default_home(environ: Mapping[str, str]) -> Path:
    """``QA_HOME``, else ``$XDG_CACHE_HOME/qa-assistant``, else ``~/.cache/qa-assistant``."""
    if environ.get("QA_HOME"):
        return Path(environ["QA_HOME"]).expanduser()
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "qa-assistant"


def bundled_documents() -> list[Path]:
    """The bundled seed article(s), the default corpus."""
    return sorted(p for p in SEEDS_DIR.glob("*.txt") if p.is_file())
