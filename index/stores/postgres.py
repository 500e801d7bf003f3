"""PostgreSQL with pgvector as an index store: ``--store postgresql://...``.

Tables (schema version ``SCHEMA_VERSION``); every offset is a character offset into the
document's text, as in the local store::

    qa_store      one row: schema version, embedding model, dimension, passage settings,
                  and the passage and term counts BM25 needs
    qa_documents  path, sha256, text, for a PDF the offset where each page begins, and the
                  file's stamp when it was read (:class:`index.documents.FileStamp`)
    qa_sentences  (document, idx): paragraph, start, end
    qa_passages   id; (document, ord): first and last sentence idx, start, end, term count,
                  embedding vector(d) under an HNSW index (cosine)
    qa_terms      id, term (:func:`index.text.terms`: stemmed, no stopwords), passages holding it
    qa_postings   (term, passage): term frequency, passage length

Searching happens inside Postgres: the HNSW index gives the dense candidates, and BM25 is
computed from the postings with Lucene's formula, the one bm25s uses for the local store, so
both stores rank alike (see :meth:`Snapshot.keywords`). Nothing is loaded into memory up front.

A write (:meth:`PgStore.sync`) is one transaction under an advisory lock: a document whose path
and sha256 are stored already is not touched, the rows of changed and removed documents go
(``ON DELETE CASCADE``), and only new or changed documents are split and embedded. A question
runs in one REPEATABLE READ transaction (:meth:`PgStore.snapshot`), so it sees the store as it
was before or after a write, never half of one, and every server sees each write as soon as it
commits. Opening a store with the same files again reads none of them when every file's
stamp is the one recorded (:meth:`PgStore.holds_unchanged`), as for the local store.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.documents import (
    Document,
    DocumentSummary,
    FileStamp,
    Sentence,
    Source,
    files_unchanged,
    read_files,
)
from index.embedders.sentence_transformer import Embedder
from index.errors import ModelMismatchError, StoreUnavailableError
from index.passages import Passage
from index.readers.box import ReadLimits
from index.stores.local import PassageIndex, PassageSettings, assemble_index, cut_passages
from index.text import terms

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_LOCK = 0x7161_7374  # "qast": one advisory lock per database for writers
# bm25s's defaults for the local store's keyword index (index/stores/keywords.py).
BM25_K1 = 1.5
BM25_B = 0.75

_SCHEMA = """
CREATE TABLE IF NOT EXISTS qa_store (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_version integer NOT NULL,
    model text NOT NULL,
    dimension integer NOT NULL,
    passage_settings jsonb NOT NULL,
    passages bigint NOT NULL DEFAULT 0,
    terms bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS qa_documents (
    id bigserial PRIMARY KEY,
    path text NOT NULL UNIQUE,
    sha256 text NOT NULL,
    text text NOT NULL,
    pages integer[] NOT NULL DEFAULT '{{}}',
    stamp bigint[]  -- size, mtime_ns, ctime_ns, inode; NULL: not read while settled
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
    id bigserial UNIQUE,
    document_id bigint NOT NULL REFERENCES qa_documents ON DELETE CASCADE,
    ord integer NOT NULL,
    first_sentence integer NOT NULL,
    last_sentence integer NOT NULL,
    start_char integer NOT NULL,
    end_char integer NOT NULL,
    n_terms integer NOT NULL,
    embedding vector({dimension}) NOT NULL,
    PRIMARY KEY (document_id, ord)
);
CREATE TABLE IF NOT EXISTS qa_terms (
    id serial PRIMARY KEY,
    term text NOT NULL UNIQUE,
    df integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS qa_postings (
    term_id integer NOT NULL,
    passage_id bigint NOT NULL REFERENCES qa_passages (id) ON DELETE CASCADE,
    tf integer NOT NULL,
    n_terms integer NOT NULL,
    -- Covering: a keyword search reads a term's postings from the index alone (an index-only scan).
    PRIMARY KEY (term_id, passage_id) INCLUDE (tf, n_terms)
);
CREATE INDEX IF NOT EXISTS qa_postings_passage ON qa_postings (passage_id);
"""
# Built after the first bulk insert (one pass over all vectors is far quicker than inserting
# each into an existing graph); later writes insert into it.
_HNSW = "CREATE INDEX IF NOT EXISTS qa_passages_embedding ON qa_passages USING hnsw (embedding vector_cosine_ops)"


# key=value connection strings and URL query parameters: password=secret, password = 'se cret', ?password=x
_PASSWORD_SETTING = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def _url_password(text: str) -> tuple[int, int] | None:
    """Where the password of a ``postgres(ql)://`` URL in ``text`` lies: from the first ``:`` after
    the user name to the *last* ``@`` of the authority, so a password holding ``@``, ``:``, ``/`` or
    ``?`` is found whole. None when there is no such URL or it has no password."""
    scheme = re.search(r"postgres(?:ql)?://", text, re.IGNORECASE)  # "PostgreSQL://" too
    if not scheme:
        return None
    rest = text[scheme.end() :]
    before_query = rest.split("?", 1)[0]
    at = before_query.rfind("@") if "@" in before_query else rest.rfind("@")
    if at <= 0 or ":" not in rest[:at]:
        return None
    return scheme.end() + rest.index(":") + 1, scheme.end() + at


def redact(text: str) -> str:
    """``text`` (a URL, a key=value DSN, or a message holding one) with every password as ``***``.

    Where ``text`` is a DSN psycopg's conninfo parser reads, the password it finds is masked too,
    as written and URL-encoded; the patterns cover messages that merely hold one.
    """
    secret = _parsed_password(text)
    span = _url_password(text)
    if span:
        text = text[: span[0]] + "***" + text[span[1] :]
    text = _PASSWORD_SETTING.sub(r"\1***", text)
    if secret and len(secret) >= 3:
        from urllib.parse import quote

        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, "***")
    return text


def _parsed_password(dsn: str) -> str | None:
    """The password libpq would use for ``dsn``, by psycopg's conninfo parser; None if it reads none."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        found = conninfo_to_dict(dsn).get("password")
    except Exception:  # noqa: BLE001 - not a DSN libpq can parse: the patterns are all there is
        return None
    return str(found) if found else None


def _passwords(dsn: str) -> list[str]:
    """The password(s) in a DSN, and their pieces between URL delimiters, longest first.

    libpq ends a URL's user info at its *first* ``@``, so with ``p@ss@word`` it reads the host as
    ``ss@word@host`` and its error quotes that: the pieces are what such a message can show.
    """
    found: list[str] = [m.group(2).strip("'") for m in _PASSWORD_SETTING.finditer(dsn)]
    span = _url_password(dsn)
    if span:
        found.append(dsn[span[0] : span[1]])
    parsed = _parsed_password(dsn)  # libpq's own reading, as it will use (and quote) the password
    if parsed:
        found.append(parsed)
    pieces = {piece for secret in found for piece in [secret, *re.split(r"[@:/?#&=]", secret)] if len(piece) >= 3}
    return sorted(pieces, key=len, reverse=True)


def redact_message(message: str, dsn: str) -> str:
    """A driver's message about ``dsn`` with its password masked, whole or in pieces."""
    message = redact(message)
    for secret in _passwords(dsn):
        message = message.replace(secret, "***")
    return message


@dataclass(frozen=True)
class StoreStats:
    """What a store holds."""

    model: str
    documents: int
    sentences: int
    passages: int


@dataclass(frozen=True)
class Hit:
    """A search result inside the store: the passage's row id, its score, and its place in corpus order."""

    id: int
    score: float
    key: tuple[str, int]  # (document path, passage ordinal): the local store's passage order


@dataclass(frozen=True)
class Excerpt:
    """The passages a question needs, with their whole documents, read from one snapshot.

    ``Passage.sentence_ids`` index :attr:`sentences`, as they index a
    :class:`~index.stores.local.PassageIndex`'s, so readers take either.
    """

    documents: tuple[Document, ...]
    sentences: tuple[Sentence, ...]
    passages: dict[int, Passage]  # by row id
    vectors: dict[int, np.ndarray]  # by row id

    def document(self, path: str) -> Document:
        """Return the document with this path."""
        return next(d for d in self.documents if d.path == path)


class Snapshot:
    """One REPEATABLE READ, READ ONLY transaction: every query sees the same state of the store."""

    def __init__(self, connection: Any, info: tuple[Any, ...]) -> None:
        self._connection = connection
        _, self.model, self.dimension, settings, self.passages, terms = info
        self.settings = PassageSettings(**settings)
        self.average_terms = terms / self.passages if self.passages else 1.0

    def dense(self, vector: np.ndarray, k: int, documents: Collection[str] | None = None) -> list[Hit]:
        """The ``k`` passages nearest to ``vector`` by cosine, from the HNSW index; score = cosine.

        ``documents`` (paths): only their passages, scored exactly (as the local index scores a
        filter), so a small document is never lost to the graph search.
        """
        v = np.asarray(vector, dtype=np.float32)
        if documents is not None:
            rows = self._connection.execute(
                "SELECT p.id, 1 - (p.embedding <=> %(v)s), d.path, p.ord FROM qa_passages p "
                "JOIN qa_documents d ON d.id = p.document_id WHERE d.path = ANY(%(paths)s) "
                'ORDER BY p.embedding <=> %(v)s, d.path COLLATE "C", p.ord LIMIT %(k)s',
                {"v": v, "k": int(k), "paths": sorted(documents)},
            ).fetchall()
        else:
            # pgvector returns at most ef_search rows per index scan; keep it well above k for recall.
            self._connection.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(100, 4 * int(k)))}")
            rows = self._connection.execute(
                "SELECT p.id, 1 - (p.embedding <=> %(v)s), d.path, p.ord FROM "
                "(SELECT id, document_id, ord, embedding FROM qa_passages ORDER BY embedding <=> %(v)s LIMIT %(k)s) p "
                "JOIN qa_documents d ON d.id = p.document_id",
                {"v": v, "k": int(k)},
            ).fetchall()
        hits = [Hit(r[0], float(r[1]), (r[2], r[3])) for r in rows]
        return sorted(hits, key=lambda h: (-np.float32(h.score), h.key))

    def keywords(self, query: Sequence[str], k: int, documents: Collection[str] | None = None) -> list[Hit]:
        """The ``k`` best passages by BM25 for ``query``'s terms (Lucene's variant, as bm25s computes it).

        score = Σ over query terms (repeats count) of idf · tf / (tf + k1 · (1 − b + b · len / avglen)),
        idf = ln(1 + (N − df + 0.5) / (df + 0.5)); only passages holding a term score above 0.
        """
        if not query or not self.passages:
            return []
        rows = self._connection.execute(
            """
            WITH q AS (
                SELECT t.id, c.n * ln(1 + (%(n)s - t.df + 0.5) / (t.df + 0.5)) AS weight FROM qa_terms t
                JOIN (SELECT term, count(*) AS n FROM unnest(%(terms)s::text[]) AS term GROUP BY term) c USING (term)
                WHERE t.df > 0
            ), scored AS (
                SELECT p.passage_id,
                    sum(q.weight * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.n_terms / %(avg)s))) AS score
                FROM qa_postings p JOIN q ON q.id = p.term_id {within}
                GROUP BY p.passage_id ORDER BY score DESC LIMIT %(limit)s
            )
            SELECT s.passage_id, s.score, d.path, pa.ord FROM scored s
            JOIN qa_passages pa ON pa.id = s.passage_id JOIN qa_documents d ON d.id = pa.document_id
            """.replace(
                "{within}",
                ""
                if documents is None
                else "WHERE p.passage_id IN (SELECT x.id FROM qa_passages x JOIN qa_documents y "
                "ON y.id = x.document_id WHERE y.path = ANY(%(paths)s))",
            ),
            {
                "paths": sorted(documents or ()),
                "terms": list(query),
                "n": float(self.passages),
                "k1": BM25_K1,
                "b": BM25_B,
                "avg": self.average_terms,
                # A few more than k, so that ties at the cut are broken by corpus order as locally.
                "limit": int(k) + 16,
            },
        ).fetchall()
        hits = [Hit(r[0], float(r[1]), (r[2], r[3])) for r in rows]
        # bm25s sums float32 scores: compare at that precision, ties in corpus order.
        return sorted(hits, key=lambda h: (-np.float32(h.score), h.key))[:k]

    def fetch(self, ids: Sequence[int]) -> Excerpt:
        """The passages with these row ids, their vectors, and their documents with every sentence."""
        rows = self._connection.execute(
            "SELECT id, document_id, first_sentence, last_sentence, start_char, end_char, embedding "
            "FROM qa_passages WHERE id = ANY(%s)",
            (list(ids),),
        ).fetchall()
        by_id, sentences = self._read_documents("WHERE id = ANY(%s)", (sorted({r[1] for r in rows}),))
        passages: dict[int, Passage] = {}
        vectors: dict[int, np.ndarray] = {}
        for pid, doc_id, first_sentence, last_sentence, start, end, vector in rows:
            document, base = by_id[doc_id]
            own = tuple(range(base + first_sentence, base + last_sentence + 1))
            passages[pid] = Passage(pid, document.path, own, start, end, document.text[start:end])
            vectors[pid] = _array(vector)
        return Excerpt(tuple(d for d, _ in by_id.values()), sentences, passages, vectors)

    def count_documents(self) -> int:
        """How many documents the store holds."""
        return int(self._connection.execute("SELECT count(*) FROM qa_documents").fetchone()[0])

    def paths(self) -> list[str]:
        """Every document's path, in path order (what a document filter is matched against)."""
        rows = self._connection.execute('SELECT path FROM qa_documents ORDER BY path COLLATE "C"').fetchall()
        return [str(r[0]) for r in rows]

    def summaries(self, limit: int) -> tuple[tuple[DocumentSummary, ...], int]:
        """The first ``limit`` documents in path order, without their text, and how many there are."""
        rows = self._connection.execute(
            "SELECT d.path, (SELECT count(*) FROM qa_sentences s WHERE s.document_id = d.id), length(d.text) "
            'FROM qa_documents d ORDER BY d.path COLLATE "C" LIMIT %s',
            (limit,),
        ).fetchall()
        total = self._connection.execute("SELECT count(*) FROM qa_documents").fetchone()[0]
        return tuple(DocumentSummary(*r) for r in rows), int(total)

    def documents(self, paths: Sequence[str] | None = None) -> tuple[Document, ...]:
        """Documents by path (all of them when ``paths`` is None), in path order."""
        where, args = ("WHERE path = ANY(%s)", (list(paths),)) if paths is not None else ("", ())
        return tuple(d for d, _ in self._read_documents(where, args)[0].values())

    def everything(self) -> tuple[tuple[Document, ...], list[Passage], np.ndarray]:
        """Every document, passage and passage vector, in the local store's corpus order."""
        by_id, _ = self._read_documents("", ())
        first = {d.path: base for d, base in by_id.values()}
        text = {d.path: d.text for d, _ in by_id.values()}
        rows = self._connection.execute(
            "SELECT d.path, p.first_sentence, p.last_sentence, p.start_char, p.end_char, p.embedding "
            'FROM qa_passages p JOIN qa_documents d ON d.id = p.document_id ORDER BY d.path COLLATE "C", p.ord'
        ).fetchall()
        passages = [
            Passage(i, path, tuple(range(first[path] + a, first[path] + b + 1)), start, end, text[path][start:end])
            for i, (path, a, b, start, end, _) in enumerate(rows)
        ]
        vectors = [_array(r[5]) for r in rows]
        matrix = np.stack(vectors) if vectors else np.zeros((0, self.dimension), dtype=np.float32)
        return tuple(d for d, _ in by_id.values()), passages, matrix

    def stats(self) -> StoreStats:
        """The store's model and counts."""
        return _stats(self._connection)

    def _read_documents(
        self, where: str, args: Sequence[Any]
    ) -> tuple[dict[int, tuple[Document, int]], tuple[Sentence, ...]]:
        """Documents matching ``where``, in path order, by row id, each with the position of its first
        sentence in the returned list of all their sentences."""
        docs = self._connection.execute(
            f'SELECT id, path, sha256, text, pages FROM qa_documents {where} ORDER BY path COLLATE "C"', args
        ).fetchall()
        sentence_rows = self._connection.execute(
            "SELECT document_id, idx, paragraph, start_char, end_char FROM qa_sentences "
            "WHERE document_id = ANY(%s) ORDER BY document_id, idx",
            ([r[0] for r in docs],),
        ).fetchall()
        by_document: dict[int, list[tuple[Any, ...]]] = {}
        for r in sentence_rows:
            by_document.setdefault(r[0], []).append(r)
        by_id: dict[int, tuple[Document, int]] = {}
        sentences: list[Sentence] = []
        for doc_id, path, sha256, text, pages in docs:
            own = tuple(Sentence(path, r[1], r[2], r[3], r[4], text[r[3] : r[4]]) for r in by_document.get(doc_id, []))
            by_id[doc_id] = (Document(path, text, sha256, own, tuple(pages)), len(sentences))
            sentences.extend(own)
        return by_id, tuple(sentences)


def _stats(connection: Any) -> StoreStats:
    model, documents, sentences, passages = connection.execute(
        "SELECT (SELECT model FROM qa_store), (SELECT count(*) FROM qa_documents), "
        "(SELECT count(*) FROM qa_sentences), (SELECT passages FROM qa_store)"
    ).fetchone()
    return StoreStats(model, documents, sentences, passages)


def _exists(connection: Any, name: str) -> bool:
    """Whether a table or index of this name is on the connection's search path."""
    return bool(connection.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0])


def _has_stamps(connection: Any) -> bool:
    """Whether ``qa_documents`` has its ``stamp`` column (stores made before it have not)."""
    return bool(
        connection.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'qa_documents'::regclass "
            "AND attname = 'stamp' AND NOT attisdropped)"
        ).fetchone()[0]
    )


def _stamp_array(stamp: FileStamp | None) -> list[int] | None:
    return None if stamp is None else [stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode]


def _add_to_df(connection: Any, changes: Sequence[tuple[int, int]]) -> None:
    """Add to terms' passage counts: (term id, change) pairs."""
    if changes:
        ids, deltas = zip(*changes, strict=True)
        connection.execute(
            "UPDATE qa_terms SET df = df + d.delta FROM unnest(%s::int[], %s::int[]) AS d(id, delta) "
            "WHERE qa_terms.id = d.id",
            (list(ids), list(deltas)),
        )


def _array(vector: Any) -> np.ndarray:
    # pgvector's adapter gives numpy arrays in binary mode, Vector objects in text mode.
    return np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy") else vector, dtype=np.float32)


class PgStore:
    """An index kept in PostgreSQL (with the pgvector extension).

    Questions share a small pool of connections (opened on first use, closed by :meth:`close`).

    Args:
        url: A libpq URL, e.g. ``postgresql://user:password@host:5432/dbname``.
        pool_size: Most connections open at once for questions.
    """

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        # URL schemes are case-insensitive (RFC 3986), libpq's test for one is not: "PostgreSQL://"
        # would be read as a key=value string and its whole text quoted in the error.
        self.url = re.sub(r"^postgres(ql)?://", lambda m: m.group(0).lower(), url, flags=re.IGNORECASE)
        self.pool_size = pool_size
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PgStore({redact(self.url)!r})"

    def _modules(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise StoreUnavailableError(
                "a postgresql:// store needs psycopg and pgvector: pip install 'qa-assistant[postgres]'"
            ) from None
        return psycopg

    def _prepare(self, connection: Any) -> None:
        """Make sure pgvector is there and teach the connection its vector type."""
        psycopg = self._modules()
        from pgvector.psycopg import register_vector

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

    def _unreachable(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"cannot connect to {redact(self.url)} ({self._reason(exc)}); check the URL and that the server is running"
        )

    def _reason(self, exc: BaseException) -> str:
        """The driver's first line, passwords masked."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return redact_message(first, self.url)

    @contextmanager
    def _refusing(self, action: str) -> Iterator[None]:
        """Any other driver error as one line that says what to do, with no password in it."""
        psycopg = self._modules()
        try:
            yield
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError) and not getattr(exc, "sqlstate", None):
                raise self._unreachable(exc) from None  # no SQLSTATE: the connection itself failed
            reason = self._reason(exc)
            where = redact(self.url)
            if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                message = (
                    f"the role connecting to {where} may not {action} ({reason}); grant it the privileges "
                    "docs/postgres.md lists, or connect as a role that has them"
                )
            elif isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
                message = f"{where} is read-only ({reason}); to {action}, connect to a writable primary server"
            else:
                message = f"could not {action} at {where} ({reason}); see the server's log"
            raise StoreUnavailableError(message) from None

    def _connect(self) -> Any:
        psycopg = self._modules()
        try:
            # Autocommit: every `with connection.transaction()` below is then a real transaction.
            connection = psycopg.connect(self.url, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None
        try:
            self._prepare(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check(self, row: tuple[Any, ...] | None, model: str | None, dimension: int | None) -> None:
        if row is None:
            return
        version, stored_model, stored_dimension = row[:3]
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

    # -- writing ------------------------------------------------------------------------------

    def sync(
        self,
        sources: Sequence[Source | Document],
        embedder: Embedder,
        settings: PassageSettings | None = None,
        *,
        remove_others: bool = True,
        show_progress: bool = False,
    ) -> StoreStats:
        """Make the store hold ``sources``, touching only what changed; return what it holds then.

        With ``remove_others`` (the default) documents not in ``sources`` are removed, so the
        store holds exactly ``sources``; without, they stay (adding documents).

        Raises:
            StoreUnavailableError: The server cannot be reached, lacks pgvector, or holds another schema.
            ModelMismatchError: The store was built with another embedding model.
        """
        settings = settings or PassageSettings()
        with self._refusing("write the index"), self._connect() as connection:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                # CREATE ... IF NOT EXISTS still needs CREATE on the schema: a role that only writes rows
                # (SELECT, INSERT, UPDATE, DELETE) runs it only where the tables are missing.
                if not _exists(connection, "qa_postings_passage"):  # the schema's last object
                    connection.execute(_SCHEMA.format(dimension=int(embedder.dimension)))
                stamped = _has_stamps(connection) or self._add_stamps(connection)
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
                rows = connection.execute(
                    f"SELECT path, sha256, {'stamp' if stamped else 'NULL'} FROM qa_documents"
                ).fetchall()
                stored = {path: sha for path, sha, _ in rows}
                wanted = {s.path: s for s in sources}
                stamps = {s.path: _stamp_array(s.stamp) for s in sources if isinstance(s, Source)}
                # Same text, new stamp (touched, or settled since): recorded, so the next open reads nothing.
                restamp = [
                    (stamps[path], path)
                    for path, sha, stamp in rows
                    if path in stamps and wanted[path].sha256 == sha and stamps[path] != stamp
                ]
                if restamp and stamped:
                    with connection.cursor() as cursor:
                        cursor.executemany("UPDATE qa_documents SET stamp = %s WHERE path = %s", restamp)
                gone = [
                    path
                    for path, sha in stored.items()
                    if (path in wanted and wanted[path].sha256 != sha) or (remove_others and path not in wanted)
                ]
                if gone:
                    # Their terms' passage counts go down by what they held (BM25's df, kept per term).
                    removed = connection.execute(
                        "SELECT p.term_id, count(*) FROM qa_postings p JOIN qa_passages pa ON pa.id = p.passage_id "
                        "JOIN qa_documents d ON d.id = pa.document_id WHERE d.path = ANY(%s) GROUP BY p.term_id",
                        (gone,),
                    ).fetchall()
                    _add_to_df(connection, [(term, -n) for term, n in removed])
                    connection.execute("DELETE FROM qa_documents WHERE path = ANY(%s)", (gone,))
                new = [s for s in wanted.values() if stored.get(s.path) != s.sha256]
                documents = [s.split() if isinstance(s, Source) else s for s in new]
                self._insert(connection, documents, stamps if stamped else None, embedder, settings, show_progress)
                connection.execute(
                    "UPDATE qa_store SET passages = c.n, terms = c.t FROM "
                    "(SELECT count(*) AS n, coalesce(sum(n_terms), 0) AS t FROM qa_passages) c"
                )
                # A first bulk load builds the graph once; the memory makes the build stay in RAM.
                connection.execute("SET LOCAL maintenance_work_mem = '1GB'")
                if not _exists(connection, "qa_passages_embedding"):
                    connection.execute(_HNSW)
            self._vacuum(connection)
            return _stats(connection)

    def sync_files(
        self,
        files: Sequence[Path],
        embedder: Embedder,
        settings: PassageSettings | None = None,
        *,
        show_progress: bool = False,
        limits: ReadLimits | None = None,
    ) -> None:
        """Make the store hold exactly ``files`` (:func:`index.documents.expand_paths`), as :meth:`sync`
        does, but read none of them, and write nothing, when every file's stamp is the one stored.
        Files are read in the reading box under ``limits`` (:mod:`index.readers.box`)."""
        settings = settings or PassageSettings()
        if not self.holds_unchanged(files, embedder.name, settings):
            self.sync(read_files(files, limits=limits), embedder, settings, show_progress=show_progress)

    def _add_stamps(self, connection: Any) -> bool:
        """Give a store made before file stamps its ``stamp`` column (``ALTER TABLE`` locks the table,
        once). A role that does not own the table cannot; the store then works as before, reading
        every file at each open, and says once who can fix it."""
        psycopg = self._modules()
        try:
            with connection.transaction():  # a savepoint: a refusal leaves the write going
                connection.execute("ALTER TABLE qa_documents ADD COLUMN stamp bigint[]")
        except psycopg.errors.InsufficientPrivilege:
            logger.warning(
                "%s: cannot add the stamp column (not the tables' owner), so every open reads every file; "
                "ask the owner to run ALTER TABLE qa_documents ADD COLUMN stamp bigint[]",
                redact(self.url),
            )
            return False
        return True

    def holds_unchanged(self, files: Sequence[Path], model: str, settings: PassageSettings) -> bool:
        """Tell, reading no file, that the store holds exactly ``files`` as they are now, built with
        ``model`` and ``settings``, so there is nothing to :meth:`sync`: each file's stamp is the one
        recorded when it was last read (:func:`index.documents.files_unchanged`).

        Raises:
            StoreUnavailableError: The server cannot be reached or lacks pgvector.
        """
        with self._refusing("read the index"), self._connect() as connection:
            if not _exists(connection, "qa_postings_passage") or not _has_stamps(connection):
                return False
            row = connection.execute("SELECT schema_version, model, passage_settings FROM qa_store").fetchone()
            if row is None or row[0] != SCHEMA_VERSION or row[1] != model or PassageSettings(**row[2]) != settings:
                return False
            recorded = {
                path: FileStamp(*stamp) if stamp else None
                for path, stamp in connection.execute("SELECT path, stamp FROM qa_documents")
            }
        return files_unchanged(files, recorded)

    def _vacuum(self, connection: Any) -> None:
        """Mark the written pages all-visible and refresh the planner's statistics.

        Index-only scans of the postings need the visibility map: right after a bulk write they
        read every row from the table too, and keyword searches were 3x slower (100,000 passages,
        p50 24 -> 7.5 ms). VACUUM skips pages that are already all-visible, so after a small write
        it is quick. A role that does not own the tables gets a warning from the server, not an error.
        """
        psycopg = self._modules()
        try:
            connection.execute("VACUUM (ANALYZE) qa_postings, qa_passages, qa_terms, qa_documents, qa_sentences")
        except psycopg.Error as exc:  # the write is committed; the next autovacuum does the same
            logger.warning("could not VACUUM the qa_* tables at %s (%s)", redact(self.url), exc)

    def _insert(
        self,
        connection: Any,
        documents: Sequence[Document],
        stamps: Mapping[str, list[int] | None] | None,  # None: the store has no stamp column
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
                    f"INSERT INTO qa_documents (path, sha256, text, pages{', stamp' if stamps is not None else ''}) "
                    f"VALUES (%s, %s, %s, %s{', %s' if stamps is not None else ''}) RETURNING id",
                    (document.path, document.sha256, document.text, list(document.pages))
                    + ((stamps.get(document.path),) if stamps is not None else ()),
                )
                ids[document.path] = cursor.fetchone()[0]
                first_sentence[document.path] = corpus_offset
                corpus_offset += len(document.sentences)
            with cursor.copy(
                "COPY qa_sentences (document_id, idx, paragraph, start_char, end_char) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int4", "int4", "int4", "int4"])
                for d in documents:
                    for s in d.sentences:
                        copy.write_row((ids[s.document], s.index, s.paragraph, s.start, s.end))
            # Row ids are taken up front, so passages and their postings go in by COPY, not row by row.
            passage_ids = [
                r[0]
                for r in cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('qa_passages', 'id')) FROM generate_series(1, %s)",
                    (len(passages),),
                ).fetchall()
            ]
            counts = [Counter(terms(p.text)) for p in passages]
            # A passage with no content term counts as one term long, as for bm25s (index/stores/keywords.py).
            lengths = [max(1, sum(c.values())) for c in counts]
            vocabulary = sorted({t for c in counts for t in c})
            cursor.execute(
                "INSERT INTO qa_terms (term) SELECT unnest(%s::text[]) ON CONFLICT (term) DO NOTHING", (vocabulary,)
            )
            term_id = dict(cursor.execute("SELECT term, id FROM qa_terms WHERE term = ANY(%s)", (vocabulary,)))
            order: dict[str, int] = {}
            with cursor.copy(
                "COPY qa_passages (id, document_id, ord, first_sentence, last_sentence, start_char, end_char, "
                "n_terms, embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int8", "int4", "int4", "int4", "int4", "int4", "int4", "vector"])
                for pid, passage, vector, length in zip(passage_ids, passages, vectors, lengths, strict=True):
                    ord_ = order[passage.document] = order.get(passage.document, -1) + 1
                    base = first_sentence[passage.document]
                    copy.write_row(
                        (
                            pid,
                            ids[passage.document],
                            ord_,
                            passage.sentence_ids[0] - base,
                            passage.sentence_ids[-1] - base,
                            passage.start,
                            passage.end,
                            length,
                            np.asarray(vector, dtype=np.float32),
                        )
                    )
            with cursor.copy("COPY qa_postings (term_id, passage_id, tf, n_terms) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int8", "int4", "int4"])
                for pid, count, length in zip(passage_ids, counts, lengths, strict=True):
                    for term, tf in count.items():
                        copy.write_row((term_id[term], pid, tf, length))
            df = Counter(t for c in counts for t in c)
            _add_to_df(cursor, [(term_id[t], n) for t, n in df.items()])

    # -- reading ------------------------------------------------------------------------------

    def _connection_pool(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                connection = self._connect()  # fails fast with a clear message, unlike the pool's retries
                connection.close()
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    kwargs={"autocommit": True, "connect_timeout": 10},
                    configure=self._prepare,
                    check=ConnectionPool.check_connection,  # a server restart costs one reconnect, not an error
                    open=True,
                )
            return self._pool

    @contextmanager
    def snapshot(self, *, model: str | None = None) -> Iterator[Snapshot]:
        """A read-only view of the store as one moment saw it.

        Raises:
            StoreUnavailableError: As for :meth:`sync`; also when the store is empty.
            ModelMismatchError: ``model`` is given and differs from the store's.
        """
        with self._refusing("read the index"), self._connection_pool().connection(timeout=30) as connection:
            with connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                row = self._info(connection)
                self._check(row, model, None)
                yield Snapshot(connection, row)

    def _info(self, connection: Any) -> tuple[Any, ...]:
        exists = connection.execute("SELECT to_regclass('qa_store')").fetchone()[0]
        row = (
            connection.execute(
                "SELECT schema_version, model, dimension, passage_settings, passages, terms FROM qa_store"
            ).fetchone()
            if exists
            else None
        )
        if row is None:
            raise StoreUnavailableError(
                f"{redact(self.url)} holds no index yet; build one with `qa index PATH... --store URL`"
            )
        return tuple(row)

    def stats(self) -> StoreStats:
        """The store's model and counts.

        Raises:
            StoreUnavailableError: As for :meth:`snapshot`.
        """
        with self.snapshot() as snapshot:
            return snapshot.stats()

    def load(self, *, model: str | None = None) -> PassageIndex:
        """Read the whole store into an in-memory index (FAISS and BM25), from one snapshot.

        For comparing with the local store and for exporting; :class:`qa.retriever.StoreRetriever`
        searches inside Postgres instead.
        """
        with self.snapshot(model=model) as snapshot:
            documents, passages, matrix = snapshot.everything()
        return assemble_index(documents, passages, matrix, model=snapshot.model, settings=snapshot.settings)

    def close(self) -> None:
        """Close the question connections (a later question opens them again)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
