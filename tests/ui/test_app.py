"""The chat handlers, called as plain functions with the real model."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import gradio as gr
import pytest

from tests.conftest import SEED
from ui.app import MAX_UPLOAD_BYTES, ChatApp

pytestmark = pytest.mark.slow
SEED_TEXT = SEED.read_text(encoding="utf-8")

BAKERY = """The Harbour Bakery

Maria Lopez opened the Harbour Bakery in Valparaiso in 1998. The bakery sells forty kinds of bread.

Every October it hosts a festival that draws about 3,000 visitors. "Bread is how a town says hello," Lopez said.
"""


def test_rouhani_reply_quotes_both_sentences_in_reading_order(chat_app: ChatApp) -> None:
    history, turn, box = chat_app.respond("what did Rouhani say", [])
    assert box == "" and turn is not None
    assert [m["role"] for m in history] == ["user", "assistant"]
    reply = unescape(history[1]["content"])
    quotes = reply.index('class="qa-citation"')  # after the short answer
    warning = reply.index("warning the U.S. that Soleimani's death would lead to reprisals", quotes)
    quote = reply.index("You cut Soleimani's hand from his body", quotes)
    assert warning < quote  # his warning, then his quote
    assert "000_625ade51590f5890.txt, paragraph" in reply and "Confidence:" in reply
    assert '<mark class="qa-cited">' in history[1]["content"]


def test_abstention_is_plain(seed_assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped = ChatApp(seed_assistant, base_paths=[SEED], upload_dir=tmp_path / "u", index_dir=tmp_path / "i")
    history, _, _ = shipped.respond("What is the recipe for chocolate cake?", [])
    reply = history[-1]["content"]
    assert "does not seem to answer" in reply and "qa-citation" not in reply and "qa-short" not in reply
    assert 'class="qa-closest"' in reply  # the closest sentence, labelled as not an answer


def test_followup_conversation(chat_app: ChatApp) -> None:
    history, turn, _ = chat_app.respond("What did Trump say?", [])
    assert turn is not None and turn.searched == "What did Trump say?"
    history, turn, _ = chat_app.respond("Did he mention casualties?", history, turn)
    assert turn is not None and turn.searched == "Did Trump mention casualties?"
    reply = unescape(history[-1]["content"])
    assert "Searched: <em>Did Trump mention casualties?</em>" in reply
    history, turn, _ = chat_app.respond("What about Rouhani?", history, turn)
    assert turn.searched == "Did Rouhani mention casualties?" and len(history) == 6


def test_empty_message_is_an_error_toast(chat_app: ChatApp) -> None:
    with pytest.raises(gr.Error, match="empty"):
        chat_app.respond("   ", [])


def test_upload_then_ask_cites_the_new_document(chat_app: ChatApp, tmp_path: Path) -> None:
    upload = tmp_path / "incoming" / "bakery.md"
    upload.parent.mkdir()
    upload.write_text(BAKERY, encoding="utf-8")
    status = chat_app.add_documents([str(upload)])
    assert "Added bakery.md" in status and "2 document(s)" in status
    assert "bakery" in chat_app.documents_panel()
    history, _, _ = chat_app.respond("Who opened the Harbour Bakery?", [])
    reply = unescape(history[-1]["content"])
    assert "bakery" in reply  # cited from the upload
    data = chat_app.api_answer("How many visitors does the festival draw?")
    citation = data["citations"][0]
    assert Path(citation["document"]).parent == chat_app.upload_dir
    assert Path(citation["document"]).read_text()[citation["start"] : citation["end"]] == citation["sentence"]
    assert data["answer"] is not None and data["answer"] in BAKERY
    assert SEED.read_text(encoding="utf-8") == SEED_TEXT  # the bundled article is untouched
    assert chat_app.respond("How many missiles did Iran fire?", [])[1].answer == "more than a dozen"  # still searchable


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", b"\x89PNG", "only .txt, .md, .html, .htm, .pdf, .docx files"),
        ("notes.txt", b"\x00\x01binary", "binary"),
        ("broken.txt", b"\xff\xfeA\x00\x00\xd8", "broken utf-16"),
        ("empty.md", b"   \n", "no article text"),
        ("huge.txt", b"word " * (MAX_UPLOAD_BYTES // 5 + 10), "over the 2 MB limit"),
    ],
    ids=["wrong-type", "binary-renamed-txt", "broken-utf16", "empty", "over-2MB"],
)
def test_bad_uploads_are_refused_and_change_nothing(
    chat_app: ChatApp, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = chat_app.assistant
    with pytest.raises(gr.Error, match=message):
        chat_app.add_documents([str(path)])
    assert chat_app.assistant is before and chat_app.uploads == []


def _bad_documents(folder: Path) -> list[tuple[Path, str]]:
    """PDF and Word files that must be refused: made for real, as a person would upload them."""
    from tests.documents_made import raw_pdf
    from tests.index.test_docx import _bomb
    from tests.index.test_pdf import _encrypted, _scanned

    damaged = folder / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    return [
        (_scanned(folder / "scan.pdf"), "no text layer"),
        (_encrypted(folder / "locked.pdf"), "encrypted"),
        (damaged, "not a readable PDF"),
        (
            raw_pdf(
                folder / "script.pdf", "/OpenAction 4 0 R", "4 0 obj << /S /JavaScript /JS (app.alert(1);) >> endobj\n"
            ),
            "JavaScript",
        ),
        (_bomb(folder / "bomb.docx"), "zip bomb"),
    ]


def test_bad_pdf_and_word_uploads_are_refused_and_change_nothing(chat_app: ChatApp, tmp_path: Path) -> None:
    before = chat_app.assistant
    for path, message in _bad_documents(tmp_path):
        with pytest.raises(gr.Error, match=message):
            chat_app.add_documents([str(path)])
        assert chat_app.assistant is before and chat_app.uploads == [], path.name


def test_a_pdf_and_a_word_upload_are_searchable_with_pages(chat_app: ChatApp, tmp_path: Path) -> None:
    from tests.documents_made import article_pdf, word_file

    pdf = article_pdf("The Orlund ferry leaves at noon every Tuesday.\n\nIt carries cars.", tmp_path / "ferry.pdf")
    docx = word_file(
        tmp_path / "mill.docx", [("heading", "Mill"), ("paragraph", "The old mill on the Sava was built in 1820.")]
    )
    chat_app.add_documents([str(pdf), str(docx)])
    answer = chat_app.assistant.answer("When does the Orlund ferry leave?")
    assert answer.citation is not None and answer.citation.document.endswith(".pdf") and answer.citation.page == 1
    history, _, _ = chat_app.respond("When does the Orlund ferry leave?", [])
    assert "page 1" in history[-1]["content"] and 'class="qa-page"' in history[-1]["content"]
    built = chat_app.assistant.answer("When was the old mill on the Sava built?")
    assert built.text is not None and "1820" in built.text and built.citation is not None
    assert built.citation.document.endswith(".docx") and built.citation.page is None


def test_upload_with_a_seed_name_never_overwrites_the_seed(chat_app: ChatApp, tmp_path: Path) -> None:
    impostor = tmp_path / SEED.name
    impostor.write_text("Impostor text. It claims things.", encoding="utf-8")
    chat_app.add_documents([str(impostor)])
    assert SEED.read_text(encoding="utf-8") == SEED_TEXT
    assert len(chat_app.assistant.documents) == 2


def test_upload_names_cannot_climb_out_of_the_upload_folder(chat_app: ChatApp, tmp_path: Path) -> None:
    """A hostile file name ("../../x.txt", absolute paths) is reduced to a plain name inside uploads/."""
    source = tmp_path / "a" / "b"
    source.mkdir(parents=True)
    hostile = source / "..%2f..%2fevil name;rm -rf.txt"
    hostile.write_text("The ferry to Orlund leaves at noon every Tuesday.", encoding="utf-8")
    chat_app.add_documents([str(source / ".." / "b" / hostile.name)])
    (stored,) = chat_app.uploads
    assert stored.parent == chat_app.upload_dir and "/" not in stored.name and ".." not in stored.name
    answer = chat_app.assistant.answer("When does the ferry to Orlund leave?")
    assert answer.citation is not None and answer.citation.document == str(stored)


def test_a_latin1_upload_is_read_and_cited_exactly(chat_app: ChatApp, tmp_path: Path) -> None:
    path = tmp_path / "cafe.txt"
    path.write_bytes("The café in Mérida opened in 1998. It serves crème brûlée.".encode("latin-1"))
    chat_app.add_documents([str(path)])
    answer = chat_app.assistant.answer("When did the café in Mérida open?")
    assert answer.text == "1998" and answer.citation is not None
    text = chat_app.assistant.index.document(answer.citation.document).text
    assert text[answer.citation.start : answer.citation.end] == answer.citation.sentence
