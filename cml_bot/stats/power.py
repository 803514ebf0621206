"""What an evaluation set can detect: the minimum detectable difference of a paired interval.

With a two-sided test at level ``1 - confidence`` and a standard error ``se`` of the paired
difference, a true difference of ``(z_{1-a/2} + z_{power}) * se`` is detected with probability
``power`` (the normal approximation); smaller differences cannot be told from noise with these
rows. The standard error is read back from an interval's width (``(high - low) / (2 z)``), so
it is the paired, and for groups the cluster-robust, one. Pure: no formatting (the report words
it). scipy only.
"""

from __future__ import annotations

import math

from scipy.special import ndtri

DEFAULT_POWER = 0.8


def standard_error(ci_low: float, ci_high: float, confidence: float) -> float:
    """The standard error an interval of this width implies; NaN for an undefined interval."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return math.nan
    return (ci_high - ci_low) / (2 * float(ndtri(0.5 + confidence / 2)))


def detectable_difference(
    se: float, confidence: float = 0.95, power: float = DEFAULT_POWER
) -> float:
    """The smallest difference (absolute, metric units) detected with probability ``power`` by a
    two-sided test at level ``1 - confidence``; NaN when ``se`` is unknown."""
    if not 0.0 < confidence < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("confidence and power must be between 0 and 1")
    if not math.isfinite(se) or se < 0:
        return math.nan
    return (float(ndtri(0.5 + confidence / 2)) + float(ndtri(power))) * se
