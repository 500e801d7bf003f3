"""Layering: index/ never imports qa/; inference never imports training; the plots know no evaluation types."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_index_never_imports_qa() -> None:
    paths = list((ROOT / "index").rglob("*.py"))
    assert {p.parent.name for p in paths} >= {"index", "readers", "stores", "embedders"}  # the walk found the roles
    for path in paths:
        assert not any(m == "qa" or m.startswith("qa.") for m in imported_modules(path)), path


def test_index_is_grouped_by_role_and_readers_never_reach_the_stores() -> None:
    """The formats and their box read bytes into text; they never import a store or an embedder
    (the worker process imports only what reading needs, and a store never parses a file)."""
    for path in (ROOT / "index" / "readers").glob("*.py"):
        imported = imported_modules(path)
        assert not any(m.startswith(("index.stores", "index.embedders")) for m in imported), path.name
    for path in (ROOT / "index" / "stores").glob("*.py"):
        imported = imported_modules(path)
        assert not any(
            m.startswith(("index.readers.pdf", "index.readers.docx", "index.readers.html")) for m in imported
        )


def test_the_public_imports_still_work() -> None:
    import index

    for name in index.__all__:
        assert getattr(index, name) is not None, name


def test_inference_never_imports_training() -> None:
    inference = [p for p in (ROOT / "qa").rglob("*.py") if "train" not in p.relative_to(ROOT / "qa").parts]
    assert len(inference) > 15  # the glob found the subpackages
    for path in [*inference, *(ROOT / "ui").glob("*.py")]:
        assert not any(m.startswith("qa.train") for m in imported_modules(path) if path.name != "cli.py"), path.name


def test_plots_know_no_evaluation_types() -> None:
    imported = imported_modules(ROOT / "qa" / "evaluation" / "plots.py")
    assert not any(m.startswith(("qa.evaluation.runner", "qa.evaluation.datasets")) for m in imported), imported


def test_the_question_path_never_imports_evaluation_or_benchmarks() -> None:
    for path in [*(ROOT / "qa" / "readers").glob("*.py"), *(ROOT / "qa" / "questions").glob("*.py")]:
        path_imports = imported_modules(path)
        assert not any(m.startswith(("qa.evaluation", "qa.bench")) for m in path_imports), path.name
    for name in ("assistant.py", "retriever.py", "result.py", "config.py"):
        assert not any(m.startswith(("qa.evaluation", "qa.bench")) for m in imported_modules(ROOT / "qa" / name)), name
