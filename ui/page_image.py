"""A PDF page as an image with the cited sentence highlighted, made for the chat in the reading box.

Rendering is PDFium's work on a user's file, so it runs where reading does: in a worker of the
reading box (:mod:`index.readers.box`, :func:`index.readers.page_image.highlighted_page`), under
the same limits. Only pages of indexed documents are made, and only when the file still gives the
indexed text: a changed file is never highlighted at stale places.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from index.documents import Document
from index.errors import DocumentError
from index.readers.box import ReadLimits, box_for
from index.readers.page_image import WIDTH


def highlighted_page(
    document: Document, spans: Sequence[tuple[int, int]], *, width: int = WIDTH, limits: ReadLimits | None = None
) -> tuple[int, bytes] | None:
    """The page where the first span of ``document.text`` begins, as PNG bytes with the spans highlighted.

    Returns ``(page number, PNG)``, or None when the document is not a PDF, its file is gone, the
    file no longer gives the indexed text, or drawing the page went past a reading limit.
    """
    if not document.pages or not spans:
        return None
    digest = hashlib.sha256(document.text.encode("utf-8")).hexdigest()
    try:
        return box_for(limits).page_image(document.path, digest, spans, width)
    except DocumentError:
        return None
