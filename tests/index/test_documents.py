from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import expand_paths, html_to_text, is_boilerplate, load_document, load_documents
from qa.errors import (
    DocumentNotFoundError,
    EmptyDocumentError,
    NoDocumentsError,
    UnreadableDocumentError,
)
from tests.conftest import SEED


def test_seed_loads_with_absolute_path_and_exact_offsets() -> None:
    doc = load_document(SEED)
    assert Path(doc.path).is_absolute() and Path(doc.path).samefile(SEED)
    raw = SEED.read_text(encoding="utf-8")
    assert doc.text == raw
    for s in doc.sentences:
        assert raw[s.start : s.end] == s.text
    assert doc.sentences[0].text.startswith("Iran's supreme leader says")  # the headline, not "IE 11"


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("IE 11 is not supported. For an optimal experience visit our site on another browser.", True),
        ("Advertisement", True),
        ("This site uses cookies to improve your experience.", True),
        ("Iran fired more than a dozen ballistic missiles at two Iraqi air bases.", False),
        ("The company said Internet Explorer is not supported anymore. " * 8, False),  # long: article text
    ],
)
def test_boilerplate(paragraph: str, expected: bool) -> None:
    assert is_boilerplate(paragraph) is expected


def test_markdown_drops_markers_and_code_keeps_offsets(tmp_path: Path) -> None:
    text = "# The Title\n\nA paragraph that\nwraps. Second one.\n\n```\nx = 1. Not prose.\n```\n\n- An item.\n"
    path = tmp_path / "a.md"
    path.write_text(text, encoding="utf-8")
    doc = load_document(path)
    assert [s.text for s in doc.sentences] == ["The Title", "A paragraph that\nwraps.", "Second one.", "An item."]
    assert all(text[s.start : s.end] == s.text for s in doc.sentences)


def test_html_strips_tags_and_scripts(tmp_path: Path) -> None:
    html = (
        "<html><head><title>T</title><script>var x = 'Hidden.';</script></head><body>"
        "<nav>Home | About</nav><h1>Big News</h1><p>First sentence here. Second &amp; last.</p>"
        "<style>p {color: red}</style></body></html>"
    )
    assert "Hidden" not in html_to_text(html) and "color" not in html_to_text(html)
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    doc = load_document(path)
    assert [s.text for s in doc.sentences] == ["Big News", "First sentence here.", "Second & last."]
    assert all(doc.text[s.start : s.end] == s.text for s in doc.sentences)


def test_crlf_is_normalised_once(tmp_path: Path) -> None:
    path = tmp_path / "w.txt"
    path.write_bytes(b"One line here.\r\n\r\nAnother one.\r\n")
    doc = load_document(path)
    assert [s.text for s in doc.sentences] == ["One line here.", "Another one."]
    assert doc.sentences[1].paragraph == 1


def test_missing_file() -> None:
    with pytest.raises(DocumentNotFoundError, match="no such file"):
        load_document("/nonexistent/article.txt")


def test_binary_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\x00\x00\x00binary")
    with pytest.raises(UnreadableDocumentError, match="photo.txt.*binary"):
        load_document(path)


def test_non_utf8_file_is_read_as_windows_1252_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 au lait. It costs \u20ac3.".encode("cp1252"))
    assert load_document(path).sentences[0].text == "Caf\xe9 au lait."
    assert "latin.txt is not UTF-8" in caplog.text


@pytest.mark.parametrize(
    "content",
    ["", "   \n\n  ", "IE 11 is not supported. For an optimal experience visit our site on another browser.\n"],
)
def test_empty_or_boilerplate_only_document(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EmptyDocumentError, match="empty.txt"):
        load_document(path)


def test_directory_without_documents(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"\x00")
    with pytest.raises(NoDocumentsError, match="no readable documents"):
        expand_paths([tmp_path])


def test_directory_expands_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("Bee text.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Ay text.", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("Hidden.", encoding="utf-8")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.txt", "b.md"]
    assert [d.name for d in load_documents([tmp_path, tmp_path / "a.txt"])] == ["a.txt", "b.md"]


@pytest.mark.parametrize("half", ["\ud800", "\udbff", "\udc00", "\udfff"])
def test_lone_utf16_halves_from_an_api_caller_become_replacement_characters_in_place(half: str) -> None:
    from index.documents import make_document

    text = f"Bad {half} here. Fine text."
    document = make_document("x.txt", text)
    assert document.text == text.replace(half, "\ufffd") and len(document.text) == len(text)
    assert document.sha256 and [s.text for s in document.sentences] == ["Bad \ufffd here.", "Fine text."]
