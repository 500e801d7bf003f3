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
    for path in (ROOT / "index").glob("*.py"):
        assert not any(m == "qa" or m.startswith("qa.") for m in imported_modules(path)), path.name


def test_inference_never_imports_training() -> None:
    for path in [*(ROOT / "qa").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        assert not any(m.startswith("qa.train") for m in imported_modules(path) if path.name != "cli.py"), path.name


def test_plots_and_evaluation_do_not_import_each_other() -> None:
    assert "qa.evaluation" not in imported_modules(ROOT / "qa" / "plots.py")
