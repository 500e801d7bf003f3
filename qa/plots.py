"""The evaluation plot: where confidence separates right from wrong, and where to set the threshold."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.evaluation import Report


def plot_report(report: Report, path: Path) -> None:
    """Save a PNG: confidence histograms (left) and metrics against the threshold (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    from qa.evaluation import threshold_curve

    right = [r.confidence for r in report.results if r.answerable and r.raw_citation_correct]
    wrong = [r.confidence for r in report.results if r.answerable and not r.raw_citation_correct]
    unanswerable = [r.confidence for r in report.results if not r.answerable]
    curve = threshold_curve(report)
    thresholds = [t for t, _ in curve]

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
    left.axvline(report.metrics.threshold, color="black", linestyle="--", label="threshold")
    left.set_xlabel("confidence")
    left.set_ylabel("questions")
    left.set_title("Confidence by outcome")
    left.legend(fontsize=8)

    right_ax.plot(thresholds, [m.f1 for _, m in curve], label="F1 (all)", color="black")
    right_ax.plot(thresholds, [m.has_ans_f1 for _, m in curve], label="HasAns F1", color="#2a9d8f")
    right_ax.plot(thresholds, [m.no_ans_accuracy for _, m in curve], label="NoAns accuracy", color="#8d99ae")
    right_ax.plot(thresholds, [m.citation_accuracy for _, m in curve], label="citation accuracy", color="#e9c46a")
    right_ax.axvline(report.metrics.threshold, color="black", linestyle="--", label="threshold")
    right_ax.set_xlabel("abstention threshold")
    right_ax.set_ylim(0, 1.02)
    right_ax.set_title("Metrics against the abstention threshold")
    right_ax.legend(fontsize=8)
    fig.suptitle(f"{report.name}: {report.metrics.n} questions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
