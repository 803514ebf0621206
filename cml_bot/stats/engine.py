"""Paired statistics for metric deltas (candidate minus baseline) on the same evaluation rows.

Pure: numpy/scipy only. Point values equal scikit-learn's metric functions; the interval
depends on the metric's ``kind`` (see :mod:`cml_bot.core.metrics`):

- ``label`` (:mod:`cml_bot.stats.labelci`): accuracy and the micro averages by Tango's score
  interval for paired proportions; the other label metrics by Tango's interval scaled with the
  metric's own spread in a smoothed joint-counts bootstrap; with few discordant rows,
  "significant" also needs the mid-p McNemar test. With ``groups``: a BCa cluster bootstrap.
- ``auc``: paired DeLong (Sun & Xu 2014 placement values, midranks for ties), normal interval
  (with ``groups``: the cluster bootstrap).
- ``rowloss``: mean of the per-row loss difference, Student-t interval (cluster-robust with
  ``groups``).
- ``rmse``: the paired MSE interval divided by RMSE_b + RMSE_c (significant exactly when MSE
  is); ``r2``: delta method on (MSE_b - MSE_c) / var(y), var(y)'s variability included.
- ``other``: seeded row (or group) bootstrap; rank metrics sort once and count codes per
  resample. Resamples are capped at ``BOOTSTRAP_BUDGET`` row passes (at least
  ``MIN_CAPPED_RESAMPLES``); a capped bootstrap (only for large row counts) gives a normal
  interval from the bootstrap standard error, an uncapped one a percentile interval.
  ``n_resamples`` records the count, ``n_undefined_resamples`` those where the metric had no
  value. ``max_error`` has no interval (``NO_INTERVAL``): NaN ends, never significant.
- every result: ``detectable``, the smallest difference these rows detect with 80% power
  (:mod:`cml_bot.stats.power`). Coverage by simulation: ``benchmarks/calibration.py`` and
  ``docs/statistics.md``.

Conventions:

- Binary ``f1``/``precision``/``recall`` (``average="binary"``) take the greater label as the
  positive class: scikit-learn's default ``pos_label=1`` for {0, 1}, {-1, 1} and booleans; the
  sorted-last class for strings or other labels (e.g. 2 for {1, 2}, where scikit-learn's
  default would pick 1). When a model's rows show one label only, the positive class is 1 for
  labels within {-1, 0, 1} (as scikit-learn) and otherwise the greatest of that label and the
  model's ``classes`` (for a binary model).
- Probability columns follow ``PredictionSet.classes`` (scikit-learn assumes sorted classes;
  the two agree for sorted classes). Without ``classes``, the sorted labels of ``y_true``.
- Undefined values are NaN, never exceptions: no rows (empty sets), one class for ROC AUC or
  average precision, NaN or infinite inputs, probabilities outside [0, 1] (log loss, Brier),
  labels without a probability column, ``average="binary"`` with more than two labels. A
  :class:`PairedDelta` then has NaN interval fields, ``significant=False`` and a ``method`` of
  ``"undefined: <why>"`` (values that are defined are still reported). Misuse raises
  :class:`ValueError`: an unknown metric, sets of different lengths or ``y_true``, a
  confidence outside (0, 1), ``n_resamples < 1``.

Layout: this module holds the public API, :class:`PairedDelta` and the choice of method per
metric; the methods live in sibling modules: :mod:`cml_bot.stats.pair` (the paired rows, label
encoding, probability columns, groups), :mod:`cml_bot.stats.labels` (joint counts),
:mod:`cml_bot.stats.labelci` (label intervals), :mod:`cml_bot.stats.delong` (ROC AUC),
:mod:`cml_bot.stats.rowloss` (per-row losses, RMSE, r2), :mod:`cml_bot.stats.bootstrap` (row
bootstrap), :mod:`cml_bot.stats.points` (point values), :mod:`cml_bot.stats.power` (detectable
difference) and :mod:`cml_bot.stats.intervals` (shared interval helpers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cml_bot.core.metrics import METRICS, MetricSpec, suggest
from cml_bot.stats.bootstrap import _bootstrap_diffs, _evaluator, _Stat
from cml_bot.stats.delong import _delong
from cml_bot.stats.intervals import _normal_ci, _percentile_ci
from cml_bot.stats.labelci import (
    _discordance,
    _group_units,
    _guard,
    _label_bca,
    _label_resamples,
    _row_units,
    _tango,
    _tango_scaled,
)
from cml_bot.stats.labels import _label_scores, _label_table
from cml_bot.stats.pair import _group_codes, _Pair, _Undefined
from cml_bot.stats.points import _point, _safe_point
from cml_bot.stats.power import detectable_difference, standard_error
from cml_bot.stats.predictions import PredictionSet
from cml_bot.stats.rowloss import _paired_mean, _r2_delta, _rmse_from_mse

# Row bootstrap ("other" metrics): resamples are capped so that rows x resamples x passes over
# the rows (both models) stays within the budget, but never below the floor.
BOOTSTRAP_BUDGET = 200_000_000
MIN_CAPPED_RESAMPLES = 100

# Metrics with no valid interval: the value is one extreme row, which resampling cannot estimate
# (the row bootstrap covered about 0.8 of the time and called 12-15% of null differences real).
NO_INTERVAL = {
    "max_error": "no interval: max_error is one extreme row, which resampling cannot estimate",
}


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
    # "Tango score[, scaled by the joint-counts bootstrap]" | "paired DeLong" | "paired mean" |
    # "MSE interval / (RMSE + RMSE)" | "delta method incl. var(y)" | "bootstrap" | "BCa cluster
    # bootstrap" | ... (", widened to 0 by exact McNemar"), "no interval: <why>",
    # or "undefined: <why>"
    method: str
    n_rows: int
    confidence: float = 0.95
    n_resamples: int | None = None  # resamples drawn (bootstrap methods only)
    # resamples where the metric was undefined (left out of the interval; 0 for closed forms)
    n_undefined_resamples: int = 0
    # smallest |difference| these rows detect with 80% power at this confidence (NaN: unknown)
    detectable: float = math.nan
    n_groups: int | None = None  # groups resampled (group_column given), else None

    @property
    def improved(self) -> bool | None:
        """True/False: a significant improvement/regression (metric direction); else None.

        The one rule for "better or worse" (gates and the report's arrows both ask it)."""
        from cml_bot.core.metrics import METRICS

        if not self.significant or not math.isfinite(self.delta) or self.delta == 0:
            return None
        greater = METRICS[self.metric].greater_is_better
        return (self.delta > 0) == greater


# --------------------------------------------------------------------------- public API


def metric_value(metric: str, preds: PredictionSet) -> float:
    """The metric on ``preds`` in natural units (losses positive); NaN when undefined."""
    spec = _spec(metric)
    try:
        return _point(spec, _Pair(preds, preds))
    except _Undefined:
        return float("nan")


def paired_delta(
    metric: str,
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 2000,
    groups: np.ndarray | None = None,
) -> PairedDelta:
    """Candidate minus baseline with a paired interval; deterministic for a given seed."""
    return paired_deltas(
        [metric],
        baseline,
        candidate,
        confidence=confidence,
        seed=seed,
        n_resamples=n_resamples,
        groups=groups,
    )[0]


def paired_deltas(
    metrics: list[str],
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 2000,
    groups: np.ndarray | None = None,
) -> list[PairedDelta]:
    """:func:`paired_delta` for several metrics, sharing work (label metrics share one table and
    one set of multinomial draws; bootstrap metrics share row resamples). Each result equals the
    single-metric call's.

    ``groups`` (one value per row, e.g. a customer id): rows of a group are not independent, so
    the bootstrap methods resample whole groups and the closed forms use a cluster-robust
    variance. ``None``: rows are independent."""
    specs = [_spec(m) for m in metrics]
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    pair = _Pair(baseline, candidate)
    job = _Job(pair, confidence, seed, n_resamples, _group_codes(groups, pair.n))
    done: dict[str, PairedDelta] = {}
    kinds: dict[str, list[MetricSpec]] = {}
    for spec in dict.fromkeys(specs):
        kinds.setdefault(spec.kind, []).append(spec)
    if pair.n == 0:
        return [job.undefined(s, "no rows") for s in specs]
    if "label" in kinds:
        done.update(job.label(kinds.pop("label")))
    if job.groups is not None and "auc" in kinds:  # cluster bootstrap instead of DeLong
        kinds.setdefault("other", []).extend(kinds.pop("auc"))
    if "other" in kinds:
        done.update(job.bootstrap(kinds.pop("other")))
    for kind in kinds.values():
        for spec in kind:
            done[spec.name] = job.single(spec)
    return [done[s.name] for s in specs]


# --------------------------------------------------------------------------- metric names


def _spec(metric: str) -> MetricSpec:
    if metric not in METRICS:
        hint = suggest(metric)
        extra = f" (did you mean {', '.join(hint)}?)" if hint else ""
        raise ValueError(f"unknown metric {metric!r}{extra}")
    return METRICS[metric]


# --------------------------------------------------------------------------- results


class _Job:
    """One paired comparison's settings and result builders."""

    def __init__(
        self,
        pair: _Pair,
        confidence: float,
        seed: int,
        n_resamples: int,
        groups: np.ndarray | None = None,
    ) -> None:
        self.pair, self.confidence = pair, confidence
        self.seed, self.n_resamples, self.groups = seed, n_resamples, groups

    def result(
        self,
        spec: MetricSpec,
        values: tuple[float, float],
        ci: tuple[float, float],
        method: str,
        n_resamples: int | None = None,
        n_undefined: int = 0,
    ) -> PairedDelta:
        vb, vc = float(values[0]), float(values[1])
        lo, hi = float(ci[0]), float(ci[1])
        significant = bool(lo > 0.0 or hi < 0.0)  # False for NaN
        se = standard_error(lo, hi, self.confidence)
        return PairedDelta(
            metric=spec.name,
            baseline=vb,
            candidate=vc,
            delta=vc - vb,
            ci_low=lo,
            ci_high=hi,
            significant=significant,
            method=method,
            n_rows=self.pair.n,
            confidence=self.confidence,
            n_resamples=n_resamples,
            n_undefined_resamples=n_undefined,
            detectable=detectable_difference(se, self.confidence),
            n_groups=None if self.groups is None else int(self.groups.max()) + 1,
        )

    def undefined(self, spec: MetricSpec, why: str) -> PairedDelta:
        values = (_safe_point(spec, self.pair.b), _safe_point(spec, self.pair.c))
        nan = float("nan")
        return self.result(spec, values, (nan, nan), f"undefined: {why}")

    def single(self, spec: MetricSpec) -> PairedDelta:
        try:
            if spec.kind == "auc":
                values, ci = _delong(self.pair, self.confidence)
                return self.result(spec, values, ci, "paired DeLong")
            if spec.kind == "rowloss":
                values, ci = _paired_mean(spec, self.pair, self.confidence, self.groups)
                return self.result(spec, values, ci, self._closed("paired mean"))
            if spec.kind == "rmse":
                values, ci = _rmse_from_mse(self.pair, self.confidence, self.groups)
                return self.result(spec, values, ci, self._closed("MSE interval / (RMSE + RMSE)"))
            if spec.kind == "r2":
                values, ci = _r2_delta(self.pair, self.confidence, self.groups)
                return self.result(spec, values, ci, self._closed("delta method incl. var(y)"))
        except _Undefined as exc:
            return self.undefined(spec, str(exc))
        raise AssertionError(f"unhandled metric kind {spec.kind}")  # pragma: no cover

    def _closed(self, method: str) -> str:
        return method if self.groups is None else f"{method}, cluster-robust"

    # -- label metrics (cml_bot.stats.labelci) ---------------------------------------------

    def label(self, specs: list[MetricSpec]) -> dict[str, PairedDelta]:
        try:
            table = _label_table(self.pair)
        except _Undefined as exc:
            return {s.name: self.undefined(s, str(exc)) for s in specs}
        out: dict[str, PairedDelta] = {}
        usable: list[MetricSpec] = []
        for spec in specs:
            why = table.binary_problem() if spec.average == "binary" else None
            if why:
                out[spec.name] = self.undefined(spec, why)
            else:
                usable.append(spec)
        rows = self.groups is None
        units = _row_units(table) if self.groups is None else _group_units(table, self.groups)
        boot = [s for s in usable if not (rows and _is_accuracy(s))]
        draws = [*boot, METRICS["accuracy"]] if rows and boot else boot
        diffs = _label_resamples(table, units, draws, self.n_resamples, self.seed) if boot else {}
        cb, cc = table.confusions(table.counts[None])
        n10, n01, _ = _discordance(table)
        tango = _tango(n10, n01, self.pair.n, self.confidence)
        for spec in usable:
            values = (
                _label_scores(spec, cb, table.pos_b)[0],
                _label_scores(spec, cc, table.pos_c)[0],
            )
            reps: int | None = None
            undefined = 0
            try:
                if rows and _is_accuracy(spec):
                    ci, method = tango, "Tango score"
                elif rows:
                    d = diffs[spec.name]
                    delta = float(values[1] - values[0])
                    acc = (n10 - n01) / self.pair.n
                    ci = _tango_scaled(delta, d, acc, diffs["accuracy"], tango)
                    method = "Tango score, scaled by the joint-counts bootstrap"
                    reps, undefined = self.n_resamples, int(np.sum(~np.isfinite(d)))
                else:
                    d = diffs[spec.name]
                    ci = _label_bca(spec, table, units, d, self.confidence)
                    method = "BCa cluster bootstrap"
                    reps, undefined = self.n_resamples, int(np.sum(~np.isfinite(d)))
            except _Undefined as exc:
                out[spec.name] = self.undefined(spec, str(exc))
                continue
            if rows:
                ci, widened = _guard(ci, table, self.confidence, _is_accuracy(spec))
                method += ", widened to 0 by exact McNemar" if widened else ""
            out[spec.name] = self.result(spec, values, ci, method, reps, undefined)
        return out

    # -- row bootstrap (cml_bot.stats.bootstrap) -------------------------------------------

    def bootstrap(self, specs: list[MetricSpec]) -> dict[str, PairedDelta]:
        """Row (or group) bootstrap; metrics share the resampled rows (a metric capped to fewer
        resamples uses the first ones), so each result equals the single-metric call's."""
        out: dict[str, PairedDelta] = {}
        live: list[tuple[MetricSpec, _Stat, _Stat, tuple[float, float], int]] = []
        n = self.pair.n
        every = np.arange(n)[None]
        for spec in specs:
            try:
                sb, sc = (_evaluator(spec, self.pair, i) for i in (0, 1))
                values = (float(sb.fn(every)[0]), float(sc.fn(every)[0]))
            except _Undefined as exc:
                out[spec.name] = self.undefined(spec, str(exc))
                continue
            if not (np.isfinite(values[0]) and np.isfinite(values[1])):
                out[spec.name] = self.undefined(spec, "the metric is undefined on these rows")
                continue
            if spec.name in NO_INTERVAL:
                nan = float("nan")
                out[spec.name] = self.result(spec, values, (nan, nan), NO_INTERVAL[spec.name])
                continue
            work = n * (sb.passes + sc.passes)
            reps = min(self.n_resamples, max(MIN_CAPPED_RESAMPLES, BOOTSTRAP_BUDGET // work))
            live.append((spec, sb, sc, values, reps))
        if not live:
            return out
        entries = [(sb, sc, reps) for _, sb, sc, _, reps in live]
        diffs = _bootstrap_diffs(n, entries, self.seed, self.groups)
        method = "bootstrap" if self.groups is None else "cluster bootstrap"
        for j, (spec, _, _, values, reps) in enumerate(live):
            try:
                if reps < self.n_resamples:  # capped: few resamples, n large -> normal interval
                    ci = _normal_ci(values[1] - values[0], diffs[j], self.confidence)
                else:
                    ci = _percentile_ci(diffs[j], self.confidence)
            except _Undefined as exc:
                out[spec.name] = self.undefined(spec, str(exc))
                continue
            undefined = int(np.sum(~np.isfinite(diffs[j])))
            out[spec.name] = self.result(spec, values, ci, method, reps, undefined)
        return out


def _is_accuracy(spec: MetricSpec) -> bool:
    """Accuracy and the micro averages (equal to it): one paired proportion."""
    return spec.name == "accuracy" or spec.average == "micro"
