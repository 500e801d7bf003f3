"""The evaluation plot: where confidence separates right from wrong, and where to set the threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CurvePoint:
    """The metrics at one abstention threshold (plain numbers: this module knows no evaluation types)."""

    threshold: float
    f1: float
    has_ans_f1: float
    no_ans_accuracy: float
    citation_accuracy: float


def plot_report(
    *,
    title: str,
    threshold: float,
    right: Sequence[float],
    wrong: Sequence[float],
    unanswerable: Sequence[float],
    curve: Sequence[CurvePoint],
    path: Path,
) -> None:
    """Save a PNG: confidence histograms (left) and metrics against the threshold (right).

    Args:
        title: The figure's title.
        threshold: The abstention threshold in use (a dashed line).
        right: Confidences of answerable questions whose citation was right.
        wrong: ... whose citation was wrong.
        unanswerable: Confidences of unanswerable questions.
        curve: Metrics over a range of thresholds.
        path: Where the PNG goes.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    thresholds = [p.threshold for p in curve]

    fig, (left, right_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    bins = [i / 20 for i in range(21)]
    left.hist(
        [right, wrong, unanswerable],
        bins=bins,
        label=[
            f"answerable, right citation ({len(right)})",
            f"answerable, wrong citation ({len(wrong)})",
            f"unanswerable ({len(unanswerable)})",
        ],
        color=["#2a9d8f", "#e76f51", "#8d99ae"],
        stacked=False,
    )
    left.axvline(threshold, color="black", linestyle="--", label="threshold")
    left.set_xlabel("confidence")
    left.set_ylabel("questions")
    left.set_title("Confidence by outcome")
    left.legend(fontsize=8)

    right_ax.plot(thresholds, [p.f1 for p in curve], label="F1 (all)", color="black")
    right_ax.plot(thresholds, [p.has_ans_f1 for p in curve], label="HasAns F1", color="#2a9d8f")
    right_ax.plot(thresholds, [p.no_ans_accuracy for p in curve], label="NoAns accuracy", color="#8d99ae")
    right_ax.plot(thresholds, [p.citation_accuracy for p in curve], label="citation accuracy", color="#e9c46a")
    right_ax.axvline(threshold, color="black", linestyle="--", label="threshold")
    right_ax.set_xlabel("abstention threshold")
    right_ax.set_ylim(0, 1.02)
    right_ax.set_title("Metrics against the abstention threshold")
    right_ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
