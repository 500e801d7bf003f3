"""A PDF page as an image with spans of its text highlighted: :func:`highlighted_page`.

The page is rendered by PDFium (pypdfium2 has no JavaScript engine, so a document's scripts never
run) and the spans' character boxes (:class:`index.readers.pdf.Layout`) are painted over it. The
image is made only when the file still gives the indexed text (its checksum is passed in): a
changed file is never highlighted at stale places. It runs in the reading box, as reading does
(the chat calls it through :meth:`index.readers.box.Box.page_image`).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

from index.readers.pdf import Layout, extract_pdf, page_at

WIDTH = 720  # pixels: readable in the chat column, a few hundred KB as PNG
MAX_PIXELS = 4_000_000  # a giant page is drawn smaller, never as a huge bitmap


@functools.lru_cache(maxsize=8)
def _layout(path: str, mtime_ns: int, size: int) -> tuple[str, Layout]:
    from index.documents import read_bytes

    return extract_pdf(read_bytes(Path(path)), path)


def highlighted_page(
    path: str, text_sha256: str, spans: Sequence[tuple[int, int]], *, width: int = WIDTH
) -> tuple[int, bytes] | None:
    """The page where the first span begins, as PNG bytes with the spans highlighted.

    Returns ``(page number, PNG)``, or None when the file is gone or no longer gives the text
    whose checksum is ``text_sha256``.
    """
    try:
        stat = os.stat(path)
        text, layout = _layout(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        return None
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != text_sha256 or not spans:
        return None
    page = page_at(layout.page_starts(), spans[0][0])
    boxes = [box for start, end in spans for box in layout.boxes_of(start, end).get(page or 0, [])]
    if page is None or not boxes:
        return None
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(path)
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
