"""A reader that runs any Hugging Face extractive QA model over the retrieved passages.

Use it with ``Assistant(..., reader="transformers:deepset/roberta-base-squad2")``
(or a local folder). Each passage is read in overlapping windows (``stride``),
so nothing of a long passage is truncated away. The best span over all windows
is mapped back through the tokenizer's offsets to exact document offsets, and
the sentence(s) it lies in are cited. Its no-answer score (the [CLS] logits,
as in SQuAD 2.0 models) is combined with the sentence reader's calibrated
confidence, and the answer abstains when the combination is below the
threshold.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.store import PassageIndex
from qa.errors import ModelLoadError
from qa.reader import SentenceReader, cite
from qa.result import Answer, Span
from qa.retriever import Retrieval


@dataclass(frozen=True)
class SpanScore:
    """The best span of one window: character offsets in the passage and its scores."""

    start: int
    end: int
    score: float  # start logit + end logit
    null_score: float  # the [CLS] start + end logits: "no answer here"


def best_span(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    context_mask: Sequence[bool],
    *,
    max_answer_tokens: int = 30,
    top_n: int = 20,
) -> SpanScore | None:
    """The highest-scoring valid span of one window (start <= end, inside the context, not too long).

    Args:
        start_logits: Start logits per token.
        end_logits: End logits per token.
        offsets: Character offsets of each token in the passage.
        context_mask: True for tokens of the passage (not the question or special tokens).
        max_answer_tokens: Longest answer, in tokens.
        top_n: How many best starts and ends to pair up.
    """
    null = float(start_logits[0] + end_logits[0])
    context = [i for i, inside in enumerate(context_mask) if inside]
    if not context:
        return None
    starts = sorted(context, key=lambda i: -start_logits[i])[:top_n]
    ends = sorted(context, key=lambda i: -end_logits[i])[:top_n]
    best: SpanScore | None = None
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > max_answer_tokens:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best.score:
                best = SpanScore(offsets[s][0], offsets[e][1], score, null)
    return best


class TransformersReader:
    """Extractive QA with a Hugging Face model, citing the sentence the span lies in.

    Args:
        model: A hub name or a local folder of an extractive QA model.
        stride: Tokens shared by consecutive windows of a long passage.
        max_length: Window size in tokens (question included).
        max_answer_tokens: Longest answer span.
        abstain_below: Combined confidence under which it abstains.
        sentence_reader: Supplies the second opinion on answerability.
        model_weight: Share of the model's answer probability in the combined confidence.
    """

    def __init__(
        self,
        model: str,
        *,
        stride: int = 128,
        max_length: int = 384,
        max_answer_tokens: int = 30,
        abstain_below: float = 0.5,
        sentence_reader: SentenceReader | None = None,
        model_weight: float = 0.5,
    ) -> None:
        try:
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer

            self.tokenizer: Any = AutoTokenizer.from_pretrained(model)
            self.model: Any = AutoModelForQuestionAnswering.from_pretrained(model, trust_remote_code=False)
        except Exception as exc:  # transformers raises OSError, ValueError and more
            raise ModelLoadError(
                f"cannot load QA model {model!r}: {exc}. Pass a local folder, or a hub name with internet access"
            ) from exc
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelLoadError(f"{model!r} has no fast tokenizer; offsets back to the text need one")
        self.model.eval()
        self.name = f"transformers:{model}"
        self.stride = stride
        self.max_length = max_length
        self.max_answer_tokens = max_answer_tokens
        self.abstain_below = abstain_below
        self.sentence_reader = sentence_reader or SentenceReader(abstain_below=0.0)
        self.model_weight = model_weight
        self._lock = threading.Lock()

    def windows(self, question: str, text: str) -> Any:
        """Tokenise question and passage into overlapping windows that cover the whole passage."""
        return self.tokenizer(
            question,
            text,
            truncation="only_second",
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="pt",
        )

    def _read_passage(self, question: str, text: str) -> SpanScore | None:
        import torch

        encoded = self.windows(question, text)
        offsets = encoded.pop("offset_mapping").tolist()
        encoded.pop("overflow_to_sample_mapping", None)
        with self._lock, torch.no_grad():
            inputs = {k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
            output = self.model(**inputs)
        best: SpanScore | None = None
        for w in range(len(offsets)):
            sequence_ids = encoded.sequence_ids(w)
            mask = [sid == 1 for sid in sequence_ids]
            found = best_span(
                output.start_logits[w].numpy(),
                output.end_logits[w].numpy(),
                [tuple(o) for o in offsets[w]],
                mask,
                max_answer_tokens=self.max_answer_tokens,
            )
            if found and (best is None or found.score - found.null_score > best.score - best.null_score):
                best = found
        return best

    def read(self, question: str, retrieval: Retrieval, index: PassageIndex) -> Answer:
        ours = self.sentence_reader.read(question, retrieval, index)
        best: tuple[SpanScore, int] | None = None
        for scored in retrieval.passages:
            found = self._read_passage(question, scored.passage.text)
            if found and (best is None or found.score - found.null_score > best[0].score - best[0].null_score):
                best = (found, scored.passage.id)
        if best is None:
            return Answer(question=question, text=None, citations=(), confidence=0.0, reader=self.name)
        span, passage_id = best
        p_model = 1.0 / (1.0 + math.exp(-(span.score - span.null_score)))
        confidence = self.model_weight * p_model + (1 - self.model_weight) * ours.confidence
        if confidence < self.abstain_below or span.end <= span.start:
            return Answer(question=question, text=None, citations=(), confidence=confidence, reader=self.name)
        passage = index.passages[passage_id]
        start, end = passage.start + span.start, passage.start + span.end
        cited = [s for s in (index.sentences[i] for i in passage.sentence_ids) if s.start < end and start < s.end]
        if not cited:  # a span of whitespace between sentences
            return Answer(question=question, text=None, citations=(), confidence=confidence, reader=self.name)
        return Answer(
            question=question,
            text=index.document(passage.document).text[start:end],
            citations=tuple(cite(s) for s in cited),
            confidence=confidence,
            offset=Span(start, end),
            reader=self.name,
        )
