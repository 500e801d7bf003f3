from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.config import Settings
from tests.conftest import SEED
from ui.app import ChatApp, launch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answering(assistant: Assistant) -> Assistant:
    """The seed index with the shipped settings: the reader's own threshold, as `qa serve` runs it."""
    return Assistant(assistant.index, assistant.embedder, settings=Settings())


@pytest.fixture
def chat_app(seed_assistant, tmp_path: Path) -> ChatApp:  # type: ignore[no-untyped-def]
    return ChatApp(
        answering(seed_assistant), base_paths=[SEED], upload_dir=tmp_path / "uploads", index_dir=tmp_path / "index"
    )


@pytest.fixture(scope="module")
def server(seed_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ChatApp]]:  # type: ignore[no-untyped-def]
    """A real Gradio server on a free port, as `qa serve` starts it."""
    tmp = tmp_path_factory.mktemp("server")
    app = ChatApp(answering(seed_assistant), base_paths=[SEED], upload_dir=tmp / "uploads", index_dir=tmp / "index")
    demo = launch(app, port=free_port(), block=False)
    try:
        yield demo.local_url.rstrip("/"), app
    finally:
        demo.close()
