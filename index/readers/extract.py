"""One function from a file's bytes to its text, whatever the format: :func:`extract`.

The format is the content's where the content says it unmistakably (a PDF header, a Word zip, an
HTML doctype or ``<html>`` tag in a ``.txt``), else the suffix's. This runs inside the reading box
(:mod:`index.readers.box`), never in the process that serves answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.readers.text import decode, normalise


@dataclass(frozen=True)
class Extracted:
    """A file's text as read: what is split into sentences, and a PDF's page starts."""

    text: str
    markdown: bool = False
    pages: tuple[int, ...] = ()


def kind_of(data: bytes, suffix: str) -> str:
    """``"pdf"``, ``"docx"``, ``"html"``, ``"markdown"`` or ``"text"``: the content's kind, else the suffix's."""
    if b"%PDF-" in data[:1024]:  # the specification allows bytes before the header
        return "pdf"
    if data.startswith(b"PK\x03\x04") and suffix not in (".txt", ".md", ".markdown", ".html", ".htm"):
        return "docx"
    if suffix == ".docx":
        return "docx"  # not a zip: the Word reader says so
    if suffix in (".html", ".htm"):
        return "html"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "markdown" if suffix in (".md", ".markdown") else "text"


def extract(data: bytes, name: str, suffix: str) -> Extracted:
    """The text of a document's bytes.

    Raises:
        DocumentError: The file cannot be read (the reader's own error says why).
    """
    kind = kind_of(data, suffix)
    if kind == "pdf":
        from index.readers.pdf import extract_pdf

        text, layout = extract_pdf(data, name)
        return Extracted(text, pages=layout.page_starts())
    if kind == "docx":
        from index.readers.docx import extract_docx

        return Extracted(extract_docx(data, name))
    if kind == "html":
        from index.readers.html import declared_encoding, html_to_text

        return Extracted(html_to_text(normalise(decode(data, name, declared_encoding(data)))))
    return Extracted(normalise(decode(data, name)), markdown=kind == "markdown")
