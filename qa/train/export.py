"""Export a trained QA model to the shipped form: int8 ONNX, its tokenizer, settings and card.

Dynamic int8 quantisation (onnxruntime's quantizer, per-channel weights)
keeps the six-layer MiniLM at about 23 MB, inside the 30 MB the repository
allows for weights, and runs about twice as fast as fp32 on a CPU with VNNI.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from qa.readers.extractive import SETTINGS_FILE, ReaderSettings

SHIPPED_FILES = ("model.onnx", "tokenizer.json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_reader(model_dir: str | Path, out_dir: str | Path, *, quantize: bool = True) -> Path:
    """Write ``out_dir`` with model.onnx, tokenizer.json and settings.json (checksums, defaults).

    An existing settings.json in ``out_dir`` keeps its calibration and threshold
    (re-exporting does not undo calibration); its checksums are renewed.
    """
    out = Path(out_dir)
    check_reader_folder(out)  # before minutes of exporting, and before anything is written
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    source = Path(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = AutoModelForQuestionAnswering.from_pretrained(source).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        sample = tokenizer("What?", "An example.", return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "start_logits", "end_logits"]}
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter warns about its own deprecation and about tracing BERT's
            # shape checks; neither applies to a fixed-architecture encoder.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["start_logits", "end_logits"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT fine
            )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        else:
            shutil.copyfile(fp32, out / "model.onnx")
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    previous = _read_settings(out)
    settings = ReaderSettings.from_dict({**previous, "sha256": {f: _sha256(out / f) for f in SHIPPED_FILES}})
    write_settings(out, settings)
    training = source / "training.json"
    if training.is_file():
        shutil.copyfile(training, out / "training.json")
    from qa.train.card import write_card

    write_card(out)
    return out


EXPORTED = (*SHIPPED_FILES, SETTINGS_FILE, "training.json", "README.md", "LICENSE.txt")


def check_reader_folder(out: Path) -> None:
    """Refuse an ``--out`` folder where exporting would replace a file it did not write.

    A new or empty folder is fine, and so is a reader folder (its settings.json holds the checksums
    an export writes); anywhere else, a file named like one the export writes is the user's.

    Raises:
        ConfigError: ``out`` is a file, or holds such a file and is not a reader folder.
    """
    from qa.errors import ConfigError

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the reader")
    if "sha256" in _read_settings(out):
        return
    taken = [name for name in EXPORTED if (out / name).exists()]
    if taken:
        raise ConfigError(
            f"--out {out} holds {', '.join(taken)} and is not a reader folder; give a new or empty folder "
            "so nothing of yours is replaced"
        )


def _read_settings(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def write_settings(folder: Path, settings: ReaderSettings, **extra: Any) -> None:
    """Write settings.json atomically; ``extra`` keys (calibration figures) go beside the settings."""
    data = {**settings.to_dict(), **extra}
    tmp = folder / (SETTINGS_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(folder / SETTINGS_FILE)
