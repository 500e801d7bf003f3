"""Document filters: which indexed documents a pattern names, and a clear error when it names none."""

from __future__ import annotations

import pytest

from qa.errors import NoMatchingDocumentError
from qa.selection import matches, select

PATHS = [
    "/home/me/reports/2024-q1.pdf",
    "/home/me/reports/2024-q2.pdf",
    "/home/me/notes/meeting.txt",
    "/data/squad.json#Yuan_dynasty",
]


@pytest.mark.parametrize(
    ("pattern", "chosen"),
    [
        ("/home/me/notes/meeting.txt", {"/home/me/notes/meeting.txt"}),  # a full path
        ("meeting.txt", {"/home/me/notes/meeting.txt"}),  # a file name
        ("notes/meeting.txt", {"/home/me/notes/meeting.txt"}),  # the end of a path
        ("*.pdf", {"/home/me/reports/2024-q1.pdf", "/home/me/reports/2024-q2.pdf"}),  # a glob on the name
        ("reports/*-q2.pdf", {"/home/me/reports/2024-q2.pdf"}),  # a glob on the end of the path
        ("/home/me/reports/*", {"/home/me/reports/2024-q1.pdf", "/home/me/reports/2024-q2.pdf"}),
        ("Yuan_dynasty", {"/data/squad.json#Yuan_dynasty"}),  # an article of a SQuAD file by its title
        ("*q1*", {"/home/me/reports/2024-q1.pdf"}),
    ],
)
def test_a_pattern_names_the_documents_a_user_means(pattern: str, chosen: set[str]) -> None:
    assert select(pattern, PATHS) == chosen
    assert select([pattern], PATHS) == chosen


def test_several_patterns_choose_every_document_any_of_them_names() -> None:
    assert select(["meeting.txt", "*q1.pdf"], PATHS) == {"/home/me/notes/meeting.txt", "/home/me/reports/2024-q1.pdf"}


def test_no_filter_means_every_document() -> None:
    assert select(None, PATHS) is None
    assert select([], PATHS) is None


@pytest.mark.parametrize("pattern", ["meeting.pdf", "*.docx", "reports/2023-*", "MEETING.TXT", "eeting.txt"])
def test_a_pattern_that_names_nothing_is_an_error_that_lists_what_is_there(pattern: str) -> None:
    with pytest.raises(NoMatchingDocumentError) as caught:
        select(pattern, PATHS)
    message = str(caught.value)
    assert repr(pattern) in message and "meeting.txt" in message and "2024-q1.pdf" in message


@pytest.mark.parametrize("bad", [[""], ["  "], [None], [3]])
def test_an_empty_or_non_text_pattern_is_refused(bad: list[object]) -> None:
    with pytest.raises(NoMatchingDocumentError, match="non-empty"):
        select(bad, PATHS)  # type: ignore[arg-type]


def test_a_name_does_not_match_inside_another_name() -> None:
    assert not matches("eeting.txt", "/home/me/notes/meeting.txt")
    assert not matches("me", "/home/me/notes/meeting.txt")
