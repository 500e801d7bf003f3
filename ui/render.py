"""Turn answers into the chat's HTML, escaping every piece of document text.

The chatbot renders Markdown and HTML, so text quoted from a document (which
may be an upload) is escaped for both: a sentence holding ``![](http://x)``
or ``<img src=...>`` must show as text, never make the browser fetch anything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from index.documents import Document, DocumentSummary, Sentence
from index.readers.box import ReadLimits
from qa.result import Answer, Citation

# HTML-significant and Markdown-significant characters, as numeric entities.
_ESCAPES = {ch: f"&#{ord(ch)};" for ch in "&<>\"'`*_[]()!#|~\\{}+-=.:$"}
_ESCAPES["\n"] = " "


def escape(text: str) -> str:
    """Escape text so neither the Markdown nor the HTML renderer interprets it."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _sentence_of(citation: Citation, documents: Sequence[Document]) -> tuple[Document, Sentence] | None:
    for doc in documents:
        if doc.path == citation.document:
            for sentence in doc.sentences:
                if sentence.start == citation.start and sentence.end == citation.end:
                    return doc, sentence
    return None


def context_html(citations: Sequence[Citation], documents: Sequence[Document]) -> str:
    """The paragraph(s) around the citations, with the cited sentences highlighted."""
    located = [found for c in citations if (found := _sentence_of(c, documents))]
    if not located:
        return ""
    doc = located[0][0]
    cited = {(s.start, s.end) for d, s in located if d.path == doc.path}
    paragraphs = sorted({s.paragraph for d, s in located if d.path == doc.path})
    parts = []
    for paragraph in range(paragraphs[0], paragraphs[-1] + 1):
        sentences = [s for s in doc.sentences if s.paragraph == paragraph]
        rendered = []
        for s in sentences:
            text = escape(s.text)
            rendered.append(f'<mark class="qa-cited">{text}</mark>' if (s.start, s.end) in cited else text)
        parts.append("<p>" + " ".join(rendered) + "</p>")
    return "".join(parts)


def page_html(citations: Sequence[Citation], documents: Sequence[Document], limits: ReadLimits | None = None) -> str:
    """For a PDF, the cited page as an image with the cited sentences highlighted; "" otherwise."""
    located = [found for c in citations if (found := _sentence_of(c, documents))]
    if not located or not located[0][0].pages:
        return ""
    from ui.page_image import highlighted_page

    doc = located[0][0]
    made = highlighted_page(doc, [(s.start, s.end) for d, s in located if d.path == doc.path], limits=limits)
    if made is None:
        return ""
    number, png = made
    alt = escape(f"Page {number} of {doc.name}, the cited sentence highlighted")
    return f'<img class="qa-page" alt="{alt}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def location(citation: Citation, documents: Sequence[Document]) -> str:
    """Where a citation stands: file name, paragraph and character offsets."""
    found = _sentence_of(citation, documents)
    page = f"page {citation.page}, " if citation.page is not None else ""
    paragraph = f"paragraph {found[1].paragraph + 1}, " if found else ""
    return f"{Path(citation.document).name}, {page}{paragraph}characters {citation.start}–{citation.end}"


def answer_html(
    answer: Answer, documents: Sequence[Document], *, asked: str | None = None, limits: ReadLimits | None = None
) -> str:
    """The chat reply: short answer, cited sentence(s) with location, context, confidence.

    When the question searched (``answer.question``) differs from what the
    person typed (``asked``), as for a resolved follow-up, the reply says so.
    """
    parts = []
    if asked and asked != answer.question:
        parts.append(f'<p class="qa-searched">Searched: <em>{escape(answer.question)}</em></p>')
    if answer.abstained:
        parts.append('<p class="qa-abstain">The document does not seem to answer this question.</p>')
        if answer.closest is not None:
            # Shown as a lead to read, never as the answer: no bold short answer, its own label.
            parts.append(
                '<p class="qa-closest-label">The closest sentence I found (not an answer):</p>'
                f'<blockquote class="qa-closest">“{escape(answer.closest.sentence)}”'
                f'<br><small class="qa-location">— {escape(location(answer.closest, documents))}</small></blockquote>'
            )
        parts.append(f'<p class="qa-confidence">Confidence that it does: {answer.confidence:.2f}</p>')
        return "".join(parts)
    parts.append(f'<p class="qa-short"><strong>{escape(answer.text or "")}</strong></p>')
    # Show cited sentences in reading order: "his warning, then his quote".
    ordered = sorted(answer.citations, key=lambda c: (c.document, c.start))
    for citation in ordered:
        parts.append(
            f'<blockquote class="qa-citation">“{escape(citation.sentence)}”'
            f'<br><small class="qa-location">— {escape(location(citation, documents))}</small></blockquote>'
        )
    context = context_html(ordered, documents)
    page = page_html(ordered, documents, limits)
    if page:
        context = f'<div class="qa-page-context">{page}<div class="qa-page-text">{context}</div></div>'
    if context:
        parts.append(f'<details class="qa-context"><summary>Show in context</summary>{context}</details>')
    parts.append(f'<p class="qa-confidence">Confidence: {answer.confidence:.2f}</p>')
    return "".join(parts)


def documents_markdown(documents: Sequence[DocumentSummary], total: int | None = None) -> str:
    """The indexed documents panel: one row per document shown, then how many more there are."""
    lines = ["| document | sentences | characters |", "|---|---|---|"]
    for doc in documents:
        lines.append(f"| {escape(doc.name)} | {doc.sentences} | {doc.characters:,} |")
    if total is not None and total > len(documents):
        lines.append(f"\n… and {total - len(documents):,} more ({total:,} documents in all)")
    return "\n".join(lines)
