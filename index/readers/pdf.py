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
import io
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
    if raw.FPDFDoc_GetJavaScriptActionCount(pdf.raw) > 0 or raw.FPDFDoc_GetAttachmentCount(pdf.raw) > 0:
        pdf.close()
        raise PdfError(
            f"{name}: the PDF holds JavaScript or embedded files, which are not accepted; "
            "print it to a new PDF without them and add that"
        )
    return pdf


# Names that make a PDF active: scripts, launch actions, attached files. qpdf (through pikepdf) parses
# every object, those inside object streams included, and undoes names' #xx escapes and any filter.
_ACTIVE_NAMES = frozenset({"/JavaScript", "/JS", "/EmbeddedFile", "/EmbeddedFiles", "/Launch"})
MAX_OBJECT_STREAM_BYTES = 64 * 2**20  # object streams, inflated, in all: real files hold a few MiB
# Content-stream bytes a PDF makes PDFium interpret, counting a form as often as it is drawn: a dense
# 500-page book draws about 25 MiB. A 64 KB file whose 400 pages share one inflating stream asked
# for far more (26 s a read), a form drawing itself twice over for an exponential amount.
MAX_DRAWING_BYTES = 256 * 2**20
_CHUNK = 1 << 20
_DO = re.compile(rb"/([^\s/<>\[\]()%{}]+)\s*Do\b")


def _inflated(stream: Any, budget: int, on_chunk: Callable[[bytes], None] | None = None) -> int:
    """How many bytes ``stream`` decodes to, counting at most ``budget`` + one chunk (never held whole);
    -1 when its filters cannot be undone.

    Flate is inflated here a chunk at a time; other filters are decoded by qpdf (bounded by the
    reading box's memory limit).
    """
    import pikepdf

    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    if names in ([], [pikepdf.Name.FlateDecode]) and "/DecodeParms" not in stream:
        raw = stream.read_raw_bytes()
        if not names:
            if on_chunk:
                on_chunk(raw)
            return len(raw)
        inflater = zlib.decompressobj()
        size, pending = 0, raw
        try:
            while pending and size <= budget:
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                size += len(chunk)
                if on_chunk:
                    on_chunk(chunk)
        except zlib.error:
            return size  # damaged: PDFium reads no more of it either
        return size
    try:
        data = stream.read_bytes()
    except pikepdf.PdfError:
        return -1  # a filter qpdf cannot undo on these bytes: unreadable to PDFium too
    if on_chunk:
        on_chunk(data)
    return len(data)


def _walk_values(root: Any) -> Any:
    """``root`` and every direct object inside it (dictionaries' values, arrays' items), without recursion."""
    import pikepdf

    pending = [root]
    while pending:
        value = pending.pop()
        yield value
        if isinstance(value, (pikepdf.Dictionary, pikepdf.Stream)):
            children = list(value.values())
        elif isinstance(value, pikepdf.Array):
            children = list(value)
        else:
            continue
        # Scalars come back as Python values; indirect objects are walked as objects of their own.
        pending.extend(v for v in children if isinstance(v, pikepdf.Object) and not v.is_indirect)


def _is_active(value: Any) -> bool:
    import pikepdf

    if isinstance(value, pikepdf.Name):
        return str(value) in _ACTIVE_NAMES
    if isinstance(value, (pikepdf.Dictionary, pikepdf.Stream)):
        return any(key in _ACTIVE_NAMES for key in value.keys())
    return False


_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _hides_active(obj: Any, budget: int) -> bool:
    """Whether an object stream names active content inside: one no cross-reference lists is never
    parsed by qpdf, but a PDF reader rebuilding a damaged file may parse it, so its names are read
    here (qpdf undoes the filters). One whose filters cannot be undone counts as active."""
    import pikepdf

    if not isinstance(obj, pikepdf.Stream) or obj.get("/Type") != pikepdf.Name.ObjStm:
        return False
    names: set[bytes] = set()
    tail = b""

    def collect(chunk: bytes) -> None:
        nonlocal tail
        text = tail + chunk
        names.update(_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), n) for n in _NAME.findall(text))
        tail = text[-256:]

    if _inflated(obj, budget, collect) < 0:
        return True
    return bool({"/" + n.decode("latin-1") for n in names} & _ACTIVE_NAMES)


def _check_structure(data: bytes, name: str) -> None:
    """Refuse, before PDFium interprets a page, active content and drawing that would never end.

    Raises:
        PdfError: Scripts, launch actions or attachments anywhere; object streams inflating past
            ``MAX_OBJECT_STREAM_BYTES``; a form that draws itself (directly or through others); pages
            asking PDFium to interpret over ``MAX_DRAWING_BYTES`` of content.
    """
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise PdfError(f"{name}: the PDF is encrypted; save an unprotected copy and add that") from None
    except pikepdf.PdfError as exc:
        raise PdfError(f"{name}: not a readable PDF ({str(exc)[:200]}); the file may be damaged") from None
    with pdf:
        budget = MAX_OBJECT_STREAM_BYTES
        streams = {e.obj_stream_number for e in pdf.get_xref_table().values() if e.type == 2}
        for entry in sorted(n for n in streams if n is not None):
            try:
                stream = pdf.get_object((entry, 0))
            except (pikepdf.PdfError, ValueError):
                continue
            if isinstance(stream, pikepdf.Stream):
                budget -= max(0, _inflated(stream, budget))
            if budget < 0:
                raise PdfError(
                    f"{name}: its object streams inflate to over {MAX_OBJECT_STREAM_BYTES // 2**20} MiB, which "
                    "no real PDF needs; print it to a new PDF and add that"
                )
        for obj in pdf.objects:
            if any(_is_active(value) for value in _walk_values(obj)) or _hides_active(obj, budget):
                raise PdfError(
                    f"{name}: the PDF holds JavaScript or embedded files, which are not accepted; "
                    "print it to a new PDF without them and add that"
                )
        _check_drawing(pdf, name)


def _check_drawing(pdf: Any, name: str) -> None:
    """Count the content PDFium would interpret, each form as often as it is drawn (see MAX_DRAWING_BYTES)."""
    import pikepdf

    costs: dict[tuple[int, int], int] = {}  # a form's cost: its own content plus its drawings, memoised
    drawing: set[tuple[int, int]] = set()  # forms on the current path: one seen again draws itself

    def refuse(why: str) -> PdfError:
        return PdfError(f"{name}: {why}, which PDFium would never finish drawing; print it to a new PDF and add that")

    def content_cost(streams: list[Any], resources: Any, remaining: int) -> int:
        calls: Counter[bytes] = Counter()
        tail = b""

        def scan(chunk: bytes) -> None:
            nonlocal tail
            text = tail + chunk
            # A name and its Do can straddle chunks: keep the end of this one for the next.
            calls.update(m[1] for m in _DO.finditer(text, 0, max(0, len(text) - 256)))
            tail = text[max(0, len(text) - 256) :]

        total = 0
        for stream in streams:
            total += _inflated(stream, remaining - total, scan)
            if total > remaining:
                return total
        calls.update(m[1] for m in _DO.finditer(tail))
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(xobjects, pikepdf.Dictionary):
            return total
        for called, times in calls.items():
            form = xobjects.get("/" + called.decode("latin-1"))
            if not isinstance(form, pikepdf.Stream) or form.get("/Subtype") != pikepdf.Name.Form:
                continue
            total += times * form_cost(form, remaining - total)
            if total > remaining:
                break
        return total

    def form_cost(form: Any, remaining: int) -> int:
        key = form.objgen
        if key in drawing:
            raise refuse("a form in it draws itself")
        if key in costs:
            return costs[key]
        drawing.add(key)
        try:
            cost = content_cost([form], form.get("/Resources"), remaining) + 1  # +1: a form that is empty still costs
        finally:
            drawing.discard(key)
        costs[key] = cost
        return cost

    remaining = MAX_DRAWING_BYTES
    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        streams = [contents] if isinstance(contents, pikepdf.Stream) else list(contents or [])
        streams = [s for s in streams if isinstance(s, pikepdf.Stream)]
        remaining -= content_cost(streams, page.obj.get("/Resources"), remaining)
        if remaining < 0:
            raise refuse(f"its pages ask for over {MAX_DRAWING_BYTES // 2**20} MiB of drawing")


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
    _check_structure(data, name)
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
