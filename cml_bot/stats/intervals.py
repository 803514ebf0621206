"""Interval helpers shared by the methods of :mod:`cml_bot.stats.engine`.

Normal and Student-t quantiles, the percentile and normal intervals of resampled paired
differences, and the block size that bounds the memory of one batch of resamples.
Pure: numpy and scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri, stdtrit

from cml_bot.stats.pair import _Undefined

_BLOCK = 1 << 21  # elements per (resamples x rows) block held at once


def _z(confidence: float) -> float:
    return float(ndtri(0.5 + confidence / 2))


def _t(confidence: float, df: int) -> float:
    return float(stdtrit(df, 0.5 + confidence / 2))


def _percentile_ci(diffs: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = diffs[np.isfinite(diffs)]
    if ok.size == 0 or ok.size < 0.5 * diffs.size:
        raise _Undefined("the metric is undefined in most resamples")
    lo, hi = np.percentile(ok, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi)


def _normal_ci(delta: float, diffs: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = diffs[np.isfinite(diffs)]
    if ok.size < max(2, 0.5 * diffs.size):
        raise _Undefined("the metric is undefined in most resamples")
    half = _z(confidence) * float(np.std(ok, ddof=1))
    return delta - half, delta + half
