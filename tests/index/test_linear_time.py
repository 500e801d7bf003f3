"""Reading, cleaning, splitting and cutting into passages grow linearly with the input, on adversarial shapes.

The readers run here, in this process (:func:`index.readers.extract.extract`), as the reading box's
worker runs them, so their CPU time is measured too.

Times are CPU times of this process (``time.process_time``), the fastest of five runs taken in
turn with the other size, measured again when a ratio looks high (``tests.conftest.cpu_scaling``),
so another busy process on the machine (or a garbage collection) does not make a linear step
look quadratic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.documents import make_document
from index.errors import EmptyDocumentError
from index.passages import count_cl100k, make_passages
from index.readers.extract import extract
from tests.conftest import cpu_scaling

SHAPES: dict[str, Callable[[int], str]] = {
    "many-short-lines": lambda n: "a\n" * (n // 2),
    "one-long-line": lambda n: "word " * (n // 5),
    "no-punctuation": lambda n: "lorem ipsum dolor sit amet " * (n // 27),
    "only-punctuation": lambda n: "." * n,
    "crlf": lambda n: "Line one is here.\r\n" * (n // 19),
    "closing-brackets": lambda n: "a." + ")" * (n - 3) + "x",
    "list-items": lambda n: "- item\n" * (n // 7),
    # Round four: blank runs inside a line, mixed blank lines, abbreviations ending every line.
    "spaces-in-one-line": lambda n: "a" + " " * (n - 4) + "b. C",
    "tabs-in-one-line": lambda n: "a" + "\t" * (n - 4) + "b. C",
    "blank-and-space-runs": lambda n: "x \n \t\n" * (n // 7),
    "abbreviation-line-ends": lambda n: "It took 35 ms.\n" * (n // 15),
}
HTML_SHAPES: dict[str, Callable[[int], str]] = {
    "open-anchors": lambda n: "<a" * (n // 2),
    "open-comments": lambda n: "<!--" * (n // 4),
    "end-tag-starts": lambda n: "</" * (n // 2),
    "processing-instructions": lambda n: "<?" * (n // 2),
    "nested-divs": lambda n: "<div>" * (n // 5),
    "cdata-sections": lambda n: "<![ CDATA[x]]>" * (n // 14),
    "entities": lambda n: "&amp;" * (n // 5),
    "paragraphs": lambda n: "<p>a b.</p>" * (n // 11),
    "attribute-quotes": lambda n: '<a href="' * (n // 9),
    "unclosed-nav": lambda n: "<nav>" + "<p>Text here.</p>" * (n // 17),
}


def _process(path: Path) -> None:
    read = extract(path.read_bytes(), path.name, path.suffix.lower())
    try:
        document = make_document(str(path), read.text, markdown=read.markdown)
    except EmptyDocumentError:
        return  # a page of markup alone: reading it is what was measured
    make_passages([document], count_tokens=count_cl100k)


@pytest.mark.parametrize("shape", sorted(HTML_SHAPES))
def test_four_times_the_html_takes_at_most_six_times_as_long(shape: str, tmp_path: Path) -> None:
    small, large = tmp_path / "small.html", tmp_path / "large.html"
    small.write_text(HTML_SHAPES[shape](100_000), encoding="utf-8")
    large.write_text(HTML_SHAPES[shape](400_000), encoding="utf-8")
    _process(small)
    t_small, t_large = cpu_scaling(lambda: _process(small), lambda: _process(large))
    assert t_large <= 6 * t_small + 0.01, f"{shape}: {t_small:.3f} s -> {t_large:.3f} s"


# Pieces hostile input is made of: markup openers and closers, blanks, line breaks, sentence marks.
_PIECES = ["<a", "<!--", "-->", "</", "<?", "<div>", "</div>", "<p>", "<![CDATA[", "]]>", "&amp;", "&#", '"', "'",
           " ", "\t", "\n", "\n\n", "\r\n", ".", "!", "?", "Mr.", "ms.", "U.S.", "word", "Word", "\u00e9", "\ufeff",
           "- ", "# ", ")", "(", "\u2028"]  # fmt: skip


@pytest.mark.slow
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    unit=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12).map("".join),
    suffix=st.sampled_from([".html", ".txt", ".md"]),
)
def test_fuzz_four_times_any_repeated_input_takes_at_most_six_times_as_long(unit: str, suffix: str) -> None:
    """Any repeated unit, read as HTML, text or Markdown: 4x the input, at most 6x the CPU."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / f"small{suffix}", Path(folder) / f"large{suffix}"
        small.write_text(unit * (25_000 // len(unit) + 1), encoding="utf-8", newline="")
        large.write_text(unit * (100_000 // len(unit) + 4), encoding="utf-8", newline="")
        _process(small)
        t_small, t_large = cpu_scaling(lambda: _process(small), lambda: _process(large))
    assert t_large <= 6 * t_small + 0.02, f"{unit!r} {suffix}: {t_small:.3f} s -> {t_large:.3f} s"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_four_times_the_input_takes_at_most_six_times_as_long(shape: str, tmp_path: Path) -> None:
    # 4x the input: linear work takes 4x, quadratic 16x. The wide gap leaves room for this
    # machine's noise (2x input with a 2.5x bound failed once at 2.76x on linear code).
    count_cl100k("warm up")  # the encoding loads once, outside the timing
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_text(SHAPES[shape](100_000), encoding="utf-8", newline="")
    large.write_text(SHAPES[shape](400_000), encoding="utf-8", newline="")
    _process(small)  # caches and imports
    t_small, t_large = cpu_scaling(lambda: _process(small), lambda: _process(large))
    assert t_large <= 6 * t_small + 0.01, f"{shape}: {t_small:.3f} s -> {t_large:.3f} s"
