"""Text out of PDFs, with the page and the box of every character: :func:`extract_pdf`.

PDFium (through pypdfium2: Apache-2.0/BSD, no JavaScript engine in its wheels) reads the text
layer in content order and gives each character's box. From its lines this module makes the
document text:

* lines of one paragraph are joined with a space; a word hyphenated across a line break is
  joined without its hyphen (PDFium marks such hyphens); a blank line separates paragraphs,
  which start where the gap between lines grows or a column or page break follows a short line;
* running headers and footers (a line in the top or bottom margin that repeats, digits aside, on
  at least half the pages) and bare page numbers are dropped;
* ligatures (ﬁ, ﬂ, ...) become their letters, and runs of spaces one space.

Every character of the result maps back to its page and box (:class:`Layout`), so a citation's
offsets in the text give its page and the rectangles to highlight on it.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import re
import statistics
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from index.errors import DocumentError

MAX_PAGES = 2_000
# Each character is kept with its box (about 300 bytes and 6 us in Python), so the text a PDF may hold
# is bounded, not only its file size: pages can share one content stream, and a 300 KB file can
# repeat 160 KB of text on each of 2,000 pages. 1.5 million characters is about 500 dense pages:
# at most about 9 s and 450 MB here.
MAX_CHARACTERS = 1_500_000
MAX_PAGE_POINTS = 14_400  # 200 inches, the largest page the PDF specification allows
MARGIN = 0.1  # headers and footers live in the top and bottom tenth of a page
LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
HYPHEN_BREAKS = {"\ufffe", "\x02", "\xad"}  # how PDFium marks a hyphen that ends a line inside a word
Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (origin bottom left)


class PdfError(DocumentError):
    """A PDF that cannot be read: encrypted, damaged, without text, too big, or with scripts or attachments."""


@dataclass(frozen=True)
class Layout:
    """Where the characters of an extracted text stand in the PDF.

    ``pages[i]`` is the 1-based page of ``text[i]`` (0 for a space or line break the extraction
    put in), ``boxes[i]`` its box on that page.
    """

    pages: tuple[int, ...]
    boxes: tuple[Box, ...]
    page_sizes: tuple[tuple[float, float], ...]  # width, height in points

    def page_starts(self) -> tuple[int, ...]:
        """The offset where each page's text begins (page ``i + 1`` begins at ``[i]``)."""
        starts: list[int] = []
        for offset, page in enumerate(self.pages):
            while page and len(starts) < page:
                starts.append(offset)
        while len(starts) < len(self.page_sizes):
            starts.append(len(self.pages))
        return tuple(starts)

    def boxes_of(self, start: int, end: int) -> dict[int, list[Box]]:
        """The boxes of ``text[start:end]`` by page, one per line: what to highlight."""
        lines: dict[int, list[Box]] = {}
        for page, box in zip(self.pages[start:end], self.boxes[start:end], strict=True):
            if not page:
                continue
            own = lines.setdefault(page, [])
            # The same line as the box before: they overlap vertically, and this one is to its right.
            if (
                own
                and min(own[-1][3], box[3]) - max(own[-1][1], box[1]) > 0.3 * (box[3] - box[1])
                and box[0] >= own[-1][0]
            ):
                left, bottom, right, top = own[-1]  # the same line: widen its box
                own[-1] = (left, min(bottom, box[1]), max(right, box[2]), max(top, box[3]))
            else:
                own.append(box)
        return lines


def page_at(page_starts: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding ``offset`` of a PDF's text, or None for a text without pages."""
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


@dataclass
class _Line:
    chars: list[tuple[str, Box]]  # character, box
    page: int
    height: float  # page height

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)

    @functools.cached_property
    def _ink(self) -> list[Box]:
        return [b for c, b in self.chars if not c.isspace() and c not in HYPHEN_BREAKS] or [self.chars[0][1]]

    @functools.cached_property
    def left(self) -> float:
        return min(b[0] for b in self._ink)

    @functools.cached_property
    def right(self) -> float:
        return max(b[2] for b in self._ink)

    @functools.cached_property
    def base(self) -> float:
        return statistics.median(b[1] for b in self._ink)

    @functools.cached_property
    def size(self) -> float:
        return statistics.median(b[3] - b[1] for b in self._ink) or 1.0


def _open(data: bytes, name: str) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfError(f"{name}: the PDF is encrypted; save an unprotected copy and add that") from None
        raise PdfError(f"{name}: not a readable PDF ({exc}); the file may be damaged") from None
    if len(pdf) > MAX_PAGES:
        pages = len(pdf)
        pdf.close()
        raise PdfError(f"{name}: {pages:,} pages is over the {MAX_PAGES:,}-page limit; split the PDF")
    if (
        raw.FPDFDoc_GetJavaScriptActionCount(pdf.raw) > 0
        or raw.FPDFDoc_GetAttachmentCount(pdf.raw) > 0
        or _active_content(data)
    ):
        pdf.close()
        raise PdfError(
            f"{name}: the PDF holds JavaScript or embedded files, which are not accepted; "
            "print it to a new PDF without them and add that"
        )
    return pdf


# Names that make a PDF active: scripts, launch actions, attached files. Checked on every name in
# the file after its #xx escapes are undone (/Java#53cript is /JavaScript), and in every object
# stream after its filters are undone (objects can hide there, under any filter chain).
_ACTIVE_NAMES = frozenset({b"JavaScript", b"JS", b"EmbeddedFile", b"EmbeddedFiles", b"Launch"})
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n")
_INFLATE_LIMIT = 16 * 2**20  # per object stream: more than any real one holds


def _unescape(raw: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)


def _names(data: bytes) -> set[bytes]:
    return {_unescape(raw) for raw in _NAME.findall(data)}


def _undo_filters(body: bytes, filters: list[bytes]) -> bytes | None:
    """A stream's bytes with its filters undone, or None for a filter this check cannot undo.

    Raises:
        ValueError, zlib.error: The stream is not what its filters say.
    """
    import base64
    import binascii

    for name in filters:
        if name in (b"FlateDecode", b"Fl"):
            body = zlib.decompressobj().decompress(body, _INFLATE_LIMIT)
        elif name in (b"ASCIIHexDecode", b"AHx"):
            hexes = re.sub(rb"\s", b"", body.split(b">", 1)[0])
            body = binascii.unhexlify(hexes + b"0" * (len(hexes) % 2))
        elif name in (b"ASCII85Decode", b"A85"):
            text = re.sub(rb"\s", b"", body.split(b"~>", 1)[0]).removeprefix(b"<~")
            body = base64.a85decode(text, adobe=False) if text else b""
        else:
            return None
    return body


def _active_content(data: bytes) -> bool:
    """Whether the file names JavaScript, embedded files or a launch action anywhere, object streams
    included: PDFium counts only document-level scripts and attachments, not an /OpenAction or a
    link's script. An object stream whose filters cannot be undone here counts as active."""
    if _names(data) & _ACTIVE_NAMES:
        return True
    for match in _STREAM.finditer(data):
        begin = data.rfind(b"obj", max(0, match.start() - 4096), match.start())
        dictionary = _unescape(data[max(begin, 0, match.start() - 4096) : match.start()])
        if b"ObjStm" not in set(_NAME.findall(dictionary)):
            continue
        declared = re.search(rb"/Filter\s*(\[[^\]]*\]|/[^\s/<>\[\]]+)", dictionary)
        filters = _NAME.findall(declared[1]) if declared else []
        end = data.find(b"endstream", match.end())
        try:
            inside = _undo_filters(data[match.end() : end if end >= 0 else len(data)], filters)
        except (zlib.error, ValueError):  # binascii.Error is a ValueError
            continue  # not readable as declared: PDFium cannot read its objects either
        if inside is None or _names(inside) & _ACTIVE_NAMES:
            return True
    return False


def _finite(box: Sequence[float]) -> Box:
    """A character box, or an empty one at the origin when a degenerate text matrix made it infinite or NaN."""
    left, bottom, right, top = (float(v) for v in box)
    return (left, bottom, right, top) if all(map(math.isfinite, (left, bottom, right, top))) else (0.0, 0.0, 0.0, 0.0)


def _characters(text: str, textpage: Any) -> list[tuple[str, Box]]:
    """PDFium's characters with their boxes, a character outside the BMP as one (PDFium gives its two
    UTF-16 halves as two characters; apart, UTF-8 cannot encode them) and a lone half as U+FFFD."""
    out: list[tuple[str, Box]] = []
    i = 0
    while i < len(text):
        char = text[i]
        box: Box = _finite(textpage.get_charbox(i))
        if "\ud800" <= char <= "\udbff" and i + 1 < len(text) and "\udc00" <= text[i + 1] <= "\udfff":
            low = text[i + 1]
            char = chr(0x10000 + ((ord(char) - 0xD800) << 10) + (ord(low) - 0xDC00))
            other = _finite(textpage.get_charbox(i + 1))
            box = (min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3]))
            i += 1
        elif "\ud800" <= char <= "\udfff":
            char = "\ufffd"
        out.append((char, box))
        i += 1
    return out


def _to_display(page: Any) -> Callable[[Box], Box]:
    """Boxes from PDF user space to the page as displayed: origin at the visible box's bottom left,
    turned by the page's /Rotate (clockwise), so "up" and "left" are what a reader sees."""
    left, bottom, right, top = page.get_cropbox()
    width, height = right - left, top - bottom
    rotation = page.get_rotation() % 360

    def point(x: float, y: float) -> tuple[float, float]:
        x, y = x - left, y - bottom
        if rotation == 90:
            return y, width - x
        if rotation == 180:
            return width - x, height - y
        if rotation == 270:
            return height - y, x
        return x, y

    def box(b: Box) -> Box:
        (x1, y1), (x2, y2) = point(b[0], b[1]), point(b[2], b[3])
        return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))

    return box


def _mostly_upward(lines: Sequence[_Line]) -> bool:
    """Whether, line after line in one column, the text mostly climbs the page as displayed: PDFium
    gives some rotated pages' lines last first."""
    up = down = 0
    for previous, line in zip(lines, lines[1:], strict=False):
        if abs(line.left - previous.left) < 4 * line.size:
            if line.base > previous.base + 0.1 * line.size:
                up += 1
            elif line.base < previous.base - 0.1 * line.size:
                down += 1
    return up > down


def _page_lines(page: Any, number: int, height: float) -> list[_Line]:
    """The page's text lines in reading order, each character with its box as the page is displayed."""
    display = _to_display(page)
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range()
        if len(text) != count:  # characters outside the BMP: ask one at a time
            import pypdfium2.raw as raw

            text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(count))
        lines: list[_Line] = []
        current: list[tuple[str, Box]] = []
        for char, raw_box in _characters(text, textpage):
            box = display(raw_box)
            if char in "\r\n":
                if current:
                    lines.append(_Line(current, number, height))
                current = []
                continue
            current.append((char, box))
            if char in HYPHEN_BREAKS:  # PDFium joins a hyphenated line to the next; keep them apart
                lines.append(_Line(current, number, height))
                current = []
        if current:
            lines.append(_Line(current, number, height))
        lines = [line for line in lines if line.text.strip()]
        return lines[::-1] if _mostly_upward(lines) else lines
    finally:
        textpage.close()


_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?[-–—(]?\s*\d{1,5}\s*(?:(?:/|of)\s*\d{1,5})?\s*[-–—)]?\s*$", re.IGNORECASE)


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Without headers, footers and page numbers: margin lines that repeat (digits aside) or are a number."""

    def in_margin(line: _Line) -> bool:
        return line.base > line.height * (1 - MARGIN) or line.base < line.height * MARGIN

    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.strip().lower())

    seen = Counter(k for lines in pages for k in {key(line) for line in lines if in_margin(line)})
    repeated = {k for k, n in seen.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    return [
        [line for line in lines if not (in_margin(line) and (key(line) in repeated or _PAGE_NUMBER.match(line.text)))]
        for lines in pages
    ]


def _new_paragraph(previous: _Line, line: _Line, pitch: float, column_right: float) -> bool:
    """Whether ``line`` starts a paragraph after ``previous``."""
    below = line.page == previous.page and line.base < previous.base - 0.1 * line.size
    if below and abs(line.left - previous.left) < 4 * line.size:
        gap = previous.base - line.base
        return gap > 1.4 * pitch or line.left > previous.left + 1.5 * line.size  # a wider gap, or an indent
    # A column or page break: the paragraph goes on if the next line's first word would not have fit
    # on the line before (how the text was wrapped), else the line before ended its paragraph.
    word = []
    for char, box in line.chars:
        if char.isspace():
            break
        word.append(box)
    width = (word[-1][2] - word[0][0]) if word else 0.0
    return previous.right + 0.25 * previous.size + width < column_right


def _load_page(pdf: Any, index: int) -> Any | None:
    """Page ``index``, or None when the page tree names a page that is not there (a wrong /Count)."""
    import pypdfium2 as pdfium

    try:
        return pdf[index]
    except pdfium.PdfiumError:
        return None


def _check_text_size(pdf: Any, name: str) -> None:
    """Refuse, before any character is read into Python, a PDF holding more text than MAX_CHARACTERS.

    Counting is PDFium's own work (about 1 ms a page), so a hostile file is refused in seconds.
    """
    total = 0
    for number in range(len(pdf)):
        page = _load_page(pdf, number)
        if page is None:
            continue
        try:
            textpage = page.get_textpage()
            try:
                total += textpage.count_chars()
            finally:
                textpage.close()
        finally:
            page.close()
        if total > MAX_CHARACTERS:
            raise PdfError(
                f"{name}: holds over {MAX_CHARACTERS:,} characters of text by page {number + 1} (pages that repeat "
                "one content stream?); split the PDF, or save its text as a .txt file"
            )


def _column_rights(lines: Sequence[_Line]) -> dict[int, float]:
    """How far each line's column reaches: the rightmost line ``x`` with ``|x.left - line.left| < 4 * x.size``.

    A sweep over the lines' intervals (``x.left`` plus or minus ``4 * x.size``) with a heap of open
    ones, so a page of 12,000 lines costs n log n, not n squared.
    """
    events: list[tuple[float, int, int]] = []
    for i, x in enumerate(lines):  # at one coordinate: ends, then queries, then starts (open intervals)
        events += [(x.left - 4 * x.size, 2, i), (x.left + 4 * x.size, 0, i), (x.left, 1, i)]
    events.sort()
    open_lines: list[tuple[float, int]] = []
    ended: set[int] = set()
    rights: dict[int, float] = {}
    for _, kind, i in events:
        if kind == 0:
            ended.add(i)
        elif kind == 2:
            heapq.heappush(open_lines, (-lines[i].right, i))
        else:
            while open_lines and open_lines[0][1] in ended:
                heapq.heappop(open_lines)
            rights[id(lines[i])] = -open_lines[0][0] if open_lines else lines[i].right
    return rights


def extract_pdf(data: bytes, name: str = "document.pdf") -> tuple[str, Layout]:
    """The text of a PDF and where each of its characters stands.

    Raises:
        PdfError: The PDF is encrypted, damaged, over the page or size limits, holds JavaScript or
            embedded files, or has no text layer (a scan).
    """
    pdf = _open(data, name)
    try:
        _check_text_size(pdf, name)
        sizes: list[tuple[float, float]] = []
        pages: list[list[_Line]] = []
        for number in range(1, len(pdf) + 1):
            page = _load_page(pdf, number - 1)
            if page is None:  # counted in the page tree but not there: a page without text
                sizes.append((0.0, 0.0))
                pages.append([])
                continue
            try:
                width, height = page.get_size()
                if max(width, height) > MAX_PAGE_POINTS:
                    raise PdfError(
                        f"{name}: page {number} is {width:.0f} x {height:.0f} points, "
                        f"over the PDF maximum of {MAX_PAGE_POINTS}"
                    )
                sizes.append((width, height))
                pages.append(_page_lines(page, number, height))
            finally:
                page.close()
    finally:
        pdf.close()
    kept = _drop_running_lines(pages)
    # A PDF whose only text is a line repeated in the margin (a stamp on every page) keeps it: it is
    # all the text there is, not a scan.
    pages = kept if any(kept) else pages
    lines = [line for page_lines in pages for line in page_lines]
    if not any(c.isalnum() for line in lines for c, _ in line.chars):
        raise PdfError(f"{name}: the PDF has no text layer (a scanned image?); run OCR on it first, then add it")
    gaps = [
        a.base - b.base
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page and 0 < a.base - b.base < 3 * a.size
    ]
    pitch = statistics.median(gaps) if gaps else 1.2 * statistics.median(line.size for line in lines)
    text: list[str] = []
    where: list[tuple[int, Box]] = []
    nothing: tuple[int, Box] = (0, (0.0, 0.0, 0.0, 0.0))

    def put(char: str, place: tuple[int, Box]) -> None:
        if char.isspace():
            if not text or text[-1] in " \n":
                return  # one space for a run, none at a paragraph's start
            char, place = " ", nothing  # a space has no ink to highlight
        for letter in LIGATURES.get(char, char):
            text.append(letter)
            where.append(place)

    column_right: dict[int, float] = {}
    for page_lines in pages:
        column_right.update(_column_rights(page_lines))
    previous: _Line | None = None
    for line in lines:
        if previous is not None:
            if _new_paragraph(previous, line, pitch, column_right[id(previous)]):
                while text and text[-1] == " ":
                    text.pop(), where.pop()
                text.extend("\n\n")
                where.extend([nothing, nothing])
            elif previous.chars[-1][0] not in HYPHEN_BREAKS:
                put(" ", nothing)
        for char, box in line.chars:
            if char in HYPHEN_BREAKS:
                continue  # the word goes on at the start of the next line
            put(char, (line.page, box))  # a no-break space becomes a space there, as every whitespace
        previous = line
    while text and text[-1] in " \n":
        text.pop(), where.pop()
    return "".join(text), Layout(tuple(p for p, _ in where), tuple(b for _, b in where), tuple(sizes))  # type: ignore[arg-type]
