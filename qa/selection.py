"""Asking within some documents: which indexed documents a filter (``--document``, ``documents=``) names.

A pattern is a path or a shell-style glob (``*.pdf``, ``reports/2024-*``, ``*Rouhani*``), matched
against each document's full path, its file name, and the end of its path (so ``docs/a.txt`` names
``/home/me/docs/a.txt``). Case matters where the file system's does. Several patterns select every
document that any of them names. A filter that names nothing is an error, never an empty answer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import PurePath

from qa.errors import NoMatchingDocumentError

SHOWN = 5  # documents named in the error message


def matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` names the document at ``path`` (see the module's docstring)."""
    name = PurePath(path).name
    return (
        path == pattern
        or fnmatch.fnmatchcase(path, pattern)
        or fnmatch.fnmatchcase(name, pattern)
        or fnmatch.fnmatchcase(path, "*/" + pattern.lstrip("/"))
        # An article of a SQuAD file is indexed as FILE#TITLE: its title names it too.
        or ("#" in path and fnmatch.fnmatchcase(path.rsplit("#", 1)[1], pattern))
    )


def select(patterns: str | Sequence[str] | None, paths: Iterable[str]) -> frozenset[str] | None:
    """The paths that ``patterns`` name; ``None`` when there is no filter (every document).

    Raises:
        NoMatchingDocumentError: A pattern is empty, or the patterns name no document.
    """
    if patterns is None:
        return None
    wanted = [patterns] if isinstance(patterns, str) else list(patterns)
    if not wanted:
        return None
    if not all(isinstance(p, str) and p.strip() for p in wanted):
        raise NoMatchingDocumentError(
            "a document filter must be one or more non-empty names or patterns, like 'report.pdf' or '*.pdf'"
        )
    everything = list(paths)
    chosen = frozenset(path for path in everything if any(matches(p, path) for p in wanted))
    if not chosen:
        names = ", ".join(PurePath(p).name for p in everything[:SHOWN])
        more = f" and {len(everything) - SHOWN} more" if len(everything) > SHOWN else ""
        raise NoMatchingDocumentError(
            f"no indexed document matches {', '.join(repr(p) for p in wanted)}; "
            f"the index holds {names}{more} (a pattern is a path, a file name or a glob such as '*.pdf')"
        )
    return chosen
