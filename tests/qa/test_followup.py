from __future__ import annotations

import pytest

from qa.questions.followup import main_entity, resolve_followup


@pytest.mark.parametrize(
    ("question", "previous", "previous_answer", "expected"),
    [
        ("Did he mention casualties?", "What did Trump say?", None, "Did Trump mention casualties?"),
        ("What was his warning?", "what did rouhani say", None, "What was Rouhani's warning?"),
        ("What about Rouhani?", "What did Trump say?", None, "What did Rouhani say?"),
        ("and khamenei", "what did trump say", None, "what did khamenei say"),
        (
            "Where did he speak?",
            "Who is Iran's supreme leader?",
            "Ayatollah Ali Khamenei",
            "Where did Ayatollah Ali Khamenei speak?",
        ),
        ("Where did Khamenei speak?", "What did Trump say?", None, "Where did Khamenei speak?"),  # has its own name
        ("How many missiles were fired?", "What did Trump say?", None, "How many missiles were fired?"),  # no pronoun
        ("Did he mention casualties?", None, None, "Did he mention casualties?"),  # first turn
    ],
)
def test_resolve_followup(question: str, previous: str | None, previous_answer: str | None, expected: str) -> None:
    assert resolve_followup(question, previous, previous_answer) == expected


def test_main_entity_ignores_the_capitalised_first_word() -> None:
    assert main_entity("Tell me what Trump said") == "Trump"
    assert main_entity("Where did Khamenei speak?") == "Khamenei"
    assert main_entity("how many missiles were fired") is None
