"""An index or store built with a model this machine does not have: one line at once, no download retries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.assistant import Assistant
from tests.conftest import ROOT, HashEmbedder

MISSING = {
    "hub name, offline": ("someone/not-installed-model", {"HF_HUB_OFFLINE": "1"}),
    "hub name, hub unreachable": (
        "someone/not-installed-model",
        {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9"},
    ),
    "a folder that is gone": ("/nonexistent/models/minilm", {}),
    "a relative folder that is gone": ("./models/gone", {}),
}


def _ask(index_or_store: list[str], home: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "HF_", "HTTPS_PROXY", "https_proxy"))}
    env.update(QA_HOME=str(home), **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "qa", "ask", "Who opened the bridge?", *index_or_store],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.parametrize(("model", "env"), MISSING.values(), ids=MISSING.keys())
def test_an_index_built_with_a_model_not_here_is_refused_in_one_line(
    tmp_path: Path, model: str, env: dict[str, str]
) -> None:
    (tmp_path / "town.txt").write_text("Mayor Lind opened the bridge in May. It is long.\n", encoding="utf-8")
    embedder = HashEmbedder(dimension=384, name=model)
    Assistant.from_paths([tmp_path / "town.txt"], index_dir=tmp_path / "idx", embedder=embedder, reader="sentence-only")
    started = time.monotonic()
    done = _ask(["--index-dir", str(tmp_path / "idx")], tmp_path / "home", env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not" in lines[0] and model in lines[0] and "Traceback" not in done.stderr
    assert time.monotonic() - started < 120  # not a minute of download retries (loose: a busy machine)
