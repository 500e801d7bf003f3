from __future__ import annotations

from html import unescape

from index.documents import make_document
from qa.result import Answer, Citation
from ui.render import answer_html, context_html, escape

DOC = make_document(
    "/docs/a.txt",
    "Intro sentence here. See ![x](http://evil.example/p.png) and <img src=x onerror=alert(1)>.\n\n"
    "Second paragraph. It ends here.",
)


def citation(i: int) -> Citation:
    s = DOC.sentences[i]
    return Citation(s.document, s.text, s.start, s.end)


def test_escape_defuses_markdown_and_html() -> None:
    out = escape("![x](http://evil.example/p.png) <img src=x> **b** [l](u)")
    for dangerous in ("![", "](", "<img", "**", "[l]"):
        assert dangerous not in out


def test_answer_html_quotes_escaped_sentence_with_location_and_context() -> None:
    answer = Answer(question="q", text="Intro sentence here.", citations=(citation(1),), confidence=0.8)
    html = answer_html(answer, [DOC])
    assert "<img src" not in html and "](" not in html
    assert "a.txt, paragraph 1, characters" in unescape(html)
    assert '<mark class="qa-cited">' in html and "Confidence: 0.80" in html
    assert "Show in context" in html


def test_context_highlights_only_cited_sentences_of_their_paragraphs() -> None:
    html = context_html([citation(2)], [DOC])
    assert html.count("<mark") == 1 and "Intro" not in html
    assert html == '<p><mark class="qa-cited">Second paragraph&#46;</mark> It ends here&#46;</p>'


def test_abstention_reads_plainly_without_citation() -> None:
    html = answer_html(Answer(question="q", text=None, citations=(), confidence=0.1), [DOC])
    assert "does not seem to answer" in html and "qa-citation" not in html and "<mark" not in html
    assert "closest" not in html  # nothing found, nothing shown


def test_abstention_shows_the_closest_sentence_as_a_lead_not_an_answer() -> None:
    closest = citation(2)
    html = answer_html(Answer(question="q", text=None, citations=(), confidence=0.1, closest=closest), [DOC])
    assert "does not seem to answer" in html and "qa-citation" not in html and "qa-short" not in html
    assert "(not an answer)" in html and 'class="qa-closest"' in html
    assert escape(closest.sentence) in html and "a.txt, paragraph 2, characters" in unescape(html)


def test_rewritten_question_is_shown_only_when_rewritten() -> None:
    answer = Answer(question="Did Trump mention casualties?", text="x", citations=(citation(0),), confidence=0.9)
    assert "Searched" not in answer_html(answer, [DOC], asked="Did Trump mention casualties?")
    html = answer_html(answer, [DOC], asked="Did he mention casualties?")
    assert '<p class="qa-searched">Searched: <em>Did Trump mention casualties?</em></p>' in html


def test_the_documents_panel_lists_sizes_and_says_how_many_are_not_shown() -> None:
    from index.documents import DocumentSummary
    from ui.render import documents_markdown

    shown = (DocumentSummary("/x/a.txt", 3, 1200), DocumentSummary("/x/b<i>.pdf", 1, 40))
    panel = documents_markdown(shown, 5)
    assert "a&#46;txt | 3 | 1,200 |" in panel and "<i>" not in panel  # names are escaped, never rendered
    assert "and 3 more (5 documents in all)" in panel
    assert "more" not in documents_markdown(shown, 2)
