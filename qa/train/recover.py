"""Recover trainable torch weights from a shipped int8 ONNX reader.

Only the int8 ONNX export of a reader is committed; its torch checkpoint
lives outside the repository and can be lost with the machine. Training the
next reader from the shipped one (a warm start) needs torch weights again:
every int8 tensor is dequantised, ``(q - zero_point) * scale``, per channel
for the matrices and per tensor for the embeddings, and written under its
``BertForQuestionAnswering`` name. The quantisation error (at most half a
step per weight) is far below what one further training step changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

# The quantised matrices' names come from torch.onnx's tracing ("onnx::MatMul_912"), so each is
# identified by the output of the MatMulInteger node that reads it.
_MATMUL_OUTPUT = re.compile(r"^/(?:bert/encoder/layer\.(\d+)/)?([\w/.]+?)/MatMul_output_0_output_quantized$")
_MODULES = {
    "attention/self/query": "attention.self.query",
    "attention/self/key": "attention.self.key",
    "attention/self/value": "attention.self.value",
    "attention/output/dense": "attention.output.dense",
    "intermediate/dense": "intermediate.dense",
    "output/dense": "output.dense",
}


def onnx_state_dict(onnx_path: str | Path) -> dict[str, np.ndarray]:
    """The fp32 weights of an int8 ONNX BERT QA graph, under their torch names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}

    def dequantized(stem: str) -> np.ndarray:
        q = tensors[stem + "_quantized"].astype(np.float32)
        return (q - tensors[stem + "_zero_point"].astype(np.float32)) * tensors[stem + "_scale"].astype(np.float32)

    state: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name.startswith(("bert.", "qa_outputs.")) and not name.endswith(("_scale", "_zero_point", "_quantized")):
            state[name] = value.astype(np.float32)
        elif name.endswith(".weight_quantized"):  # embeddings, quantised per tensor
            state[name.removesuffix("_quantized")] = dequantized(name.removesuffix("_quantized"))
    for node in model.graph.node:
        match = _MATMUL_OUTPUT.match(node.output[0]) if node.op_type == "MatMulInteger" else None
        if match is None:
            continue
        layer, module = match.groups()
        if layer is not None and module in _MODULES:
            target = f"bert.encoder.layer.{layer}.{_MODULES[module]}.weight"
        elif layer is None and module == "qa_outputs":
            target = "qa_outputs.weight"
        else:
            continue
        matrix = dequantized(node.input[1].removesuffix("_quantized"))
        state[target] = np.ascontiguousarray(matrix.T)  # ONNX computes x @ W; torch's Linear holds W^T
    return state


def recover_reader(onnx_folder: str | Path, base_model: str | Path, out_dir: str | Path) -> Path:
    """Write a ``transformers`` model folder with the shipped reader's weights and tokenizer.

    Args:
        onnx_folder: A reader folder (model.onnx beside tokenizer.json).
        base_model: The model it was trained from, for the architecture's config and the tokenizer.
        out_dir: Where the torch model goes (outside the repository).

    Raises:
        ValueError: The graph does not hold every weight of the architecture.
    """
    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering

    state = onnx_state_dict(Path(onnx_folder) / "model.onnx")
    model: Any = BertForQuestionAnswering.from_pretrained(str(base_model))
    expected = {k for k in model.state_dict() if not k.endswith("position_ids")}
    missing = sorted(expected - set(state))
    if missing:
        raise ValueError(f"{onnx_folder}: the graph lacks {len(missing)} weights, e.g. {missing[:3]}")
    model.load_state_dict({k: torch.from_numpy(state[k]) for k in expected}, strict=False)
    out = Path(out_dir)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(base_model)).save_pretrained(out)
    return out
