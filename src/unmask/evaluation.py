"""Detection metrics over labelled scores: AUC, ROC, operating points, calibration. Pure numpy.

    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75

Labels are 1 for manipulated ("fake") and 0 for unmanipulated ("real"); scores are higher for
"more likely manipulated". Every function returns None where the metric is undefined (a class
is missing) rather than a misleading number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

ECE_BINS = 15
"""Bins of the expected calibration error, as in Guo et al., "On Calibration of Modern Neural
Networks" (ICML 2017), whose temperature scaling calibrates our model."""


def _arrays(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> tuple:
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (real) or 1 (fake)")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers")
    return y, s


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + 1 + end) / 2
    return ranks


def auc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float | None:
    """Area under the ROC curve by the Mann-Whitney U statistic: the probability that a random
    fake scores higher than a random real, ties counting one half. None without both classes."""
    y, s = _arrays(labels, scores)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        return None
    rank_sum = _midranks(s)[y == 1].sum()
    u = rank_sum - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def roc_curve(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(false-positive rates, true-positive rates, thresholds): one point per distinct score,
    flagging score >= threshold, from (0, 0) at threshold +inf to (1, 1). None without both
    classes."""
    y, s = _arrays(labels, scores)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(s_sorted[1:] != s_sorted[:-1]), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    fpr = np.r_[0.0, fp / negatives]
    tpr = np.r_[0.0, tp / positives]
    thresholds = np.r_[np.inf, s_sorted[last_of_tie]]
    return fpr, tpr, thresholds


def tpr_at_fpr(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    max_fpr: float,
) -> float | None:
    """The highest true-positive rate of any threshold whose false-positive rate is at most
    `max_fpr` (no interpolation between ROC points: a rate some threshold actually achieves)."""
    curve = roc_curve(labels, scores)
    if curve is None:
        return None
    fpr, tpr, _ = curve
    return float(tpr[fpr <= max_fpr + 1e-12].max())


@dataclass(frozen=True)
class OperatingPoint:
    """What flagging score >= threshold does on a labelled set."""

    threshold: float
    accuracy: float
    true_positive_rate: float | None
    """Share of fakes flagged; None without fakes."""
    false_positive_rate: float | None
    """Share of reals flagged; None without reals."""


def at_threshold(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, threshold: float
) -> OperatingPoint | None:
    y, s = _arrays(labels, scores)
    if len(y) == 0:
        return None
    flagged = s >= threshold
    fakes, reals = y == 1, y == 0
    return OperatingPoint(
        threshold=float(threshold),
        accuracy=float(np.mean(flagged == fakes)),
        true_positive_rate=float(flagged[fakes].mean()) if fakes.any() else None,
        false_positive_rate=float(flagged[reals].mean()) if reals.any() else None,
    )


def expected_calibration_error(
    labels: Sequence[int] | np.ndarray,
    probabilities: Sequence[float] | np.ndarray,
    bins: int = ECE_BINS,
) -> float | None:
    """Expected calibration error (Guo et al. 2017): each prediction's confidence is the
    probability of the class it predicts, max(p, 1 - p), and its accuracy whether that class is
    right (p >= 0.5 predicts "fake"); over `bins` equal-width confidence bins in [0, 1], the
    mean |accuracy - confidence| weighted by the share of predictions in each bin."""
    y, p = _arrays(labels, probabilities)
    if len(y) == 0:
        return None
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    predicted = (p >= 0.5).astype(np.int64)
    confidence = np.where(predicted == 1, p, 1 - p)
    correct = (predicted == y).astype(np.float64)
    # Bin i holds (i/bins, (i+1)/bins]; confidence 0 joins the first bin.
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            gap = abs(correct[members].mean() - confidence[members].mean())
            total += members.mean() * gap
    return float(total)


@dataclass(frozen=True)
class Metrics:
    """The numbers `unmask eval` reports for one set of scored items."""

    n: int
    n_fake: int
    n_real: int
    auc: float | None
    tpr_at_1pct_fpr: float | None
    tpr_at_5pct_fpr: float | None
    ece: float | None
    operating_point: OperatingPoint | None
    mean_score_fake: float | None
    mean_score_real: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    threshold: float,
) -> Metrics:
    """All metrics of one scored set at the model's `threshold`."""
    y, s = _arrays(labels, scores)
    fakes, reals = s[y == 1], s[y == 0]
    return Metrics(
        n=len(y),
        n_fake=len(fakes),
        n_real=len(reals),
        auc=auc(y, s),
        tpr_at_1pct_fpr=tpr_at_fpr(y, s, 0.01),
        tpr_at_5pct_fpr=tpr_at_fpr(y, s, 0.05),
        ece=expected_calibration_error(y, s),
        operating_point=at_threshold(y, s, threshold),
        mean_score_fake=float(fakes.mean()) if len(fakes) else None,
        mean_score_real=float(reals.mean()) if len(reals) else None,
    )
