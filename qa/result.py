"""What the assistant returns: an answer and the sentences it cites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Span:
    """A character range ``[start, end)`` in a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """A sentence quoted verbatim from a document.

    ``document_text[start:end] == sentence`` always holds, where
    ``document_text`` is :attr:`index.Document.text` of ``document``.

    Attributes:
        document: Absolute path of the document.
        sentence: The sentence, exactly as it stands in the document.
        start: Offset of its first character.
        end: Offset just past its last character.
        page: For a PDF, the 1-based page where the sentence starts; None otherwise.
    """

    document: str
    sentence: str
    start: int
    end: int
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "page": self.page,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        page = data.get("page")
        return cls(
            str(data["document"]),
            str(data["sentence"]),
            int(data["start"]),
            int(data["end"]),
            None if page is None else int(page),
        )


@dataclass(frozen=True)
class Answer:
    """The assistant's reply to one question.

    Attributes:
        question: The question as asked.
        text: The short answer, verbatim from the document; ``None`` when it abstains.
        citations: The supporting sentences, best first; empty when it abstains.
        confidence: How sure the reader is, in ``[0, 1]``.
        offset: Where ``text`` stands in the first citation's document.
        reader: Which reader produced the answer.
        closest: When it abstains, the sentence that came closest to answering, with its location:
            something to read next, never an answer (``citations`` stay empty, so scoring is unchanged).
    """

    question: str
    text: str | None
    citations: tuple[Citation, ...]
    confidence: float
    offset: Span | None = None
    reader: str = ""
    closest: Citation | None = None

    @property
    def citation(self) -> Citation | None:
        """The main supporting sentence, or ``None`` when the assistant abstains."""
        return self.citations[0] if self.citations else None

    @property
    def abstained(self) -> bool:
        """True when the documents do not answer the question."""
        return self.text is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``qa ask --json`` and the chat's API."""
        return {
            "question": self.question,
            "answer": self.text,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
            "offset": None if self.offset is None else {"start": self.offset.start, "end": self.offset.end},
            "reader": self.reader,
            "closest": None if self.closest is None else self.closest.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        offset = data.get("offset")
        closest = data.get("closest")
        return cls(
            question=str(data["question"]),
            text=data["answer"],
            citations=tuple(Citation.from_dict(c) for c in data["citations"]),
            confidence=float(data["confidence"]),
            offset=None if offset is None else Span(int(offset["start"]), int(offset["end"])),
            reader=str(data.get("reader", "")),
            closest=None if closest is None else Citation.from_dict(closest),
        )
