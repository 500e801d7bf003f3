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


def _serving(seed_assistant, tmp: Path, *, shared_uploads: bool) -> Iterator[tuple[str, ChatApp]]:  # type: ignore[no-untyped-def]
    app = ChatApp(
        answering(seed_assistant),
        base_paths=[SEED],
        upload_dir=tmp / "uploads",
        index_dir=tmp / "index",
        shared_uploads=shared_uploads,
    )
    demo = launch(app, port=free_port(), block=False)
    try:
        yield demo.local_url.rstrip("/"), app
    finally:
        demo.close()
        app.close()


@pytest.fixture(scope="module")
def server(seed_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ChatApp]]:  # type: ignore[no-untyped-def]
    """A real Gradio server on a free port, as `qa serve` starts it."""
    yield from _serving(seed_assistant, tmp_path_factory.mktemp("server"), shared_uploads=False)


@pytest.fixture(scope="module")
def shared_server(seed_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ChatApp]]:  # type: ignore[no-untyped-def]
    """The same, as `qa serve --shared-uploads` starts it: uploads reach every session and the API."""
    yield from _serving(seed_assistant, tmp_path_factory.mktemp("shared-server"), shared_uploads=True)
