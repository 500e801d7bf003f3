"""Changing one document of many embeds only that document's passages; the result equals a fresh build."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.assistant import Assistant
from tests.conftest import CountingEmbedder, HashEmbedder

ARTICLES = {
    f"article{i}.txt": f"Article {i} is about the river town number {i}. "
    f"Its mayor opened bridge {i} in spring. Fishermen sold carp at market {i}.\n"
    for i in range(6)
}


def _vectors(assistant: Assistant) -> np.ndarray:
    index = assistant.index.faiss_index
    return np.stack([index.reconstruct(i) for i in range(index.ntotal)])


def test_only_changed_and_new_documents_are_embedded(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    embedder = CountingEmbedder()
    Assistant.from_paths(folder, index_dir=tmp_path / "index", embedder=embedder)
    assert len(embedder.seen) >= len(ARTICLES)

    embedder.seen.clear()
    (folder / "article2.txt").write_text("Article 2 now says the ferry to Lindholm sails at noon.\n", encoding="utf-8")
    (folder / "article5.txt").unlink()
    (folder / "article6.txt").write_text("A new article: the lighthouse keeper is Marta Olsen.\n", encoding="utf-8")
    updated = Assistant.from_paths(folder, index_dir=tmp_path / "index", embedder=embedder)
    assert embedder.seen == [
        "Article 2 now says the ferry to Lindholm sails at noon.",
        "A new article: the lighthouse keeper is Marta Olsen.",
    ]

    fresh = Assistant.from_paths(folder, index_dir=tmp_path / "fresh", embedder=HashEmbedder())
    assert updated.index.passages == fresh.index.passages
    np.testing.assert_allclose(_vectors(updated), _vectors(fresh), atol=1e-6)
    assert updated.retriever.retrieve("Who keeps the lighthouse?").passages[0].passage.text.startswith("A new article")


def test_another_model_reuses_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLES["article0.txt"], encoding="utf-8")
    Assistant.from_paths(folder, index_dir=tmp_path / "index", embedder=HashEmbedder())
    other = CountingEmbedder()
    other.name = "test/another-model"
    Assistant.from_paths(folder, index_dir=tmp_path / "index", embedder=other)
    assert other.seen  # every passage embedded again by the new model
