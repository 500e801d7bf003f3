"""The PostgreSQL store against a real server: same answers as the local store, incremental writes, clear errors."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from index.documents import read_sources
from index.stores.postgres import PgStore, redact
from qa.assistant import Assistant
from qa.config import Settings
from qa.errors import ModelMismatchError, StoreUnavailableError
from tests.conftest import SEED, CountingEmbedder, HashEmbedder

pytestmark = pytest.mark.slow


def test_the_store_holds_the_same_passages_and_sentences_as_the_local_index(
    pg_url: str, seed_assistant: Assistant, real_embedder
) -> None:  # type: ignore[no-untyped-def]
    store = PgStore(pg_url)
    stats = store.sync(read_sources([SEED]), real_embedder)
    index = store.load()
    local = seed_assistant.index
    assert index.passages == local.passages and index.sentences == local.sentences
    assert (stats.documents, stats.sentences, stats.passages) == (1, len(local.sentences), len(local.passages))
    assert stats.model == real_embedder.name
    from pgvector.psycopg import register_vector

    with psycopg.connect(pg_url) as connection:  # searched through an HNSW index, not a scan
        register_vector(connection)
        connection.execute("SET enable_seqscan = off")
        query = local.faiss_index.reconstruct(0)
        plan = connection.execute(
            "EXPLAIN SELECT id FROM qa_passages ORDER BY embedding <=> %s LIMIT 5", (query,)
        ).fetchall()
    assert "qa_passages_embedding" in str(plan)
    with psycopg.connect(pg_url) as connection:  # postings read from the covering index alone, already vacuumed
        connection.execute("SET enable_seqscan = off")
        connection.execute("SET enable_bitmapscan = off")
        plan = connection.execute(
            "EXPLAIN (ANALYZE) SELECT passage_id, tf, n_terms FROM qa_postings WHERE term_id = 1"
        ).fetchall()
    assert "Index Only Scan using qa_postings_pkey" in str(plan) and "Heap Fetches: 0" in str(plan)


def test_only_changed_documents_are_written(pg_url: str, tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"doc{i}.txt").write_text(
            f"Town {i} has a bridge. Its mayor is called Mayor{i}.\n", encoding="utf-8"
        )
    store = PgStore(pg_url)
    embedder = CountingEmbedder()
    store.sync(read_sources([tmp_path]), embedder)
    with psycopg.connect(pg_url) as connection:
        before = dict(connection.execute("SELECT path, id FROM qa_documents").fetchall())
    embedder.seen.clear()
    (tmp_path / "doc1.txt").write_text("Town 1 now has a ferry to Lindholm.\n", encoding="utf-8")
    (tmp_path / "doc3.txt").unlink()
    store.sync(read_sources([tmp_path]), embedder)
    index = store.load()
    assert embedder.seen == ["Town 1 now has a ferry to Lindholm."]
    with psycopg.connect(pg_url) as connection:
        after = dict(connection.execute("SELECT path, id FROM qa_documents").fetchall())
    unchanged = [str((tmp_path / f"doc{i}.txt").resolve()) for i in (0, 2)]
    assert all(after[p] == before[p] for p in unchanged)  # their rows were not rewritten
    assert len(after) == 3 and [d.path for d in index.documents] == sorted(after)
    with psycopg.connect(pg_url) as connection:  # each term's passage count (BM25's df) kept right
        wrong = connection.execute(
            "SELECT count(*) FROM qa_terms t WHERE df <> (SELECT count(*) FROM qa_postings WHERE term_id = t.id)"
        ).fetchone()
        assert wrong == (0,)
        assert connection.execute("SELECT count(*) FROM qa_terms WHERE term = 'bridg' AND df = 2").fetchone() == (1,)
    fresh = Assistant.from_paths(tmp_path, index_dir=tmp_path.parent / "local", embedder=HashEmbedder())
    assert index.passages == fresh.index.passages and index.sentences == fresh.index.sentences


def test_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot connect to postgresql://qa:\\*\\*\\*@127.0.0.1:1/x"):
        PgStore("postgresql://qa:secret@127.0.0.1:1/x").load()


def test_empty_store_another_schema_and_another_model_are_refused(pg_url: str, tmp_path: Path) -> None:
    store = PgStore(pg_url)
    with pytest.raises(StoreUnavailableError, match="holds no index yet"):
        store.load()
    (tmp_path / "a.txt").write_text("One sentence here. Another one there.\n", encoding="utf-8")
    store.sync(read_sources([tmp_path]), HashEmbedder())
    with pytest.raises(ModelMismatchError, match="was built with 'test/hash-embedder'"):
        store.load(model="another/model")
    with pytest.raises(ModelMismatchError):
        store.sync(read_sources([tmp_path]), HashEmbedder(name="another/model"))
    with psycopg.connect(pg_url) as connection:
        connection.execute("UPDATE qa_store SET schema_version = 99")
    with pytest.raises(StoreUnavailableError, match="schema version 99"):
        store.load()


# Every form libpq takes a password in; each secret holds characters that end a naive pattern.
SECRET_FORMS = {
    "url": "postgresql://qa:S3cret@127.0.0.1:1/x",
    "url with : and /": "postgresql://qa:pa:ss/S3cret@127.0.0.1:1/x",
    "url with @": "postgresql://qa:p@ss@S3cret@127.0.0.1:1/x",
    "url with ?": "postgres://qa:pa?S3cret@127.0.0.1:1/x?sslmode=disable",
    "url query": "postgresql://qa@127.0.0.1:1/x?sslmode=disable&password=S3cret",
    "url query, upper case": "postgresql://127.0.0.1:1/x?PASSWORD=S3cret",
    "key=value": "host=127.0.0.1 port=1 user=qa password=S3cret dbname=x",
    "key = 'quoted value'": "host=127.0.0.1 port=1 password = 'S3 cr\\'et' dbname=x",
}


@pytest.mark.parametrize("dsn", SECRET_FORMS.values(), ids=SECRET_FORMS.keys())
def test_redact_hides_the_password_in_every_form(dsn: str) -> None:
    shown = redact(dsn)
    assert "S3" not in shown and "***" in shown
    assert "127.0.0.1" in shown or "127.0.0.1" not in dsn.split("@")[-1]


@pytest.mark.parametrize("dsn", SECRET_FORMS.values(), ids=SECRET_FORMS.keys())
def test_a_connection_error_never_shows_the_password(dsn: str) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        PgStore(dsn).load()
    assert "S3" not in str(caught.value) and "cannot connect" in str(caught.value)
    assert "S3" not in repr(PgStore(dsn))


def test_redact_leaves_urls_without_a_password_alone() -> None:
    assert redact("postgresql:///db?host=/tmp") == "postgresql:///db?host=/tmp"
    assert redact("postgresql://qa@db.example/x") == "postgresql://qa@db.example/x"


def test_cli_index_then_ask_through_the_store(pg_url: str, tmp_path: Path, seed_assistant: Assistant) -> None:
    import json

    from tests.conftest import run_cli

    indexed = run_cli("index", str(SEED), "--store", pg_url, home=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert "postgresql://" in indexed.stderr and "passages" in indexed.stderr
    question = "How many missiles did Iran fire?"
    asked = run_cli("ask", question, "--store", pg_url, "--json", home=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer == json.loads(json.dumps(seed_assistant.answer(question).to_dict()))
    assert not list(tmp_path.glob("indexes/*"))  # nothing was written to a local index folder
    both = run_cli("ask", question, "--store", pg_url, "--index-dir", str(tmp_path / "x"), home=tmp_path)
    assert both.returncode == 1 and "not both" in both.stderr


def test_an_open_assistant_sees_each_write_as_soon_as_it_commits(pg_url: str, tmp_path: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.txt").write_text("The lighthouse keeper is Marta Olsen. She lives on Lindholm.\n", encoding="utf-8")
    Assistant.from_paths(tmp_path, store=pg_url, embedder=real_embedder)
    reader = Assistant.from_store(pg_url, settings=Settings(abstain_below=0.0))
    assert reader.embedder.name == real_embedder.name  # the store's own model, loaded
    answer = reader.answer("Who is the lighthouse keeper?")
    assert answer.text == "Marta Olsen" and answer.citation.document == str((tmp_path / "a.txt").resolve())
    (tmp_path / "a.txt").write_text("The lighthouse keeper is Per Lund. He lives on Lindholm.\n", encoding="utf-8")
    PgStore(pg_url).sync(read_sources([tmp_path]), real_embedder)  # another writer; `reader` is not reopened
    assert reader.answer("Who is the lighthouse keeper?").text == "Per Lund"
    assert [d.text for d in reader.documents] == [(tmp_path / "a.txt").read_text(encoding="utf-8")]
    (summary,), total = reader.summaries()
    assert total == 1 and summary.path == str((tmp_path / "a.txt").resolve())
    assert (summary.sentences, summary.characters) == (2, len(reader.documents[0].text))
    with pytest.raises(ModelMismatchError):
        Assistant.from_store(pg_url, embedder=HashEmbedder())
    reader.close()


def test_sigkill_while_indexing_leaves_the_old_or_the_new_state(
    pg_url: str, tmp_path: Path, seed_assistant: Assistant
) -> None:
    """A writer killed at any moment: the server rolls its transaction back, readers see the old state or the new."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from qa.bench.suite import write_corpus
    from tests.conftest import ROOT, run_cli

    old = tmp_path / "old.txt"
    old.write_text("The old harbour master is Jonas Berg. He retired in May.\n", encoding="utf-8")
    assert run_cli("index", str(old), "--store", pg_url, home=tmp_path).returncode == 0
    corpus = write_corpus(tmp_path / "corpus", 80)  # seconds of embedding: time to be killed in
    old_state = {str(old.resolve())}
    new_state = {str(p.resolve()) for p in corpus}
    from index.stores.postgres import _LOCK

    def writing() -> bool:  # the writer holds its advisory lock: it is inside its transaction
        with psycopg.connect(pg_url) as connection:
            held = connection.execute(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted", (_LOCK,)
            ).fetchone()
        return held is not None

    for delay in (0.3, 1.0):  # inside the embedding and inside the transaction
        writer = subprocess.Popen(
            [sys.executable, "-m", "qa", "index", str(tmp_path / "corpus"), "--store", pg_url],
            cwd=ROOT,
            env={**os.environ, "QA_HOME": str(tmp_path)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not writing():
            assert writer.poll() is None and time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.05)
        time.sleep(delay)
        assert writer.poll() is None, "the write finished before the kill; make the corpus bigger"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        index = PgStore(pg_url).load()
        assert {d.path for d in index.documents} == old_state, f"killed {delay} s into the write"
        assert len(index.passages) == index.faiss_index.ntotal > 0
    finished = run_cli("index", str(tmp_path / "corpus"), "--store", pg_url, home=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert {d.path for d in PgStore(pg_url).load().documents} == new_state


def test_a_role_that_only_writes_rows_can_index_and_is_told_about_stamps(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Tables made by their owner, written by a role with SELECT, INSERT, UPDATE and DELETE only."""
    for i in range(3):
        (tmp_path / f"doc{i}.txt").write_text(f"Town {i} has bridge {i}. Mayor{i} opened it.\n", encoding="utf-8")
    PgStore(pg_url).sync(read_sources([tmp_path]), HashEmbedder())
    role = "w_" + pg_url.split("/")[3].split("?")[0]
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("ALTER TABLE qa_documents DROP COLUMN stamp")  # as a store from before stamps
        connection.execute(f"DROP ROLE IF EXISTS {role}")
        connection.execute(f"CREATE ROLE {role} LOGIN")
        connection.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        connection.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    writer_url = pg_url.replace("postgresql://postgres:", f"postgresql://{role}:", 1)
    assert writer_url != pg_url
    (tmp_path / "doc1.txt").write_text("Town 1 has a ferry now.\n", encoding="utf-8")
    try:
        with caplog.at_level("WARNING", logger="index.stores.postgres"):
            writer = Assistant.from_paths(tmp_path, store=writer_url, embedder=HashEmbedder(), reader="sentence-only")
        assert writer.answer("What does town 1 have now?").citation.sentence == "Town 1 has a ferry now."
        assert "ALTER TABLE qa_documents ADD COLUMN stamp" in caplog.text
        writer.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(f"DROP OWNED BY {role}")
            connection.execute(f"DROP ROLE {role}")


def test_the_chat_shows_a_document_as_it_was_when_the_question_was_answered(pg_url: str, tmp_path: Path) -> None:
    """A write between the answer and its display must not put new text beside old offsets."""
    doc = tmp_path / "town.txt"
    doc.write_text("Town 1 has a bridge. Mayor Lind opened the bridge in May.\n", encoding="utf-8")
    assistant = Assistant.from_paths(doc, store=pg_url, embedder=HashEmbedder(), reader="sentence-only")
    trace = assistant.trace("Who opened the bridge?")
    citation = trace.answer.citation
    assert citation is not None and citation.sentence == "Mayor Lind opened the bridge in May."
    doc.write_text("A new first sentence moves every offset. " + doc.read_text(encoding="utf-8"), encoding="utf-8")
    PgStore(pg_url).sync(read_sources([doc]), HashEmbedder())  # committed after the answer
    [shown] = trace.cited_documents()
    assert shown.text[citation.start : citation.end] == citation.sentence
    assistant.close()


def _role(pg_url: str, prefix: str, grants: list[str]) -> str:
    role = prefix + pg_url.split("/")[3].split("?")[0]
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(f"DROP ROLE IF EXISTS {role}")
        connection.execute(f"CREATE ROLE {role} LOGIN")
        for grant in grants:
            connection.execute(grant.format(role=role))
    return role


def _drop_role(pg_url: str, role: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(f"DROP OWNED BY {role}")
        connection.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "grants, action",
    [
        (["GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"], "index"),  # a read-only role writes
        ([], "index"),  # no privilege at all
        (["REVOKE CREATE ON SCHEMA public FROM PUBLIC"], "index into an empty database"),
        (["GRANT INSERT ON ALL TABLES IN SCHEMA public TO {role}"], "ask"),  # may write, may not read
        ([], "ask"),
    ],
    ids=["read-only-indexes", "nothing-indexes", "no-create-indexes-fresh", "insert-only-asks", "nothing-asks"],
)
def test_a_role_without_the_privileges_gets_one_line_through_the_cli(
    pg_url: str, tmp_path: Path, grants: list[str], action: str
) -> None:
    from tests.conftest import run_cli

    doc = tmp_path / "town.txt"
    doc.write_text("Town 1 has a bridge. Mayor Lind opened it in May.\n", encoding="utf-8")
    if action != "index into an empty database":
        model = HashEmbedder(dimension=384, name="sentence-transformers/all-MiniLM-L6-v2")
        PgStore(pg_url).sync(read_sources([doc]), model)
    else:  # pgvector is there (a superuser enabled it); the role may not create the qa_* tables
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    role = _role(pg_url, "r_", grants)
    url = pg_url.replace("postgresql://postgres:", f"postgresql://{role}:S3cret", 1)
    try:
        if action == "ask":
            done = run_cli("ask", "Who opened the bridge?", "--store", url, home=tmp_path / "home")
        else:
            (tmp_path / "more.txt").write_text("Town 2 has a ferry. It sails at noon.\n", encoding="utf-8")
            done = run_cli("index", str(doc), str(tmp_path / "more.txt"), "--store", url, home=tmp_path / "home")
        assert done.returncode == 1, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("qa: error: "), done.stderr
        assert "Traceback" not in done.stderr and "S3cret" not in done.stderr
        assert "may not" in lines[0] and ("grant" in lines[0] or "connect" in lines[0]), lines[0]
    finally:
        _drop_role(pg_url, role)
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")


def test_a_document_holding_u0000_gives_the_same_text_in_both_stores(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL text cannot hold U+0000; a UTF-16 file can. Both stores read it as U+FFFD, in place."""
    for name, nul in [("one.txt", "\x00"), ("many.txt", "\x00" * 3)]:
        (tmp_path / name).write_text(f"\ufeffThe code is A{nul}B. Mayor Lind wrote it.\n", encoding="utf-16-le")
    sources = read_sources([tmp_path])
    PgStore(pg_url).sync(sources, HashEmbedder())
    stored = {d.path: d.text for d in PgStore(pg_url).load().documents}
    local = Assistant.from_paths(tmp_path, index_dir=tmp_path.parent / "idx", embedder=HashEmbedder())
    assert stored == {d.path: d.text for d in local.documents}
    assert all("\x00" not in text and "\ufffd" in text for text in stored.values())


def test_a_store_built_with_a_model_not_here_is_refused_in_one_line(pg_url: str, tmp_path: Path) -> None:
    """The issue's case: `qa ask --store` tried to download the model and retried for over a minute."""
    from tests.test_missing_model import _ask

    doc = tmp_path / "town.txt"
    doc.write_text("Mayor Lind opened the bridge in May. It is long.\n", encoding="utf-8")
    PgStore(pg_url).sync(read_sources([doc]), HashEmbedder(dimension=384, name="someone/not-installed-model"))
    done = _ask(["--store", pg_url], tmp_path / "home", {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "someone/not-installed-model" in done.stderr and "cannot be reached" in done.stderr
