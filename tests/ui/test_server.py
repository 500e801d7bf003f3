"""A real Gradio server on a free port, asked through gradio_client and raw HTTP."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

from tests.conftest import SEED

pytestmark = pytest.mark.slow


def test_answer_endpoint_cites_rouhani_with_exact_offsets(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    client = Client(url, verbose=False)
    data = client.predict("what did Rouhani say", api_name="/answer")
    assert set(data) >= {"answer", "confidence", "citations"}
    text = SEED.read_text(encoding="utf-8")
    sentences = [c["sentence"] for c in data["citations"]]
    assert any("You cut Soleimani's hand" in s or "Rouhani" in s for s in sentences)
    for c in data["citations"]:
        assert text[c["start"] : c["end"]] == c["sentence"]


def test_answer_endpoint_reports_bad_questions(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", api_name="/answer")


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=%2e%2e/%2e%2e/etc/passwd",
        f"/gradio_api/file={SEED}",
        "/file=/etc/passwd",
    ],
)
def test_files_outside_uploads_are_not_served(server, path: str) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    response = httpx.get(url + path)
    assert response.status_code >= 400
    assert "root:" not in response.text and "Rouhani" not in response.text


def test_cross_origin_upload_is_rejected(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    response = httpx.post(
        url + "/gradio_api/upload",
        files={"files": ("a.txt", b"hello", "text/plain")},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code >= 400 or "access-control-allow-origin" not in response.headers
