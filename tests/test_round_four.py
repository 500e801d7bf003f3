"""Round four of hostile input (docs/bad-input.md): each class of defect with variants of its own.

The readers are called through the reading box where the limits matter (a refusal must come from
the reader's own check, well inside the box's memory limit), and in this process elsewhere.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from index.documents import load_document, make_document, read_sources
from index.errors import DocumentError, UnreadableDocumentError
from index.readers.box import Box, ReadLimits
from index.readers.docx import DocxError, extract_docx
from index.readers.extract import extract
from index.readers.pdf import PdfError, extract_pdf

# --- PDF: drawing that never ends --------------------------------------------------------------


def _pdf(
    page_content: bytes, forms: dict[str, tuple[bytes, list[str]]], *, pages: int = 1, shared: bool = False
) -> bytes:
    """A PDF whose pages show one line of text, then run ``page_content`` with ``forms`` (name: content, forms it uses)."""
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.new()
    made = {
        name: pdf.make_stream(content, Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 100, 100])
        for name, (content, _) in forms.items()
    }
    for name, (_, uses) in forms.items():
        made[name].Resources = Dictionary(XObject=Dictionary({"/" + u: made[u] for u in uses}))
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    content = pdf.make_stream(zlib.compress(b"BT /F1 12 Tf 20 100 Td (Some text here.) Tj ET " + page_content, 9))
    content.Filter = Name.FlateDecode
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 200))
        page = pdf.pages[-1]
        page.obj.Resources = Dictionary(
            Font=Dictionary(F1=font), XObject=Dictionary({"/" + n: o for n, o in made.items()})
        )
        if shared:
            page.obj.Contents = content  # every page draws the same stream
        else:
            own = pdf.make_stream(zlib.compress(content.read_bytes(), 9))
            own.Filter = Name.FlateDecode
            page.obj.Contents = own
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _chain(depth: int, fan: int) -> dict[str, tuple[bytes, list[str]]]:
    """Forms L0..L{depth}, each drawing the next ``fan`` times: fan ** depth drawings, no cycle."""
    forms = {f"L{i}": ((f"/L{i + 1} Do " * fan).encode(), [f"L{i + 1}"]) for i in range(depth)}
    forms[f"L{depth}"] = (b"0 0 m 10 10 l S", [])
    return forms


DRAWING = {
    "a form drawing itself twice": (b"/X Do", {"X": (b"q /X Do Q /X Do Q", ["X"])}, 1, False),
    "two forms drawing each other": (b"/A Do", {"A": (b"/B Do", ["B"]), "B": (b"/A Do", ["A"])}, 1, False),
    "a cycle of five": (
        b"/F0 Do",
        {f"F{i}": (f"/F{(i + 1) % 5} Do".encode(), [f"F{(i + 1) % 5}"]) for i in range(5)},
        1,
        False,
    ),
    "forty levels doubling, no cycle": (b"/L0 Do", _chain(40, 2), 1, False),
    "pages sharing a stream of path operators": (b"0 0 m 10 10 l S " * 120_000, {}, 600, True),
    "one stream inflating to 300 MB of spaces": (b" " * 300_000_000, {}, 1, False),
}


@pytest.mark.parametrize(("content", "forms", "pages", "shared"), DRAWING.values(), ids=DRAWING.keys())
def test_a_pdf_that_would_draw_without_end_is_refused_in_seconds(content, forms, pages, shared) -> None:  # type: ignore[no-untyped-def]
    data = _pdf(content, forms, pages=pages, shared=shared)
    assert len(data) < 2_000_000
    box = Box(ReadLimits(memory_mib=600))  # the reader's own check refuses it, far inside the box's limits
    try:
        started = time.monotonic()
        with pytest.raises(PdfError, match="draws itself|MiB of drawing"):
            box.extract(data, "hostile.pdf", ".pdf")
        assert time.monotonic() - started < 60
    finally:
        box.close()


def test_forms_drawn_a_few_times_still_read() -> None:
    text, _ = extract_pdf(_pdf(b"/L0 Do", _chain(6, 3)), "fine.pdf")  # 729 drawings of a small form
    assert text == "Some text here."


def test_active_content_found_by_qpdf_in_any_object() -> None:
    import pikepdf
    from pikepdf import Dictionary, Name

    for where in ("annotation action", "page additional action", "name tree"):
        pdf = pikepdf.open(io.BytesIO(_pdf(b"", {})))
        action = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
        page = pdf.pages[0].obj
        if where == "annotation action":
            annot = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 10, 10], A=action)
            page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))
        elif where == "page additional action":
            page.AA = Dictionary(O=action)
        else:
            pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=pikepdf.Array([pikepdf.String("a"), action])))
        out = io.BytesIO()
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)  # hidden in object streams
        with pytest.raises(PdfError, match="JavaScript or embedded files"):
            extract_pdf(out.getvalue(), where)


# --- Word: a part larger than the zip says -----------------------------------------------------


def _docx_bytes(body: str = "<w:p><w:r><w:t>Hello there. This is Word.</w:t></w:r></w:p>") -> dict[str, bytes]:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return {
        "[Content_Types].xml": (
            b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>'.encode(),
    }


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _lying(parts: dict[str, bytes], liar: str, real_size: int, *, where: str) -> bytes:
    """A zip whose ``liar`` member inflates to ``real_size`` bytes of spaces but declares 1 KiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != liar:
                archive.writestr(name, data)
        with archive.open(liar, "w", force_zip64=False) as member:
            chunk = b" " * 2**20
            for _ in range(real_size // len(chunk)):
                member.write(chunk)
    data = bytearray(out.getvalue())
    name = liar.encode()
    if where in ("central", "both"):  # the central directory: what zipfile believes
        at = data.rfind(b"PK\x01\x02" + bytes(20))  # not robust for any zip, enough for ours: find by name below
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            size = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46 : at + 46 + size] == name:
                struct.pack_into("<I", data, at + 24, 1024)
            at = data.find(b"PK\x01\x02", at + 4)
    if where == "both":
        at = data.find(b"PK\x03\x04")
        while at >= 0:
            size = struct.unpack_from("<H", data, at + 26)[0]
            if data[at + 30 : at + 30 + size] == name:
                struct.pack_into("<I", data, at + 22, 1024)
            at = data.find(b"PK\x03\x04", at + 4)
    return bytes(data)


LIARS = {
    "document part, central directory": ("word/document.xml", "central"),
    "document part, both headers": ("word/document.xml", "both"),
    "another part": ("word/styles.xml", "central"),
}


@pytest.mark.parametrize(("liar", "where"), LIARS.values(), ids=LIARS.keys())
def test_a_word_part_inflating_past_its_declared_size_is_refused_within_small_memory(liar: str, where: str) -> None:
    parts = {**_docx_bytes(), "word/styles.xml": b"<styles/>"}
    data = _lying(parts, liar, 300 * 2**20, where=where)
    assert len(data) < 2 * 2**20
    box = Box(ReadLimits(memory_mib=200))  # inflating the part whole would need 300 MiB
    try:
        with pytest.raises(DocxError, match="Word"):
            box.extract(data, "bomb.docx", ".docx")
    finally:
        box.close()


def test_word_main_part_by_relationship_entities_and_alternate_content() -> None:
    parts = _docx_bytes(
        "<w:p><w:r><w:t>First part. </w:t></w:r>"
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        "<mc:Choice Requires='wps'><w:r><w:t>Shown once.</w:t></w:r></mc:Choice>"
        "<mc:Fallback><w:r><w:t>Shown once.</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"
    )
    parts["word/document2.xml"] = parts.pop("word/document.xml")
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b"word/document.xml", b"word/document2.xml")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"/word/document.xml", b"/word/document2.xml")
    assert extract_docx(_zip(parts), "moved.docx") == "First part. Shown once."
    entity = _docx_bytes("<w:p><w:r><w:t>Before &custom; after the entity.</w:t></w:r></w:p>")
    xml = entity["word/document.xml"]
    entity["word/document.xml"] = xml.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY custom "X">]>', 1)
    text = extract_docx(_zip(entity), "entity.docx")
    assert text.startswith("Before") and text.endswith("after the entity.") and "X" not in text  # never expanded


def test_four_times_the_wrappers_take_at_most_six_times_as_long() -> None:
    from tests.conftest import cpu_scaling

    def nested(runs: int) -> bytes:
        wrap = "<w:sdt><w:sdtContent>" * 120
        unwrap = "</w:sdtContent></w:sdt>" * 120
        body = "<w:p>" + wrap + "<w:r><w:t>word </w:t></w:r>" * runs + unwrap + "</w:p>"
        return _zip(_docx_bytes(body))

    small, large = nested(5_000), nested(20_000)
    extract_docx(small)
    t_small, t_large = cpu_scaling(lambda: extract_docx(small), lambda: extract_docx(large))
    assert t_large <= 6 * t_small + 0.02, f"{t_small:.3f} s -> {t_large:.3f} s"


# --- Text and HTML: what the bytes say they are ------------------------------------------------

DECODING = {
    "a stray Latin-1 byte in UTF-8": (
        "Café Müller is open. Né\xe9 here.".encode()[:-6] + b"\xe9 here.",
        "Café Müller is open.",
    ),
    "UTF-32 with its mark": ("\ufeffCafé one. Two.".encode("utf-32"), "Café one."),
    "UTF-16 big-endian with its mark": (
        "Café one. Two.".encode("utf-16-be") and b"\xfe\xff" + "Café one. Two.".encode("utf-16-be"),
        "Café one.",
    ),
    "Windows-1252 throughout": ("Caf\xe9 one. Two for \u20ac3.".encode("cp1252"), "Café one."),
}


@pytest.mark.parametrize(("data", "first"), DECODING.values(), ids=DECODING.keys())
def test_each_encoding_is_read_as_written(tmp_path: Path, data: bytes, first: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    assert load_document(path).sentences[0].text == first


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_offsets_of_a_file_with_a_utf8_mark_match_open_read(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + f"First sentence here.{newline}{newline}Second one.".encode())
    document = load_document(path)
    with open(path, encoding="utf-8") as handle:  # the README's check
        text = handle.read()
    assert [text[s.start : s.end] for s in document.sentences] == ["First sentence here.", "Second one."]


HTML = {
    "no </head>": (
        "<html><head><title>T</title><p>The article is here. It reads.</p>",
        ".html",
        "The article is here.",
    ),
    "text after an unclosed <nav>": ("<nav><a href=/>Home</a><p>The article is here. It reads.</p>", ".html", "Home"),
    "CDATA with a space": ("<p>Before it. <![ CDATA[x]]> After it.</p>", ".html", "Before it."),
    "shift_jis declared": (
        '<html><head><meta charset="shift_jis"></head><body><p>日本語の文です。</p></body></html>',
        ".html",
        "日本語",
    ),
    "HTML in a .txt": (
        "<!DOCTYPE html><html><body><p>Only the words. Not tags.</p></body></html>",
        ".txt",
        "Only the words.",
    ),
}


@pytest.mark.parametrize(("page", "suffix", "first"), HTML.values(), ids=HTML.keys())
def test_html_is_read_as_a_browser_reads_it(tmp_path: Path, page: str, suffix: str, first: str) -> None:
    path = tmp_path / f"page{suffix}"
    path.write_bytes(page.encode("shift_jis" if "shift_jis" in page else "utf-8"))
    sentences = [s.text for s in load_document(path).sentences]
    assert sentences[0].startswith(first) and not any("<" in s for s in sentences)


def test_a_pdf_named_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(_pdf(b"", {}))
    assert load_document(path).text == "Some text here."


@pytest.mark.parametrize("ending", ["35 ms.", "St.", "No.", "Oct.", "approx."])
def test_lines_ending_with_an_abbreviation_are_sentences_of_their_own(ending: str) -> None:
    text = "".join(f"Step {i} took {ending}\n" for i in range(300))
    assert len(make_document("log.txt", text).sentences) == 300


def test_a_title_at_a_line_end_still_runs_on_to_the_name() -> None:
    document = make_document("a.txt", "The strike killed Gen.\nQassem Soleimani in Baghdad. Iran vowed revenge.")
    assert document.sentences[0].text == "The strike killed Gen.\nQassem Soleimani in Baghdad."


# --- Names, paths and arguments ---------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_left_out_of_a_folder_and_refused_by_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plain.txt").write_text("Plain text here. Yes.", encoding="utf-8")
    odd = os.path.join(os.fsencode(folder), b"caf\xe9.txt")
    with open(odd, "wb") as handle:
        handle.write(b"Cafe text. More.")
    assert [Path(s.path).name for s in read_sources([folder])] == ["plain.txt"]
    assert "caf\\xe9.txt: left out, its name is not UTF-8" in caplog.text
    with pytest.raises(UnreadableDocumentError, match=r"caf\\xe9.txt: the file name is not UTF-8"):
        read_sources([os.fsdecode(odd)])


@pytest.mark.parametrize("bad", [None, 42, b"bytes.txt", ["nested.txt"]])
def test_paths_of_the_wrong_type_get_a_typed_error(bad: object) -> None:
    from index.errors import ConfigError

    with pytest.raises(ConfigError, match="must be a str or a pathlib.Path"):
        read_sources([bad])  # type: ignore[list-item]


@pytest.mark.parametrize("bad", [42, 4.2, ["what?"], b"what?"])
def test_questions_of_the_wrong_type_get_a_typed_error(bad: object) -> None:
    from qa.errors import QuestionError
    from qa.questions.analysis import check_question

    with pytest.raises(QuestionError, match="must be text"):
        check_question(bad, 500)  # type: ignore[arg-type]


TEST_SETS = {
    "nested 100,000 deep": ('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply|not valid JSON"),
    '"is_impossible": "false"': (
        json.dumps(
            {
                "data": [
                    {
                        "title": "t",
                        "paragraphs": [
                            {
                                "context": "Some text. Here.",
                                "qas": [{"id": "q1", "question": "What?", "answers": [], "is_impossible": "false"}],
                            }
                        ],
                    }
                ]
            }
        ),
        "is_impossible.*true or false",
    ),  # fmt: skip
}


@pytest.mark.parametrize(("content", "message"), TEST_SETS.values(), ids=TEST_SETS.keys())
def test_malformed_test_sets_get_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    from qa.errors import TestSetError
    from qa.evaluation.datasets import load_test_set

    path = tmp_path / "set.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TestSetError, match=message):
        load_test_set(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "cp1252", "utf-8-sig"])
def test_test_sets_are_decoded_as_documents_are(tmp_path: Path, encoding: str) -> None:
    from qa.evaluation.datasets import load_test_set

    path = tmp_path / "set.jsonl"
    row = {"id": "q1", "question": "Où est le café?", "answers": ["Paris"], "document": str(tmp_path / "d.txt")}
    (tmp_path / "d.txt").write_text("Le café est à Paris. Il est ouvert.", encoding="utf-8")
    path.write_bytes((json.dumps(row, ensure_ascii=False) + "\n").encode(encoding))
    (corpus,) = load_test_set(path)
    assert corpus.questions[0].question == "Où est le café?"


def test_empty_settings_in_the_environment_are_unset() -> None:
    from index.embedders.sentence_transformer import DEFAULT_MODEL
    from qa.config import Settings

    settings = Settings.from_env({"QA_MODEL": "", "QA_READER": "", "QA_BACKEND": "", "QA_INDEX_TYPE": ""})
    assert settings.model == DEFAULT_MODEL and settings.reader == "trained" and settings.backend == "auto"


@pytest.mark.parametrize(
    "url",
    ["PostgreSQL://u:s3cret-pw@h/db", "POSTGRES://u:s3cret-pw@h/db", "postgresql://u:s3cret%2Dpw@h/db",
     "host=h password=s3cret-pw user=u", "host=h password='s3cret-pw' user=u"],
)  # fmt: skip
def test_passwords_are_masked_in_any_form_libpq_reads(url: str) -> None:
    from index.stores.postgres import redact, redact_message

    message = f'connection to server failed: could not parse "{url}" (password s3cret-pw)'
    assert "s3cret" not in redact(url)
    assert "s3cret" not in redact_message(message, url)


def test_reading_errors_are_document_errors_with_one_line() -> None:
    for data, suffix in [(b"\x00\x01binary", ".txt"), (b"%PDF-1.7 broken", ".pdf"), (b"PK\x03\x04broken", ".docx")]:
        with pytest.raises(DocumentError) as refused:
            extract(data, f"x{suffix}", suffix)
        assert "\n" not in str(refused.value)
