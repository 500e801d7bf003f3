"""Two chat servers on one PostgreSQL store while another process rewrites it: every answer is the old state's or the new one's."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from index.documents import read_sources
from index.stores.postgres import PgStore
from tests.conftest import ROOT
from tests.ui.conftest import free_port

pytestmark = pytest.mark.slow
QUESTION = "Who is the lighthouse keeper?"

WRITER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from index.documents import read_sources
from index.embedders.sentence_transformer import SentenceTransformerEmbedder
from index.stores.postgres import PgStore
url, first, second, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
store, embedder = PgStore(url), SentenceTransformerEmbedder.load()
writes = 0
while not stop.exists():
    store.sync(read_sources([first if writes % 2 else second]), embedder)
    writes += 1
print(writes, flush=True)
"""


def _write_states(tmp_path: Path) -> tuple[Path, Path]:
    """Two states of a small corpus: the keeper, and the file that names them, differ between them."""
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        for i in range(4):
            (folder / f"town{i}.txt").write_text(
                f"Town {i} has a bridge over the river. Its mayor, Mayor{i} {folder.name}, opened a market.\n",
                encoding="utf-8",
            )
    (old / "keeper.txt").write_text(
        "The lighthouse keeper is Marta Olsen. She has kept the Lindholm light since 2009.\n", encoding="utf-8"
    )
    (new / "harbour.txt").write_text(
        "Since the spring, the lighthouse keeper is Per Lund. He came to Lindholm from Bergen.\n", encoding="utf-8"
    )
    return old, new


def _serve(url: str, port: int, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--store", url, "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "QA_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_until_up(address: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while True:
        assert process.poll() is None, "the server exited"
        try:
            urllib.request.urlopen(address, timeout=2)
            return
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)


def test_servers_answer_from_the_old_or_the_new_state_while_another_process_indexes(
    pg_url: str, tmp_path: Path, real_embedder
) -> None:  # type: ignore[no-untyped-def]
    old, new = _write_states(tmp_path)
    store = PgStore(pg_url)
    store.sync(read_sources([old]), real_embedder)
    ports = [free_port(), free_port()]
    servers = [_serve(pg_url, port, tmp_path / f"home{i}") for i, port in enumerate(ports)]
    stop = tmp_path / "stop"
    writer = None
    try:
        addresses = [f"http://127.0.0.1:{port}/" for port in ports]
        for address, server in zip(addresses, servers, strict=True):
            _wait_until_up(address, server)
        clients = [Client(address, verbose=False) for address in addresses]
        # What each state answers, asked while nothing writes.
        expected_old = clients[0].predict(QUESTION, api_name="/answer")
        store.sync(read_sources([new]), real_embedder)
        expected_new = clients[1].predict(QUESTION, api_name="/answer")
        assert clients[0].predict(QUESTION, api_name="/answer") == expected_new  # seen without reopening
        assert "Marta Olsen" in expected_old["answer"] and "Per Lund" in expected_new["answer"]
        assert expected_old["citations"][0]["document"].endswith("keeper.txt")
        assert expected_new["citations"][0]["document"].endswith("harbour.txt")

        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER.format(root=str(ROOT)), pg_url, str(old), str(new), str(stop)],
            stdout=subprocess.PIPE,
        )
        seen: list[list[str]] = [[], []]
        odd: list[Any] = []

        def ask(i: int) -> None:
            deadline = time.monotonic() + 120
            # Many questions, and both states a few times each (the writer flips every fraction of a second).
            while len(seen[i]) < 60 or min(seen[i].count("old"), seen[i].count("new")) < 3:
                if time.monotonic() > deadline:
                    return
                try:
                    got = clients[i].predict(QUESTION, api_name="/answer")
                except Exception as exc:  # a torn read would break the answer before it could be compared
                    odd.append(exc)
                    return
                state = "old" if got == expected_old else "new" if got == expected_new else None
                if state is None:
                    odd.append(got)
                    return
                seen[i].append(state)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.touch()
        writes = int(writer.communicate(timeout=120)[0])
        assert not odd, f"an answer from neither state: {odd[0]}"
        assert writes >= 4
        for i in range(2):
            assert seen[i].count("old") >= 3 and seen[i].count("new") >= 3, f"server {i} saw {seen[i]}"
    finally:
        stop.touch()
        for process in [*servers, *([writer] if writer else [])]:
            process.terminate()
            process.wait(timeout=30)
