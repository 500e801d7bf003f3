"""Visible text out of HTML: :func:`html_to_text`.

lexbor (through selectolax, MIT) builds the page's tree by the HTML5 parsing algorithm, in linear
time whatever the markup: a missing ``</head>``, an unclosed element, comments and CDATA sections
are read as a browser reads them. Python's ``html.parser`` took quadratic time on runs of ``<a``
or ``<!--`` (a 150 KB page, 95 s) and lost the text after an unclosed ``<nav>``.

The text is the page's visible text, one block per paragraph. Scripts, styles and the head are
never text; navigation, headers and footers are left out too, unless that leaves no text at all
(the article inside an unclosed ``<nav>``).
"""

from __future__ import annotations

import codecs
import re

# A <title> names the tab, even in the body; it is never on the page.
INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "head", "title", "math", "iframe", "object"})
FURNITURE = frozenset({"nav", "footer", "header", "aside"})
BLOCK = frozenset(
    {
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "section", "article",
        "blockquote", "header", "ul", "ol", "dl", "dt", "dd", "table", "title", "pre", "main", "figure",
        "figcaption", "hr", "address", "details", "summary",
    }
)  # fmt: skip
# Elements whose end tag may be left out: a page of unclosed <p> is not deep.
OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "tbody", "thead", "tfoot"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
MAX_DEPTH = 512  # as Blink: the HTML5 tree builder checks the open elements at each tag, so depth costs squared
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")  # never past the next "<": linear
_SPACE = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# The HTML standard's prescan: a <meta charset> or http-equiv content type within the first 1,024 bytes.
_META_CHARSET = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)


def declared_encoding(data: bytes) -> str | None:
    """The encoding a page declares in a ``<meta>`` tag of its first 1,024 bytes, when Python knows it.

    UTF-16 declared in the page itself is read as UTF-8, as browsers do (an ASCII-compatible
    declaration cannot be UTF-16 text); a byte-order mark, checked before this, wins over both.
    """
    match = _META_CHARSET.search(data[:1024])
    if not match:
        return None
    try:
        name = codecs.lookup(match[1].decode("ascii")).name
    except LookupError:
        return None
    return "utf-8" if name.startswith("utf-16") or name.startswith("utf-32") else name


def _flattened(html: str) -> str:
    """The page with start tags past ``MAX_DEPTH`` open elements left out (their text stays).

    An estimate from the tags alone, in one pass: real pages nest a few dozen deep, so only a
    hostile or broken page loses structure, never text.
    """
    depth = 0
    cut: list[tuple[int, int]] = []
    for match in _TAG.finditer(html):
        name = match[2].lower()
        if name in VOID or name in OPTIONAL_END or match[3].endswith("/"):
            continue
        if match[1]:
            depth = max(0, depth - 1)
        elif depth >= MAX_DEPTH:
            cut.append(match.span())
        else:
            depth += 1
    if not cut:
        return html
    kept: list[str] = []
    at = 0
    for start, end in cut:
        kept.append(html[at:start])
        at = end
    kept.append(html[at:])
    return "".join(kept)


def _text(root: object, skip: frozenset[str]) -> str:
    parts: list[str] = []
    # Depth first without recursion (a page can nest elements thousands deep); None marks a block's end.
    stack: list[object | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            parts.append("\n\n")
            continue
        tag = node.tag  # type: ignore[attr-defined]
        if tag == "-text":
            parts.append(_SPACE.sub(" ", node.text_content or ""))  # type: ignore[attr-defined]
            continue
        if not tag or tag.startswith("-") or tag in skip:  # comments, doctype, processing instructions; hidden
            continue
        if tag in BLOCK:
            parts.append("\n\n")
            stack.append(None)
        stack.extend(reversed(list(node.iter(include_text=True))))  # type: ignore[attr-defined]
    paragraphs = (p.strip() for p in _PARAGRAPH_BREAK.split("".join(parts)))
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def html_to_text(html: str) -> str:
    """The visible text of an HTML page, paragraphs separated by a blank line (see the module's notes)."""
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        root = LexborHTMLParser(_flattened(html)).root
    except SelectolaxError:
        # The HTML5 algorithm reads any input; lexbor fails only when an allocation fails.
        raise MemoryError from None
    if root is None:
        return "\n"
    whole = _text(root, INVISIBLE)
    text = _text(root, INVISIBLE | FURNITURE)
    # Without its furniture a page keeps most of its text; when it keeps under a fifth, the article
    # was inside an element left open (an unclosed <nav>), and the page is read whole.
    return text if 5 * _letters(text) >= _letters(whole) else whole


def _letters(text: str) -> int:
    return sum(c.isalnum() for c in text)
