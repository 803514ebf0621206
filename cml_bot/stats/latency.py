"""The latency ratio of two models timed together: candidate / baseline, with an interval.

Both models are timed in one process, in interleaved rounds on the same rows
(:mod:`cml_bot.ml.latency`); each round gives each model one figure (its median milliseconds per
row). The rounds pair the two: a slow moment of the machine slows both. The ratio is the
geometric mean of the per-round ratios, and its interval is the Student-t interval of the mean
log ratio, exponentiated (the log makes "twice as slow" and "half as slow" symmetric and the
per-round ratios close to normal). Assumed: rounds independent given the machine's state.
Pure: numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cml_bot.stats.intervals import _t


@dataclass(frozen=True)
class LatencyRatio:
    """Candidate / baseline time per row, from rounds timed together."""

    ratio: float  # geometric mean of the per-round ratios
    ci_low: float  # NaN: fewer than 2 rounds
    ci_high: float
    confidence: float
    rounds: int
    candidate_ms: float  # median over the rounds of each round's median ms per row
    baseline_ms: float
    rows: int = 0  # rows timed per round
    round_ratios: list[float] = field(default_factory=list)

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    @property
    def noise(self) -> bool:
        """The interval includes 1: these rounds cannot tell the two speeds apart."""
        return not self.has_interval or self.ci_low <= 1.0 <= self.ci_high

    def to_json(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "noise": self.noise,
            "rounds": self.rounds,
            "rows": self.rows,
            "candidate_ms": self.candidate_ms,
            "baseline_ms": self.baseline_ms,
            "round_ratios": list(self.round_ratios),
        }


def latency_ratio(
    candidate_ms: Sequence[float],
    baseline_ms: Sequence[float],
    *,
    confidence: float = 0.95,
    rows: int = 0,
) -> LatencyRatio:
    """The ratio and its t interval on the log scale from paired rounds (same length, > 0)."""
    c = np.asarray(candidate_ms, dtype=float)
    b = np.asarray(baseline_ms, dtype=float)
    if c.shape != b.shape or c.ndim != 1 or c.size == 0:
        raise ValueError("latency_ratio needs one candidate and one baseline time per round")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(b)) and np.all(c > 0) and np.all(b > 0)):
        raise ValueError("latency_ratio needs positive, finite times")
    logs = np.log(c / b)
    mean = float(np.mean(logs))
    lo = hi = math.nan
    if logs.size >= 2:
        half = _t(confidence, logs.size - 1) * float(np.std(logs, ddof=1)) / math.sqrt(logs.size)
        lo, hi = math.exp(mean - half), math.exp(mean + half)
    return LatencyRatio(
        ratio=math.exp(mean),
        ci_low=lo,
        ci_high=hi,
        confidence=confidence,
        rounds=int(logs.size),
        candidate_ms=float(np.median(c)),
        baseline_ms=float(np.median(b)),
        rows=rows,
        round_ratios=[float(x) for x in np.exp(logs)],
    )
