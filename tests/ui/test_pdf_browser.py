"""A PDF uploaded in the chat, asked about in a real Chromium: the answer cites its page and shows it highlighted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.config import Settings
from tests.conftest import ROOT, SEED
from tests.documents_made import article_pdf
from tests.ui.conftest import free_port
from tests.ui.test_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.ui.test_uploads_browser import upload_in_chat
from ui.app import ChatApp, launch

pytestmark = [pytest.mark.slow, pytest.mark.browser]
LIBRARY = ROOT / "tests" / "data" / "library_article.txt"


@pytest.fixture(scope="module")
def server(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ChatApp]]:  # type: ignore[no-untyped-def]
    index_dir = tmp_path_factory.mktemp("pdf-index")
    assistant = Assistant.from_paths(
        SEED, index_dir=index_dir, embedder=real_embedder, settings=Settings(abstain_below=0.0)
    )
    app = ChatApp(assistant, base_paths=[SEED])
    demo = launch(app, port=free_port(), block=False)
    try:
        yield demo.local_url.rstrip("/"), app
    finally:
        demo.close()
        app.close()


def test_ask_about_an_uploaded_pdf_and_see_the_cited_sentence_on_its_page(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    url, app = server
    pdf = article_pdf(LIBRARY.read_text(encoding="utf-8"), tmp_path / "millbrook.pdf", title="Millbrook Gazette")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(url)
        page.wait_for_selector("#question textarea", timeout=30_000)
        upload_in_chat(page, pdf)
        page.locator("#question textarea").fill("When did the Millbrook library reopen?")
        page.locator("#question textarea").press("Enter")
        reply = page.locator(".qa-citation").last
        reply.wait_for(timeout=60_000)
        assert "millbrook" in reply.inner_text() and "page 1" in reply.inner_text()
        page.locator(".qa-context summary").last.click()
        image = page.locator("img.qa-page").last
        image.wait_for(timeout=30_000)
        assert image.evaluate("img => img.complete && img.naturalWidth > 400")
        assert "Page 1 of millbrook" in (image.get_attribute("alt") or "")
        image.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chat-pdf.png"), full_page=True)
        browser.close()
    # The upload belonged to that page's session, which ended when its browser closed.
    assert not any(d.path.endswith(".pdf") for d in app.assistant.documents)
