"""Does a match score mean what it says? Expected calibration error, the reliability curve and plateaus.

A score is *calibrated* when, among pairs scored about ``p``, a share ``p`` succeeds. The pairs are sorted
by score and cut into bins of equal count (equal mass), so every bin holds enough pairs to estimate its
observed share; pairs with the same score always share a bin (their order would otherwise decide which bin
they fall in). The expected calibration error is the count-weighted mean gap between a bin's mean score and
its observed share.

A *plateau* is a run of equal scores in a ranked list: their order is then decided by something other than
the score (row order, a tie-break), and a reader cannot tell them apart. ``tie_share`` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

CALIBRATION_BINS = 10
TOP_LIST = 20  # a ranked list as a page shows it


@dataclass(frozen=True)
class Calibration:
    """Reliability of scores against outcomes, per equal-mass bin (ascending score).

    Attributes
    ----------
    ece
        Expected calibration error: ``sum(count * |predicted - observed|) / sum(count)``.
    predicted, observed, count
        Per bin: the mean score, the share of pairs that succeeded, and how many pairs.
    """

    ece: float
    predicted: np.ndarray
    observed: np.ndarray
    count: np.ndarray

    @property
    def pairs(self) -> int:
        return int(self.count.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ece": self.ece,
            "pairs": self.pairs,
            "predicted": self.predicted.tolist(),
            "observed": self.observed.tolist(),
            "count": self.count.tolist(),
        }


def equal_mass_bins(scores: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """Bin number (0 = lowest scores) of each score: ``bins`` bins of about equal count, ties kept together.

    A run of equal scores that straddles a boundary goes whole into the bin where it starts, so there
    may be fewer than ``bins`` bins (one, for a constant score); the numbers are consecutive from 0.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    chunk = (np.arange(n) * max(int(bins), 1)) // n
    _, first, inverse = np.unique(ordered, return_index=True, return_inverse=True)
    chunk = chunk[first][inverse]  # every score in the chunk of its value's first occurrence
    _, chunk = np.unique(chunk, return_inverse=True)  # consecutive numbers
    out = np.empty(n, dtype=np.int64)
    out[order] = chunk
    return out


def calibration(scores: np.ndarray, outcomes: np.ndarray, bins: int = CALIBRATION_BINS) -> Calibration:
    """The reliability curve and expected calibration error of ``scores`` against 0/1 ``outcomes``."""
    scores = np.asarray(scores, dtype=np.float64)
    outcomes = np.asarray(outcomes, dtype=np.float64)
    if scores.shape != outcomes.shape:
        raise ValueError(f"scores {scores.shape} and outcomes {outcomes.shape} differ in shape")
    if len(scores) == 0:
        empty = np.zeros(0)
        return Calibration(float("nan"), empty, empty, np.zeros(0, dtype=np.int64))
    which = equal_mass_bins(scores, bins)
    count = np.bincount(which)
    predicted = np.bincount(which, weights=scores) / count
    observed = np.bincount(which, weights=outcomes) / count
    ece = float(np.sum(count * np.abs(predicted - observed)) / count.sum())
    return Calibration(ece, predicted, observed, count)


def reliability(
    prob: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted, observed positive share, count) per equal-mass bin of ``prob``."""
    result = calibration(prob, labels, bins)
    return result.predicted, result.observed, result.count


def tie_counts(lists: Iterable[np.ndarray], top: int = TOP_LIST) -> tuple[int, int]:
    """(adjacent equal scores, adjacent pairs) over the first ``top`` scores of each ranked list."""
    ties = pairs = 0
    for scores in lists:
        head = np.asarray(scores, dtype=np.float64)[:top]
        if len(head) > 1:
            ties += int(np.sum(head[1:] == head[:-1]))
            pairs += len(head) - 1
    return ties, pairs


def tie_share(lists: Iterable[np.ndarray], top: int = TOP_LIST) -> float:
    """Share of adjacent positions with exactly equal scores in the top ``top`` of each list (0 if none)."""
    ties, pairs = tie_counts(lists, top)
    return ties / pairs if pairs else 0.0
