"""Answer questions from documents and cite the exact supporting sentence.

    >>> from qa import answer
    >>> answer("How many missiles did Iran fire?").text
    'more than a dozen'

Heavy modules (torch, FAISS) load on first use, so ``import qa`` and
``qa --help`` stay fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

import index  # noqa: F401 - sets the thread policy (index/__init__.py) before anything loads
from qa.errors import (
    ConfigError,
    DocumentError,
    DocumentNotFoundError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EmptyQuestionError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexStoreError,
    ModelLoadError,
    ModelMismatchError,
    NoDocumentsError,
    QAError,
    QuestionError,
    QuestionTooLongError,
    TestSetError,
    UnreadableDocumentError,
)
from qa.result import Answer, Citation, Span

if TYPE_CHECKING:
    from qa.assistant import Assistant, answer
    from qa.config import Settings
    from qa.evaluation.runner import Report, evaluate
    from qa.readers.base import Candidate, Reader, Reading, SentenceOnlyReader
    from qa.readers.extractive import ExtractiveReader

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "Assistant": "qa.assistant",
    "answer": "qa.assistant",
    "evaluate": "qa.evaluation.runner",
    "Report": "qa.evaluation.runner",
    "Settings": "qa.config",
    "Candidate": "qa.readers.base",
    "ExtractiveReader": "qa.readers.extractive",
    "Reader": "qa.readers.base",
    "Reading": "qa.readers.base",
    "SentenceOnlyReader": "qa.readers.base",
}

__all__ = [
    "Answer",
    "Assistant",
    "Candidate",
    "Citation",
    "ConfigError",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentTooLargeError",
    "EmptyDocumentError",
    "EmptyQuestionError",
    "ExtractiveReader",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexStoreError",
    "ModelLoadError",
    "ModelMismatchError",
    "NoDocumentsError",
    "QAError",
    "QuestionError",
    "QuestionTooLongError",
    "Reader",
    "Reading",
    "Report",
    "SentenceOnlyReader",
    "Settings",
    "Span",
    "TestSetError",
    "UnreadableDocumentError",
    "answer",
    "evaluate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
