"""`qa` with no arguments and `qa --version`: what a newcomer types first."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from tests.conftest import ROOT


def qa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_qa_alone_names_the_two_commands_a_newcomer_needs() -> None:
    done = qa()
    assert done.returncode == 0, done.stderr
    assert "qa ask" in done.stdout and "qa serve" in done.stdout
    assert len(done.stdout.splitlines()) <= 10  # short: a usage, not the whole --help
    assert done.stderr == ""


def test_qa_version_prints_the_installed_version() -> None:
    done = qa("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"qa {importlib.metadata.version('qa-assistant')}"


def test_an_unknown_command_is_still_a_usage_error() -> None:
    done = qa("nonsense")
    assert done.returncode == 2
    assert done.stderr.startswith("qa: error:") and len(done.stderr.splitlines()) == 1
