"""A library, not one article: hundreds of documents indexed together with the real model.

The library is 300 short local-news reports written here from templates, alike on purpose (every
one has a mayor, a ribbon, a cost and an architect), so only the names tell them apart: the
right document must be found by what the question names, and questions about things no report
mentions must be refused however well a report's shape fits them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.errors import NoMatchingDocumentError
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
COUNT = 300
SYLLABLES = "bar ken dal mor vin tas lo ri su pen gar hol wick ston ford ley mont ash bel cor dun fen".split()
FIRST = "Amara Bruno Chiara Dmitri Elena Farid Greta Hamid Ines Jonas Kemal Lucia Marek Nadia Oskar Priya".split()
LAST = "Okafor Lindqvist Moreau Tanaka Novak Haddad Ferreira Kowalski Brennan Castillo Ivanova Mensah".split()
FACILITIES = ["library", "swimming pool", "bridge", "fire station", "concert hall", "sports hall", "museum", "school"]
OUTSIDE = [
    "How old was Soleimani?",
    "What is the capital of France?",
    "What did Rouhani say?",
    "How many missiles did Iran fire at the air bases?",
    "Who won the 2020 football world cup?",
    "What did Khamenei say in Qom?",
    "When did the Roman Empire fall?",
    "Who wrote the novel War and Peace?",
    # The reports' own shape, about places and things none of them names:
    "Who cut the ribbon at the new airport in Lisbon?",
    "How much did the stadium in Berlin cost?",
    "Who designed the opera house in Sydney?",
    "When will schools in Manchester use the new museum?",
    "Who opened the new harbour in Rotterdam?",
    "How many residents watched the parade in Vienna?",
    "Which architect designed the cathedral in Cologne?",
    "What did the mayor of Chicago say about the budget?",
    "Who won the Nobel Prize in Physics in 1921?",
    "What is the population of Tokyo?",
    "How much did the new hospital in Dublin cost?",
    "When did the Berlin Wall fall?",
]


@dataclass(frozen=True)
class Town:
    name: str
    file: str
    mayor: str
    architect: str
    facility: str


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.sample(SYLLABLES, 3)).capitalize()
        if name not in taken:
            taken.add(name)
            return name


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Town]]:
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("library") / "towns"
    folder.mkdir()
    taken: set[str] = set()
    made = []
    for i in range(COUNT):
        town = _name(rng, taken)
        mayor = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        architect = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        facility = rng.choice(FACILITIES)
        file = f"town_{i:03d}.txt"
        (folder / file).write_text(
            f"{town} opens its new {facility}\n\n"
            f"The town of {town} opened its new {facility} on {rng.choice(['Monday', 'Friday', 'Saturday'])}. "
            f"Mayor {mayor} cut the ribbon in front of {rng.randint(80, 900)} residents. "
            f"The {facility} cost {rng.randint(2, 40)} million euros and was designed by the architect {architect}. "
            f"Schools in {town} will use it from {rng.choice(['March', 'June', 'September'])}.\n",
            encoding="utf-8",
        )
        made.append(Town(town, file, mayor, architect, facility))
    return folder, made


@pytest.fixture(scope="module")
def library(towns: tuple[Path, list[Town]], real_embedder, tmp_path_factory: pytest.TempPathFactory) -> Assistant:  # type: ignore[no-untyped-def]
    folder, _ = towns
    return Assistant.from_paths([folder], index_dir=tmp_path_factory.mktemp("library-index"), embedder=real_embedder)


def asked(towns: list[Town]) -> list[Town]:
    return random.Random(11).sample(towns, 12)


def test_inside_questions_cite_their_own_document(library: Assistant, towns: tuple[Path, list[Town]]) -> None:
    _, made = towns
    right = 0
    for town in asked(made):
        r = library.answer(f"Who cut the ribbon in {town.name}?")
        if r.citation is not None and Path(r.citation.document).name == town.file:
            assert r.text is not None and r.text in town.mayor or town.mayor in (r.text or "")
            right += 1
    assert right >= 11, f"{right} of 12 inside questions cited their own report"


def test_outside_questions_are_refused(library: Assistant) -> None:
    answered = {q: (r.text, round(r.confidence, 2)) for q in OUTSIDE if not (r := library.answer(q)).abstained}
    # The bar: at least 95% refused (19 of 20). The margin alone answered 3 of the first 12.
    assert len(answered) <= len(OUTSIDE) // 20, f"answered from a library that does not say: {answered}"


def test_python_documents_filter_asks_within_the_named_documents(
    library: Assistant, towns: tuple[Path, list[Town]]
) -> None:
    _, made = towns
    town = asked(made)[0]
    r = library.answer("Who designed it?", documents=[town.file])
    assert r.citation is not None and Path(r.citation.document).name == town.file
    assert all(Path(c.document).name == town.file for c in r.citations)
    both = library.answer("Who cut the ribbon?", documents=[made[5].file, made[6].file])
    assert both.citation is None or Path(both.citation.document).name in (made[5].file, made[6].file)
    with pytest.raises(NoMatchingDocumentError, match="no indexed document matches 'town_999.txt'"):
        library.answer("Who cut the ribbon?", documents=["town_999.txt"])


def test_cli_document_filter(towns: tuple[Path, list[Town]], library: Assistant, tmp_path: Path) -> None:
    _, made = towns
    town = asked(made)[1]
    index_dir = str(library.index_dir)
    done = run_cli(
        "ask", "Who cut the ribbon?", "--index-dir", index_dir, "--document", town.file, "--json", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["citations"] and Path(answer["citations"][0]["document"]).name == town.file
    assert town.mayor.split()[-1] in answer["answer"]
    missing = run_cli("ask", "Who cut the ribbon?", "--index-dir", index_dir, "--document", "*.pdf", home=tmp_path)
    assert missing.returncode != 0
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and "no indexed document matches '*.pdf'" in lines[0] and "town_000.txt" in lines[0]


def test_api_document_filter(library: Assistant, towns: tuple[Path, list[Town]], tmp_path: Path) -> None:
    import gradio as gr

    from ui.app import ChatApp

    folder, made = towns
    town = asked(made)[2]
    app = ChatApp(library, base_paths=[folder], upload_dir=tmp_path / "uploads", index_dir=tmp_path / "index")
    try:
        data = app.api_answer("Who cut the ribbon?", [f"towns/{town.file}"])  # the name the chat shows
        assert data["citations"][0]["document"] == f"towns/{town.file}"
        data = app.api_answer("Who cut the ribbon?", [town.file])  # or a pattern, as qa ask takes it
        assert data["citations"][0]["document"] == f"towns/{town.file}"
        with pytest.raises(gr.Error, match="no indexed document matches"):
            app.api_answer("Who cut the ribbon?", ["nothing-*.txt"])
        assert f"towns/{town.file}" in app.document_choices()
    finally:
        app.close()


def test_qa_eval_library_reports_own_document_and_outside_refusals(
    towns: tuple[Path, list[Town]], tmp_path: Path
) -> None:
    folder, made = towns
    chosen = asked(made)[:6]
    test_set = tmp_path / "towns.jsonl"
    test_set.write_text(
        "".join(
            json.dumps(
                {
                    "id": t.file,
                    "question": f"Who designed the {t.facility} in {t.name}?",
                    "answers": [t.architect],
                    "supporting": [f"designed by the architect {t.architect}"],
                    "document": str(folder / t.file),
                }
            )
            + "\n"
            for t in chosen
        ),
        encoding="utf-8",
    )
    done = run_cli(
        "eval", str(test_set), "--library", str(folder), "--outside", str(ROOT / "tests/data/seed_questions.jsonl"),
        "--json", home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["documents"] == COUNT  # the test set's documents are the library's own: one index
    assert metrics["n"] == 6 and metrics["n_outside"] == 69
    assert metrics["own_document"] == 1.0 and metrics["other_document_answers"] == 0
    assert metrics["citation_accuracy"] >= 5 / 6
    assert metrics["outside_refused"] >= 0.95
