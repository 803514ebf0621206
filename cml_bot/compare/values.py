"""The metric values a comparison is made of: both models on their shared rows.

:func:`_align` restricts baseline and candidate to the rows both scored (or says why the
baseline is not comparable); :func:`_value` is one metric (NaN where it cannot be computed) and
:func:`_deltas` the paired deltas of :mod:`cml_bot.stats.engine` (all metrics at once, one by one if
the batch refuses). Pure: the statistics in :mod:`cml_bot.stats.engine` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cml_bot import stats
from cml_bot.stats import PairedDelta, PredictionSet, align


def _value(metric: str, preds: PredictionSet) -> float:
    """The metric, or NaN where it is undefined or cannot be computed on these predictions."""
    try:
        return float(stats.metric_value(metric, preds))
    except (ValueError, ZeroDivisionError, TypeError, IndexError):
        return math.nan


def _paired(
    metric: str,
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float,
    seed: int,
    n_resamples: int,
    groups: np.ndarray | None = None,
) -> PairedDelta:
    try:
        return stats.paired_delta(
            metric,
            baseline,
            candidate,
            confidence=confidence,
            seed=seed,
            n_resamples=n_resamples,
            groups=groups,
        )
    except (ValueError, ZeroDivisionError, TypeError, IndexError):
        b, c = _value(metric, baseline), _value(metric, candidate)
        return PairedDelta(
            metric=metric,
            baseline=b,
            candidate=c,
            delta=c - b,
            ci_low=math.nan,
            ci_high=math.nan,
            significant=False,
            method="unavailable",
            n_rows=len(candidate),
            confidence=confidence,
        )


def _deltas(
    names: list[str],
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float,
    seed: int,
    n_resamples: int,
    groups: np.ndarray | None = None,
) -> list[PairedDelta]:
    """All metrics at once (the statistics share work); one by one if the batch refuses.
    ``groups``: one value per row; rows of a group are resampled together."""
    try:
        return stats.paired_deltas(
            names,
            baseline,
            candidate,
            confidence=confidence,
            seed=seed,
            n_resamples=n_resamples,
            groups=groups,
        )
    except ValueError:
        return [
            _paired(
                n,
                baseline,
                candidate,
                confidence=confidence,
                seed=seed,
                n_resamples=n_resamples,
                groups=groups,
            )
            for n in names
        ]


@dataclass(frozen=True)
class _Aligned:
    candidate: PredictionSet
    baseline: PredictionSet | None
    notes: list[str]
    problem: str | None = None


def _align(candidate: PredictionSet, baseline: PredictionSet | None) -> _Aligned:
    if baseline is None:
        return _Aligned(candidate, None, [])
    try:
        b, c = align(baseline, candidate)
    except ValueError:
        problem = (
            "the baseline's predictions carry different true labels for the same row ids, "
            "so they are not the same evaluation rows"
        )
        return _Aligned(
            candidate,
            None,
            [f"No comparable baseline: {problem}; relative gates were not evaluated."],
            problem,
        )
    if len(c) == 0:
        problem = "the baseline's predictions share no row ids with the candidate's"
        return _Aligned(
            candidate,
            None,
            [f"No comparable baseline: {problem}; relative gates were not evaluated."],
            problem,
        )
    notes = []
    if len(c) < len(candidate) or len(b) < len(baseline):
        notes.append(
            f"Compared on the {len(c)} evaluation rows both models scored: the candidate "
            f"has {len(candidate)} rows, the baseline {len(baseline)}."
        )
    return _Aligned(c, b, notes)
