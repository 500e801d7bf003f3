"""The reading box: files are read in a worker under CPU, memory and wall-clock limits, refused in one line past them."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from index.errors import ConfigError, DocumentTooCostlyError, UnreadableDocumentError
from index.readers.box import Box, ReadLimits, box_for
from index.readers.extract import extract
from tests.conftest import SEED

# Some seconds of CPU in lexbor and the text walk: about 1.5 million elements.
HEAVY_HTML = "<html><body>" + "<p>word</p><div>more <b>bold</b></div>" * 400_000 + "</body></html>"


def test_the_box_reads_as_the_process_itself_would(tmp_path: Path) -> None:
    data = SEED.read_bytes()
    with_box = box_for().extract(data, SEED.name, ".txt")
    assert with_box == extract(data, SEED.name, ".txt")
    page = "<html><head><title>T</title></head><body><p>Caf\u00e9 one.</p><p>Two.</p></body></html>"
    assert box_for().extract(page.encode(), "p.html", ".html").text == "Caf\u00e9 one.\n\nTwo.\n"


def test_a_reader_s_own_refusal_comes_back_as_its_own_error() -> None:
    with pytest.raises(UnreadableDocumentError, match="binary"):
        box_for().extract(b"abc\x00def", "x.txt", ".txt")
    from index.readers.pdf import PdfError

    with pytest.raises(PdfError, match="not a readable PDF"):
        box_for().extract(b"%PDF-1.7 nothing else", "x.pdf", ".pdf")


LIMITS = {
    "cpu": (ReadLimits(cpu_seconds=1), "s of CPU", "--read-cpu"),
    "memory": (ReadLimits(memory_mib=40), "MiB of memory", "--read-memory"),
    "wall clock": (ReadLimits(wall_seconds=0.5), "took over 0.5 s", "--read-timeout"),
}


@pytest.mark.parametrize(("limits", "says", "option"), LIMITS.values(), ids=LIMITS.keys())
def test_a_file_past_each_limit_is_refused_in_one_line_and_the_next_file_reads(limits, says, option) -> None:  # type: ignore[no-untyped-def]
    box = Box(limits)
    try:
        with pytest.raises(DocumentTooCostlyError) as refused:
            box.extract(HEAVY_HTML.encode(), "heavy.html", ".html")
        message = str(refused.value)
        assert "\n" not in message and message.startswith("heavy.html: ") and says in message and option in message
        assert box.extract(b"A small file. It reads.", "small.txt", ".txt").text == "A small file. It reads."
    finally:
        box.close()


def test_a_worker_that_dies_is_a_refusal_and_is_replaced() -> None:
    box = Box(ReadLimits(wall_seconds=30))
    try:
        assert box.extract(b"One. Two.", "a.txt", ".txt").text == "One. Two."
        worker = box._idle[0]
        os.kill(worker.process.pid, signal.SIGSEGV)
        worker.process.wait()
        # The dead worker is noticed before use: the next file starts a new one.
        assert box.extract(b"Three.", "b.txt", ".txt").text == "Three."
    finally:
        box.close()


def test_other_callers_are_not_held_up_by_a_slow_file() -> None:
    box = Box(ReadLimits(cpu_seconds=1))
    slow_done = threading.Event()

    def slow() -> None:
        try:
            box.extract(HEAVY_HTML.encode(), "heavy.html", ".html")
        except DocumentTooCostlyError:
            pass
        slow_done.set()

    try:
        box.extract(b"warm", "w.txt", ".txt")
        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.2)
        start = time.monotonic()
        assert box.extract(b"Quick one.", "q.txt", ".txt").text == "Quick one."
        quick = time.monotonic() - start
        thread.join(timeout=120)
        assert slow_done.is_set() and quick < 30  # a second worker: not behind the slow file
    finally:
        box.close()


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "10", True])
def test_limits_must_be_positive_numbers(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="positive number"):
        ReadLimits(cpu_seconds=bad)
