"""Intervals for label metrics (``kind="label"``) of :mod:`cml_bot.stats.engine`.

- accuracy (and the micro averages, which equal it): Tango's score interval for the difference
  of paired proportions (T. Tango, "Equivalence test and confidence interval for the difference
  in proportions for the paired-sample design", Statistics in Medicine 17(8):891-908, 1998),
  the inversion of the score test whose value at 0 is McNemar's statistic; it keeps a width when
  no row is discordant.
- the other label metrics: a BCa bootstrap (Efron 1987) of the joint counts of (label, baseline
  prediction, candidate prediction). Rows are drawn from the observed table plus half a
  pseudo-row in each direction of disagreement (the paired-table smoothing of Agresti & Min,
  "Simple improved confidence intervals for comparing matched proportions", Statistics in
  Medicine 24(5):729-740, 2005), so a table with no discordant row still has a spread.
- guard (rows, not groups): with few rows where the predictions differ, "significant" also needs
  the exact McNemar test on the rows where exactly one model is right; otherwise the interval is
  widened to reach 0. Always applied to accuracy: its score test is McNemar's asymptotic one.
- groups: the units drawn are groups of rows (cluster bootstrap; BCa acceleration from the
  leave-one-group-out jackknife); no smoothing, no exact guard (rows are not independent).

Pure: numpy and scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import bdtr, ndtr, ndtri

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.intervals import _BLOCK, _z
from cml_bot.stats.labels import _confusions, _label_scores, _LabelTable
from cml_bot.stats.pair import _Undefined

PSEUDO = 2.0  # pseudo-rows added to each direction of disagreement (rows only)
GUARD_BELOW = 25  # fewer rows with differing predictions than this: the exact guard applies


@dataclass(frozen=True)
class _Units:
    """What a resample draws: rows (one unit per cell, smoothed) or groups of rows."""

    cells: np.ndarray  # (m,) cell codes (y * K + baseline) * K + candidate
    counts: np.ndarray | None  # (u, m) cell counts of each unit; None: unit j is cell j
    observed: np.ndarray  # (m,) the observed cell counts (all units)
    probs: np.ndarray  # (u,) draw probability of each unit
    weight: np.ndarray  # (u,) how many times each unit was observed (jackknife weights)
    draws: int  # units per resample


def _pseudo_cells(table: _LabelTable) -> dict[int, float]:
    """``PSEUDO`` rows in each direction of disagreement, shared out by the share of each true
    class; the wrong prediction is the class's most frequent error (either model), else the
    next class. Two cells per class, so the table stays small with many classes."""
    k = len(table.labels)
    y, b, c = table.cells // (k * k), (table.cells // k) % k, table.cells % k
    counts = table.counts.astype(np.float64)
    n = float(counts.sum())
    pseudo: dict[int, float] = {}
    for label in np.unique(y).tolist():
        mine = y == label
        wrong = np.zeros(k)
        for pred in (b, c):
            miss = mine & (pred != y)
            wrong += np.bincount(pred[miss], weights=counts[miss], minlength=k)
        wrong[label] = -1.0
        q = int(wrong.argmax()) if wrong.max() > 0 else (label + 1) % k
        share = PSEUDO * float(counts[mine].sum()) / n
        for cell in ((label * k + label) * k + q, (label * k + q) * k + label):
            pseudo[cell] = pseudo.get(cell, 0.0) + share
    return pseudo


def _row_units(table: _LabelTable) -> _Units:
    """One unit per cell, drawn n times from the observed counts plus the pseudo-rows."""
    pseudo = _pseudo_cells(table)
    cells = np.union1d(table.cells, np.fromiter(pseudo, dtype=np.int64, count=len(pseudo)))
    observed = np.zeros(len(cells))
    observed[np.searchsorted(cells, table.cells)] = table.counts
    smooth = observed.copy()
    for cell, extra in pseudo.items():
        smooth[np.searchsorted(cells, cell)] += extra
    n = int(table.counts.sum())
    return _Units(cells, None, observed, smooth / smooth.sum(), observed, n)


def _group_units(table: _LabelTable, groups: np.ndarray) -> _Units:
    """One unit per group: its counts of each cell; groups drawn with equal probability."""
    g = int(groups.max()) + 1
    m = len(table.cells)
    counts = np.bincount(groups * m + table.row_cells, minlength=g * m).reshape(g, m)
    ones = np.ones(g)
    observed = table.counts.astype(np.float64)
    return _Units(table.cells, counts.astype(np.float64), observed, ones / g, ones, g)


def _scores(
    spec: MetricSpec, table: _LabelTable, cells: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Candidate minus baseline for each row of cell counts ``weights`` (r, m)."""
    k = len(table.labels)
    y, b, c = cells // (k * k), (cells // k) % k, cells % k
    cb = _confusions(y * k + b, weights, k)
    cc = _confusions(y * k + c, weights, k)
    return _label_scores(spec, cc, table.pos_c) - _label_scores(spec, cb, table.pos_b)


def _label_resamples(
    table: _LabelTable, units: _Units, specs: list[MetricSpec], n_resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Per metric, candidate minus baseline in each resample (the metrics share the draws)."""
    diffs = {s.name: np.empty(n_resamples) for s in specs}
    rng = np.random.default_rng(seed)
    size = len(units.cells) if units.counts is None else units.counts.size
    per = max(1, min(n_resamples, _BLOCK // max(size, 1)))
    for start in range(0, n_resamples, per):
        draws = rng.multinomial(units.draws, units.probs, size=min(per, n_resamples - start))
        weights = draws if units.counts is None else draws @ units.counts
        for spec in specs:
            diffs[spec.name][start : start + len(draws)] = _scores(
                spec, table, units.cells, weights
            )
    return diffs


def _jackknife(spec: MetricSpec, table: _LabelTable, units: _Units) -> np.ndarray:
    """Leave-one-unit-out values (one per observed unit)."""
    seen = units.weight > 0
    counts = np.eye(len(units.cells))[seen] if units.counts is None else units.counts[seen]
    left = units.observed[None, :] - counts
    return _scores(spec, table, units.cells, left)


def _bca(
    theta: float, boot: np.ndarray, jack: np.ndarray, jack_w: np.ndarray, confidence: float
) -> tuple[float, float]:
    """BCa percentile interval (Efron 1987) of bootstrap values ``boot`` around ``theta``."""
    ok = boot[np.isfinite(boot)]
    if ok.size == 0 or ok.size < 0.5 * boot.size:
        raise _Undefined("the metric is undefined in most resamples")
    below = (np.sum(ok < theta) + 0.5 * np.sum(ok == theta)) / ok.size
    z0 = float(ndtri(np.clip(below, 1 / (2 * ok.size), 1 - 1 / (2 * ok.size))))
    fin = np.isfinite(jack)
    d = np.average(jack[fin], weights=jack_w[fin]) - jack[fin] if fin.any() else np.zeros(1)
    w = jack_w[fin] if fin.any() else np.ones(1)
    spread = float(np.sum(w * d * d))
    a = float(np.sum(w * d**3)) / (6 * spread**1.5) if spread > 0 else 0.0
    ends = []
    for zq in (-_z(confidence), _z(confidence)):
        shifted = z0 + (z0 + zq) / (1 - a * (z0 + zq))
        ends.append(float(np.quantile(ok, float(ndtr(shifted)))))
    return ends[0], ends[1]


def _label_bca(
    spec: MetricSpec,
    table: _LabelTable,
    units: _Units,
    diffs: np.ndarray,
    confidence: float,
) -> tuple[float, float]:
    theta = float(_scores(spec, table, units.cells, units.observed[None])[0])
    seen = units.weight > 0
    return _bca(theta, diffs, _jackknife(spec, table, units), units.weight[seen], confidence)


def _tango_scaled(
    delta: float,
    diffs: np.ndarray,
    acc_delta: float,
    acc_diffs: np.ndarray,
    tango: tuple[float, float],
) -> tuple[float, float]:
    """Tango's accuracy interval in standard-error units, applied with the metric's own
    bootstrap standard error: ``delta + s * (tango - acc_delta)``, ``s`` the ratio of the
    bootstrap spreads of the metric's and accuracy's differences (same draws)."""
    ok = np.isfinite(diffs)
    if ok.sum() < max(2, 0.5 * diffs.size):
        raise _Undefined("the metric is undefined in most resamples")
    spread = float(np.std(acc_diffs[ok]))
    if spread == 0.0:
        raise _Undefined("no spread in the resamples")
    scale = float(np.std(diffs[ok])) / spread
    return delta + scale * (tango[0] - acc_delta), delta + scale * (tango[1] - acc_delta)


def _discordance(table: _LabelTable) -> tuple[int, int, int]:
    """(candidate right and baseline wrong, the reverse, rows whose predictions differ)."""
    k = len(table.labels)
    y, b, c = table.cells // (k * k), (table.cells // k) % k, table.cells % k
    n10 = int(table.counts[(c == y) & (b != y)].sum())
    n01 = int(table.counts[(b == y) & (c != y)].sum())
    return n10, n01, int(table.counts[b != c].sum())


def _mcnemar_midp(n10: int, n01: int) -> float:
    """Two-sided mid-p McNemar p-value: the exact conditional (binomial) test of n10 among the
    discordant rows, less half the probability of the observed split."""
    m = n10 + n01
    if m == 0:
        return 1.0
    k = min(n10, n01)
    below = float(bdtr(k - 1, m, 0.5)) if k > 0 else 0.0
    at = float(bdtr(k, m, 0.5))
    return min(1.0, 2 * at - (at - below))


def _guard(
    ci: tuple[float, float], table: _LabelTable, confidence: float, always: bool
) -> tuple[tuple[float, float], bool]:
    """Widen ``ci`` to reach 0 when the exact McNemar test does not reject; (ci, widened)."""
    lo, hi = ci
    if not (lo > 0 or hi < 0):
        return ci, False
    n10, n01, differ = _discordance(table)
    if not always and differ >= GUARD_BELOW:
        return ci, False
    if _mcnemar_midp(n10, n01) <= 1 - confidence:
        return ci, False
    return (min(lo, 0.0), max(hi, 0.0)), True


def _tango(n10: int, n01: int, n: int, confidence: float) -> tuple[float, float]:
    """Tango's (1998) score interval for p(candidate right) - p(baseline right)."""
    z = _z(confidence)
    d_hat = (n10 - n01) / n

    def score(d: float) -> float:
        num = n10 - n01 - n * d
        if num == 0:
            return 0.0
        b = n10 * (1 - d) + n01 * (1 - 3 * d) - 2 * (n - n10 - n01) * d
        q = (b + math.sqrt(max(b * b + 8 * n * n01 * d * (1 - d), 0.0))) / (4 * n)
        var = n * (2 * q + d * (1 - d))
        return num / math.sqrt(var) if var > 0 else math.copysign(math.inf, num)

    edge = 1 - 1e-12
    lo = (
        -1.0 if score(-edge) <= z or d_hat <= -edge else _root(lambda d: score(d) - z, -edge, d_hat)
    )
    hi = 1.0 if score(edge) >= -z or d_hat >= edge else _root(lambda d: score(d) + z, d_hat, edge)
    return lo, hi


def _root(f: Callable[[float], float], a: float, b: float) -> float:
    """The root of a decreasing ``f`` with f(a) > 0 >= f(b), by bisection to 1e-12 (scipy's
    root finders would cost this module half a second of imports)."""
    while b - a > 1e-12:
        mid = (a + b) / 2
        if f(mid) > 0:
            a = mid
        else:
            b = mid
    return (a + b) / 2
