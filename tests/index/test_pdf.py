"""PDF ingestion on real PDFs made here: reading order, offsets, pages, boxes, and the files it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.documents import load_document, read_source
from index.readers.pdf import PdfError, extract_pdf
from tests.conftest import SEED, cpu_scaling
from tests.documents_made import FONT, article_pdf, drawn_pdf, raw_pdf


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return article_pdf(SEED.read_text(encoding="utf-8"), tmp_path_factory.mktemp("pdf") / "article.pdf")


def test_a_two_column_article_reads_as_its_paragraphs_without_headers_or_page_numbers(article: Path) -> None:
    text, layout = extract_pdf(article.read_bytes(), "article.pdf")
    want = [_words(p) for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    assert text.split("\n\n") == want
    assert len(layout.page_sizes) >= 2  # headers and page numbers repeat on every page
    assert "Daily Record" not in text and not re.search(r"(^|\n)\d+(\n|$)", text)


def test_every_sentence_has_exact_offsets_its_page_and_boxes_on_that_page(article: Path) -> None:
    import pypdfium2 as pdfium

    document = load_document(article)
    text, layout = extract_pdf(article.read_bytes())
    assert document.text == text and document.pages == layout.page_starts()
    pdf = pdfium.PdfDocument(str(article))
    # Each page's own text from PDFium, as a check independent of our line joining.
    page_text = [_words(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    pages_seen = set()
    for sentence in document.sentences:
        assert document.text[sentence.start : sentence.end] == sentence.text
        page = document.page_at(sentence.start)
        assert page is not None
        pages_seen.add(page)
        head = _words(sentence.text)[:12]
        assert head in page_text[page - 1], (page, sentence.text)
        boxes = layout.boxes_of(sentence.start, sentence.end)
        assert page in boxes and boxes[page]
        width, height = layout.page_sizes[page - 1]
        for pages_boxes in boxes.values():
            for left, bottom, right, top in pages_boxes:
                assert 0 <= left < right <= width and 0 <= bottom < top <= height
    assert pages_seen == set(range(1, len(pdf) + 1))


def test_hyphenated_words_are_joined_and_ligatures_become_letters(tmp_path: Path) -> None:
    if not FONT.exists():
        pytest.skip("needs DejaVu Sans for a ligature glyph (Debian fonts-dejavu-core)")
    pdf = drawn_pdf(
        tmp_path / "h.pdf",
        [[(40, 500, "The archive holds the ﬁrst informa-"), (40, 486, "tion about the ﬂood of 1953.")]],
    )
    text, layout = extract_pdf(pdf.read_bytes())
    assert text == "The archive holds the first information about the flood of 1953."
    assert len(layout.pages) == len(text)  # every character, "fi" included, still has its place
    fi = text.index("first")
    assert layout.pages[fi] == layout.pages[fi + 1] == 1 and layout.boxes[fi] == layout.boxes[fi + 1]


def _encrypted(path: Path) -> Path:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(72, 720, "Hidden text.")
    c.save()
    return path


def _scanned(path: Path) -> Path:
    from PIL import Image, ImageDraw
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (400, 100), "white")
    ImageDraw.Draw(image).text((10, 40), "A scanned page.", fill="black")
    image.save(path.with_suffix(".png"))
    c = canvas.Canvas(str(path))
    c.drawImage(str(path.with_suffix(".png")), 72, 600, 400, 100)
    c.save()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_encrypted, "encrypted"),
        (lambda p: (p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20), p)[1], "not a readable PDF"),
        (_scanned, "no text layer"),
        (lambda p: drawn_pdf(p, [[(10, 10, "Huge.")]], size=(20000, 20000)), "over the PDF maximum"),
        (
            lambda p: raw_pdf(
                p,
                "/Names << /JavaScript << /Names [(a) 4 0 R] >> >>",
                "4 0 obj << /S /JavaScript /JS (app.alert(1);) >> endobj\n",
            ),
            "JavaScript",
        ),
        (
            lambda p: raw_pdf(p, "/OpenAction 4 0 R", "4 0 obj << /S /JavaScript /JS (app.alert(1);) >> endobj\n"),
            "JavaScript",
        ),
        (
            lambda p: raw_pdf(
                p,
                "/Names << /EmbeddedFiles << /Names [(a.txt) 4 0 R] >> >>",
                "4 0 obj << /Type /Filespec /F (a.txt) /EF << /F 7 0 R >> >> endobj\n7 0 obj << /Type /EmbeddedFile /Length 3 >> stream\nabc\nendstream endobj\n",
            ),
            "embedded files",
        ),
    ],
    ids=["encrypted", "damaged", "scanned", "giant-page", "javascript", "open-action-javascript", "attachment"],
)
def test_bad_pdfs_get_one_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(PdfError, match=message):
        read_source(path)


def test_too_many_pages_is_refused_before_reading_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.readers.pdf

    monkeypatch.setattr(index.readers.pdf, "MAX_PAGES", 3)
    path = drawn_pdf(tmp_path / "long.pdf", [[(40, 500, f"Page {i} text.")] for i in range(4)])
    with pytest.raises(PdfError, match="4 pages is over the 3-page limit"):
        extract_pdf(path.read_bytes(), str(path))  # in this process, where the limit is patched


def test_a_plain_pdf_still_reads(tmp_path: Path) -> None:
    path = raw_pdf(tmp_path / "plain.pdf", "")
    assert load_document(path).text == "Hello there."


# Characters outside the Basic Multilingual Plane: PDFium gives each as two UTF-16 halves.
OUTSIDE_BMP = {
    "emoji (plane 1)": ["\U0001f600", "\U0001f9ea"],
    "mathematical letters (plane 1)": ["\U0001d400", "\U0001d7d8"],
    "CJK extension B (plane 2)": ["\U00020000", "\U0002a6d6"],
    "tags (plane 14)": ["\U000e0041"],
    "private use (plane 15)": ["\U000f0000"],
    "private use (plane 16)": ["\U0010fffd"],
}


@pytest.mark.parametrize("characters", OUTSIDE_BMP.values(), ids=OUTSIDE_BMP.keys())
def test_characters_outside_the_bmp_read_as_themselves_with_boxes(tmp_path: Path, characters: list[str]) -> None:
    from tests.documents_made import mapped_pdf

    path = mapped_pdf(tmp_path / "symbols.pdf", "The symbol ", characters, " means ten. Alice found it.")
    text, layout = extract_pdf(path.read_bytes())
    assert text == "The symbol " + "".join(characters) + " means ten. Alice found it."
    start = len("The symbol ")
    for i in range(start, start + len(characters)):  # one character, one box, on page 1
        assert list(layout.boxes_of(i, i + 1)) == [1]
    document = load_document(path)
    assert document.text.encode("utf-8")  # hashing, JSON and the tokenizer need well-formed text
    assert [s.text for s in document.sentences][0] == text[: text.index("ten.") + 4]


def test_a_lone_utf16_half_in_a_pdf_becomes_a_replacement_character(tmp_path: Path) -> None:
    from tests.documents_made import mapped_pdf

    path = mapped_pdf(tmp_path / "half.pdf", "A broken ", ["\ud83d"], " sign stays. Bob saw it.")
    text, _ = extract_pdf(path.read_bytes())
    assert text == "A broken \ufffd sign stays. Bob saw it."


def test_a_folder_with_such_a_pdf_indexes_every_file_and_answers_from_it(tmp_path: Path) -> None:
    import json

    from qa.assistant import Assistant
    from tests.conftest import HashEmbedder
    from tests.documents_made import mapped_pdf

    folder = tmp_path / "docs"
    folder.mkdir()
    mapped_pdf(folder / "symbols.pdf", "The symbol ", ["\U0001f600", "\U0002a6d6"], " means ten. Alice found it.")
    (folder / "notes.txt").write_text("The harbour opened in 1998. It has forty berths.\n", encoding="utf-8")
    assistant = Assistant.from_paths([folder], index_dir=tmp_path / "index", embedder=HashEmbedder())
    assert sorted(Path(d.path).name for d in assistant.documents) == ["notes.txt", "symbols.pdf"]
    found = assistant.answer("What does the symbol mean?")
    json.dumps(found.to_dict(), ensure_ascii=False).encode("utf-8")
    shown = found.citation or found.closest
    assert shown is not None and shown.document.endswith("symbols.pdf")
    assert "\U0001f600\U0002a6d6" in shown.sentence


# --- Bounded work whatever the PDF's shape ------------------------------------------------------

REPEATED = {
    "2,000 pages share one stream": dict(pages=2000, lines=60),
    "500 pages share one long stream": dict(pages=500, lines=300),
    "each page draws the stream 40 times": dict(pages=100, lines=60, repeats=40),
}

_CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))  # a memory ceiling the reading must stay under
from index.readers.pdf import PdfError, extract_pdf
started = time.process_time()
try:
    extract_pdf(open(sys.argv[1], "rb").read())
    print("read", time.process_time() - started)
except PdfError as exc:
    print("refused", time.process_time() - started, exc)
"""


@pytest.mark.parametrize("shape", REPEATED.values(), ids=REPEATED.keys())
def test_a_small_pdf_repeating_its_text_is_refused_in_seconds_within_a_memory_ceiling(tmp_path: Path, shape) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.documents_made import shared_stream_pdf

    path = shared_stream_pdf(tmp_path / "repeat.pdf", **shape)
    assert path.stat().st_size < 400_000
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]  # no MemoryError under the 2 GiB ceiling
    verdict, seconds, *message = done.stdout.split(maxsplit=2)
    assert verdict == "refused" and "characters of text" in message[0], done.stdout
    assert float(seconds) < 30  # CPU seconds; about 1 here (loose for a busy machine)


MANY_LINES = {
    "one column, same left": dict(columns=1),
    "one column, jittered lefts": dict(columns=1, jitter=True),
    "eight columns": dict(columns=8),
}


@pytest.mark.parametrize("shape", MANY_LINES.values(), ids=MANY_LINES.keys())
def test_four_times_the_lines_on_a_page_take_at_most_six_times_as_long(tmp_path: Path, shape) -> None:  # type: ignore[no-untyped-def]
    from tests.documents_made import many_lines_pdf

    small = many_lines_pdf(tmp_path / "small.pdf", 1500, **shape)
    large = many_lines_pdf(tmp_path / "large.pdf", 6000, **shape)
    extract_pdf(small.read_bytes())  # imports and caches
    t_small, t_large = cpu_scaling(lambda: extract_pdf(small.read_bytes()), lambda: extract_pdf(large.read_bytes()))
    assert t_large <= 6 * t_small + 0.05, f"{t_small:.3f} s -> {t_large:.3f} s"


# --- Active content however it is written ------------------------------------------------------


def _escaped(name: str, positions: list[int]) -> str:
    """``name`` with the letters at ``positions`` written as #xx escapes, as PDF allows."""
    return "".join(f"#{ord(c):02X}" if i in positions else c for i, c in enumerate(name))


ESCAPED_ACTIONS = {
    "/Java#53cript open action": (
        "/OpenAction 4 0 R",
        f"4 0 obj << /S /{_escaped('JavaScript', [4])} /JS (app.alert(1);) >> endobj\n",
    ),
    "every letter escaped": (
        "/OpenAction 4 0 R",
        f"4 0 obj << /S /{_escaped('JavaScript', list(range(10)))} /{_escaped('JS', [0, 1])} (x) >> endobj\n",
    ),
    "/Launc#68 action": ("/OpenAction 4 0 R", f"4 0 obj << /S /{_escaped('Launch', [5])} /F (calc.exe) >> endobj\n"),
    "lower-case hex /Launc#68": ("/OpenAction 4 0 R", "4 0 obj << /S /Laun#63h /F (calc.exe) >> endobj\n"),
    "escaped /EmbeddedFiles": (
        f"/Names << /{_escaped('EmbeddedFiles', [0, 8])} << /Names [(a.txt) 4 0 R] >> >>",
        "4 0 obj << /Type /Filespec /F (a.txt) >> endobj\n",
    ),
}


@pytest.mark.parametrize(("catalog", "objects"), ESCAPED_ACTIONS.values(), ids=ESCAPED_ACTIONS.keys())
def test_active_content_behind_name_escapes_is_refused(tmp_path: Path, catalog: str, objects: str) -> None:
    path = raw_pdf(tmp_path / "escaped.pdf", catalog, objects)
    with pytest.raises(PdfError, match="JavaScript or embedded files"):
        read_source(path)


def _object_stream(filters: list[str], payload: bytes, *, type_name: str = "ObjStm") -> str:
    """An object stream (object 8) holding ``payload`` under ``filters``, applied in order as PDF reads them."""
    import base64
    import zlib

    body = payload
    for name in reversed(filters):  # encode last filter first: the reader undoes them first to last
        if name == "FlateDecode":
            body = zlib.compress(body)
        elif name == "ASCIIHexDecode":
            body = body.hex().upper().encode() + b">"
        elif name == "ASCII85Decode":
            body = base64.a85encode(body) + b"~>"
        elif name == "JBIG2Decode":
            body = bytes(reversed(body))  # any bytes: qpdf undoes no image filter
    listed = "[" + " ".join("/" + f for f in filters) + "]"
    return (
        f"8 0 obj << /Type /{type_name} /N 1 /First 4 /Filter {listed} /Length {len(body)} >> stream\n"
        + body.decode("latin-1")
        + "\nendstream endobj\n"
    )


HIDDEN = b"9 0 << /S /JavaScript /JS (app.alert(1);) >>"
OBJECT_STREAMS = {
    "flate": (["FlateDecode"], "ObjStm"),
    "ascii-hex": (["ASCIIHexDecode"], "ObjStm"),
    "ascii-85": (["ASCII85Decode"], "ObjStm"),
    "ascii-85 then flate": (["ASCII85Decode", "FlateDecode"], "ObjStm"),
    "hex then flate, escaped /Obj#53tm": (["ASCIIHexDecode", "FlateDecode"], _escaped("ObjStm", [3])),
    "an image filter qpdf cannot undo": (["JBIG2Decode"], "ObjStm"),
}


@pytest.mark.parametrize(("filters", "type_name"), OBJECT_STREAMS.values(), ids=OBJECT_STREAMS.keys())
def test_actions_inside_object_streams_under_any_filter_are_refused(tmp_path: Path, filters, type_name) -> None:  # type: ignore[no-untyped-def]
    path = raw_pdf(tmp_path / "objstm.pdf", "", _object_stream(filters, HIDDEN, type_name=type_name))
    assert b"JavaScript" not in path.read_bytes() or filters == []  # hidden from a plain byte search
    with pytest.raises(PdfError, match="JavaScript or embedded files"):
        read_source(path)


def test_a_harmless_object_stream_still_reads(tmp_path: Path) -> None:
    harmless = _object_stream(["ASCII85Decode", "FlateDecode"], b"9 0 << /Type /Annot /Subtype /Text >>")
    path = raw_pdf(tmp_path / "fine.pdf", "", harmless)
    assert "Hello there." in read_source(path).text


# --- Rotated pages and boxes that do not start at the origin -----------------------------------

LETTER = [
    "The harbour opened in May after two years",
    "of repairs. The keeper is Ingrid Alvestad,",
    "who lives in the white house by the pier.",
]


@pytest.mark.parametrize("origin", [(0, 0), (100, -300), (-50, 400)], ids=["origin", "offset", "negative-offset"])
@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_a_rotated_or_offset_page_reads_in_order_and_its_boxes_land_on_its_ink(
    tmp_path: Path, rotate: int, origin: tuple[float, float]
) -> None:
    import pypdfium2 as pdfium

    from tests.documents_made import rotated_pdf

    path = rotated_pdf(tmp_path / "letter.pdf", rotate, LETTER, origin)
    document = load_document(path)
    assert [s.text for s in document.sentences] == [
        "The harbour opened in May after two years of repairs.",
        "The keeper is Ingrid Alvestad, who lives in the white house by the pier.",
    ]
    text, layout = extract_pdf(path.read_bytes())
    width, height = layout.page_sizes[0]
    assert (width, height) == ((792, 612) if rotate in (90, 270) else (612, 792))
    page = pdfium.PdfDocument(path)[0]
    image = page.render(scale=1).to_pil().convert("L")  # displayed as a reader sees it
    start = text.index("Ingrid")
    boxes = layout.boxes_of(start, start + len("Ingrid"))[1]
    for left, bottom, right, top in boxes:
        assert 0 <= left < right <= width and 0 <= bottom < top <= height
        crop = image.crop((int(left), int(height - top), int(right) + 1, int(height - bottom) + 1))
        assert crop.getextrema()[0] < 128, "the box holds no ink: it is not where the word is drawn"
