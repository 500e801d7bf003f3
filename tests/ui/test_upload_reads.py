"""An upload beside a served folder reads the upload, not the folder again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qa.assistant import Assistant
from tests.conftest import CountingEmbedder
from tests.index.test_reopen import ARTICLES, _corpus, reads, settle  # noqa: F401 - fixtures
from ui.app import ChatApp


def test_each_upload_reads_only_the_new_file(
    tmp_path: Path,
    reads: list[Path],  # noqa: F811
    settle: Callable[[], None],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    settle()
    folder = _corpus(tmp_path / "served")
    embedder = CountingEmbedder()
    served = Assistant.from_paths(folder, index_dir=tmp_path / "index", embedder=embedder, reader="sentence-only")
    app = ChatApp(served, base_paths=[folder], upload_dir=tmp_path / "uploads", index_dir=tmp_path / "chat-index")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for i, text in enumerate(("The ferry Saga sails at dawn.\n", "The lighthouse keeper is Marta.\n")):
        upload = incoming / f"note{i}.txt"
        upload.write_text(text, encoding="utf-8")
        reads.clear()
        embedder.seen.clear()
        assert f"{len(ARTICLES) + i + 1} document(s)" in app.add_documents([str(upload)])
        # The check reads the user's file, the indexing its copy; the served articles and the first
        # upload are taken from the index by their stamps.
        assert [p.name for p in reads] == [
            upload.name,
            *(p.name for p in app.uploads if p.name.startswith(upload.stem)),
        ]
        assert embedder.seen == [text.strip()]
    assert app.respond("Who is the lighthouse keeper?", [])[1].answer is not None

    # The same text as a served article, uploaded under another name: indexed once, as before.
    twin = incoming / "twin.txt"
    twin.write_text(ARTICLES["article0.txt"], encoding="utf-8")
    app.add_documents([str(twin)])
    assert sum(d.text == ARTICLES["article0.txt"] for d in app.assistant.index.documents) == 1
    assert "same text" in caplog.text
