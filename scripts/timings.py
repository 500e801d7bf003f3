"""Time the three figures a user notices: cold `qa ask`, warm answer(), index build.

Usage: python scripts/timings.py [runs]   (medians over `runs`, default 5)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    from index.embedder import SentenceTransformerEmbedder
    from qa.assistant import Assistant
    from qa.config import bundled_documents

    home = tempfile.mkdtemp(prefix="qa-timings-")
    env = {**os.environ, "QA_HOME": home}
    subprocess.run(
        [sys.executable, "-m", "qa", "index", *map(str, bundled_documents())], env=env, check=True, capture_output=True
    )
    cold = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qa", "ask", "What did Rouhani say?"], env=env, check=True, capture_output=True
        )
        cold.append(time.perf_counter() - start)

    embedder = SentenceTransformerEmbedder.load()
    builds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            assistant = Assistant.from_paths(index_dir=directory, embedder=embedder)
            builds.append(time.perf_counter() - start)
    questions = [json.loads(line)["question"] for line in (ROOT / "tests/data/seed_questions.jsonl").open()]
    warm = []
    for _ in range(runs):
        for question in questions:
            start = time.perf_counter()
            assistant.answer(question)
            warm.append(time.perf_counter() - start)
    print("| measure | median | runs |")
    print("|---|---|---|")
    print(f"| `qa ask` cold start (index exists, process start to answer) | {statistics.median(cold):.2f} s | {runs} |")
    print(
        f"| index build, bundled article (model already loaded) | {statistics.median(builds) * 1000:.0f} ms | {runs} |"
    )
    print(f"| warm `answer()` per question | {statistics.median(warm) * 1000:.1f} ms | {len(warm)} |")


if __name__ == "__main__":
    main()
