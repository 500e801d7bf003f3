"""Word ingestion on real .docx files made here: order, exact offsets, and the files it refuses."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from index.documents import load_document, read_source
from index.readers.docx import DocxError
from tests.documents_made import word_file


def test_headings_paragraphs_and_tables_in_document_order_with_exact_offsets(tmp_path: Path) -> None:
    path = word_file(
        tmp_path / "report.docx",
        [
            ("heading", "Harbour report"),
            ("paragraph", "The harbour master is Jonas Berg. He took office in May."),
            ("table", [["Ship", "Tonnes"], ["Aurora", "1,200"]]),
            ("paragraph", "The  new   pier opens in June."),
        ],
    )
    document = load_document(path)
    assert document.text == (
        "Harbour report\n\nThe harbour master is Jonas Berg. He took office in May.\n\n"
        "Ship | Tonnes\n\nAurora | 1,200\n\nThe new pier opens in June."
    )
    assert document.pages == ()
    for sentence in document.sentences:
        assert document.text[sentence.start : sentence.end] == sentence.text
    assert "He took office in May." in [s.text for s in document.sentences]


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (60 * 2**20))  # 60 MiB of zeros: about 60 KB packed
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_bomb, "zip bomb"),
        (lambda p: (p.write_bytes(b"PK\x03\x04 not really a zip"), p)[1], "not a Word .docx file"),
        (lambda p: (p.write_bytes(_zip({"hello.txt": "hi"})), p)[1], r"not a Word .docx file \(no \[Content_Types\]"),
        (
            lambda p: (p.write_bytes(_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document"})), p)[
                1
            ],
            "cannot be read|damaged",
        ),
    ],
    ids=["zip-bomb", "not-a-zip", "not-word", "broken-xml"],
)
def test_bad_word_files_get_one_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocxError, match=message):
        read_source(make(tmp_path / "bad.docx"))


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _repacked(source: Path, target: Path, *, swell: int, padding: list[tuple[str, bytes, int]]) -> Path:
    """A real Word file with ``swell`` bytes of whitespace added inside document.xml's body, and
    ``padding`` members (name, bytes, zip method) that lower the archive's overall ratio."""
    with zipfile.ZipFile(source) as original:
        parts = {m.filename: original.read(m.filename) for m in original.infolist()}
    body = parts["word/document.xml"]
    at = body.index(b"</w:body>")
    parts["word/document.xml"] = body[:at] + b" " * swell + body[at:]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        for name, data, method in padding:
            archive.writestr(name, data, compress_type=method)
    return target


RANDOM = __import__("os").urandom
PADDED_BOMBS = {
    # The case: one swollen part, stored random bytes to bring the total ratio under the old limit.
    "stored random padding": (192 * 2**20, [("word/media/image1.png", RANDOM(int(1.8 * 2**20)), zipfile.ZIP_STORED)]),
    "deflated random padding": (120 * 2**20, [("word/media/image1.jpeg", RANDOM(2**20), zipfile.ZIP_DEFLATED)]),
    "many small paddings": (
        100 * 2**20,
        [(f"word/media/image{i}.png", RANDOM(200_000), zipfile.ZIP_STORED) for i in range(8)],
    ),
    "a part over 32 MiB, no padding": (40 * 2**20, []),
}


@pytest.mark.parametrize(("swell", "padding"), PADDED_BOMBS.values(), ids=PADDED_BOMBS.keys())
def test_a_zip_bomb_padded_to_hide_its_ratio_is_refused_unopened(tmp_path: Path, swell: int, padding) -> None:  # type: ignore[no-untyped-def]
    import resource
    import time

    real = word_file(tmp_path / "real.docx", [("paragraph", "The harbour master is Jonas Berg.")])
    bomb = _repacked(real, tmp_path / "bomb.docx", swell=swell, padding=padding)
    assert bomb.stat().st_size < 20 * 2**20  # under the file size limit: the zip check must catch it
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    with pytest.raises(DocxError, match="zip bomb"):
        read_source(bomb)
    assert time.process_time() - started < 5  # refused from the zip directory, nothing inflated (loose bound)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100 * 1024  # KiB: no 192 MiB read


def test_a_large_but_honest_word_file_still_reads(tmp_path: Path) -> None:
    paragraphs = [
        ("paragraph", f"Paragraph {i} says the harbour has {i} cranes and {i + 3} ships.") for i in range(3000)
    ]
    path = word_file(tmp_path / "long.docx", paragraphs)
    document = load_document(path)
    assert "Paragraph 2999 says the harbour has 2999 cranes and 3002 ships." in document.text
