"""Real PDF and Word files made by the tests: reportlab for PDFs, python-docx for Word."""

from __future__ import annotations

from pathlib import Path

from qa.bench.suite import FONT, _font, article_pdf  # noqa: F401 - the bench makes the same PDFs


def drawn_pdf(
    path: Path, pages: list[list[tuple[float, float, str]]], *, size: tuple[float, float] = (420, 595)
) -> Path:
    """A PDF with each page's strings drawn where given: (x, y, text), y from the bottom."""
    from reportlab.pdfgen import canvas

    font = _font()
    c = canvas.Canvas(str(path), pagesize=size)
    for lines in pages:
        c.setFont(font, 11)
        for x, y, text in lines:
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return path


def raw_pdf(path: Path, catalog_extra: str, objects: str = "") -> Path:
    """A hand-written one-page PDF whose catalog holds ``catalog_extra`` (PDFium rebuilds the missing xref)."""
    path.write_bytes(
        (
            "%PDF-1.4\n"
            f"1 0 obj << /Type /Catalog /Pages 2 0 R {catalog_extra} >> endobj\n"
            "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 5 0 R "
            "/Resources << /Font << /F1 6 0 R >> >> >> endobj\n"
            "5 0 obj << /Length 44 >> stream\nBT /F1 12 Tf 20 100 Td (Hello there.) Tj ET\nendstream endobj\n"
            "6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
            f"{objects}"
            "trailer << /Root 1 0 R >>\n%%EOF\n"
        ).encode("latin-1")
    )
    return path


def word_file(path: Path, blocks: list[tuple[str, object]]) -> Path:
    """A .docx of ("heading", text), ("paragraph", text) and ("table", rows) blocks, in order."""
    import docx

    document = docx.Document()
    for kind, content in blocks:
        if kind == "heading":
            document.add_heading(str(content), level=1)
        elif kind == "paragraph":
            document.add_paragraph(str(content))
        else:
            rows = list(content)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    document.save(str(path))
    return path


def mapped_pdf(path: Path, before: str, characters: list[str], after: str) -> Path:
    """A one-page PDF whose text is ``before + characters + after``, the ``characters`` drawn as byte
    codes 1, 2, ... that the font's ToUnicode map turns into any characters, outside the BMP included
    (written as UTF-16 pairs, as PDF requires). Helvetica draws the codes; no font file is needed."""
    assert all(32 <= ord(c) < 127 and c not in "()\\" for c in before + after)
    entries = "".join(
        f"<{i + 1:02X}> <{c.encode('utf-16-be', 'surrogatepass').hex().upper()}>\n" for i, c in enumerate(characters)
    )
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CMapName /Mapped def /CMapType 2 def\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        f"{len(characters)} beginbfchar\n{entries}endbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )
    codes = "".join(f"\\{i + 1:03o}" for i in range(len(characters)))
    content = f"BT /F1 12 Tf 20 100 Td ({before}{codes}{after}) Tj ET"
    # Codes the map does not name fall back to the font's own encoding (ASCII here).
    body = (
        "%PDF-1.4\n"
        "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 600 200] /Contents 5 0 R "
        "/Resources << /Font << /F1 6 0 R >> >> >> endobj\n"
        f"5 0 obj << /Length {len(content)} >> stream\n{content}\nendstream endobj\n"
        "6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 7 0 R >> endobj\n"
        f"7 0 obj << /Length {len(cmap)} >> stream\n{cmap}endstream endobj\n"
        "trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    path.write_bytes(body.encode("latin-1"))
    return path


def _raw_pages(path: Path, content: str, page_objects: list[str], media_height: float) -> Path:
    """A PDF whose pages (``page_objects``: each page's extra entries) draw with Helvetica."""
    objects = ["1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj"]
    kids = " ".join(f"{10 + i} 0 R" for i in range(len(page_objects)))
    objects.append(f"2 0 obj << /Type /Pages /Kids [{kids}] /Count {len(page_objects)} >> endobj")
    objects.append(f"5 0 obj << /Length {len(content)} >> stream\n{content}\nendstream endobj")
    objects.append("6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj")
    for i, extra in enumerate(page_objects):
        objects.append(
            f"{10 + i} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 {media_height}] "
            f"/Resources << /Font << /F1 6 0 R >> >> {extra} >> endobj"
        )
    path.write_text("%PDF-1.4\n" + "\n".join(objects) + "\ntrailer << /Root 1 0 R >>\n%%EOF\n", encoding="latin-1")
    return path


def shared_stream_pdf(path: Path, pages: int, lines: int, *, repeats: int = 1) -> Path:
    """``pages`` pages that all draw one content stream of ``lines`` lines, ``repeats`` times each."""
    text = "\n".join(f"(Line {i} " + "word " * 10 + ") '" for i in range(lines))
    contents = "/Contents " + ("5 0 R" if repeats == 1 else "[" + " ".join(["5 0 R"] * repeats) + "]")
    return _raw_pages(path, f"BT /F1 9 Tf 20 780 Td 11 TL\n{text}\nET", [contents] * pages, 792)


def many_lines_pdf(path: Path, lines: int, *, columns: int = 1, jitter: bool = False) -> Path:
    """One page with ``lines`` short lines 1 pt apart, in ``columns`` columns, their lefts jittered or not."""
    ops = ["BT /F1 1 Tf"]
    per_column = -(-lines // columns)
    for i in range(lines):
        column, row = divmod(i, per_column)
        x = 20 + column * (560 / columns) + ((i * 7) % 13 if jitter else 0)
        ops.append(f"1 0 0 1 {x:.1f} {14000 - row} Tm (w{i % 10}) Tj")
    ops.append("ET")
    return _raw_pages(path, "\n".join(ops), ["/Contents 5 0 R"], 14200)


def rotated_pdf(path: Path, rotate: int, lines: list[str], origin: tuple[float, float] = (0, 0)) -> Path:
    """A letter-size page with ``/Rotate rotate`` whose text is drawn turned the other way, so it
    reads upright as displayed (a landscape scan, a rotated form), in a MediaBox starting at ``origin``."""
    x0, y0 = origin
    width, height = 612, 792
    matrix = {
        0: f"1 0 0 1 {x0 + 72} {y0 + height - 72}",
        90: f"0 1 -1 0 {x0 + 72} {y0 + 72}",
        180: f"-1 0 0 -1 {x0 + width - 72} {y0 + 72}",
        270: f"0 -1 1 0 {x0 + width - 72} {y0 + height - 72}",
    }[rotate]
    content = f"BT /F1 12 Tf {matrix} Tm 16 TL\n" + "\n".join(f"({line}) Tj T*" for line in lines) + "\nET"
    path.write_text(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        f"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [{x0} {y0} {x0 + width} {y0 + height}] /Rotate {rotate} "
        "/Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> >> endobj\n"
        f"5 0 obj << /Length {len(content)} >> stream\n{content}\nendstream endobj\n"
        "6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
        "trailer << /Root 1 0 R >>\n%%EOF\n",
        encoding="latin-1",
    )
    return path
