"""The extractive reader: a QA model reads the retrieved passages and proposes exact spans.

Every passage is read as ``[CLS] question [SEP] passage [SEP]`` windows
(a long passage in overlapping windows, so nothing is cut away); all windows
of one question go through the model in one batch. In each window the best
span (start <= end, at most ``max_answer_tokens``) is compared with that
window's own no-answer score, so a candidate's margin does not depend on
how many passages were read (Haystack's no-answer score does). The margin
is mapped to a probability by the model's calibration, fitted on held-out
questions; the threshold that goes with it is stored beside the weights.

Two back ends run the same windows and decoding: :class:`OnnxQAModel`
(onnxruntime, the shipped int8 model, no torch on the question path) and
:class:`TorchQAModel` (any Hugging Face extractive QA folder, through
``transformers``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.documents import Sentence
from index.passages import Passage
from qa.errors import ModelLoadError
from qa.readers.base import Candidate, Reading
from qa.readers.decoding import best_window_span
from qa.readers.judge import Judge

BUNDLED_READER = Path(__file__).resolve().parent.parent / "models" / "minilm-squad"
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class Calibration:
    """Platt scaling: P(answer is right) = sigmoid(slope * margin + intercept)."""

    slope: float = 1.0
    intercept: float = 0.0

    def __call__(self, margin: float) -> float:
        z = self.slope * margin + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class ReaderSettings:
    """What a model folder says about how to run it; ``settings.json`` beside the weights.

    Attributes:
        max_length: Tokens per window, question and special tokens included.
        stride: Tokens shared by consecutive windows of one passage.
        max_answer_tokens: Longest answer span.
        max_question_tokens: Longer questions are cut to this many tokens.
        threshold: Calibrated confidence under which the assistant abstains.
        calibration: Margin to probability.
        sha256: Checksums of the folder's files, checked on load.
        judge: The judge over the margin and the retrieval's signals (:mod:`qa.readers.judge`);
            when present its probability is the confidence and ``threshold`` applies to it.
    """

    max_length: int = 256
    stride: int = 96
    max_answer_tokens: int = 30
    max_question_tokens: int = 64
    threshold: float = 0.5
    calibration: Calibration = field(default_factory=Calibration)
    sha256: dict[str, str] = field(default_factory=dict)
    judge: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReaderSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["calibration"] = Calibration(**data.get("calibration", {}))
        return cls(**known)


class QAModel(Protocol):
    """Start and end logits for a padded batch of windows."""

    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


class OnnxQAModel:
    """An ONNX extractive QA model run by onnxruntime on the CPU."""

    def __init__(self, model: str | Path | bytes, *, threads: int | None = None) -> None:
        """``model``: a path, or the serialised model itself (bytes already read and checked)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        try:
            source = model if isinstance(model, bytes) else str(model)
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelLoadError(f"cannot load the reader model: {exc}") from None

    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.session.run(
            ["start_logits", "end_logits"],
            {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids},
        )
        return start, end


class TorchQAModel:
    """Any Hugging Face extractive QA model folder (or hub name, online), run by torch."""

    def __init__(self, model: str) -> None:
        try:
            from transformers import AutoModelForQuestionAnswering

            self.model: Any = AutoModelForQuestionAnswering.from_pretrained(model, trust_remote_code=False)
        except Exception as exc:  # transformers raises OSError, ValueError and more
            raise ModelLoadError(
                f"cannot load QA model {model!r}: {exc}. Pass a local folder, or a hub name with internet access"
            ) from None
        self.model.eval()
        self._lock = threading.Lock()

    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        import torch

        inputs = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(attention_mask)}
        if getattr(self.model.config, "type_vocab_size", 0) > 1:
            inputs["token_type_ids"] = torch.from_numpy(token_type_ids)
        with self._lock, torch.no_grad():
            out = self.model(**inputs)
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()


@dataclass(frozen=True)
class _Window:
    passage: int
    ids: list[int]
    type_ids: list[int]
    offsets: list[tuple[int, int] | None]  # characters in the passage text; None outside it


class ExtractiveReader:
    """Reads passages with an extractive QA model and proposes calibrated spans.

    Args:
        model: Computes the logits.
        tokenizer: A ``tokenizers.Tokenizer`` (the model's ``tokenizer.json``).
        settings: Window sizes, calibration and threshold.
        name: Shown in answers.
    """

    def __init__(self, model: QAModel, tokenizer: Any, settings: ReaderSettings, *, name: str) -> None:
        self.model = model
        self.settings = settings
        self.name = name
        self.threshold = settings.threshold
        self.judge = Judge.from_dict(settings.judge) if settings.judge else None
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        # A copy that never truncates measures the question alone: with only_second truncation on, a
        # single sequence over max_length (300 CJK characters, 300 "?") raises "Truncation error".
        self._question_tokenizer = type(tokenizer).from_str(tokenizer.to_str())
        self._question_tokenizer.no_truncation()
        self._tokenizer.enable_truncation(settings.max_length, stride=settings.stride, strategy="only_second")
        self._pad_id = tokenizer.token_to_id("[PAD]") or 0
        self._lock = threading.Lock()  # a shared Rust tokenizer can raise "Already borrowed"

    @classmethod
    def from_folder(cls, folder: str | Path, *, name: str | None = None) -> ExtractiveReader:
        """Load a reader folder (``model.onnx``, ``tokenizer.json``, ``settings.json``), checking its sha256.

        Raises:
            ModelLoadError: A file is missing or damaged.
        """
        from tokenizers import Tokenizer

        root = Path(folder)
        try:
            settings = ReaderSettings.from_dict(json.loads((root / SETTINGS_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"{root}: not a reader folder ({exc}); export one with `qa export-reader`") from None
        # Each file is read once: the bytes that pass the checksum are the bytes loaded.
        verified: dict[str, bytes] = {}
        for file in ("model.onnx", "tokenizer.json"):
            expected = settings.sha256.get(file)
            try:
                verified[file] = (root / file).read_bytes()
                actual = hashlib.sha256(verified[file]).hexdigest()
            except OSError as exc:
                raise ModelLoadError(f"{root / file}: cannot be read ({exc}); reinstall the package") from None
            if actual != expected:
                raise ModelLoadError(
                    f"{root / file} is damaged (sha256 {actual[:12]}…, expected {str(expected)[:12]}…); "
                    "reinstall the package or export the reader again"
                )
        return cls(
            OnnxQAModel(verified["model.onnx"]),
            Tokenizer.from_str(verified["tokenizer.json"].decode("utf-8")),
            settings,
            name=name or f"trained:{root.name}",
        )

    @classmethod
    def from_transformers(cls, model: str, *, threshold: float = 0.5) -> ExtractiveReader:
        """Any Hugging Face extractive QA model; uncalibrated (sigmoid of the margin)."""
        from tokenizers import Tokenizer

        folder = Path(model)
        try:
            if folder.is_dir():
                tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            else:
                tokenizer = Tokenizer.from_pretrained(model)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception
            raise ModelLoadError(f"{model!r} has no fast tokenizer (tokenizer.json): {exc}") from None
        return cls(TorchQAModel(model), tokenizer, ReaderSettings(threshold=threshold), name=f"transformers:{model}")

    def _question(self, question: str) -> str:
        encoded = self._question_tokenizer.encode(question, add_special_tokens=False)
        limit = self.settings.max_question_tokens
        if len(encoded.ids) <= limit:
            return question
        return question[: encoded.offsets[limit - 1][1]]

    def windows(self, question: str, passages: Sequence[Passage]) -> list[_Window]:
        """Tokenise the question with every passage into windows that cover each passage whole."""
        with self._lock:
            question = self._question(question)
            encodings = self._tokenizer.encode_batch([(question, p.text) for p in passages])
        windows: list[_Window] = []
        for p, encoding in enumerate(encodings):
            for window in [encoding, *encoding.overflowing]:
                offsets = [
                    tuple(o) if s == 1 else None for o, s in zip(window.offsets, window.sequence_ids, strict=True)
                ]
                windows.append(_Window(p, list(window.ids), list(window.type_ids), offsets))  # type: ignore[arg-type]
        return windows

    def read(self, question: str, passages: Sequence[Passage], sentences: Sequence[Sentence] = ()) -> Reading:
        """Read all passages in one batch; one candidate per passage, best margin first."""
        if not passages:
            return Reading(())
        windows = self.windows(question, passages)
        width = max(len(w.ids) for w in windows)
        ids = np.full((len(windows), width), self._pad_id, dtype=np.int64)
        types = np.zeros((len(windows), width), dtype=np.int64)
        mask = np.zeros((len(windows), width), dtype=np.int64)
        for row, w in enumerate(windows):
            ids[row, : len(w.ids)] = w.ids
            types[row, : len(w.ids)] = w.type_ids
            mask[row, : len(w.ids)] = 1
        start_logits, end_logits = self.model.logits(ids, mask, types)
        best: dict[int, Candidate] = {}
        for row, w in enumerate(windows):
            context = np.array([o is not None for o in w.offsets] + [False] * (width - len(w.offsets)))
            span = best_window_span(
                start_logits[row], end_logits[row], context, max_answer_tokens=self.settings.max_answer_tokens
            )
            if span is None:
                continue
            first, last = w.offsets[span.start_token], w.offsets[span.end_token]
            assert first is not None and last is not None
            passage = passages[w.passage]
            candidate = Candidate(
                passage=passage,
                start=passage.start + first[0],
                end=passage.start + last[1],
                score=span.score,
                no_answer=span.null_score,
                confidence=self.settings.calibration(span.score - span.null_score),
            )
            if w.passage not in best or candidate.margin > best[w.passage].margin:
                best[w.passage] = candidate
        ranked = sorted(best.values(), key=lambda c: -c.margin)
        return Reading(tuple(ranked))


_loaded: dict[tuple[str, float], ExtractiveReader] = {}
_loaded_lock = threading.Lock()


def load_reader(folder: str | Path = BUNDLED_READER) -> ExtractiveReader:
    """The reader in ``folder``, loaded once per process (assistants share it; onnxruntime runs are thread-safe).

    Reloaded when its settings change on disk (a new calibration).
    """
    root = Path(folder).resolve()
    try:
        key = (str(root), (root / SETTINGS_FILE).stat().st_mtime)
    except OSError:
        key = (str(root), 0.0)
    with _loaded_lock:
        if key not in _loaded:
            name = "trained" if root == BUNDLED_READER.resolve() else f"trained:{folder}"
            _loaded[key] = ExtractiveReader.from_folder(root, name=name)
        return _loaded[key]
