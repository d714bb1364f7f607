"""Detection metrics against hand-computed values and the known cases: perfect, inverted, ties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from unmask.evaluation import (
    at_threshold,
    auc,
    expected_calibration_error,
    roc_curve,
    summarise,
    tpr_at_fpr,
)


def pairwise_auc(labels: list[int], scores: list[float]) -> float:
    """The definition: share of (fake, real) pairs where the fake scores higher, ties half."""
    fakes = [s for y, s in zip(labels, scores, strict=True) if y == 1]
    reals = [s for y, s in zip(labels, scores, strict=True) if y == 0]
    wins = sum(1.0 if f > r else 0.5 if f == r else 0.0 for f, r in itertools.product(fakes, reals))
    return wins / (len(fakes) * len(reals))


def test_auc_of_a_perfect_ranking_is_one_and_of_an_inverted_one_zero():
    labels = [0, 0, 0, 1, 1]
    assert auc(labels, [0.1, 0.2, 0.3, 0.8, 0.9]) == 1.0
    assert auc(labels, [0.9, 0.8, 0.7, 0.2, 0.1]) == 0.0


def test_auc_counts_ties_as_one_half():
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    # fake 0.5 vs reals (0.1, 0.5): 1 + 0.5; fake 0.9: 2; fake 0.2: 1 + 0 -> 4.5 of 6 pairs
    assert auc([0, 0, 1, 1, 1], [0.1, 0.5, 0.5, 0.9, 0.2]) == pytest.approx(0.75)


def test_auc_matches_the_pairwise_definition_on_random_scores_with_many_ties():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300).tolist()
    scores = (rng.integers(0, 12, 300) / 11).tolist()
    assert auc(labels, scores) == pytest.approx(pairwise_auc(labels, scores), abs=1e-12)


def test_auc_is_undefined_without_both_classes():
    assert auc([1, 1], [0.2, 0.9]) is None
    assert auc([], []) is None


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="labels"):
        auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="2 labels but 1 scores"):
        auc([0, 1], [0.1])


def test_roc_curve_has_one_point_per_distinct_score_from_origin_to_corner():
    fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thresholds.tolist() == [np.inf, 0.8, 0.4, 0.35, 0.1]
    # a tie between a real and a fake moves diagonally, in one step
    fpr, tpr, _ = roc_curve([0, 1], [0.5, 0.5])
    assert fpr.tolist() == [0.0, 1.0] and tpr.tolist() == [0.0, 1.0]


def test_tpr_at_fpr_is_the_best_rate_a_threshold_actually_reaches():
    labels = [0] * 20 + [1] * 10
    reals = [i / 100 for i in range(20)]  # 0.00 .. 0.19
    fakes = [0.185, 0.5, 0.6, 0.7, 0.8, 0.9, 0.05, 0.06, 0.07, 0.08]
    scores = reals + fakes
    # 5 % FPR allows one real of 20: a threshold of 0.185 flags the real 0.19 and 6 fakes;
    # 0.18 would flag a second real.
    assert tpr_at_fpr(labels, scores, 0.05) == pytest.approx(0.6)
    # 1 % FPR = no real flagged: only the fakes above 0.19
    assert tpr_at_fpr(labels, scores, 0.01) == pytest.approx(0.5)
    assert tpr_at_fpr(labels, scores, 1.0) == 1.0


def test_operating_point_counts_score_at_threshold_as_flagged():
    point = at_threshold([0, 0, 1, 1], [0.2, 0.7, 0.7, 0.9], threshold=0.7)
    assert point is not None
    assert point.accuracy == 0.75
    assert point.true_positive_rate == 1.0
    assert point.false_positive_rate == 0.5


def test_ece_by_hand_over_four_predictions_in_four_bins():
    # confidence = max(p, 1 - p): 0.9 right, 0.75 wrong, 0.7 right, 0.62 right
    ece = expected_calibration_error([1, 0, 0, 1], [0.9, 0.75, 0.3, 0.62])
    assert ece == pytest.approx((0.1 + 0.75 + 0.3 + 0.38) / 4)


def test_ece_is_zero_when_confidence_equals_accuracy():
    labels = [1] * 8 + [0] * 2
    assert expected_calibration_error(labels, [0.8] * 10) == pytest.approx(0.0)
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == pytest.approx(0.0)


def test_summary_reports_counts_and_rates():
    metrics = summarise([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5)
    assert (metrics.n, metrics.n_fake, metrics.n_real) == (4, 2, 2)
    assert metrics.auc == 0.75
    assert metrics.operating_point is not None
    assert metrics.operating_point.false_positive_rate == 0.0
    assert metrics.mean_score_fake == pytest.approx(0.575)
    assert metrics.to_dict()["operating_point"]["true_positive_rate"] == 0.5
