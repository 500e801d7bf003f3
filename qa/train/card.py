"""The model card (README.md) and licence note of a reader folder, written from its own records.

Everything in the card comes from files in the folder: ``training.json`` (what
``qa train-reader`` did), ``settings.json`` (calibration and threshold), and
``evaluation.json`` when present (``scripts/evaluate_reader.py`` writes it), so
the card can never disagree with the model it describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LICENCE = """\
Licence of these weights
========================

The weights in model.onnx were fine-tuned from sentence-transformers/all-MiniLM-L6-v2
(Apache-2.0; itself from microsoft/MiniLM-L12-H384-uncased, MIT) on the data listed in
README.md:

- SQuAD v1.1 and SQuAD v2.0 (Rajpurkar et al. 2016, 2018): CC BY-SA 4.0
- SQuADShifts, Reddit and Amazon (Miller et al. 2020): CC BY 4.0
- QED over Natural Questions (Lamm et al. 2021): CC BY-SA 3.0

Because part of the training data is CC BY-SA, these weights are shared under
CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/), with attribution to
the datasets above. The code that trained and runs them is MIT (see the project).
tokenizer.json is all-MiniLM-L6-v2's WordPiece tokenizer (Apache-2.0).
"""


def _read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return {}


def write_card(folder: str | Path) -> Path:
    """Write README.md and LICENSE.txt into a reader folder; return the card's path."""
    root = Path(folder)
    training = _read(root / "training.json")
    settings = _read(root / "settings.json")
    evaluation = _read(root / "evaluation.json")
    config = training.get("config", {})
    lines = [
        "# minilm-squad: the assistant's extractive reader",
        "",
        "A 6-layer, 384-wide BERT (all-MiniLM-L6-v2) fine-tuned for extractive question answering with",
        "SQuAD 2.0-style no-answer ([CLS]), exported to ONNX with int8 weights (onnxruntime dynamic",
        "quantisation, per channel). It reads `[CLS] question [SEP] passage [SEP]` windows and scores every",
        "span; `qa/readers/extractive.py` runs it. Licence: CC BY-SA 4.0 (LICENSE.txt).",
        "",
        "## Files",
        "",
        "| file | sha256 (checked on load) |",
        "|---|---|",
        *[f"| `{name}` | `{digest}` |" for name, digest in settings.get("sha256", {}).items()],
        "| `settings.json` | window sizes, calibration, threshold |",
        "| `training.json` | the full training record |",
        "",
    ]
    if training:
        lines += [
            "## Training",
            "",
            f"- Command: `qa train-reader` (this project), {training.get('steps')} steps of "
            f"{config.get('batch_size')} windows, {config.get('epochs')} epoch(s), seed {config.get('seed')}"
            + (
                f"; {training['windows_trained']} windows trained, stopped at step {training['steps']} of "
                f"{training['scheduled_steps']} (`--resume` finishes the schedule)"
                if training.get("finished") is False
                else ""
            )
            + ".",
            f"- Windows: {config.get('max_length')} tokens, stride {config.get('stride')}; "
            f"{training.get('windows')} windows from {training.get('examples')} examples "
            f"({training.get('data', {}).get('document_negatives')} of them document-level negatives: the question "
            "with another paragraph of its article, labelled no-answer"
            + (
                f"; {training['data']['sentence_negatives']} on-topic negatives: the question with its own paragraph "
                "minus the sentence(s) holding the answer, kept only where the answer's text occurs nowhere in what "
                f"is left; {training['data'].get('outside_negatives')} out-of-document negatives: a paragraph of "
                "another article"
                if training.get("data", {}).get("sentence_negatives") is not None
                else ""
            )
            + ")."
            + (
                f" At most {config['max_empty_windows']} no-answer windows kept per question (long documents)."
                if config.get("max_empty_windows") is not None
                else ""
            ),
            *([f"- Started from: {training['started_from']}."] if training.get("started_from") else []),
            f"- AdamW, learning rate {config.get('learning_rate')}, weight decay {config.get('weight_decay')}, "
            f"linear warm-up over {config.get('warmup')} of the steps then linear decay, gradient clipping at "
            f"{config.get('max_grad_norm')}; bf16 autocast: {training.get('bf16')}.",
            f"- Machine: {training.get('machine')}; device {training.get('device')}.",
            (f"- Wall time {training.get('wall_seconds')} s (" if training.get("wall_seconds") else "- (")
            + f"training loop {training.get('train_seconds')} s, {training.get('windows_per_second')} windows/s).",
            "",
            "| data file | md5 | questions used | of them unanswerable | questions in file |",
            "|---|---|---|---|---|",
            *[
                f"| `{f['file']}` | `{f['md5']}` | {f['questions_used']} | {f['unanswerable_used']} | "
                f"{f['questions_in_file']} |"
                for f in training.get("data", {}).get("files", [])
            ],
            "",
            "Held out (never trained on; the dev curve below and the calibration use them): "
            + ", ".join(f"`{a}`" for a in training.get("data", {}).get("held_out_articles", []))
            + f" ({training.get('data', {}).get('held_out_questions')} questions). Never used for training: "
            "`squad2-dev-2articles.json`, the project's `tests/data/*` and the bundled article.",
            "",
            "Dev curve (paragraph level, held-out questions, no-answer when the best span's margin over [CLS] "
            "is not positive; `loss` is the training loss around that step):",
            "",
            "| step | loss | dev F1 | dev HasAns F1 | dev NoAns accuracy | seconds |",
            "|---|---|---|---|---|---|",
            *[
                f"| {p.get('step')} | {p.get('loss')} | {p.get('f1')} | {p.get('has_ans_f1')} | "
                f"{p.get('no_ans_acc')} | {p.get('seconds')} |"
                for p in training.get("dev_curve", [])
            ],
            "",
        ]
    calibration = settings.get("calibration", {})
    figures = settings.get("calibration_figures", {})
    lines += [
        "## Confidence and threshold",
        "",
        f"Confidence = sigmoid({calibration.get('slope', 1.0):.4f} x margin + {calibration.get('intercept', 0.0):.4f}),"
        " where margin = best span score - its window's [CLS] score: the probability that the answer is right"
        " (F1 >= 0.5), fitted by logistic regression on held-out articles asked document-level, as the"
        f" assistant asks them (`qa calibrate-reader`). Abstention threshold: {settings.get('threshold')}.",
        "",
    ]
    if "mix" in figures:
        mix = figures["mix"]
        at = figures.get("at_threshold", {})
        questions = figures.get("questions", {})
        lines += [
            "Calibration set: "
            + ", ".join(f"`{a}`" for a in figures.get("articles", []))
            + " (from "
            + ", ".join(f"`{s}`" for s in figures.get("sources", []))
            + f"): {questions.get('answerable')} answerable questions, {questions.get('outside')} out-of-document "
            f"questions (other held-out articles' questions asked of each article) and {questions.get('close')} "
            "SQuAD 2.0 unanswerable questions (close to the text).",
            "",
            f"Assumed mix of what people ask: answerable {mix.get('answerable')}, out-of-document "
            f"{mix.get('outside')}, close to the text {mix.get('close')}; within a kind each source counts the same. "
            f"The fit weights each kind by its share. Rule: {figures.get('rule')}.",
            "",
            f"At the threshold: answerable F1 {at.get('answerable_f1')}, out-of-document refused "
            f"{at.get('outside_refused')}, close-to-the-text refused {at.get('close_refused')}; F1 over the mix "
            f"{at.get('mix_f1')}. The strict SQuAD 2.0 point (best F1 on the SQuAD articles alone, half unanswerable): "
            f"threshold {figures.get('strict_squad2_threshold')}, F1 {figures.get('squad2_f1_at_strict')} there "
            f"(F1 {figures.get('squad2_f1_at_threshold')} at the default). AUC of right against wrong, answerable "
            f"alone and with each unanswerable kind: {figures.get('auc')}; leave-one-article-out log loss "
            f"{figures.get('leave_one_article_out_log_loss')}.",
            "",
        ]
    elif figures:
        lines += [
            f"Fitted on {figures.get('questions')} questions ({figures.get('answerable')} answerable) of "
            + ", ".join(f"`{a}`" for a in figures.get("articles", []))
            + f": F1 at the threshold {figures.get('f1_at_threshold')}, at margin 0 {figures.get('f1_at_margin_0')};"
            f" AUC {figures.get('auc')}; leave-one-article-out log loss "
            f"{figures.get('leave_one_article_out_log_loss')}.",
            "",
        ]
    judge = settings.get("judge")
    if judge:
        judged = settings.get("judge_figures", {})
        weights = ", ".join(f"{n} {w:+.2f}" for n, w in zip(judge["features"], judge["weights"], strict=True))
        lines += [
            "## The judge (confidence at library scale)",
            "",
            "The confidence the assistant reports is the judge's: a logistic model over the margin and signals of"
            " the question, the passage, its document and the retrieval (`qa/readers/judge.py`), fitted on the fit"
            " part of the library benchmark (held-out articles asked of their own article and of a library of"
            " 471 documents; questions from "
            + ", ".join(f"`{x}`" for x in judged.get("sources", []))
            + f"; `{judged.get('command')}`). Weights on"
            f" standardised signals: {weights}; intercept {judge['intercept']:+.2f}. Threshold"
            f" {settings.get('threshold')} by the rule: {judged.get('rule')}. Margin-only threshold before:"
            f" {judged.get('margin_threshold')}. At the threshold, on the fit part: {judged.get('at_threshold')}.",
            "",
        ]
    if evaluation:
        lines += ["## Evaluation", "", *evaluation.get("markdown", []), ""]
    (root / "LICENSE.txt").write_text(LICENCE, encoding="utf-8")
    card = root / "README.md"
    card.write_text("\n".join(lines), encoding="utf-8")
    return card
