"""The calibration's arithmetic: weights per kind and source, the threshold rule, the strict SQuAD point."""

from __future__ import annotations

import numpy as np
import pytest

from qa.train.calibrate import MIX, Observation, choose_threshold, fit, kind_scores, mix_weights, utility


def observations() -> list[Observation]:
    """Answerable questions with high margins (mostly right), unanswerable ones with low margins."""
    rng = np.random.default_rng(0)
    made: list[Observation] = []
    for source, n in (("squad.json", 200), ("policy.json", 40)):
        for m in rng.normal(4.0, 2.0, n):
            right = bool(m > 1.5)
            made.append(Observation(f"{source}-a", "answerable", source, float(m), right, 1.0 if right else 0.2))
    made += [
        Observation("squad.json-a", "close", "squad.json", float(m), False, 0.0) for m in rng.normal(1.0, 2.0, 200)
    ]
    made += [
        Observation("policy.json-a", "outside", "policy.json", float(m), False, 0.0) for m in rng.normal(-4.0, 1.0, 80)
    ]
    return made


def test_each_kind_gets_its_share_and_each_source_the_same_within_it() -> None:
    made = observations()
    weights = mix_weights(made)
    assert weights.sum() == pytest.approx(1.0)
    for kind, share in MIX.items():
        assert weights[[o.kind == kind for o in made]].sum() == pytest.approx(share)
    squad = weights[[o.kind == "answerable" and o.source == "squad.json" for o in made]].sum()
    policy = weights[[o.kind == "answerable" and o.source == "policy.json" for o in made]].sum()
    assert squad == pytest.approx(policy)  # 200 questions weigh what 40 do


def test_the_threshold_is_the_lowest_near_the_best_and_the_strict_point_refuses_more() -> None:
    made = observations()
    result = fit(made)
    confidences = result["confidences"]
    best = max(utility(kind_scores(made, confidences, t), MIX) for t in np.linspace(0.01, 0.95, 95))
    chosen = utility(kind_scores(made, confidences, result["threshold"]), MIX)
    assert chosen >= best - 0.002
    assert all(
        utility(kind_scores(made, confidences, t), MIX) < best - 0.002
        for t in np.linspace(0.01, 0.95, 95)
        if t < result["threshold"] - 1e-9
    )
    # SQuAD 2.0's half-unanswerable, close-to-the-text mix asks for a stricter point
    assert result["figures"]["strict_squad2_threshold"] > result["threshold"]
    # a higher margin is a higher confidence, and the outside questions are refused at the default
    assert result["calibration"].slope > 0 and result["figures"]["at_threshold"]["outside_refused"] > 0.95
    assert choose_threshold(made, confidences) == result["threshold"]
