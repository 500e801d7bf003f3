"""A PDF page as an image with the cited sentence highlighted, made on the server for the chat.

The page is rendered by PDFium (pypdfium2 has no JavaScript engine, so a document's scripts never
run) and the cited characters' boxes (:class:`index.pdf.Layout`) are painted over it. Only pages of
indexed documents are made, and only when the file still gives the indexed text: a changed file is
never highlighted at stale places.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path

from index.documents import Document
from index.pdf import Layout, extract_pdf

WIDTH = 720  # pixels: readable in the chat column, a few hundred KB as PNG
MAX_PIXELS = 4_000_000  # a giant page is drawn smaller, never as a huge bitmap


@functools.lru_cache(maxsize=8)
def _layout(path: str, mtime_ns: int, size: int) -> tuple[str, Layout]:
    return extract_pdf(Path(path).read_bytes(), path)


def highlighted_page(
    document: Document, spans: Sequence[tuple[int, int]], *, width: int = WIDTH
) -> tuple[int, bytes] | None:
    """The page where the first span of ``document.text`` begins, as PNG bytes with the spans highlighted.

    Returns ``(page number, PNG)``, or None when the document is not a PDF, its file is gone, or
    the file no longer gives the indexed text.
    """
    if not document.pages:
        return None
    try:
        stat = os.stat(document.path)
        text, layout = _layout(document.path, stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        return None
    if text != document.text or not spans:
        return None
    page = document.page_at(spans[0][0])
    boxes = [box for start, end in spans for box in layout.boxes_of(start, end).get(page or 0, [])]
    if page is None or not boxes:
        return None
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(document.path)
    try:
        pdf_page = pdf[page - 1]
        page_width, page_height = pdf_page.get_size()
        scale = min(width / page_width, (MAX_PIXELS / (page_width * page_height)) ** 0.5)
        image = pdf_page.render(scale=scale, may_draw_forms=False).to_pil().convert("RGBA")
        pdf_page.close()
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, bottom, right, top in boxes:
        pad = 1.5
        draw.rectangle(
            [
                (left - pad) * scale,
                (page_height - top - pad) * scale,
                (right + pad) * scale,
                (page_height - bottom + pad) * scale,
            ],
            fill=(255, 220, 0, 110),
            outline=(224, 176, 0, 255),
        )
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG", optimize=False)
    return page, out.getvalue()
