"""Fuzzing the `answer` endpoint's handler with arbitrary text: an answer with exact citations, or a clean error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.test_fuzz_edges import TEXTS

pytestmark = pytest.mark.slow


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=TEXTS)
def test_the_answer_endpoint_with_anything(chat_app, question: str) -> None:  # type: ignore[no-untyped-def]
    import gradio as gr

    try:
        data = chat_app.api_answer(question)
    except gr.Error as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    text = chat_app.assistant.documents[0].text
    for citation in data["citations"]:
        assert text[citation["start"] : citation["end"]] == citation["sentence"]
