"""SQuAD examples turned into token windows with exact answer labels.

Every window is ``[CLS] question [SEP] context slice [SEP]``. The fast
tokenizer's offsets map each context token to its characters, so an answer's
characters map to exact start and end tokens, and back. Windows that do not
hold the whole answer, unanswerable questions and document-level negatives
(the question paired with another paragraph of its article) point at [CLS]
(token 0), the SQuAD 2.0 convention for "no answer here".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import TestSetError


@dataclass(frozen=True)
class Example:
    """One question over one paragraph; ``answer_start`` is None when the paragraph does not answer."""

    id: str
    article: str
    question: str
    context: str
    answer_start: int | None
    answer_text: str

    @property
    def answerable(self) -> bool:
        return self.answer_start is not None


@dataclass(frozen=True)
class Features:
    """Token windows, each with its labels and the example it came from."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    start_positions: list[int]
    end_positions: list[int]
    example_index: list[int]
    offsets: list[list[tuple[int, int] | None]]  # None for question and special tokens

    def __len__(self) -> int:
        return len(self.input_ids)


def md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_squad_paragraphs(path: str | Path) -> list[Example]:
    """Read SQuAD v1.1 or v2.0 JSON, one example per question and its own paragraph.

    Raises:
        TestSetError: The file is missing or not SQuAD JSON.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TestSetError(f"{path}: cannot be read as SQuAD JSON ({exc})") from None
    examples: list[Example] = []
    try:
        for a, article in enumerate(data["data"]):
            title = f"{file.name}#{article.get('title', a)}"
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                    first = answers[0] if answers else None
                    examples.append(
                        Example(
                            id=str(qa["id"]),
                            article=title,
                            question=str(qa["question"]),
                            context=context,
                            answer_start=int(first["answer_start"]) if first else None,
                            answer_text=str(first["text"]) if first else "",
                        )
                    )
    except (KeyError, TypeError, ValueError) as exc:
        raise TestSetError(f"{path}: not SQuAD JSON ({exc!r})") from None
    return examples


def choose_held_out(examples: Sequence[Example], count: int, seed: int) -> list[str]:
    """The ``count`` articles (``file#title``) of ``examples`` that training holds out with ``seed``."""
    titles = sorted({e.article for e in examples})
    return sorted(random.Random(seed).sample(titles, min(count, len(titles))))


def held_out_titles(path: str | Path, count: int, seed: int = 13) -> list[str]:
    """The articles of a SQuAD file that ``train-reader --hold-out FILE@count`` held out (same choice)."""
    return choose_held_out(load_squad_paragraphs(path), count, seed)


def document_negatives(examples: Sequence[Example], ratio: float, *, seed: int) -> list[Example]:
    """Pair questions with another paragraph of the same article, labelled no-answer.

    At run time the reader reads retrieved passages that often do not hold the
    answer, so it must learn to say so. ``ratio`` negatives per example.
    A paragraph that happens to contain the answer text is skipped, so no
    negative contradicts the text.
    """
    rng = random.Random(seed)
    by_article: dict[str, list[str]] = {}
    for example in examples:
        contexts = by_article.setdefault(example.article, [])
        if not contexts or contexts[-1] != example.context:
            contexts.append(example.context)
    chosen = [e for e in examples if rng.random() < ratio]
    negatives: list[Example] = []
    for example in chosen:
        others = [c for c in by_article[example.article] if c != example.context]
        if not others:
            continue
        context = rng.choice(others)
        if example.answer_text and example.answer_text.lower() in context.lower():
            continue
        negatives.append(Example(example.id + "/neg", example.article, example.question, context, None, ""))
    return negatives


def sentence_negatives(examples: Sequence[Example], ratio: float, *, seed: int) -> list[Example]:
    """The question with its own paragraph minus the sentence(s) that hold the answer: "on topic, but not said".

    Retrieval at run time brings passages about the right subject that do not
    state the answer; these teach the reader to tell the two apart. The
    answer's text must not occur anywhere in what is left (else the pair
    would contradict the text), and at least one sentence must remain.
    """
    from index.sentences import split_sentences

    rng = random.Random(seed)
    negatives: list[Example] = []
    for example in examples:
        if example.answer_start is None or rng.random() >= ratio:
            continue
        a, b = example.answer_start, example.answer_start + len(example.answer_text)
        spans = split_sentences(example.context)
        kept = [(s, e) for s, e in spans if e <= a or s >= b]
        if not kept or len(kept) == len(spans):
            continue
        context = " ".join(example.context[s:e] for s, e in kept)
        if example.answer_text.strip().lower() in context.lower():
            continue
        negatives.append(Example(example.id + "/sent", example.article, example.question, context, None, ""))
    return negatives


def outside_negatives(examples: Sequence[Example], ratio: float, *, seed: int) -> list[Example]:
    """The question with a paragraph of another article, labelled no-answer.

    What a user asks that the document never covers.
    """
    rng = random.Random(seed)
    contexts: list[tuple[str, str]] = []
    for example in examples:
        if not contexts or contexts[-1][1] != example.context:
            contexts.append((example.article, example.context))
    negatives: list[Example] = []
    for example in examples:
        if rng.random() >= ratio:
            continue
        article, context = rng.choice(contexts)
        if article == example.article or (example.answer_text and example.answer_text.lower() in context.lower()):
            continue
        negatives.append(Example(example.id + "/out", article, example.question, context, None, ""))
    return negatives


def cap_windows(features: Features, max_empty: int, *, seed: int) -> Features:
    """Keep every window that holds an answer and at most ``max_empty`` no-answer windows per example.

    A 20,000-character scientific paper makes some 40 windows per question, all but
    one pointing at [CLS]; unchecked, a few such files would fill most of an epoch
    with the same "no answer here" lesson. Examples with no answer keep ``max_empty``
    windows too.
    """
    rng = random.Random(seed)
    by_example: dict[int, list[int]] = {}
    for w, e in enumerate(features.example_index):
        by_example.setdefault(e, []).append(w)
    keep: list[int] = []
    for windows in by_example.values():
        empty = [w for w in windows if features.start_positions[w] == 0]
        full = [w for w in windows if features.start_positions[w] != 0]
        keep.extend(full)
        keep.extend(empty if len(empty) <= max_empty else rng.sample(empty, max_empty))
    keep.sort()
    return Features(
        [features.input_ids[w] for w in keep],
        [features.token_type_ids[w] for w in keep],
        [features.start_positions[w] for w in keep],
        [features.end_positions[w] for w in keep],
        [features.example_index[w] for w in keep],
        [features.offsets[w] for w in keep],
    )


def build_features(
    tokenizer: Any,
    examples: Sequence[Example],
    *,
    max_length: int = 256,
    stride: int = 96,
    max_question_tokens: int = 64,
    max_empty_windows: int | None = None,
    with_offsets: bool = True,
    seed: int = 0,
    chunk: int = 2000,
) -> Features:
    """Tokenise examples into sliding windows over their contexts and label each window.

    Args:
        tokenizer: A fast (Rust) BERT tokenizer from ``transformers``.
        examples: Questions with their paragraphs.
        max_length: Tokens per window, question and special tokens included.
        stride: Tokens shared by consecutive windows of one context.
        max_question_tokens: Longer questions are cut to this many tokens.
        max_empty_windows: Keep at most this many no-answer windows per example (see :func:`cap_windows`).
        with_offsets: Keep each token's character offsets (needed to read answers back, not to train);
            without them 200,000 windows take about a tenth of the memory.
        seed: For the choice of no-answer windows.
        chunk: Examples tokenised at a time, so the tokenizer's own copies stay small.
    """
    features = Features([], [], [], [], [], [])
    for first in range(0, len(examples), chunk):
        part = _features(
            tokenizer,
            examples,
            first,
            min(first + chunk, len(examples)),
            max_length,
            stride,
            max_question_tokens,
            with_offsets,
        )
        if max_empty_windows is not None:
            part = cap_windows(part, max_empty_windows, seed=seed + first)
        for field in dataclasses.fields(Features):  # astuple would deep-copy every list
            getattr(features, field.name).extend(getattr(part, field.name))
    return features


def _features(
    tokenizer: Any,
    examples: Sequence[Example],
    first: int,
    stop: int,
    max_length: int,
    stride: int,
    max_question_tokens: int,
    with_offsets: bool,
) -> Features:
    chosen = examples[first:stop]
    questions = [_clip_question(tokenizer, e.question, max_question_tokens) for e in chosen]
    encoded = tokenizer(
        questions,
        [e.context for e in chosen],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    features = Features([], [], [], [], [], [])
    for w, offsets in enumerate(encoded["offset_mapping"]):
        index = encoded["overflow_to_sample_mapping"][w]
        sequence_ids = encoded.sequence_ids(w)
        context_offsets = [tuple(o) if s == 1 else None for o, s in zip(offsets, sequence_ids, strict=True)]
        start, end = label_window(chosen[index], context_offsets)
        features.input_ids.append(encoded["input_ids"][w])
        features.token_type_ids.append(encoded["token_type_ids"][w])
        features.start_positions.append(start)
        features.end_positions.append(end)
        features.example_index.append(first + index)
        features.offsets.append(context_offsets if with_offsets else [])
    return features


def _clip_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    ids = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(ids["input_ids"]) <= max_tokens:
        return question
    return question[: ids["offset_mapping"][max_tokens - 1][1]]


def label_window(example: Example, offsets: Sequence[tuple[int, int] | None]) -> tuple[int, int]:
    """The answer's first and last token in one window, or (0, 0) for [CLS] when it is not all there."""
    if example.answer_start is None:
        return 0, 0
    first_char, end_char = example.answer_start, example.answer_start + len(example.answer_text)
    context = [i for i, o in enumerate(offsets) if o is not None]
    if not context:
        return 0, 0
    lo, hi = context[0], context[-1]
    if not (offsets[lo][0] <= first_char and offsets[hi][1] >= end_char):  # type: ignore[index]
        return 0, 0
    start = lo
    while start <= hi and offsets[start][0] <= first_char:  # type: ignore[index]
        start += 1
    end = hi
    while end >= lo and offsets[end][1] >= end_char:  # type: ignore[index]
        end -= 1
    return start - 1, end + 1


def split_articles(examples: Iterable[Example], held_out: Sequence[str]) -> tuple[list[Example], list[Example]]:
    """Split by article (``file#title``), so no held-out paragraph is ever trained on."""
    keep: list[Example] = []
    out: list[Example] = []
    names = set(held_out)
    for example in examples:
        (out if example.article in names else keep).append(example)
    return keep, out
