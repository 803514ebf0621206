"""Paired statistics for metric deltas (candidate minus baseline) on the same evaluation rows.

Pure: numpy/scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PairedDelta:
    """One metric compared on the same rows. Values are in the metric's natural units."""

    metric: str  # scorer name, e.g. "roc_auc", "neg_mean_squared_error"
    baseline: float
    candidate: float
    delta: float  # candidate - baseline (NaN when either value is undefined)
    ci_low: float
    ci_high: float
    significant: bool  # the interval excludes 0
    method: str  # "joint-counts bootstrap" | "paired DeLong" | "paired mean" | "delta method" | "bootstrap"
    n_rows: int
    confidence: float = 0.95

    @property
    def improved(self) -> bool | None:
        """True/False for a significant improvement/regression (direction from the metric), None otherwise."""
        from cml_bot.metrics import METRICS

        if not self.significant:
            return None
        greater = METRICS[self.metric].greater_is_better
        return (self.delta > 0) == greater
