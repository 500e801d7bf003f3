"""Text out of Word files (.docx): :func:`extract_docx`.

python-docx (MIT) reads the body in order: paragraphs, headings and tables. Each paragraph or
heading becomes a paragraph of the text, and each table row one paragraph with its cells
separated by `` | ``; paragraphs are separated by a blank line. Offsets refer to this text.
Before python-docx sees the file, the zip is checked, so a zip bomb named ``.docx`` is refused
without being inflated.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from index.errors import DocumentError

MAX_UNZIPPED_BYTES = 200 * 2**20  # a 20 MiB .docx of text unzips to well under this
MAX_PART_BYTES = 32 * 2**20  # one part (document.xml of a book is a few MiB); parsed whole, so it bounds memory
MAX_RATIO = 100  # XML compresses about 10x; a bomb, hundreds or thousands of times
RATIO_FROM = 2**20  # small parts may compress far better (a table of repeated styles)


class DocxError(DocumentError):
    """A Word file that cannot be read: not a .docx, damaged, or a zip bomb."""


def _bomb_like(member: zipfile.ZipInfo) -> bool:
    return member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1)


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DocxError(f"{name}: not a Word .docx file ({exc}); save it as .docx and add it again") from None
    total = sum(m.file_size for m in members)
    # Part by part, not only in total: padding the archive with incompressible bytes lowers the
    # total's ratio, not the bomb part's. A part cannot unpack to more than it declares (zipfile
    # stops there, and a wrong CRC then fails the read), so the declared sizes bound the work.
    swollen = [m for m in members if m.file_size > MAX_PART_BYTES or _bomb_like(m)]
    if total > MAX_UNZIPPED_BYTES or swollen:
        part = max(swollen or members, key=lambda m: m.file_size)
        raise DocxError(
            f"{name}: unpacks to {total / 2**20:,.0f} MiB ({part.filename}: {part.file_size / 2**20:,.0f} MiB from "
            f"{part.compress_size / 2**20:.1f} MiB), which a Word file never does (a zip bomb?); it was not opened"
        )
    if "word/document.xml" not in {m.filename for m in members}:
        raise DocxError(f"{name}: not a Word .docx file (no word/document.xml); save it as .docx and add it again")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WRAPPERS = {W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag", W + "ins"}  # content inside, kept


def _paragraph_text(paragraph: Any) -> str:
    """A paragraph's visible text, content controls, hyperlinks and tracked insertions included;
    deleted text and field codes (their own elements) are not text."""
    parts: list[str] = []
    for node in paragraph.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if _in_text_box(node, paragraph):
            continue  # a text box's paragraphs float beside this one, not inside its sentences
        parts.append((node.text or "") if node.tag == W + "t" else " ")
    return " ".join("".join(parts).split())


def _in_text_box(node: Any, paragraph: Any) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag == W + "txbxContent":
            return True
        parent = parent.getparent()
    return False


def _inside(wrapper: Any) -> Any:
    """What a wrapper holds: a content control's content, or the wrapper's own children."""
    return wrapper.find(W + "sdtContent") if wrapper.tag == W + "sdt" else wrapper


def _children(element: Any, tag: str) -> list[Any]:
    """``element``'s children with ``tag`` (a table's rows, a row's cells), looking into wrappers."""
    found: list[Any] = []
    for child in element:
        if child.tag == tag:
            found.append(child)
        elif child.tag in _WRAPPERS and (inner := _inside(child)) is not None:  # a content control around them
            found.extend(_children(inner, tag))
    return found


def _cell_text(cell: Any) -> str:
    """All of a cell's text, nested tables included, as one line."""
    return " ".join(block for block in _blocks(cell) if block)


def _row_text(row: Any) -> str:
    cells: list[str] = []
    for cell in _children(row, W + "tc"):
        text = _cell_text(cell)
        if text and (not cells or cells[-1] != text):  # a merged cell can repeat its neighbour's text
            cells.append(text)
    return " | ".join(cells)


def _blocks(element: Any) -> list[str]:
    """Paragraphs and table rows in document order, into content controls and other wrappers."""
    blocks: list[str] = []
    for child in element:
        if child.tag == W + "p":
            blocks.append(_paragraph_text(child))
        elif child.tag == W + "tbl":
            blocks.extend(_row_text(row) for row in _children(child, W + "tr"))
        elif child.tag in _WRAPPERS and (inner := _inside(child)) is not None:
            blocks.extend(_blocks(inner))
    return blocks


def extract_docx(data: bytes, name: str = "document.docx") -> str:
    """The text of a Word file: paragraphs, headings and table rows in document order, with the text
    of content controls and of tables nested in cells.

    Raises:
        DocxError: Not a .docx file, damaged, or unpacking to far more than a Word file does.
    """
    _check_zip(data, name)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document.element.body)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocxError(f"{name}: the Word file is damaged ({type(exc).__name__}); open and save it again") from None
    except Exception as exc:  # lxml's XMLSyntaxError and python-docx's own errors
        raise DocxError(
            f"{name}: the Word file cannot be read ({type(exc).__name__}); open and save it again"
        ) from None
    return "\n\n".join(b for b in blocks if b)
