"""Hypothesis fuzzing of the PDF and Word readers with generated structures, under time and memory bounds.

PDFs: random page trees (nested /Pages nodes), /Rotate and MediaBoxes anywhere, content streams
shared, listed or missing, random text operators and strings, names with #xx escapes, filters on
object streams. Word files: random bodies of paragraphs, runs, content controls, tables nested in
cells and text boxes. Every file must be read (text and boxes consistent) or refused with the
reader's own error; nothing else, within a CPU-time bound per file and a memory ceiling for the run.

HTML pages and text files (round four): random markup of every kind lexbor must read (unclosed and
stray tags, comments, CDATA, processing instructions, entities, a declared charset) and text in any
encoding with byte-order marks, stray bytes, NULs and every line break; each must give text whose
sentences are exact slices of it, or the reader's own refusal.

The fuzzing runs for a fixed wall time (``FUZZ_SECONDS``: 55 s of PDFs, 35 s of Word files, 25 s of
HTML, 5 s of text), in batches of fresh random examples, so CI fuzzes for two minutes whatever the
machine's speed; PDFs and text in this process while Word and HTML run in a second one, so the two
minutes take one minute of wall time on two cores.
"""

from __future__ import annotations

import io
import math
import os
import resource
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.documents import make_document
from index.errors import DocumentError
from index.readers.docx import DocxError, extract_docx
from index.readers.extract import extract
from index.readers.pdf import PdfError, extract_pdf

pytestmark = pytest.mark.slow
FUZZ_SECONDS = {
    "pdf": float(os.environ.get("QA_FUZZ_PDF_SECONDS", 55)),
    "docx": float(os.environ.get("QA_FUZZ_DOCX_SECONDS", 35)),
    "html": float(os.environ.get("QA_FUZZ_HTML_SECONDS", 25)),
    "text": float(os.environ.get("QA_FUZZ_TEXT_SECONDS", 5)),
}
CPU_SECONDS_PER_FILE = 10.0  # loose: a busy machine; these files read in milliseconds
MEMORY_CEILING_KIB = 1_500_000  # the run's peak resident memory may grow by at most this much

# --- PDFs ---------------------------------------------------------------------------------------


def _escape_name(draw, name: str) -> str:  # type: ignore[no-untyped-def]
    """``name`` with some letters as #xx escapes, as PDF allows."""
    mask = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(f"#{ord(c):02X}" if m else c for c, m in zip(name, mask, strict=True))


PDF_STRINGS = st.lists(
    st.sampled_from(list("abcdefgh XYZ.,?!-0123456789") + ["\\(", "\\)", "\\n", "\\\\", "\\101", "\\3"]), max_size=40
).map("".join)
NUMBERS = st.one_of(st.integers(-2000, 2000), st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)).map(
    lambda x: f"{x:.2f}" if isinstance(x, float) else str(x)
)


@st.composite
def content_streams(draw) -> str:  # type: ignore[no-untyped-def]
    ops = ["BT", f"/F1 {draw(st.integers(-5, 40))} Tf"]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["Td", "Tm", "Tj", "TJ", "'", "TL", "T*", "ET BT", "garbage", "q Q", "cm"]))
        if kind == "Td":
            ops.append(f"{draw(NUMBERS)} {draw(NUMBERS)} Td")
        elif kind == "Tm":
            ops.append(" ".join(draw(NUMBERS) for _ in range(6)) + " Tm")
        elif kind == "Tj":
            ops.append(f"({draw(PDF_STRINGS)}) Tj")
        elif kind == "TJ":
            ops.append(
                "["
                + " ".join(f"({draw(PDF_STRINGS)}) {draw(NUMBERS)}" for _ in range(draw(st.integers(0, 4))))
                + "] TJ"
            )
        elif kind == "'":
            ops.append(f"({draw(PDF_STRINGS)}) '")
        elif kind == "TL":
            ops.append(f"{draw(NUMBERS)} TL")
        elif kind == "cm":
            ops.append(" ".join(draw(NUMBERS) for _ in range(6)) + " cm")
        elif kind == "garbage":
            ops.append(draw(st.sampled_from(["Tj", "((", ")", "/ /", "<<", "1 2 3", "%comment", "BI ID EI"])))
        else:
            ops.append(kind)
    ops.append("ET")
    return "\n".join(ops)


@st.composite
def pdfs(draw) -> bytes:  # type: ignore[no-untyped-def]
    """A PDF with a random page tree over a few shared or private content streams."""
    streams = [draw(content_streams()) for _ in range(draw(st.integers(1, 3)))]
    objects: dict[int, str] = {}
    next_id = [100]

    def new_id() -> int:
        next_id[0] += 1
        return next_id[0]

    for i, stream in enumerate(streams):
        objects[10 + i] = f"<< /Length {len(stream)} >> stream\n{stream}\nendstream"
    font_key = _escape_name(draw, "Font")
    objects[5] = f"<< /{_escape_name(draw, 'Type')} /Font /Subtype /Type1 /BaseFont /Helvetica >>"

    def page(parent: int) -> int:
        ident = new_id()
        box = [draw(st.integers(-500, 500)), draw(st.integers(-500, 500))]
        box += [box[0] + draw(st.integers(1, 2000)), box[1] + draw(st.integers(1, 2000))]
        contents = draw(
            st.sampled_from(
                [
                    f"{10 + draw(st.integers(0, len(streams) - 1))} 0 R",
                    "[" + " ".join(f"{10 + k} 0 R" for k in range(len(streams))) + "]",
                    "",
                ]
            )
        )
        rotate = draw(st.sampled_from([0, 90, 180, 270, -90, 45, 360]))
        objects[ident] = (
            f"<< /Type /Page /Parent {parent} 0 R /MediaBox [{' '.join(map(str, box))}] /Rotate {rotate} "
            + (f"/Contents {contents} " if contents else "")
            + f"/Resources << /{font_key} << /F1 5 0 R >> >> >>"
        )
        return ident

    def pages_node(parent: int | None, depth: int) -> tuple[int, int]:
        ident = new_id()
        kids: list[int] = []
        count = 0
        for _ in range(draw(st.integers(1, 4))):
            if depth < 3 and draw(st.booleans()):
                kid, n = pages_node(ident, depth + 1)
                count += n
            else:
                kid, count = page(ident), count + 1
            kids.append(kid)
        claimed = count if draw(st.integers(0, 9)) else draw(st.integers(0, 50))  # a wrong /Count now and then
        up = f"/Parent {parent} 0 R " if parent else ""
        objects[ident] = f"<< /Type /Pages {up}/Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {claimed} >>"
        return ident, count

    root, _ = pages_node(None, 0)
    objects[1] = f"<< /Type /Catalog /Pages {root} 0 R >>"
    body = "%PDF-1.4\n" + "".join(f"{k} 0 obj {v} endobj\n" for k, v in sorted(objects.items()))
    return (body + "trailer << /Root 1 0 R >>\n%%EOF\n").encode("latin-1")


def _check_pdf(data: bytes) -> None:
    started = time.process_time()
    try:
        text, layout = extract_pdf(data)
    except PdfError:
        return
    finally:
        assert time.process_time() - started < CPU_SECONDS_PER_FILE
    assert len(layout.pages) == len(text) == len(layout.boxes)
    assert text == text.strip() and "\x00" not in text
    text.encode("utf-8")  # well formed
    for page, box in zip(layout.pages, layout.boxes, strict=True):
        assert all(math.isfinite(v) for v in box)
        if page:
            assert 1 <= page <= len(layout.page_sizes)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(pdfs())
def _fuzz_pdf_batch(data: bytes) -> None:
    _check_pdf(data)


# --- Word files -----------------------------------------------------------------------------------

WORDS = st.text(alphabet=st.sampled_from(list("abcdefg XYZ.,?!-&<>'\"") + ["é", "中", "😀"]), max_size=30)
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def paragraphs(draw) -> str:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["run", "tab", "sdt", "box", "del"]))
        text = _xml_text(draw(WORDS))
        if kind == "run":
            runs.append(f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>')
        elif kind == "tab":
            runs.append("<w:r><w:tab/><w:br/></w:r>")
        elif kind == "sdt":
            runs.append(f"<w:sdt><w:sdtContent><w:r><w:t>{text}</w:t></w:r></w:sdtContent></w:sdt>")
        elif kind == "del":
            runs.append(f"<w:del><w:r><w:delText>{text}</w:delText></w:r></w:del>")
        else:
            runs.append(f"<w:r><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></w:r>")
    return "<w:p>" + "".join(runs) + "</w:p>"


def bodies(depth: int = 0):  # type: ignore[no-untyped-def]
    block = paragraphs()
    if depth < 3:
        nested = st.deferred(lambda: bodies(depth + 1))
        table = st.lists(st.lists(nested, min_size=1, max_size=3), min_size=1, max_size=3).map(
            lambda rows: (
                "<w:tbl>"
                + "".join("<w:tr>" + "".join(f"<w:tc>{c or '<w:p/>'}</w:tc>" for c in row) + "</w:tr>" for row in rows)
                + "</w:tbl>"
            )
        )
        control = nested.map(lambda inner: f"<w:sdt><w:sdtContent>{inner}</w:sdtContent></w:sdt>")
        block = st.one_of(block, table, control)
    return st.lists(block, max_size=5).map("".join)


def _word_file(body: str) -> bytes:
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}><w:body>{body}<w:sectPr/></w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr("word/document.xml", document)
    return out.getvalue()


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(bodies())
def _fuzz_docx_batch(body: str) -> None:
    started = time.process_time()
    try:
        text = extract_docx(_word_file(body))
    except DocxError:
        return
    finally:
        assert time.process_time() - started < CPU_SECONDS_PER_FILE
    assert "<w:" not in text and text == text.strip()
    text.encode("utf-8")


# --- HTML and text ------------------------------------------------------------------------------

HTML_PIECES = st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<nav>", "</nav>", "<head>", "</head>", "<title>", "<script>", "</script>",
     "<style>", "<br>", "<br/>", "<a href='x'>", "</a>", "<!--", "-->", "<![CDATA[", "]]>", "<![ CDATA[x]]>", "<?x?>",
     "<!DOCTYPE html>", "&amp;", "&lt;", "&#x41;", "&#0;", "&bogus;", "<", ">", "</", "<table><tr><td>", "<svg>",
     '<meta charset="shift_jis">', '<meta charset="utf-16">', '<meta charset="nonsense">', "<template>", "<li>",
     "Word one. ", "Mr. Smith said so. ", "caf\u00e9 ", "\u65e5\u672c ", "\n", "\n\n", "\t", " ", "\r\n", "\u2028"]
)  # fmt: skip
TEXT_PIECES = st.sampled_from(
    [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\xe9", b"\x80", b"\xc3\xa9", b"\xe2\x80\xa8",
     b"\x00", b"\r", b"\n", b"\r\n", b"\n\n", b"\t", b" ", b"Word one. ", b"It took 35 ms.\n", b"Gen.\n", b"# Head\n",
     b"- item\n", b"```\n", b"U.S. The", b"%PDF-", b"<html>", b".", b"?"]
)  # fmt: skip


def _check_document(text: str, name: str) -> None:
    try:
        document = make_document(name, text)
    except DocumentError:
        return
    assert all(document.text[s.start : s.end] == s.text and s.text == s.text.strip() for s in document.sentences)
    assert not any(s.text.startswith("\ufeff") for s in document.sentences)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(HTML_PIECES, max_size=60).map("".join), st.sampled_from(["utf-8", "cp1252", "shift_jis", "utf-16"]))
def _fuzz_html_batch(page: str, encoding: str) -> None:
    data = page.encode(encoding, errors="replace")
    started = time.process_time()
    try:
        read = extract(data, "page.html", ".html")
    except DocumentError:
        return
    finally:
        assert time.process_time() - started < CPU_SECONDS_PER_FILE
    assert "\r" not in read.text and read.text.endswith("\n")
    read.text.encode("utf-8", "surrogatepass")
    _check_document(read.text, "page.html")


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(TEXT_PIECES, max_size=60).map(b"".join), st.sampled_from([".txt", ".md"]))
def _fuzz_text_batch(data: bytes, suffix: str) -> None:
    started = time.process_time()
    try:
        read = extract(data, f"file{suffix}", suffix)
    except DocumentError:
        return
    finally:
        assert time.process_time() - started < CPU_SECONDS_PER_FILE
    assert "\r" not in read.text  # line endings normalised once, so offsets refer to one text
    _check_document(read.text, f"file{suffix}")


# --- the runs -------------------------------------------------------------------------------------


def fuzz_for(reader: str) -> str:
    """Fuzz one reader for its ``FUZZ_SECONDS``; what it did, as a line. Runs in a worker process too."""
    batch = {"pdf": _fuzz_pdf_batch, "docx": _fuzz_docx_batch, "html": _fuzz_html_batch, "text": _fuzz_text_batch}[
        reader
    ]
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    deadline = time.monotonic() + FUZZ_SECONDS[reader]
    batches = 0
    while time.monotonic() < deadline or batches == 0:
        batch()  # 40 fresh random files each time
        batches += 1
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown < MEMORY_CEILING_KIB, f"{reader}: peak memory grew by {grown / 1024:.0f} MiB"
    return f"{reader}: {batches * 40} files in {FUZZ_SECONDS[reader]:.0f} s"


# Two cores, two lanes of about a minute each: the same two minutes of fuzzing in half the wall time.
LANES = (("pdf", "text"), ("docx", "html"))


@pytest.mark.timeout(900)
def test_fuzz_the_document_readers_for_a_fixed_time() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as other:
        elsewhere = [other.submit(fuzz_for, reader) for reader in LANES[1]]
        done = [fuzz_for(reader) for reader in LANES[0]]
        done += [future.result(timeout=600) for future in elsewhere]  # a failure there is raised here
    print("; ".join(done))
