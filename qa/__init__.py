"""Answer questions from documents and cite the exact supporting sentence.

    >>> from qa import answer
    >>> answer("Where did Khamenei speak?").text
    'Qom'

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
    from qa.evaluation import Report, evaluate
    from qa.extractive import ExtractiveReader
    from qa.reader import Candidate, Reader, Reading, SentenceOnlyReader

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "Assistant": "qa.assistant",
    "answer": "qa.assistant",
    "evaluate": "qa.evaluation",
    "Report": "qa.evaluation",
    "Settings": "qa.config",
    "Candidate": "qa.reader",
    "ExtractiveReader": "qa.extractive",
    "Reader": "qa.reader",
    "Reading": "qa.reader",
    "SentenceOnlyReader": "qa.reader",
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
