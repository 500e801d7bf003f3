"""Training the reader: features with exact offsets, negatives, a tiny real training run, resume, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.train.features import (
    Example,
    build_features,
    document_negatives,
    label_window,
    load_squad_paragraphs,
    outside_negatives,
    sentence_negatives,
)

CONTEXT = (
    "The harbour bridge in Velmora reopened on Monday after two years of repairs. "
    "Engineer Dana Whitcombe said the new cables would last a century. "
    "The mayor, Ines Alvarado, cut the ribbon at noon."
)
OTHER = "Velmora's market opens on Saturdays. Fishermen sell their catch before dawn."
QUESTIONS = [
    ("When did the bridge reopen?", "Monday"),
    ("Who said the cables would last a century?", "Dana Whitcombe"),
    ("How long would the new cables last?", "a century"),
    ("Who cut the ribbon?", "Ines Alvarado"),
    ("When was the ribbon cut?", "at noon"),
    ("How long did the repairs take?", "two years"),
]


def squad_file(path: Path, *, unanswerable: bool = True) -> Path:
    qas = [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": CONTEXT.index(a)}]}
        for i, (q, a) in enumerate(QUESTIONS)
    ]
    if unanswerable:
        qas.append({"id": "u1", "question": "Who built the bridge?", "answers": [], "is_impossible": True})
    other = {
        "id": "o1",
        "question": "When does the market open?",
        "answers": [{"text": "on Saturdays", "answer_start": OTHER.index("on Saturdays")}],
    }
    data = {
        "version": "v2.0",
        "data": [
            {"title": "Velmora", "paragraphs": [{"context": CONTEXT, "qas": qas}, {"context": OTHER, "qas": [other]}]}
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokenizer(tiny_qa_model: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_qa_model)


def test_answer_tokens_map_back_to_the_exact_characters(tokenizer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    examples = load_squad_paragraphs(squad_file(tmp_path / "t.json"))
    features = build_features(tokenizer, examples, max_length=64, stride=16)
    checked = 0
    for i in range(len(features)):
        example = examples[features.example_index[i]]
        start, end = features.start_positions[i], features.end_positions[i]
        if (start, end) == (0, 0):
            continue
        first, last = features.offsets[i][start], features.offsets[i][end]
        assert first is not None and last is not None
        assert example.context[first[0] : last[1]] == example.answer_text
        checked += 1
    assert checked >= len(QUESTIONS)  # every answer is labelled in at least one window


def test_answerless_windows_and_unanswerable_questions_point_at_cls(tokenizer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    examples = load_squad_paragraphs(squad_file(tmp_path / "t.json"))
    features = build_features(tokenizer, examples, max_length=40, stride=8)  # many short windows
    by_example: dict[int, list[tuple[int, int]]] = {}
    for i in range(len(features)):
        by_example.setdefault(features.example_index[i], []).append(
            (features.start_positions[i], features.end_positions[i])
        )
    unanswerable = next(i for i, e in enumerate(examples) if not e.answerable)
    assert set(by_example[unanswerable]) == {(0, 0)}
    # an answerable question over a context cut into several windows: some windows lack its answer
    assert any((0, 0) in labels and any(lab != (0, 0) for lab in labels) for labels in by_example.values())


def test_a_window_that_cuts_the_answer_points_at_cls() -> None:
    example = Example("x", "a", "q", "alpha beta gamma", 6, "beta gamma")
    assert label_window(example, [None, (0, 5), (6, 10), None]) == (0, 0)  # "gamma" is not in this window
    assert label_window(example, [None, (0, 5), (6, 10), (11, 16), None]) == (2, 3)


def test_document_negatives_come_from_other_paragraphs_of_the_same_article(tmp_path: Path) -> None:
    examples = load_squad_paragraphs(squad_file(tmp_path / "t.json"))
    negatives = document_negatives(examples, 1.0, seed=0)
    assert negatives and all(not n.answerable for n in negatives)
    assert {n.context for n in negatives if n.question != "When does the market open?"} == {OTHER}
    assert document_negatives(examples, 1.0, seed=0) == negatives  # seeded


def test_on_topic_negatives_drop_the_answers_sentence_and_never_keep_its_text(tmp_path: Path) -> None:
    examples = [e for e in load_squad_paragraphs(squad_file(tmp_path / "t.json")) if e.answerable]
    negatives = sentence_negatives(examples, 1.0, seed=0)
    assert negatives and all(not n.answerable and n.id.endswith("/sent") for n in negatives)
    by_id = {e.id: e for e in examples}
    for n in negatives:
        source = by_id[n.id.removesuffix("/sent")]
        assert source.answer_text.lower() not in n.context.lower()  # "on topic, but not said"
        assert n.context in source.context.replace(". ", ". ") or all(
            part in source.context for part in n.context.split(". ")
        )  # what is left is the paragraph's own sentences, in order
    # "Who said the cables would last a century?" -> "Dana Whitcombe": only its sentence goes
    whitcombe = next(n for n in negatives if n.question.startswith("Who said"))
    assert "Velmora reopened" in whitcombe.context and "ribbon" in whitcombe.context
    assert sentence_negatives(examples, 1.0, seed=0) == negatives  # seeded


def test_outside_negatives_pair_questions_with_other_articles() -> None:
    examples = [
        Example("a1", "A", "Who cut the ribbon?", CONTEXT, CONTEXT.index("Ines"), "Ines Alvarado"),
        Example("b1", "B", "When does the market open?", OTHER, OTHER.index("on Saturdays"), "on Saturdays"),
    ]
    negatives = outside_negatives(examples, 1.0, seed=3)
    assert all(not n.answerable and n.context != by.context for n, by in zip(negatives, examples, strict=False))
    assert all(n.article != e.article for n in negatives for e in examples if e.id == n.id.removesuffix("/out"))


def test_capped_windows_keep_every_answer_and_few_empty_windows(tokenizer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    examples = load_squad_paragraphs(squad_file(tmp_path / "t.json"))
    full = build_features(tokenizer, examples, max_length=40, stride=8)
    capped = build_features(tokenizer, examples, max_length=40, stride=8, max_empty_windows=1, chunk=3)
    answer_windows = [(full.example_index[i], full.input_ids[i]) for i in range(len(full)) if full.start_positions[i]]
    kept = [(capped.example_index[i], capped.input_ids[i]) for i in range(len(capped)) if capped.start_positions[i]]
    assert kept == answer_windows  # chunked or not, every window holding an answer stays, in order
    empty: dict[int, int] = {}
    for i in range(len(capped)):
        if capped.start_positions[i] == 0:
            empty[capped.example_index[i]] = empty.get(capped.example_index[i], 0) + 1
    assert max(empty.values()) == 1 and len(capped) < len(full)
    assert build_features(tokenizer, examples, max_length=40, stride=8, with_offsets=False).offsets[0] == []


@pytest.mark.slow
def test_recovered_weights_reproduce_the_int8_export(tiny_qa_model: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering

    from qa.train.export import export_reader
    from qa.train.recover import recover_reader

    # Fresh layer norms are all ones and zeros, and the exporter folds equal tensors into one:
    # perturb them, as training does, so every weight has its own initializer.
    original = AutoModelForQuestionAnswering.from_pretrained(tiny_qa_model).eval()
    with torch.no_grad():
        for p in original.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    original.save_pretrained(tmp_path / "trained")
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_qa_model).save_pretrained(tmp_path / "trained")
    folder = export_reader(tmp_path / "trained", tmp_path / "int8")
    recovered = recover_reader(folder, tmp_path / "trained", tmp_path / "torch")
    back = AutoModelForQuestionAnswering.from_pretrained(recovered).eval()
    ids = torch.tensor([[2, 10, 11, 3, 12, 13, 14, 15, 16, 3]])
    with torch.no_grad():
        a, b = original(input_ids=ids).start_logits[0].numpy(), back(input_ids=ids).start_logits[0].numpy()
    assert np.corrcoef(a, b)[0, 1] > 0.99  # int8 rounding, nothing more
    fresh = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "trained").state_dict()
    query = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(back.state_dict()[query], fresh[query])  # rounded to int8: read from the graph
    assert torch.allclose(back.state_dict()[query], fresh[query], atol=0.01)


@pytest.mark.slow
def test_tiny_training_run_learns_saves_resumes_and_exports(tiny_qa_model: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForQuestionAnswering

    from qa.readers.extractive import ExtractiveReader, OnnxQAModel
    from qa.train.export import export_reader
    from qa.train.trainer import DataSpec, TrainConfig, train

    data = squad_file(tmp_path / "train.json")
    config = TrainConfig(
        data=(DataSpec(str(data)),),
        base_model=str(tiny_qa_model),
        max_length=64,
        stride=16,
        batch_size=4,
        epochs=40,
        learning_rate=3e-3,
        warmup=0.1,
        negatives=0.5,
        checkpoint_every=20,
        bf16=False,
    )
    full = train(config, tmp_path / "full", show_progress=False)
    curve = full["dev_curve"]
    assert curve[-1]["loss"] < 0.5 * curve[0]["loss"]  # it learns
    assert full["data"]["files"][0]["questions_used"] == len(QUESTIONS) + 2

    # Interrupted after 40 steps, then resumed: the same weights as the run that never stopped.
    train(config, tmp_path / "split", show_progress=False, max_steps=40)
    resumed = train(config, tmp_path / "split", show_progress=False, resume=True)
    assert resumed["steps"] == full["steps"]
    a = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "full" / "model").state_dict()
    b = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "split" / "model").state_dict()
    assert all(np.allclose(a[k].numpy(), b[k].numpy(), atol=1e-5) for k in a)

    # Export (fp32 here, so the logits can be compared exactly) and load back through the checksum.
    folder = export_reader(tmp_path / "full" / "model", tmp_path / "reader", quantize=False)
    reader = ExtractiveReader.from_folder(folder)
    assert isinstance(reader.model, OnnxQAModel)
    import torch

    model = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "full" / "model").eval()
    ids = np.array([[2, 10, 11, 3, 12, 13, 14, 3]], dtype=np.int64)
    mask, types = np.ones_like(ids), np.array([[0, 0, 0, 0, 1, 1, 1, 1]], dtype=np.int64)
    onnx_start, _ = reader.model.logits(ids, mask, types)
    with torch.no_grad():
        ref = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.from_numpy(types),
        )
    assert np.allclose(onnx_start, ref.start_logits.numpy(), atol=1e-4)
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    assert record["steps"] == full["steps"] and record["windows_per_second"] > 0
