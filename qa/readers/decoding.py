"""Decoding a QA model's logits into the best answer span and the no-answer score.

Shared by the trained reader at run time and by training's dev scores, so the
two can never disagree on what "the model's answer" is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowSpan:
    """The best span of one window, in token positions, with its scores.

    Attributes:
        window: Which window of the batch.
        start_token: First answer token.
        end_token: Last answer token (inclusive).
        score: start logit + end logit of the span.
        null_score: start + end logit of [CLS]: the window's "no answer here".
    """

    window: int
    start_token: int
    end_token: int
    score: float
    null_score: float


def best_window_span(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    context_mask: np.ndarray,
    *,
    window: int = 0,
    max_answer_tokens: int = 30,
) -> WindowSpan | None:
    """The highest-scoring span inside the context, start <= end, at most ``max_answer_tokens`` long.

    Exhaustive over all pairs (a window is a few hundred tokens, so the score
    matrix is small), vectorised with numpy.
    """
    positions = np.flatnonzero(context_mask)
    if positions.size == 0:
        return None
    s = start_logits[positions].astype(np.float64)
    e = end_logits[positions].astype(np.float64)
    scores = s[:, None] + e[None, :]
    gap = positions[None, :] - positions[:, None]
    scores[(gap < 0) | (gap >= max_answer_tokens)] = -np.inf
    flat = int(np.argmax(scores))
    i, j = divmod(flat, positions.size)
    return WindowSpan(
        window=window,
        start_token=int(positions[i]),
        end_token=int(positions[j]),
        score=float(scores[i, j]),
        null_score=float(start_logits[0] + end_logits[0]),
    )
