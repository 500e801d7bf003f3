"""SIGKILL while the chat adds uploads: the index on disk is always the old one or the new one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.stores.local import load_index
from qa.assistant import Assistant
from tests.conftest import ROOT, SEED, HashEmbedder
from ui.app import ChatApp

pytestmark = pytest.mark.slow

UPLOADER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.conftest import HashEmbedder
from qa.assistant import Assistant
from ui.app import ChatApp
seed, uploads, index_dir, drafts = (Path(p) for p in sys.argv[1:5])
assistant = Assistant.from_paths([seed, *sorted(uploads.glob("*"))], index_dir=index_dir, embedder=HashEmbedder())
app = ChatApp(assistant, base_paths=[seed], upload_dir=uploads, index_dir=index_dir)
import gradio  # as in the running server, where it is long imported
print("ready", flush=True)
for i in range(10_000):
    draft = drafts / f"note{{i}}.txt"
    draft.write_text(f"Note {{i}} from process {{sys.argv[5]}}. " + "The river rose again overnight. " * 400)
    app.add_documents([str(draft)])
"""


def test_killed_upload_leaves_a_loadable_consistent_index(tmp_path: Path) -> None:
    uploads, index_dir, drafts = tmp_path / "uploads", tmp_path / "index", tmp_path / "drafts"
    for folder in (uploads, drafts):
        folder.mkdir()
    Assistant.from_paths([SEED], index_dir=index_dir, embedder=HashEmbedder())
    rng = np.random.default_rng(11)
    kills = 0
    for round_ in range(3):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                UPLOADER.format(root=str(ROOT)),
                str(SEED),
                str(uploads),
                str(index_dir),
                str(drafts),
                str(round_),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.05, 1.5)))  # during a copy, an embedding or a save
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        index = load_index(index_dir)  # never half written
        assert index.manifest.sentences == len(index.sentences)
        assert str(SEED.resolve()) in [d.path for d in index.documents]
        assert all(Path(d.path).exists() for d in index.documents)  # only documents that were really added
    # The next start picks up every upload that landed, indexed or not, and answers from it.
    assistant = Assistant.from_paths([SEED, *sorted(uploads.glob("*"))], index_dir=index_dir, embedder=HashEmbedder())
    app = ChatApp(assistant, base_paths=[SEED], upload_dir=uploads, index_dir=index_dir)
    assert len(app.assistant.documents) == 1 + len(app.uploads) and kills == 3
    assert len(app.uploads) >= 1, "no upload finished copying in six rounds; kill later"
