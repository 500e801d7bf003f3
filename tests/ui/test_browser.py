"""A person's view: a real headless Chromium typing into the real chat.

Uses Debian's chromium (``apt-get install chromium``) through Playwright's
``executable_path``; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def page(server):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does) or set QA_CHROMIUM")
    from playwright.sync_api import sync_playwright

    url, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#question textarea", timeout=30_000)
        yield page
        browser.close()


def ask(page, question: str) -> float:  # type: ignore[no-untyped-def]
    """Type a question, press Enter, wait for the reply; return seconds from Enter to the answer.

    Every reply, answer or abstention, ends with one ``.qa-confidence`` line,
    so a new one marks the new reply.
    """
    before = page.locator(".qa-confidence").count()
    box = page.locator("#question textarea")
    box.fill(question)
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function("n => document.querySelectorAll('.qa-confidence').length > n", arg=before, timeout=30_000)
    return time.perf_counter() - start


def test_rouhani_question_shows_the_highlighted_cited_sentence(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "what did Rouhani say")
    citation = page.locator(".qa-citation").filter(has_text="You cut Soleimani's hand from his body").first
    citation.wait_for()
    assert citation.is_visible()
    page.locator("details.qa-context summary").last.click()
    marked = page.locator("mark.qa-cited").filter(has_text="You cut Soleimani's hand from his body").last
    marked.wait_for()
    assert marked.is_visible()
    background = marked.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-rouhani.png"), full_page=True)


def test_enter_to_answer_time(page) -> None:  # type: ignore[no-untyped-def]
    questions = ["Where did Khamenei speak?", "How many missiles did Iran fire?", "Who is the Iranian president?"] * 2
    times = [ask(page, q) for q in questions]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "enter-to-answer.txt").write_text(
        "seconds from Enter to answer: "
        + ", ".join(f"{t:.3f}" for t in times)
        + f"\nmedian: {statistics.median(times):.3f}\n"
    )
    assert page.locator(".qa-short").filter(has_text="more than a dozen").count() >= 1
