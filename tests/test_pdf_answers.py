"""The bundled article as a two-column PDF: the same answers and citations as the text file, each with its page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation import evaluate
from tests.conftest import ROOT, SEED, run_cli
from tests.documents_made import article_pdf

pytestmark = pytest.mark.slow
SEED_SET = ROOT / "tests/data/seed_questions.jsonl"


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return article_pdf(SEED.read_text(encoding="utf-8"), tmp_path_factory.mktemp("pdf") / "article.pdf")


def test_qa_eval_on_the_pdf_gives_the_text_files_answers_and_metrics_with_right_pages(
    article: Path, real_embedder
) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium

    text = evaluate(SEED_SET, corpus=[SEED], embedder=real_embedder)
    pdf = evaluate(SEED_SET, corpus=[article], embedder=real_embedder)
    page_text = [" ".join(p.get_textpage().get_text_range().split()) for p in pdfium.PdfDocument(str(article))]
    assert len(page_text) >= 2
    pages = set()
    for ours, theirs in zip(pdf.results, text.results, strict=True):
        assert ours.prediction == theirs.prediction, ours.question
        assert (ours.citation is None) == (theirs.citation is None)
        if ours.citation is not None and theirs.citation is not None:
            assert ours.citation.sentence == theirs.citation.sentence and theirs.citation.page is None
            page = ours.citation.page
            assert page is not None and " ".join(ours.citation.sentence.split())[:12] in page_text[page - 1]
            pages.add(page)
        assert (ours.f1, ours.citation_correct, ours.gold_rank) == (
            theirs.f1,
            theirs.citation_correct,
            theirs.gold_rank,
        )
    assert len(pages) >= 2  # answers cited from more than one page
    for key in ("f1", "exact_match", "citation_accuracy", "recall_at_k", "mrr", "no_ans_accuracy"):
        assert getattr(pdf.metrics, key) == getattr(text.metrics, key), key


def test_qa_ask_prints_the_page_and_json_carries_it(article: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run_cli("index", str(article), "--index-dir", str(index), home=tmp_path).returncode == 0
    asked = run_cli("ask", "How many missiles did Iran fire?", "--index-dir", str(index), home=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "article.pdf, page 1 [" in asked.stdout
    data = json.loads(
        run_cli("ask", "How many missiles did Iran fire?", "--index-dir", str(index), "--json", home=tmp_path).stdout
    )
    citation = data["citations"][0]
    assert citation["page"] == 1 and "ballistic missiles" in citation["sentence"]


def test_the_postgresql_store_keeps_pages_too(article: Path, pg_url: str, real_embedder) -> None:  # type: ignore[no-untyped-def]
    from index.documents import load_document
    from index.stores.postgres import PgStore
    from qa.assistant import Assistant

    local = Assistant.from_documents([load_document(article)], embedder=real_embedder)
    remote = Assistant.from_paths([article], store=pg_url, embedder=real_embedder, reader=local.reader)
    question = "How many missiles did Iran fire?"
    assert remote.answer(question) == local.answer(question)
    assert remote.answer(question).citations[0].page == 1
    assert PgStore(pg_url).load().documents[0].pages == local.documents[0].pages
    remote.close()
