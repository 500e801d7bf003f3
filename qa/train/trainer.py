"""Fine-tuning a BERT encoder into an extractive QA reader.

The recipe: SQuAD-style windows (:mod:`qa.train.features`), AdamW with linear
warm-up and decay, gradient clipping, a fixed seed, bf16 autocast on CPUs
that have it (about 1.8x the fp32 speed on this project's 2-core machine),
CUDA when present. Batches are drawn from length buckets, so padding stays
small. It checkpoints every ``checkpoint_every`` steps (atomically: a new
folder, then a rename), scores the held-out dev questions at each
checkpoint, and resumes from the last checkpoint with ``resume=True``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embedders.sentence_transformer import cpu_has_bf16
from qa.evaluation.metrics import f1 as f1_score
from qa.readers.decoding import best_window_span
from qa.train.features import (
    Example,
    Features,
    build_features,
    choose_held_out,
    document_negatives,
    load_squad_paragraphs,
    md5,
    outside_negatives,
    sentence_negatives,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """One training file and how many of its questions to use (all when ``limit`` is None)."""

    path: str
    limit: int | None = None

    @classmethod
    def parse(cls, text: str) -> DataSpec:
        """``FILE`` or ``FILE@N`` (a seeded sample of N questions)."""
        path, _, limit = text.partition("@")
        return cls(path, int(limit) if limit else None)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run; all of them go into the model card."""

    data: tuple[DataSpec, ...]
    base_model: str
    hold_out_from: str | None = None
    hold_out_articles: int = 0
    # More files to hold whole articles out of (FILE@N: N articles), for calibration on several sources.
    hold_out: tuple[DataSpec, ...] = ()
    dev_questions: int = 400  # sampled from the held-out articles of hold_out_from (or the first of hold_out)
    negatives: float = 0.2  # the question with another paragraph of its article
    sentence_negatives: float = 0.0  # its own paragraph minus the answer's sentence
    outside_negatives: float = 0.0  # a paragraph of another article
    max_empty_windows: int | None = None  # no-answer windows kept per example (long documents)
    max_length: int = 256
    stride: int = 96
    batch_size: int = 32
    epochs: float = 1.0
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_grad_norm: float = 1.0
    seed: int = 13
    bf16: bool = True
    checkpoint_every: int = 200
    max_answer_tokens: int = 30
    max_seconds: float | None = None  # stop (checkpointed, resumable) once training has taken this long


@dataclass
class TrainState:
    step: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def _sample(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    if limit is None or limit >= len(examples):
        return examples
    chosen = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in chosen]


def load_training_data(config: TrainConfig) -> tuple[list[Example], list[Example], dict[str, Any]]:
    """Read the training files, hold out whole articles for dev and calibration, add negatives.

    Returns:
        (train examples, held-out examples with the dev file's first, a description for the model card)
    """
    holds = [DataSpec(config.hold_out_from, config.hold_out_articles)] if config.hold_out_from else []
    holds += list(config.hold_out)
    hold_counts = {str(Path(h.path).resolve()): h.limit or 0 for h in holds}
    train: list[Example] = []
    held: list[Example] = []
    files: list[dict[str, Any]] = []
    held_titles: list[str] = []
    for spec in config.data:
        examples = load_squad_paragraphs(spec.path)
        count = hold_counts.get(str(Path(spec.path).resolve()), 0)
        if count:
            titles = choose_held_out(examples, count, config.seed)
            held_titles += titles
            out = [e for e in examples if e.article in titles]
            # The dev file's held-out questions come first: the dev curve samples from them.
            is_dev = Path(spec.path).resolve() == Path(holds[0].path).resolve()
            held = out + held if is_dev else held + out
            examples = [e for e in examples if e.article not in titles]
        used = _sample(examples, spec.limit, config.seed)
        train.extend(used)
        files.append(
            {
                "file": Path(spec.path).name,
                "md5": md5(spec.path),
                "questions_used": len(used),
                "unanswerable_used": sum(not e.answerable for e in used),
                "questions_in_file": len(examples),
            }
        )
    negatives = document_negatives(train, config.negatives, seed=config.seed)
    on_topic = sentence_negatives(train, config.sentence_negatives, seed=config.seed + 1)
    outside = outside_negatives(train, config.outside_negatives, seed=config.seed + 2)
    description = {
        "files": files,
        "document_negatives": len(negatives),
        "sentence_negatives": len(on_topic),
        "outside_negatives": len(outside),
        "held_out_articles": held_titles,
        "held_out_questions": len(held),
    }
    return train + negatives + on_topic + outside, held, description


def dev_questions(config: TrainConfig, held: Sequence[Example]) -> list[Example]:
    """The dev sample: from the first hold-out file's articles, so curves of different runs compare."""
    holds = [config.hold_out_from] if config.hold_out_from else [h.path for h in config.hold_out]
    if not holds:
        return []
    name = Path(holds[0]).name + "#"
    pool = [e for e in held if e.article.startswith(name)]
    return random.Random(config.seed).sample(pool, min(config.dev_questions, len(pool)))


def dev_score(point: dict[str, float]) -> float:
    """One figure to pick the best checkpoint by: the mean of dev HasAns F1 and NoAns accuracy (0-100)."""
    return (point.get("has_ans_f1", 0.0) + 100 * point.get("no_ans_acc", 0.0)) / 2


def _batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle the batches."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for i in range(0, len(order), chunk):
        part = sorted(order[i : i + chunk], key=lambda j: lengths[j])
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def _collate(features: Features, ids: Sequence[int], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(features.input_ids[i]) for i in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    token_type_ids = torch.zeros((len(ids), width), dtype=torch.long)
    attention_mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, i in enumerate(ids):
        n = len(features.input_ids[i])
        input_ids[row, :n] = torch.tensor(features.input_ids[i])
        token_type_ids[row, :n] = torch.tensor(features.token_type_ids[i])
        attention_mask[row, :n] = 1
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "start_positions": torch.tensor([features.start_positions[i] for i in ids]),
        "end_positions": torch.tensor([features.end_positions[i] for i in ids]),
    }


def predict_paragraphs(
    model: Any, tokenizer: Any, examples: Sequence[Example], config: TrainConfig, device: str
) -> list[tuple[str | None, float]]:
    """The model's answer to each example over its own paragraph, with its margin over no-answer."""
    import torch

    features = build_features(tokenizer, examples, max_length=config.max_length, stride=config.stride)
    best: list[tuple[float, str | None]] = [(-math.inf, None)] * len(examples)
    model.eval()
    with torch.no_grad():
        for k in range(0, len(features), 64):
            ids = list(range(k, min(k + 64, len(features))))
            batch = _collate(features, ids, tokenizer.pad_token_id)
            inputs = {n: batch[n].to(device) for n in ("input_ids", "token_type_ids", "attention_mask")}
            out = model(**inputs)
            starts = out.start_logits.float().cpu().numpy()
            ends = out.end_logits.float().cpu().numpy()
            for row, i in enumerate(ids):
                offsets = features.offsets[i]
                mask = np.array([o is not None for o in offsets] + [False] * (starts.shape[1] - len(offsets)))
                span = best_window_span(starts[row], ends[row], mask, max_answer_tokens=config.max_answer_tokens)
                if span is None:
                    continue
                example = features.example_index[i]
                margin = span.score - span.null_score
                if margin > best[example][0]:
                    s, e = offsets[span.start_token], offsets[span.end_token]
                    assert s is not None and e is not None
                    best[example] = (margin, examples[example].context[s[0] : e[1]])
    model.train()
    return [(text, margin) for margin, text in best]


def dev_scores(predictions: Sequence[tuple[str | None, float]], examples: Sequence[Example]) -> dict[str, float]:
    """Paragraph-level SQuAD 2.0 scores with the no-answer threshold at margin 0."""
    has: list[float] = []
    no: list[float] = []
    for (text, margin), example in zip(predictions, examples, strict=True):
        answer = text if margin > 0 else None
        if example.answerable:
            has.append(f1_score(answer, example.answer_text) if answer else 0.0)
        else:
            no.append(1.0 if answer is None else 0.0)
    total = has + no
    return {
        "f1": round(100 * sum(total) / max(len(total), 1), 2),
        "has_ans_f1": round(100 * sum(has) / max(len(has), 1), 2),
        "no_ans_acc": round(sum(no) / max(len(no), 1), 4),
    }


# What train() writes in its --out folder, and the mark that says the folder is one of its own.
WRITES = ("checkpoint", "model", "best")
MARK = "train-reader.json"
_MARK_TEXT = '{"written_by": "qa train-reader"}\n'


def check_training_folder(out: Path) -> None:
    """Refuse an ``--out`` folder where training would replace something it did not write.

    A new or empty folder is fine, and so is one an earlier run marked (:data:`MARK`); elsewhere a
    ``checkpoint``, ``model`` or ``best`` entry (or its ``.tmp``/``.old`` twin) is the user's.
    Other files (a log written beside the run) are never touched, so they do not count.

    Raises:
        ConfigError: ``out`` is a file, or holds such an entry and is not a training folder.
    """
    from qa.errors import ConfigError

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the checkpoints and the model")
    try:
        if (out / MARK).read_text(encoding="utf-8") == _MARK_TEXT:
            return
    except (OSError, UnicodeDecodeError):
        pass
    taken = sorted(n + tail for n in WRITES for tail in ("", ".tmp", ".old") if os.path.lexists(out / (n + tail)))
    if taken:
        raise ConfigError(
            f"--out {out} holds {', '.join(taken)} and is not a folder qa train-reader wrote; give a new or "
            "empty folder so nothing of yours is replaced"
        )


def _replace_folder(tmp: Path, directory: Path) -> None:
    """Put the finished folder ``tmp`` in place of ``directory``: a rename, so a stop leaves one whole copy."""
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _save_checkpoint(directory: Path, model: Any, optimizer: Any, scheduler: Any, state: TrainState) -> None:
    import torch

    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "state": asdict(state),
        },
        tmp / "state.pt",
    )
    _replace_folder(tmp, directory)


def _save_best(directory: Path, model: Any, tokenizer: Any, point: dict[str, float]) -> None:
    """The best checkpoint so far by :func:`dev_score`, as a model folder (atomically replaced)."""
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "dev_point.json").write_text(json.dumps(point) + "\n", encoding="utf-8")
    _replace_folder(tmp, directory)


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    model_factory: Callable[[], Any] | None = None,
    tokenizer: Any = None,
    show_progress: bool = True,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Fine-tune a QA model and save it with its training record in ``out_dir/model``.

    Args:
        config: The recipe.
        out_dir: Where checkpoints and the final model go (outside the repository).
        resume: Continue from ``out_dir/checkpoint`` if there is one.
        model_factory: Builds the model to train (tests pass a tiny random BERT);
            ``BertForQuestionAnswering`` from ``config.base_model`` by default.
        tokenizer: The fast tokenizer; the base model's by default.
        show_progress: A tqdm bar with loss and ETA.
        max_steps: Stop after this many steps (for tests and probes).

    Returns:
        The training record (also written to ``out_dir/model/training.json``).
    """
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer, BertForQuestionAnswering

    started = time.perf_counter()
    out = Path(out_dir)
    check_training_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARK).write_text(_MARK_TEXT, encoding="utf-8")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(config.seed)
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(config.base_model)
    examples, held, data = load_training_data(config)
    features = build_features(
        tokenizer,
        examples,
        max_length=config.max_length,
        stride=config.stride,
        max_empty_windows=config.max_empty_windows,
        with_offsets=False,
        seed=config.seed,
    )
    dev = dev_questions(config, held)
    logger.info("%d examples -> %d windows; %d dev questions", len(examples), len(features), len(dev))

    model: Any = model_factory() if model_factory else BertForQuestionAnswering.from_pretrained(config.base_model)
    model.to(device)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": config.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    batches = []
    epochs = max(1, math.ceil(config.epochs))
    for epoch in range(epochs):
        batches.extend(_batches([len(x) for x in features.input_ids], config.batch_size, config.seed + epoch))
    total = int(len(batches) * config.epochs / epochs)
    stop = total if max_steps is None else min(total, max_steps)  # stopping early keeps the schedule
    warmup = max(1, int(total * config.warmup))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    state = TrainState()
    checkpoint = out / "checkpoint"
    if resume and (checkpoint / "state.pt").is_file():
        saved = torch.load(checkpoint / "state.pt", map_location=device, weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        state = TrainState(**saved["state"])
        logger.info("resuming at step %d of %d", state.step, total)
    use_bf16 = config.bf16 and (device == "cuda" or cpu_has_bf16())
    if not state.curve and dev:  # where the run starts from, so the curve shows what training added
        start = dev_scores(predict_paragraphs(model, tokenizer, dev, config, device), dev)
        state.curve.append({"step": 0, "seconds": 0, **start})
        logger.info("dev at step 0: %s", state.curve[-1])
    bar = tqdm(total=stop, initial=state.step, disable=not show_progress, unit="step", dynamic_ncols=True)
    running = None
    interval: list[float] = []
    resumed_seconds = state.seconds
    loop_started = time.perf_counter()
    while state.step < stop:
        batch = {k: v.to(device) for k, v in _collate(features, batches[state.step], tokenizer.pad_token_id).items()}
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        value = float(loss.detach())
        interval.append(value)
        running = value if running is None else 0.98 * running + 0.02 * value
        bar.set_postfix(loss=f"{running:.3f}")
        bar.update(1)
        if state.step % config.checkpoint_every == 0 or state.step == stop:
            state.seconds = resumed_seconds + time.perf_counter() - loop_started
            # The mean training loss since the last checkpoint.
            mean = sum(interval) / len(interval)
            interval = []
            point: dict[str, float] = {"step": state.step, "loss": round(mean, 4), "seconds": round(state.seconds)}
            if dev:
                point.update(dev_scores(predict_paragraphs(model, tokenizer, dev, config, device), dev))
            state.curve.append(point)
            bar.write(json.dumps(point))
            if dev and dev_score(point) > max((dev_score(p) for p in state.curve[:-1]), default=-1.0):
                _save_best(out / "best", model, tokenizer, point)
            _save_checkpoint(checkpoint, model, optimizer, scheduler, state)
            if config.max_seconds is not None and state.seconds >= config.max_seconds:
                logger.info(
                    "time budget of %.0f s spent at step %d; continue with --resume", config.max_seconds, state.step
                )
                break
    bar.close()
    state.seconds = resumed_seconds + time.perf_counter() - loop_started
    final = out / "model"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    windows = sum(len(batches[i]) for i in range(state.step))
    record = {
        "config": {**asdict(config), "data": [asdict(d) for d in config.data]},
        "data": data,
        "examples": len(examples),
        "windows": len(features),
        "windows_trained": windows,
        "steps": state.step,
        "scheduled_steps": total,
        "finished": state.step >= stop,
        "train_seconds": round(state.seconds, 1),
        "windows_per_second": round(windows / max(state.seconds, 1e-9), 2),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "bf16": use_bf16,
        "device": device if device == "cpu" else torch.cuda.get_device_name(0),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "dev_curve": state.curve,
    }
    (final / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    best = out / "best"
    if best.is_dir():  # the record of the whole run, and which step this folder holds
        point = json.loads((best / "dev_point.json").read_text(encoding="utf-8"))
        (best / "training.json").write_text(json.dumps({**record, "shipped_step": point["step"]}, indent=2) + "\n")
    return record
