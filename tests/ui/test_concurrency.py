"""Fifty people asking at once, and an upload in the middle, against a real server on loopback."""

from __future__ import annotations

import json
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from index.stores.local import load_index
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "tests/data/seed_questions.jsonl").open()][:50]
ARTIFACTS = ROOT / "artifacts"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ask_all_at_once(url: str, questions: list[str]) -> tuple[list[Any], list[BaseException]]:
    """Send every question at the same moment, each from its own client, as separate users would."""
    clients = [Client(url, verbose=False) for _ in questions]
    barrier = threading.Barrier(len(questions))

    def ask(i: int) -> Any:
        barrier.wait()
        return clients[i].predict(questions[i], api_name="/answer")

    results: list[Any] = [None] * len(questions)
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        futures = [pool.submit(ask, i) for i in range(len(questions))]
        for i, future in enumerate(futures):
            try:
                results[i] = future.result(timeout=300)
            except BaseException as exc:  # noqa: BLE001 - counted, then asserted empty
                errors.append(exc)
    return results, errors


def test_fifty_concurrent_questions_get_the_serial_answers(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    client = Client(url, verbose=False)
    serial = [client.predict(q, api_name="/answer") for q in QUESTIONS]
    before = peak_rss_mib()
    start = time.perf_counter()
    concurrent, errors = ask_all_at_once(url, QUESTIONS)
    seconds = time.perf_counter() - start
    after = peak_rss_mib()
    figures = {
        "requests": len(QUESTIONS),
        "errors": len(errors),
        "identical_to_serial": sum(a == b for a, b in zip(concurrent, serial, strict=True)),
        "seconds": round(seconds, 2),
        "peak_rss_mib_before": round(before),
        "peak_rss_mib_after": round(after),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(figures, indent=2))
    assert errors == []
    assert concurrent == serial
    assert after - before < 300, figures  # 50 clients' worth of threads, not 50 copies of anything


def test_an_upload_during_questions_never_shows_half_an_index(shared_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, app = shared_server  # --shared-uploads: the API answers from uploads too
    client = Client(url, verbose=False)
    questions = QUESTIONS[:12]
    old_answers = [client.predict(q, api_name="/answer") for q in questions]
    article = tmp_path / "bridge.txt"
    article.write_text(
        "The harbour bridge in Velmora reopened on Monday after two years of repairs.\n\n"
        "Engineer Dana Whitcombe said the new cables would last a century.\n",
        encoding="utf-8",
    )
    upload_error: list[BaseException] = []

    def upload() -> None:
        time.sleep(0.2)  # land in the middle of the questions
        try:
            app.add_documents([str(article)])
        except BaseException as exc:  # noqa: BLE001
            upload_error.append(exc)

    uploader = threading.Thread(target=upload)
    uploader.start()
    during, errors = ask_all_at_once(url, questions * 2)
    uploader.join(timeout=300)
    assert upload_error == [] and errors == []
    new_answers = [client.predict(q, api_name="/answer") for q in questions]
    for i, got in enumerate(during):
        assert got in (old_answers[i % len(questions)], new_answers[i % len(questions)])
    bridge = client.predict("When did the bridge in Velmora reopen?", api_name="/answer")
    assert bridge["answer"] == "Monday"
    index = load_index(app.index_dir)  # what is on disk is whole and holds the upload
    assert len(index.documents) == 2 and index.manifest.sentences == len(index.sentences)
