"""Text out of Word files (.docx): :func:`extract_docx`.

python-docx (MIT) reads the body in order: paragraphs, headings and tables. Each paragraph or
heading becomes a paragraph of the text, and each table row one paragraph with its cells
separated by `` | ``; paragraphs are separated by a blank line. Offsets refer to this text.
Before python-docx sees the file, every part is inflated here in small steps, counting what
comes out: a part that inflates past its declared size, past ``MAX_PART_BYTES``, or far past
its compressed size is refused after at most that much work. python-docx then reads a copy of the
checked parts stored without compression, so it never inflates anything itself (zipfile's
``read()`` inflates a whole stream before it compares it with the declared size: a 1.9 MB file
whose document part says 1 KiB took 2 GB). The main part is the one the package's relationships
name (``word/document.xml`` by custom, not by rule).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.etree import ElementTree

from index.errors import DocumentError

MAX_UNZIPPED_BYTES = 200 * 2**20  # a 20 MiB .docx of text unzips to well under this
MAX_PART_BYTES = 32 * 2**20  # one part (document.xml of a book is a few MiB); parsed whole, so it bounds memory
MAX_RATIO = 100  # XML compresses about 10x; a bomb, hundreds or thousands of times
RATIO_FROM = 2**20  # small parts may compress far better (a table of repeated styles)


class DocxError(DocumentError):
    """A Word file that cannot be read: not a .docx, damaged, or a zip bomb."""


def _bomb_like(size: int, compressed: int) -> bool:
    return size > RATIO_FROM and size > MAX_RATIO * max(compressed, 1)


_CHUNK = 1 << 16
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN = "/officeDocument"


def _refuse_bomb(name: str, member: zipfile.ZipInfo, size: int, total: int) -> DocxError:
    return DocxError(
        f"{name}: unpacks to over {max(total, size) / 2**20:,.0f} MiB ({member.filename}: {size / 2**20:,.1f} MiB from "
        f"{member.compress_size / 2**20:.1f} MiB), which a Word file never does (a zip bomb?); it was not read"
    )


def _unpacked(data: bytes, name: str) -> bytes:
    """The Word file as a zip of its parts stored without compression, each part inflated and counted here.

    Raises:
        DocxError: Not a zip or not Word, damaged, or a part that inflates past a limit.
    """
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
            members = archive.infolist()
            declared = sum(m.file_size for m in members)
            swollen = [m for m in members if m.file_size > MAX_PART_BYTES or _bomb_like(m.file_size, m.compress_size)]
            if declared > MAX_UNZIPPED_BYTES or swollen:
                part = max(swollen or members, key=lambda m: m.file_size)
                raise _refuse_bomb(name, part, part.file_size, declared)
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names:
                raise DocxError(f"{name}: not a Word .docx file (no [Content_Types].xml); save it as .docx and add it")
            total = 0
            for member in members:
                chunks: list[bytes] = []
                size = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(_CHUNK):  # never more than a chunk inflated at a time
                        size += len(chunk)
                        total += len(chunk)
                        if size > MAX_PART_BYTES or total > MAX_UNZIPPED_BYTES or size > member.file_size:
                            raise _refuse_bomb(name, member, size, total)
                        chunks.append(chunk)
                copy.writestr(member.filename, b"".join(chunks))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError, EOFError) as exc:
        raise DocxError(f"{name}: not a Word .docx file ({exc}); save it as .docx and add it again") from None
    except RuntimeError as exc:  # an encrypted member
        raise DocxError(f"{name}: the Word file is protected ({exc}); save an unprotected copy and add that") from None
    return out.getvalue()


def _main_part(unpacked: bytes, name: str) -> str:
    """The part the package names as its main document (``word/document.xml`` in most files)."""
    with zipfile.ZipFile(io.BytesIO(unpacked)) as archive:
        try:
            # ElementTree expands no external entities and no DTD: a hostile .rels declares nothing here.
            root = ElementTree.fromstring(archive.read("_rels/.rels"))
        except (KeyError, ElementTree.ParseError):
            root = None
        names = set(archive.namelist())
    targets = [
        r.get("Target", "").lstrip("/")
        for r in (root.iter(_RELATIONSHIPS + "Relationship") if root is not None else [])
        if (r.get("Type") or "").endswith(_MAIN)
    ]
    for target in targets:
        if target in names:
            return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise DocxError(f"{name}: not a Word .docx file (no main document part); save it as .docx and add it again")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WRAPPERS = {W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag", W + "ins"}  # content inside, kept
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Not this paragraph's text: a text box floats beside it; an mc:Fallback repeats its mc:Choice for
# older readers (both read gave every drawing's text twice).
_ELSEWHERE = {W + "txbxContent", MC + "Fallback"}
_TEXT_TAGS = {W + "t", W + "tab", W + "br", W + "cr"}


def _paragraph_text(paragraph: Any) -> str:
    """A paragraph's visible text, content controls, hyperlinks and tracked insertions included;
    deleted text and field codes (their own elements) are not text.

    One walk over the paragraph's elements that never enters a text box or a fallback: looking up
    from each text node instead cost the depth of its wrappers per node (400,000 runs under 250
    wrappers: 41 s).
    """
    parts: list[str] = []
    pending = list(reversed(paragraph))
    while pending:
        node = pending.pop()
        tag = node.tag
        if not isinstance(tag, str) or tag in _ELSEWHERE:
            continue  # comments, processing instructions, unresolved entities; text boxes
        if tag in _TEXT_TAGS:
            parts.append(_run_text(node) if tag == W + "t" else " ")
        else:
            pending.extend(reversed(node))
    return " ".join("".join(parts).split())


def _run_text(node: Any) -> str:
    """A ``w:t``'s text: its own text and what follows an entity reference inside it (never expanded)."""
    text = [node.text or ""]
    for child in node:
        text.append(child.tail or "")
    return "".join(text)


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
    unpacked = _unpacked(data, name)
    _main_part(unpacked, name)  # refused here with a clear message, before python-docx looks
    import docx

    try:
        document = docx.Document(io.BytesIO(unpacked))
        blocks = _blocks(document.element.body)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocxError(f"{name}: the Word file is damaged ({type(exc).__name__}); open and save it again") from None
    except Exception as exc:  # lxml's XMLSyntaxError and python-docx's own errors
        raise DocxError(
            f"{name}: the Word file cannot be read ({type(exc).__name__}); open and save it again"
        ) from None
    return "\n\n".join(b for b in blocks if b)
