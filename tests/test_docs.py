"""The docs run: every example marked ``run`` in README.md and docs/*.md is executed, and every link resolves.

A fenced block's info string says what it is and whether it runs:

* ```` ```console run ````: ``$ `` lines are commands (a trailing ``\\`` continues one); the lines up
  to the next ``$ `` are its expected standard output, compared as doctest compares (``...`` matches
  anything, runs of whitespace are equal);
* ```` ```pycon run ````: a doctest session;
* ```` ```bash run ```` and ```` ```python run ````: run to the end; a non-zero exit fails;
* ```` ```bash no-run ```` (and the same for the others): shown, not run, because it needs a server,
  PostgreSQL, a GPU, the internet or half an hour; every bash, console, python and pycon block says
  ``run`` or ``no-run``, so no example is skipped by forgetting.

Examples run from the repository root with ``qa`` on the PATH and a temporary ``QA_HOME``, one per
test session, so the bundled article is indexed once. Anything an example leaves at the top of the
repository is removed after it.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE_LANGUAGES = {"bash", "console", "python", "pycon"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
CHECKER = doctest.OutputChecker()
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    runs: bool
    marked: bool
    code: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, words = match["fence"], match["info"].split()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        language = words[0] if words else ""
        found.append(
            Block(page, i + 1, language, "run" in words[1:], bool({"run", "no-run"} & set(words[1:])), "\n".join(body))
        )
        i = j + 1
    return found


ALL_BLOCKS = [b for page in PAGES for b in blocks(page)]
RUNNABLE = [b for b in ALL_BLOCKS if b.runs]


def test_every_code_example_says_whether_it_runs() -> None:
    unmarked = [b.name for b in ALL_BLOCKS if b.language in CODE_LANGUAGES and not b.marked]
    assert not unmarked, f"mark these blocks `run` or `no-run`: {unmarked}"
    assert len(RUNNABLE) >= 10, "the docs lost their runnable examples"


@pytest.fixture(scope="module")
def docs_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("docs-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    env.update(HF_HUB_OFFLINE="1", COLUMNS="120", PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def clean_root():  # type: ignore[no-untyped-def]
    before = set(ROOT.iterdir())
    yield
    for path in set(ROOT.iterdir()) - before:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _run(command: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # Generous: a loaded 2-core machine runs the slowest example (qa eval on the shared SQuAD set) in minutes.
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def console_steps(code: str) -> list[tuple[str, str]]:
    """``$ `` commands and the output shown under each."""
    steps: list[tuple[str, str]] = []
    command: list[str] | None = None
    output: list[str] = []
    continuing = False
    for line in code.splitlines():
        if continuing and command is not None:
            command.append(line)
            continuing = line.endswith("\\")
        elif line.startswith("$ "):
            if command is not None:
                steps.append(("\n".join(command), "\n".join(output)))
            command, output = [line[2:]], []
            continuing = line.endswith("\\")
        elif command is not None:
            output.append(line)
    if command is not None:
        steps.append(("\n".join(command), "\n".join(output)))
    return steps


def check(block: Block, env: dict[str, str]) -> None:
    where = f"{block.name} ({block.language})"
    if block.language == "console":
        for command, expected in console_steps(block.code):
            done = _run(["bash", "-o", "pipefail", "-c", command], env)
            assert done.returncode == 0, f"{where}: `{command}` exited {done.returncode}:\n{done.stderr[-2000:]}"
            want = expected.strip() + "\n" if expected.strip() else ""
            got = done.stdout.strip() + "\n" if done.stdout.strip() else ""
            assert CHECKER.check_output(want, got, OPTIONS), f"{where}: `{command}` printed\n{got}\nnot\n{want}"
    elif block.language == "pycon":
        test = doctest.DocTestParser().get_doctest(block.code, {}, block.name, str(block.page), block.line)
        script = (
            "import doctest, sys\n"
            f"test = doctest.DocTestParser().get_doctest({block.code!r}, {{}}, {block.name!r}, None, {block.line})\n"
            f"runner = doctest.DocTestRunner(optionflags={OPTIONS})\n"
            "runner.run(test)\n"
            "sys.exit(1 if runner.failures else 0)\n"
        )
        assert test.examples, f"{where}: no >>> examples"
        done = _run([sys.executable, "-c", script], env)
        assert done.returncode == 0, f"{where}:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
    elif block.language == "python":
        done = _run([sys.executable, "-"], env, stdin=block.code)
        assert done.returncode == 0, f"{where}:\n{done.stderr[-3000:]}"
    elif block.language == "bash":
        done = _run(["bash", "-euo", "pipefail", "-c", block.code], env)
        assert done.returncode == 0, f"{where}:\n{done.stderr[-3000:]}"
    else:
        raise AssertionError(f"{where}: `run` on a {block.language!r} block; only {sorted(CODE_LANGUAGES)} run")


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=[b.name for b in RUNNABLE])
def test_example_runs(block: Block, docs_env: dict[str, str], clean_root: None) -> None:
    check(block, docs_env)


def test_a_broken_example_fails(tmp_path: Path, docs_env: dict[str, str]) -> None:
    """The checker is not a rubber stamp: a wrong output and a failing command each fail it."""
    wrong = Block(tmp_path / "x.md", 1, "console", True, True, "$ echo hello\ngoodbye")
    failing = Block(tmp_path / "x.md", 1, "bash", True, True, "false")
    for block in (wrong, failing):
        with pytest.raises(AssertionError):
            check(Block(ROOT / "README.md", block.line, block.language, True, True, block.code), docs_env)
    check(Block(ROOT / "README.md", 1, "console", True, True, "$ echo hello there\nhello ..."), docs_env)


# --- links ---------------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code is not prose
    return LINK.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http(s), mailto: not checked offline
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_the_link_checker_finds_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Title here\n\n[ok](#title-here) [bad](#nope) [gone](missing.md) ![img](x.png)\n")
    assert links(page) == ["#title-here", "#nope", "missing.md", "x.png"]
    assert anchors(page) == {"title-here"}


# --- the command reference ---------------------------------------------------------------------


def test_the_cli_reference_matches_the_parser() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "-I", str(ROOT), str(ROOT / "docs" / "cli.md")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, f"docs/cli.md is stale: run `cog -r docs/cli.md`\n{done.stdout}{done.stderr}"
