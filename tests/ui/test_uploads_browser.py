"""Uploads as a person makes them, in a real Chromium, with the served document directly in /tmp.

Also: an upload is private to the page (browser session) that made it and goes when that page
closes, a question's Markdown is never rendered (an image link in it fetches nothing), and the
upload workspace goes at close.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.assistant import Assistant
from tests.conftest import SEED
from tests.ui.conftest import free_port
from tests.ui.test_browser import ARGS, CHROMIUM, ask
from ui.app import ChatApp, launch

pytestmark = [pytest.mark.slow, pytest.mark.browser]
BRIDGE = "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\nIt carries trains.\n"


@pytest.fixture(scope="module")
def tmp_server(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ChatApp, Path]]:  # type: ignore[no-untyped-def]
    # The served document sits directly in /tmp, beside gradio's own upload cache.
    doc = Path(tempfile.gettempdir()) / f"qa-served-{secrets.token_hex(4)}.txt"
    shutil.copyfile(SEED, doc)
    index_dir = tmp_path_factory.mktemp("tmp-index")
    assistant = Assistant.from_paths(doc, index_dir=index_dir, embedder=real_embedder)
    app = ChatApp(assistant, base_paths=[doc])  # its own workspace, removed by close()
    demo = launch(app, port=free_port(), block=False)
    try:
        yield demo.local_url.rstrip("/"), app, doc
    finally:
        demo.close()
        app.close()
        doc.unlink(missing_ok=True)


def upload_in_chat(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Add a file through the chat's upload box, as a person does, and wait until it is indexed."""
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_timeout(500)
    page.locator("#add").click()
    page.locator("#upload-status").filter(has_text="Added").wait_for(timeout=120_000)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_an_upload_next_to_a_document_in_tmp_is_private_to_its_page_and_goes_with_it(
    tmp_server, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import secrets
    import time

    from gradio.utils import get_upload_folder

    url, app, _ = tmp_server
    upload = tmp_path / f"bridge-{secrets.token_hex(4)}.txt"
    upload.write_text(BRIDGE, encoding="utf-8")
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea", timeout=30_000)
    upload_in_chat(page, upload)
    page.locator("#documents").filter(has_text="bridge").wait_for(timeout=30_000)
    (session,) = app.active_sessions
    assert len(session.assistant.documents) == 2 and len(app.assistant.documents) == 1
    # gradio's own copy of the upload is gone at once: nothing is left to serve at /gradio_api/file=
    assert list(Path(get_upload_folder()).rglob(upload.name)) == []
    # Another visitor neither sees the upload nor is answered from it.
    other = browser.new_page()
    other.goto(url)
    other.locator("#documents").filter(has_text="qa-served").wait_for(timeout=30_000)
    assert "bridge" not in other.locator("#documents").inner_text()
    ask(other, "When did the harbour bridge in Velmora reopen?")
    assert "reopened on Monday" not in other.locator("#chat").inner_text()  # the upload's sentence
    folder = session.upload_dir.parent
    assert folder.exists()
    page.close()  # the page that uploaded goes: so do its upload and its index
    deadline = time.monotonic() + 60
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not folder.exists() and app.active_sessions == ()
    other.close()


def test_markdown_in_a_question_is_shown_as_text_and_fetches_nothing(tmp_server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = tmp_server
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    page.wait_for_selector("#question textarea", timeout=30_000)
    box = page.locator("#question textarea")
    box.fill("![x](http://127.0.0.1:9/tracker.png) Where did Khamenei speak?")
    box.press("Enter")
    page.locator(".qa-confidence").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert not any("tracker.png" in u for u in requested)
    assert page.locator("#chat").filter(has_text="![x](http://127.0.0.1:9/tracker.png)").count() == 1
    assert page.locator("#chat img[src*='tracker']").count() == 0


def test_close_removes_the_workspace_it_made(real_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.from_paths(SEED, index_dir=tmp_path / "idx", embedder=real_embedder)
    made = ChatApp(assistant, base_paths=[SEED])
    workspace = made.upload_dir.parent
    assert workspace.exists()
    made.close()
    assert not workspace.exists()
    given = ChatApp(assistant, base_paths=[SEED], upload_dir=tmp_path / "up", index_dir=tmp_path / "ix")
    given.close()
    assert (tmp_path / "up").exists()  # folders it was given are never removed
