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
    # The API answers from the served documents: uploads belong to the session that made them.
    data = chat_app.api_answer("How many visitors does the festival draw?")
    assert all(c["document"] == SEED.name for c in [*data["citations"], *filter(None, [data["closest"]])])
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


def test_with_shared_uploads_the_api_answers_from_uploads_and_names_them_without_a_path(
    seed_assistant, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import answering

    shared = ChatApp(answering(seed_assistant), base_paths=[SEED], shared_uploads=True)
    try:
        (tmp_path / "bakery.md").write_text(BAKERY, encoding="utf-8")
        shared.add_documents([str(tmp_path / "bakery.md")], session="someone")
        data = shared.api_answer("How many visitors does the festival draw?")
        (stored,) = shared.uploads
        citation = data["citations"][0]
        assert citation["document"] == stored.name and "/" not in citation["document"]
        assert stored.read_text(encoding="utf-8")[citation["start"] : citation["end"]] == citation["sentence"]
        assert "bakery" in shared.documents_panel("someone else")  # every session sees it
    finally:
        shared.close()


def test_uploads_belong_to_the_session_that_made_them(chat_app: ChatApp, tmp_path: Path) -> None:
    (tmp_path / "bakery.md").write_text(BAKERY, encoding="utf-8")
    chat_app.add_documents([str(tmp_path / "bakery.md")], session="alice")
    assert "bakery" in chat_app.documents_panel("alice")
    for other in ("bob", None):  # another browser session, and Python callers without one
        assert "bakery" not in chat_app.documents_panel(other)
        reply = unescape(chat_app.respond("Who opened the Harbour Bakery?", [], session=other)[0][-1]["content"])
        assert "Maria Lopez" not in reply
    reply = unescape(chat_app.respond("Who opened the Harbour Bakery?", [], session="alice")[0][-1]["content"])
    assert "Maria Lopez" in reply
    assert all(
        "bakery" not in c["document"] for c in chat_app.api_answer("Who opened the Harbour Bakery?")["citations"]
    )
    folder = chat_app.assistant_for("alice").index_dir
    assert folder is not None and folder.exists()
    chat_app.end_session("alice")  # the page was closed
    assert not folder.exists() and "bakery" not in chat_app.documents_panel("alice")


def test_the_upload_limit_is_per_session_with_a_total_cap(chat_app: ChatApp, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ui.app

    monkeypatch.setattr(ui.app, "MAX_SESSION_UPLOADS", 2)
    monkeypatch.setattr(ui.app, "MAX_UPLOADED_DOCUMENTS", 3)
    files = []
    for i in range(4):
        files.append(tmp_path / f"town{i}.txt")
        files[-1].write_text(f"Town {i} has {i + 2} bridges. Mayor Number{i} built them.\n", encoding="utf-8")
    chat_app.add_documents([str(files[0]), str(files[1])], session="alice")
    with pytest.raises(gr.Error, match="at most 2 uploaded documents"):
        chat_app.add_documents([str(files[2])], session="alice")
    chat_app.add_documents([str(files[2])], session="bob")  # Alice's share does not stop Bob
    with pytest.raises(gr.Error, match="as many uploads as it takes"):
        chat_app.add_documents([str(files[3])], session="carol")  # but the chat's total does
    chat_app.end_session("alice")
    chat_app.add_documents([str(files[3])], session="carol")  # a closed session frees its share


# Names a person may give a file: every script, emoji, very long, with odd characters. The stored
# name keeps the real extension whatever the stem becomes, so the file is read as what it is.
ODD_NAMES = {
    "cyrillic": "отчёт",
    "cjk": "報告書",
    "arabic": "تقرير",
    "emoji": "📄📄",
    "only punctuation": "...---...",
    "250 characters": "a" * 250,
    "long non-ascii": "ü" * 120,
    "dots and spaces": "my report . final . v2",
}


@pytest.mark.parametrize("stem", ODD_NAMES.values(), ids=ODD_NAMES.keys())
@pytest.mark.parametrize("kind", [".pdf", ".docx", ".html"])
def test_an_odd_name_never_changes_an_uploads_type_nor_poisons_later_ones(
    chat_app: ChatApp, tmp_path: Path, stem: str, kind: str
) -> None:
    from tests.documents_made import drawn_pdf, word_file

    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / f"{stem}{kind}"
    sentence = "The lighthouse keeper is Ingrid Alvestad."
    if kind == ".pdf":
        drawn_pdf(path, [[(40, 500, sentence)]])
    elif kind == ".docx":
        word_file(path, [("paragraph", sentence)])
    else:
        path.write_text(f"<html><script>var secret = 'Script text is not cited.';</script><p>{sentence}</p></html>")
    chat_app.add_documents([str(path)], session="s")
    (stored,) = [p for p in chat_app._uploads("s").files]  # type: ignore[union-attr]
    assert stored.suffix == kind and len(stored.name.encode()) < 255
    answer = chat_app.assistant_for("s").answer("Who is the lighthouse keeper?")
    assert answer.citation is not None and answer.citation.sentence == sentence
    assert all("Script text" not in d.text for d in chat_app.assistant_for("s").documents)
    later = tmp_path / "later.txt"  # a later upload, by the same session, still works
    later.write_text("The ferry to Orlund leaves at noon every Tuesday.", encoding="utf-8")
    chat_app.add_documents([str(later)], session="s")
    assert len(chat_app._uploads("s").files) == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"Just text, no PDF header.", "not a PDF"),
        ("letter.docx", b"Plain words in a .docx name.", "not a Word"),
        ("notes.txt", b"%PDF-1.7\n" + b"x" * 100, "is a PDF"),
        ("page.html", b"PK\x03\x04" + b"\x00" * 40, "zip"),
    ],
    ids=["text-as-pdf", "text-as-docx", "pdf-as-txt", "zip-as-html"],
)
def test_an_upload_whose_content_is_not_its_extension_is_refused(
    chat_app: ChatApp, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(gr.Error, match=message):
        chat_app.add_documents([str(path)], session="s")
    assert chat_app._uploads("s").files == []  # type: ignore[union-attr]


def test_an_upload_that_fails_while_indexing_fails_alone_and_frees_its_slot(
    chat_app: ChatApp, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import qa.assistant

    good = tmp_path / "good.txt"
    good.write_text("The ferry to Orlund leaves at noon every Tuesday.", encoding="utf-8")
    real = qa.assistant.Assistant.from_paths

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise qa.errors.IndexStoreError("the disk is full")

    monkeypatch.setattr(qa.assistant.Assistant, "from_paths", failing)
    with pytest.raises(gr.Error, match="Nothing was added: the disk is full"):
        chat_app.add_documents([str(good)], session="s")
    assert chat_app._uploads("s").files == []  # type: ignore[union-attr]
    monkeypatch.setattr(qa.assistant.Assistant, "from_paths", real)
    chat_app.add_documents([str(good)], session="s")  # the next upload is not poisoned
    assert chat_app.assistant_for("s").answer("When does the ferry to Orlund leave?").text is not None


def test_an_upload_refused_only_while_indexing_is_named_as_the_user_named_it(
    chat_app: ChatApp, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The check reads the file where the browser put it; a limit crossed only on the second reading (near
    its edge) reads the workspace copy, whose path the message must not show."""
    import qa.assistant
    from index.errors import DocumentTooCostlyError

    upload = tmp_path / "report.txt"
    upload.write_text("The ferry to Orlund leaves at noon every Tuesday.", encoding="utf-8")

    def costly(paths, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise DocumentTooCostlyError(f"{paths[-1]}: reading it took over 1 s of CPU, the limit for one file")

    monkeypatch.setattr(qa.assistant.Assistant, "from_paths", costly)
    with pytest.raises(gr.Error) as refused:
        chat_app.add_documents([str(upload)], session="s")
    message = str(refused.value)
    assert "Nothing was added: report.txt: reading it took over 1 s of CPU" in message
    assert "\n" not in message and str(chat_app._uploads("s").upload_dir) not in message  # type: ignore[union-attr]
    assert chat_app._uploads("s").files == []  # type: ignore[union-attr]


def test_sessions_without_a_page_expire_and_free_their_upload_slots(chat_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A script's session hashes send no heartbeat, so no page-close ever ends them: idleness does."""
    import time

    from ui.app import PAGE_IDLE_SECONDS, PAGELESS_IDLE_SECONDS

    files = []
    for i in range(3):
        path = tmp_path / f"note{i}.txt"
        path.write_text(f"Note number {i} is short. It has two sentences.", encoding="utf-8")
        files.append(str(path))
    chat_app.seen("with-page", page=True)
    for i, session in enumerate(["script-a", "script-b", "with-page"]):
        chat_app.add_documents([files[i]], session=session)
    folders = {s.upload_dir.parent for s in chat_app.active_sessions}
    assert len(chat_app.active_sessions) == 3 and all(f.exists() for f in folders)
    now = time.monotonic()
    chat_app.seen(None, now=now + PAGELESS_IDLE_SECONDS / 2)
    assert len(chat_app.active_sessions) == 3  # not idle long enough yet
    chat_app.seen(None, now=now + PAGELESS_IDLE_SECONDS + 1)
    (left,) = chat_app.active_sessions  # the pageless ones went, with their folders
    assert sum(f.exists() for f in folders) == 1 and left.upload_dir.parent.exists()
    chat_app.seen(None, now=now + PAGE_IDLE_SECONDS + 1)
    assert chat_app.active_sessions == () and not any(f.exists() for f in folders)


def test_the_same_content_uploaded_twice_is_kept_once(chat_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("notes.txt", "copy of notes.txt"):
        (tmp_path / name).write_text("The bridge reopened on Monday. It took two years.", encoding="utf-8")
    chat_app.add_documents([str(tmp_path / "notes.txt")], session="s")
    chat_app.add_documents([str(tmp_path / "copy of notes.txt")], session="s")
    (uploads,) = chat_app.active_sessions
    assert len(uploads.files) == 1
