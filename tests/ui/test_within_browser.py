"""Asking within some documents from the chat, in a real Chromium: the "Ask within" selector."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.assistant import Assistant
from tests.conftest import ROOT, SEED
from tests.ui.conftest import free_port
from tests.ui.test_browser import ARGS, CHROMIUM, ask
from ui.app import ChatApp, launch

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SECOND = ROOT / "tests" / "data" / "library_article.txt"


@pytest.fixture(scope="module")
def page(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does) or set QA_CHROMIUM")
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("within")
    assistant = Assistant.from_paths([SEED, SECOND], index_dir=tmp / "served", embedder=real_embedder)
    app = ChatApp(assistant, base_paths=[SEED, SECOND], upload_dir=tmp / "uploads", index_dir=tmp / "index")
    demo = launch(app, port=free_port(), block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(demo.local_url)
            page.wait_for_selector("#question textarea", timeout=30_000)
            yield page
            browser.close()
    finally:
        demo.close()
        app.close()


def choose(page, *names: str) -> None:  # type: ignore[no-untyped-def]
    """Empty the selector, then type each name (a listed document or a pattern) and press Enter."""
    clear = page.locator("#within .remove-all")
    if clear.count():
        clear.click()
    field = page.locator("#within input")
    for name in names:
        field.click()
        field.fill(name)
        field.press("Enter")
    field.press("Tab")  # closes the list (a click could land on an error overlay of the chat)


def last_reply(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator("#chat .message-row").last.inner_text())


def test_the_selector_lists_the_served_documents(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#within input").click()
    options = page.locator("#within [role=option]")
    options.first.wait_for()
    shown = {options.nth(i).get_attribute("aria-label") for i in range(options.count())}
    assert shown == {SEED.name, SECOND.name}
    page.locator("#question textarea").click()


def test_asking_within_one_document_cites_only_it(page) -> None:  # type: ignore[no-untyped-def]
    choose(page, SECOND.name)
    ask(page, "How much did the repairs cost?")
    reply = last_reply(page)
    assert "$4.2 million" in reply and SECOND.name in reply and SEED.name not in reply
    choose(page, SEED.name)
    ask(page, "How many missiles did Iran fire?")
    reply = last_reply(page)
    assert "more than a dozen" in reply and SEED.name in reply and SECOND.name not in reply
    choose(page, SECOND.name)
    ask(page, "How many missiles did Iran fire?")  # the other article does not say: never cites the seed
    assert SEED.name not in last_reply(page)


def test_a_pattern_that_matches_nothing_is_an_error_not_an_empty_answer(page) -> None:  # type: ignore[no-untyped-def]
    choose(page, "*.pdf")
    box = page.locator("#question textarea")
    box.fill("Who cut the ribbon?")
    box.press("Enter")
    page.get_by_text("no indexed document matches '*.pdf'").first.wait_for(timeout=30_000)
    choose(page)  # no filter: every document again
    ask(page, "Who cut the ribbon?")
    assert "Helen Okafor" in last_reply(page)
