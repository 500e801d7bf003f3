"""Turn documents into a persisted passage index, and load it back."""

from __future__ import annotations

from index.documents import Document, Sentence, load_document, load_documents, make_document
from index.embedder import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from index.passages import Passage, make_passages
from index.store import Manifest, PassageIndex, PassageSettings, build_index, load_index, save_index

__all__ = [
    "DEFAULT_MODEL",
    "Document",
    "Embedder",
    "Manifest",
    "Passage",
    "PassageIndex",
    "PassageSettings",
    "Sentence",
    "SentenceTransformerEmbedder",
    "build_index",
    "load_document",
    "load_documents",
    "load_index",
    "make_document",
    "make_passages",
    "save_index",
]
