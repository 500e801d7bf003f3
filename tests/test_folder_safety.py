"""The index store never deletes or overwrites a file it did not write (docs/bad-input.md, "Index folder")."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.documents import make_document
from index.errors import IndexStoreError
from index.stores.local import build_index, is_store_file, load_index, save_index
from tests.conftest import ROOT, SEED, HashEmbedder, run_cli

# Names a person keeps next to their work, some shaped like ours on purpose.
USER_FILES = {
    "article.txt": b"A user's own article.\n",
    "notes.pdf": b"%PDF-1.4 not really\n",
    "main.py": b"print('hello')\n",
    "data.csv": b"a,b\n1,2\n",
    ".env": b"SECRET=1\n",
    "corpus.json": b"{}",
    "passages.faiss": b"x",
    "manifest.json.bak": b"{}",
    ".corpus.tmp": b"x",
}


def fill(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in USER_FILES.items():
        (folder / name).write_bytes(data)
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in USER_FILES}


def test_user_file_names_are_never_store_names() -> None:
    assert not any(is_store_file(name) for name in USER_FILES)


def test_a_folder_with_other_files_is_refused_and_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    before = fill(folder)
    index = build_index([make_document("a.txt", "One sentence. Two sentences.")], HashEmbedder())
    with pytest.raises(IndexStoreError, match="holds other files.*empty or new folder"):
        save_index(index, folder)
    assert snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == sorted(USER_FILES)


def test_an_existing_index_keeps_files_put_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    embedder = HashEmbedder()
    save_index(build_index([make_document("a.txt", "One sentence. Two.")], embedder), folder)
    before = fill(folder)
    save_index(build_index([make_document("a.txt", "Other text. Again.")], embedder), folder)  # a rebuild
    assert snapshot(folder) == before
    assert load_index(folder).documents[0].text == "Other text. Again."


KILLED_SAVE = """
import os, signal, sys
from index.stores import local as store
from index.documents import make_document
from tests.conftest import HashEmbedder
real = store._write_file
def dying(path, write):
    if path.name.startswith("passages."):
        real(path.with_name("." + path.name + ".killed_1.tmp"), write)  # a temp file, as a kill leaves it
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, write)
store._write_file = dying
store.save_index(store.build_index([make_document("a.txt", "New text. Here.")], HashEmbedder()), sys.argv[1])
"""


def test_a_killed_save_leaves_user_files_and_the_next_save_removes_its_debris(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    embedder = HashEmbedder()
    save_index(build_index([make_document("a.txt", "Old text. Here.")], embedder), folder)
    before = fill(folder)
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(folder)], cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL
    debris = [p.name for p in folder.iterdir() if p.name not in USER_FILES and is_store_file(p.name)]
    assert any(name.endswith(".tmp") for name in debris)
    assert load_index(folder).documents[0].text == "Old text. Here."  # the old index still answers
    assert snapshot(folder) == before
    save_index(build_index([make_document("a.txt", "Newer text. Here.")], embedder), folder)
    left = sorted(p.name for p in folder.iterdir() if p.name not in USER_FILES)
    assert [n for n in left if n.endswith(".tmp")] == [] and len([n for n in left if n.startswith("corpus.")]) == 1
    assert snapshot(folder) == before


@pytest.mark.slow
def test_cli_index_ask_and_rebuild_never_touch_user_files(tmp_path: Path) -> None:
    shared = tmp_path / "m"
    before = fill(shared)
    (shared / "doc.txt").write_bytes(SEED.read_bytes())
    # the documents' own folder as --index-dir: refused, nothing deleted
    done = run_cli("index", str(shared / "doc.txt"), "--index-dir", str(shared), home=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("qa: error:") and "holds other files" in done.stderr
    assert done.stderr.count("\n") == 1 and snapshot(shared) == before
    # a real index, user files put into it, then ask, damage, rebuild
    index_dir = tmp_path / "idx"
    assert run_cli("index", str(shared / "doc.txt"), "--index-dir", str(index_dir), home=tmp_path).returncode == 0
    inside = fill(index_dir)
    assert run_cli("ask", "Where did Khamenei speak?", "--index-dir", str(index_dir), home=tmp_path).returncode == 0
    faiss_file = next(index_dir.glob("passages.*.faiss"))
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    rebuilt = run_cli("index", str(shared / "doc.txt"), "--index-dir", str(index_dir), home=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert snapshot(index_dir) == inside and snapshot(shared) == before
    assert os.path.exists(index_dir / "manifest.json")


# Files named manifest.json that are not ours: a PWA's, a browser extension's, a broken one, a list.
FOREIGN_MANIFESTS = {
    "web app": b'{"name": "My App", "start_url": "/", "icons": []}',
    "browser extension": b'{"manifest_version": 3, "name": "x", "version": "1.0"}',
    "not JSON": b"manifest: yes\n",
    "a JSON list": b'["format_version", "model", "files"]',
    "empty": b"",
}


@pytest.mark.parametrize("content", FOREIGN_MANIFESTS.values(), ids=FOREIGN_MANIFESTS.keys())
@pytest.mark.parametrize("beside", [False, True], ids=["alone", "with other files"])
def test_a_manifest_json_the_store_did_not_write_is_never_replaced(
    tmp_path: Path, content: bytes, beside: bool
) -> None:
    folder = tmp_path / "site"
    if beside:
        fill(folder)
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_bytes(content)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    index = build_index([make_document("a.txt", "One sentence. Two sentences.")], HashEmbedder())
    with pytest.raises(IndexStoreError, match=r"holds other files \(manifest\.json"):
        save_index(index, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_damaged_manifest_of_ours_is_still_rebuilt_over(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    embedder = HashEmbedder()
    save_index(build_index([make_document("a.txt", "One sentence. Two.")], embedder), folder)
    (folder / "manifest.json").write_bytes(b"\x00garbage")  # its generation files say whose folder it is
    save_index(build_index([make_document("a.txt", "Other text. Again.")], embedder), folder)
    assert load_index(folder).documents[0].text == "Other text. Again."


@pytest.mark.slow
def test_cli_index_refuses_a_folder_whose_manifest_json_is_someone_else_s(tmp_path: Path) -> None:
    folder = tmp_path / "extension"
    folder.mkdir()
    (folder / "manifest.json").write_bytes(FOREIGN_MANIFESTS["browser extension"])
    (folder / "background.js").write_bytes(b"chrome.runtime;\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    done = run_cli("index", str(SEED), "--index-dir", str(folder), home=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "holds other files (manifest.json" in done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("name", ["settings.json", "README.md", "model.onnx", "LICENSE.txt"])
def test_export_reader_never_replaces_a_file_it_did_not_write(tmp_path: Path, name: str) -> None:
    from qa.errors import ConfigError
    from qa.train.export import check_reader_folder, export_reader

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / name).write_bytes(b'{"editor.tabSize": 4}')
    (folder / "main.py").write_bytes(b"print(1)\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ConfigError, match=f"holds {name}.*not a reader folder"):
        export_reader(tmp_path / "no-model-needed", folder)  # refused before the model is looked at
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    check_reader_folder(tmp_path / "new")  # new, empty and reader folders are fine
    check_reader_folder(ROOT / "qa" / "models" / "minilm-squad")


def test_eval_library_index_dir_never_takes_a_folder_of_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    before = fill(folder)
    article = tmp_path / "a.txt"
    article.write_text("The bridge reopened on Monday. It took two years.", encoding="utf-8")
    test_set = tmp_path / "set.jsonl"
    test_set.write_text('{"question": "When did the bridge reopen?", "answers": ["Monday"], "document": "a.txt"}\n')
    done = run_cli("eval", str(test_set), "--library", str(article), "--index-dir", str(folder), home=tmp_path)
    assert done.returncode == 1 and "holds other files" in done.stderr and done.stderr.count("\n") == 1
    assert snapshot(folder) == before


@pytest.mark.parametrize("name", ["model", "checkpoint", "best", "model.old", "checkpoint.tmp"])
def test_train_reader_never_replaces_a_folder_it_did_not_write(tmp_path: Path, name: str) -> None:
    from qa.errors import ConfigError
    from qa.train.trainer import MARK, check_training_folder

    folder = tmp_path / "project"
    (folder / name).mkdir(parents=True)
    (folder / name / "config.json").write_bytes(b'{"mine": true}')
    (folder / "notes.txt").write_bytes(b"my notes\n")
    before = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=f"holds {name} and is not a folder qa train-reader wrote"):
        check_training_folder(folder)
    data = tmp_path / "train.json"
    data.write_text('{"version": "v2.0", "data": []}', encoding="utf-8")
    done = run_cli("train-reader", "--data", str(data), "--out", str(folder), home=tmp_path)
    assert (
        done.returncode == 1 and done.stderr.count("\n") == 1 and "is not a folder qa train-reader wrote" in done.stderr
    )
    assert {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    # New, empty, holding only other files (a log beside the run), or marked by an earlier run: fine.
    check_training_folder(tmp_path / "new")
    check_training_folder(tmp_path)
    only_log = tmp_path / "run"
    only_log.mkdir()
    (only_log / "train.log").write_text("started\n", encoding="utf-8")
    check_training_folder(only_log)
    (folder / MARK).write_text('{"written_by": "qa train-reader"}\n', encoding="utf-8")
    check_training_folder(folder)
    (folder / MARK).write_text("{}", encoding="utf-8")  # a file of that name is not the mark
    with pytest.raises(ConfigError):
        check_training_folder(folder)
