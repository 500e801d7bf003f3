"""A file past a reading limit, uploaded to a real chat server: refused in one line, while other users get answers."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from gradio_client import Client

from index.readers.box import ReadLimits
from qa.assistant import Assistant
from qa.config import Settings
from tests.conftest import SEED
from tests.ui.conftest import free_port
from ui.app import ChatApp, launch

pytestmark = pytest.mark.slow
# Under the chat's 2 MB upload limit: 190,000 paragraphs, about a second of CPU and 100 MB to read.
HEAVY = "<p>a b</p>" * 190_000
# Limits this file goes past (the CPU limit counts whole seconds of the worker's time: 0.01 s more
# than it has used is its next whole second, which a second of reading passes).
LIMITS = {
    "cpu": (ReadLimits(cpu_seconds=0.01), "--read-cpu"),
    "memory": (ReadLimits(memory_mib=30), "--read-memory"),
    "wall clock": (ReadLimits(wall_seconds=0.2), "--read-timeout"),
}


@pytest.mark.parametrize(("limits", "option"), LIMITS.values(), ids=LIMITS.keys())
def test_an_upload_past_a_limit_is_refused_in_one_line_while_others_are_answered(
    seed_assistant, tmp_path: Path, limits: ReadLimits, option: str
) -> None:  # type: ignore[no-untyped-def]
    import gradio as gr

    settings = replace(Settings(), read_limits=limits)
    app = ChatApp(
        Assistant(seed_assistant.index, seed_assistant.embedder, settings=settings),
        base_paths=[SEED],
        upload_dir=tmp_path / "uploads",
        index_dir=tmp_path / "index",
    )
    demo = launch(app, port=free_port(), block=False)
    try:
        client = Client(demo.local_url, verbose=False)
        expected = client.predict("Where did Khamenei speak?", api_name="/answer")
        heavy = tmp_path / "heavy.html"
        heavy.write_text(HEAVY, encoding="utf-8")
        refusal: list[BaseException] = []

        def upload() -> None:
            try:
                app.add_documents([str(heavy)], session="uploader")
            except BaseException as exc:  # noqa: BLE001 - asserted below
                refusal.append(exc)

        uploader = threading.Thread(target=upload)
        uploader.start()
        answered: list[float] = []
        while uploader.is_alive() and len(answered) < 20:
            started = time.monotonic()
            assert client.predict("Where did Khamenei speak?", api_name="/answer") == expected
            answered.append(time.monotonic() - started)
        uploader.join(timeout=300)
        assert len(refusal) == 1 and isinstance(refusal[0], gr.Error)
        message = str(refusal[0])
        assert "\n" not in message and "heavy.html" in message and option in message and str(tmp_path) not in message
        assert answered and max(answered) < 30  # answers went on while the file was read elsewhere
        assert app.active_sessions == () or all(not s.files for s in app.active_sessions)  # nothing was added
        assert client.predict("Where did Khamenei speak?", api_name="/answer") == expected
    finally:
        demo.close()
        app.close()
