"""Word ingestion on real .docx files made here: order, exact offsets, and the files it refuses."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from index.documents import load_document, read_source
from index.docx import DocxError
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
        (lambda p: (p.write_bytes(_zip({"hello.txt": "hi"})), p)[1], "no word/document.xml"),
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
