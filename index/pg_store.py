"""PostgreSQL with pgvector as an index store: ``--store postgresql://...``.

Tables (schema version ``SCHEMA_VERSION``); every offset is a character offset into the
document's text, as in the local store::

    qa_store      one row: schema version, embedding model, dimension, passage settings
    qa_documents  path, sha256, text
    qa_sentences  (document, idx): paragraph, start, end
    qa_passages   (document, ord): first and last sentence idx, start, end, embedding vector(d)

A write (:meth:`PgStore.sync`) is one transaction under an advisory lock: a document whose path
and sha256 are stored already is not touched, the rows of changed and removed documents go
(``ON DELETE CASCADE``), and only new or changed documents are split and embedded. A read
(:meth:`PgStore.load`) is one REPEATABLE READ transaction, so a process sees the store as it was
before or after a write, never half of one. Searching then runs on the loaded snapshot (FAISS and
BM25 in memory, as for the local store); searching inside Postgres with an HNSW index is not built yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from index.documents import Document, Sentence, Source
from index.embedder import Embedder
from index.errors import ModelMismatchError, StoreUnavailableError
from index.passages import Passage
from index.store import PassageIndex, PassageSettings, assemble_index, cut_passages

SCHEMA_VERSION = 1
_LOCK = 0x7161_7374  # "qast": one advisory lock per database for writers

_SCHEMA = """
CREATE TABLE IF NOT EXISTS qa_store (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_version integer NOT NULL,
    model text NOT NULL,
    dimension integer NOT NULL,
    passage_settings jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS qa_documents (
    id bigserial PRIMARY KEY,
    path text NOT NULL UNIQUE,
    sha256 text NOT NULL,
    text text NOT NULL
);
CREATE TABLE IF NOT EXISTS qa_sentences (
    document_id bigint NOT NULL REFERENCES qa_documents ON DELETE CASCADE,
    idx integer NOT NULL,
    paragraph integer NOT NULL,
    start_char integer NOT NULL,
    end_char integer NOT NULL,
    PRIMARY KEY (document_id, idx)
);
CREATE TABLE IF NOT EXISTS qa_passages (
    document_id bigint NOT NULL REFERENCES qa_documents ON DELETE CASCADE,
    ord integer NOT NULL,
    first_sentence integer NOT NULL,
    last_sentence integer NOT NULL,
    start_char integer NOT NULL,
    end_char integer NOT NULL,
    embedding vector({dimension}) NOT NULL,
    PRIMARY KEY (document_id, ord)
);
"""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PgStore:
    """An index kept in PostgreSQL (with the pgvector extension).

    Args:
        url: A libpq URL, e.g. ``postgresql://user:password@host:5432/dbname``.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def _connect(self) -> Any:
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError:
            raise StoreUnavailableError(
                "a postgresql:// store needs psycopg and pgvector: pip install 'qa-assistant[postgres]'"
            ) from None
        try:
            # Autocommit: every `with connection.transaction()` below is then a real transaction.
            connection = psycopg.connect(self.url, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailableError(
                f"cannot connect to {redact(self.url)} ({reason}); check the URL and that the server is running"
            ) from None
        try:
            has_vector = connection.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
            if not has_vector:
                try:
                    connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except psycopg.Error:
                    raise StoreUnavailableError(
                        f"{redact(self.url)}: the pgvector extension is not enabled; ask a superuser to run "
                        "CREATE EXTENSION vector; in this database"
                    ) from None
            register_vector(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check(self, row: tuple[Any, ...] | None, model: str | None, dimension: int | None) -> None:
        if row is None:
            return
        version, stored_model, stored_dimension, _ = row
        if version != SCHEMA_VERSION:
            raise StoreUnavailableError(
                f"{redact(self.url)} holds qa schema version {version}; this version reads {SCHEMA_VERSION}. "
                "Use another database, or drop the qa_* tables to rebuild"
            )
        if model is not None and (stored_model != model or (dimension is not None and stored_dimension != dimension)):
            raise ModelMismatchError(
                f"the store at {redact(self.url)} was built with {stored_model!r}, not {model!r}; "
                "use another database, or drop the qa_* tables to rebuild with the new model"
            )

    def sync(
        self,
        sources: Sequence[Source],
        embedder: Embedder,
        settings: PassageSettings | None = None,
        *,
        show_progress: bool = False,
    ) -> PassageIndex:
        """Make the store hold exactly ``sources``, touching only what changed; return the new state.

        Raises:
            StoreUnavailableError: The server cannot be reached, lacks pgvector, or holds another schema.
            ModelMismatchError: The store was built with another embedding model.
        """
        settings = settings or PassageSettings()
        with self._connect() as connection:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                connection.execute(_SCHEMA.format(dimension=int(embedder.dimension)))
                row = connection.execute(
                    "SELECT schema_version, model, dimension, passage_settings FROM qa_store"
                ).fetchone()
                self._check(row, embedder.name, embedder.dimension)
                if row is not None and PassageSettings(**row[3]) != settings:
                    # Passage boundaries depend on the settings: every passage must be cut again.
                    connection.execute("DELETE FROM qa_documents")
                connection.execute(
                    "INSERT INTO qa_store (schema_version, model, dimension, passage_settings) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (singleton) DO UPDATE SET passage_settings = "
                    "EXCLUDED.passage_settings",
                    (SCHEMA_VERSION, embedder.name, embedder.dimension, json.dumps(asdict(settings))),
                )
                stored = dict(connection.execute("SELECT path, sha256 FROM qa_documents").fetchall())
                wanted = {s.path: s for s in sources}
                gone = [path for path, sha in stored.items() if path not in wanted or wanted[path].sha256 != sha]
                if gone:
                    connection.execute("DELETE FROM qa_documents WHERE path = ANY(%s)", (gone,))
                new = [s for s in sources if stored.get(s.path) != s.sha256]
                self._insert(connection, [s.split() for s in new], embedder, settings, show_progress)
            return self._read(connection, embedder.name)

    def _insert(
        self,
        connection: Any,
        documents: Sequence[Document],
        embedder: Embedder,
        settings: PassageSettings,
        show_progress: bool,
    ) -> None:
        if not documents:
            return
        passages = cut_passages(documents, embedder, settings)
        vectors = embedder.encode([p.text for p in passages], show_progress=show_progress)
        ids: dict[str, int] = {}
        first_sentence: dict[str, int] = {}
        corpus_offset = 0
        with connection.cursor() as cursor:
            for document in documents:
                cursor.execute(
                    "INSERT INTO qa_documents (path, sha256, text) VALUES (%s, %s, %s) RETURNING id",
                    (document.path, document.sha256, document.text),
                )
                ids[document.path] = cursor.fetchone()[0]
                first_sentence[document.path] = corpus_offset
                corpus_offset += len(document.sentences)
            cursor.executemany(
                "INSERT INTO qa_sentences (document_id, idx, paragraph, start_char, end_char) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(ids[s.document], s.index, s.paragraph, s.start, s.end) for d in documents for s in d.sentences],
            )
            order: dict[str, int] = {}
            rows = []
            for passage, vector in zip(passages, vectors, strict=True):
                ord_ = order[passage.document] = order.get(passage.document, -1) + 1
                base = first_sentence[passage.document]
                rows.append(
                    (
                        ids[passage.document],
                        ord_,
                        passage.sentence_ids[0] - base,
                        passage.sentence_ids[-1] - base,
                        passage.start,
                        passage.end,
                        np.asarray(vector, dtype=np.float32),
                    )
                )
            cursor.executemany(
                "INSERT INTO qa_passages (document_id, ord, first_sentence, last_sentence, start_char, end_char, "
                "embedding) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                rows,
            )

    def load(self, *, model: str | None = None) -> PassageIndex:
        """Read the store's current state in one snapshot.

        Raises:
            StoreUnavailableError: As for :meth:`sync`; also when the store is empty.
            ModelMismatchError: ``model`` is given and differs from the store's.
        """
        with self._connect() as connection:
            return self._read(connection, model)

    def _read(self, connection: Any, model: str | None) -> PassageIndex:
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            exists = connection.execute("SELECT to_regclass('qa_store')").fetchone()[0]
            row = (
                connection.execute("SELECT schema_version, model, dimension, passage_settings FROM qa_store").fetchone()
                if exists
                else None
            )
            if row is None:
                raise StoreUnavailableError(
                    f"{redact(self.url)} holds no index yet; build one with `qa index PATH... --store URL`"
                )
            self._check(row, model, None)
            # COLLATE "C": code point order, the order of the local store (Python's sorted paths).
            docs = connection.execute(
                'SELECT id, path, sha256, text FROM qa_documents ORDER BY path COLLATE "C"'
            ).fetchall()
            sentence_rows = connection.execute(
                "SELECT document_id, idx, paragraph, start_char, end_char FROM qa_sentences ORDER BY document_id, idx"
            ).fetchall()
            passage_rows = connection.execute(
                "SELECT document_id, ord, first_sentence, last_sentence, start_char, end_char, embedding "
                "FROM qa_passages ORDER BY document_id, ord"
            ).fetchall()
        _, stored_model, dimension, passage_settings = row
        by_document: dict[int, list[tuple[Any, ...]]] = {}
        for r in sentence_rows:
            by_document.setdefault(r[0], []).append(r)
        passages_by_document: dict[int, list[tuple[Any, ...]]] = {}
        for r in passage_rows:
            passages_by_document.setdefault(r[0], []).append(r)
        documents: list[Document] = []
        sentences: list[Sentence] = []
        passages: list[Passage] = []
        vectors: list[np.ndarray] = []
        for doc_id, path, sha256, text in docs:
            offset = len(sentences)
            own = tuple(Sentence(path, r[1], r[2], r[3], r[4], text[r[3] : r[4]]) for r in by_document.get(doc_id, []))
            documents.append(Document(path, text, sha256, own))
            sentences.extend(own)
            for _, _, first, last, start, end, vector in passages_by_document.get(doc_id, []):
                ids = tuple(range(offset + first, offset + last + 1))
                passages.append(Passage(len(passages), path, ids, start, end, text[start:end]))
                # pgvector's adapter gives numpy arrays in binary mode, Vector objects in text mode.
                vectors.append(np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy") else vector, np.float32))
        matrix = np.stack(vectors) if vectors else np.zeros((0, dimension), dtype=np.float32)
        return assemble_index(
            documents, passages, matrix, model=stored_model, settings=PassageSettings(**passage_settings)
        )
