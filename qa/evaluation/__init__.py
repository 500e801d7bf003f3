"""Evaluation: ``qa eval`` and :func:`evaluate`.

``runner`` answers a test set and scores it, ``datasets`` reads JSON Lines and SQuAD
files, ``metrics`` holds SQuAD's normalisation and F1, ``plots`` draws the report's
figure. ``from qa.evaluation import evaluate, Report`` loads the runner on first use,
so importing ``metrics`` alone stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.evaluation.runner import Metrics, QuestionResult, Report, evaluate, write_outputs

__all__ = ["Metrics", "QuestionResult", "Report", "evaluate", "write_outputs"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("qa.evaluation.runner"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qa.evaluation' has no attribute {name!r}")
