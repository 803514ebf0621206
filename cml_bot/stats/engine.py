"""Paired statistics for metric deltas (candidate minus baseline) on the same evaluation rows.

Pure: numpy/scipy only. Point values equal scikit-learn's metric functions; the interval
depends on the metric's ``kind`` (see :mod:`cml_bot.core.metrics`):

- ``label``: the joint counts of (label, baseline prediction, candidate prediction) are
  resampled as one multinomial draw per resample (exactly a row bootstrap, without touching
  rows); percentile interval of the paired differences.
- ``auc``: paired DeLong (Sun & Xu 2014 placement values, midranks for ties), normal interval.
- ``rowloss``: mean of the per-row loss difference, Student-t interval.
- ``rmse``: delta method on the per-row squared errors (a row bootstrap when a model's MSE is
  0, where sqrt has no slope); ``r2``: exact linear transform of the paired MSE interval
  (divided by the population variance of ``y_true``).
- ``other``: seeded row bootstrap; rank metrics sort once and count codes per resample.
  Resamples are capped at ``BOOTSTRAP_BUDGET`` row passes (at least ``MIN_CAPPED_RESAMPLES``);
  a capped bootstrap (only for large row counts) gives a normal interval from the bootstrap
  standard error, an uncapped one a percentile interval. ``n_resamples`` records the count.

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
encoding, probability columns), :mod:`cml_bot.stats.labels` (joint counts),
:mod:`cml_bot.stats.delong` (ROC AUC), :mod:`cml_bot.stats.rowloss` (per-row losses, RMSE, r2),
:mod:`cml_bot.stats.bootstrap` (row bootstrap) and :mod:`cml_bot.stats.intervals` (shared
interval helpers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cml_bot.core.metrics import METRICS, MetricSpec, suggest
from cml_bot.stats.bootstrap import _bootstrap_diffs, _evaluator, _Stat
from cml_bot.stats.delong import _binary_target, _delong, _delong_placements, _positive_scores
from cml_bot.stats.intervals import _normal_ci, _percentile_ci
from cml_bot.stats.labels import _label_resamples, _label_scores, _label_table
from cml_bot.stats.pair import _Pair, _Undefined
from cml_bot.stats.predictions import PredictionSet
from cml_bot.stats.rowloss import _paired_mean, _r2, _r2_delta, _rmse_delta_method, _row_loss

# Row bootstrap ("other" metrics): resamples are capped so that rows x resamples x passes over
# the rows (both models) stays within the budget, but never below the floor.
BOOTSTRAP_BUDGET = 200_000_000
MIN_CAPPED_RESAMPLES = 100


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
    # "joint-counts bootstrap" | "paired DeLong" | "paired mean" | "delta method" | "bootstrap",
    # or "undefined: <why>"
    method: str
    n_rows: int
    confidence: float = 0.95
    n_resamples: int | None = None  # resamples drawn (bootstrap methods only)

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
) -> PairedDelta:
    """Candidate minus baseline with a paired interval; deterministic for a given seed."""
    return paired_deltas(
        [metric], baseline, candidate, confidence=confidence, seed=seed, n_resamples=n_resamples
    )[0]


def paired_deltas(
    metrics: list[str],
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 2000,
) -> list[PairedDelta]:
    """:func:`paired_delta` for several metrics, sharing work (label metrics share one table and
    one set of multinomial draws; bootstrap metrics share row resamples). Each result equals the
    single-metric call's."""
    specs = [_spec(m) for m in metrics]
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    pair = _Pair(baseline, candidate)
    job = _Job(pair, confidence, seed, n_resamples)
    done: dict[str, PairedDelta] = {}
    groups: dict[str, list[MetricSpec]] = {}
    for spec in dict.fromkeys(specs):
        groups.setdefault(spec.kind, []).append(spec)
    if pair.n == 0:
        return [job.undefined(s, "no rows") for s in specs]
    if "label" in groups:
        done.update(job.label(groups.pop("label")))
    if "other" in groups:
        done.update(job.bootstrap(groups.pop("other")))
    for group in groups.values():
        for spec in group:
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

    def __init__(self, pair: _Pair, confidence: float, seed: int, n_resamples: int) -> None:
        self.pair, self.confidence = pair, confidence
        self.seed, self.n_resamples = seed, n_resamples

    def result(
        self,
        spec: MetricSpec,
        values: tuple[float, float],
        ci: tuple[float, float],
        method: str,
        n_resamples: int | None = None,
    ) -> PairedDelta:
        vb, vc = float(values[0]), float(values[1])
        lo, hi = float(ci[0]), float(ci[1])
        significant = bool(lo > 0.0 or hi < 0.0)  # False for NaN
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
        )

    def undefined(self, spec: MetricSpec, why: str) -> PairedDelta:
        values = (_safe_point(spec, self.pair.b), _safe_point(spec, self.pair.c))
        nan = float("nan")
        return self.result(spec, values, (nan, nan), f"undefined: {why}")

    def single(self, spec: MetricSpec) -> PairedDelta:
        try:
            if spec.kind == "auc":
                return self.delong(spec)
            if spec.kind == "rowloss":
                return self.paired_mean(spec)
            if spec.kind == "rmse":
                return self.rmse(spec)
            if spec.kind == "r2":
                return self.r2(spec)
        except _Undefined as exc:
            return self.undefined(spec, str(exc))
        raise AssertionError(f"unhandled metric kind {spec.kind}")  # pragma: no cover

    # -- label metrics: joint counts (cml_bot.stats.labels) --------------------------------

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
        if not usable:
            return out
        cb, cc = table.confusions(table.counts[None])
        diffs = _label_resamples(table, usable, self.n_resamples, self.seed)
        for spec in usable:
            values = (
                _label_scores(spec, cb, table.pos_b)[0],
                _label_scores(spec, cc, table.pos_c)[0],
            )
            ci = _percentile_ci(diffs[spec.name], self.confidence)
            out[spec.name] = self.result(
                spec, values, ci, "joint-counts bootstrap", self.n_resamples
            )
        return out

    # -- paired DeLong (cml_bot.stats.delong) ----------------------------------------------

    def delong(self, spec: MetricSpec) -> PairedDelta:
        values, ci = _delong(self.pair, self.confidence)
        return self.result(spec, values, ci, "paired DeLong")

    # -- means of per-row values (cml_bot.stats.rowloss) -----------------------------------

    def paired_mean(self, spec: MetricSpec) -> PairedDelta:
        values, ci = _paired_mean(spec, self.pair, self.confidence)
        return self.result(spec, values, ci, "paired mean")

    def rmse(self, spec: MetricSpec) -> PairedDelta:
        found = _rmse_delta_method(self.pair, self.confidence)
        if found is None:  # sqrt is not differentiable at 0: resample rows instead
            return self.bootstrap([spec])[spec.name]
        values, ci = found
        return self.result(spec, values, ci, "delta method")

    def r2(self, spec: MetricSpec) -> PairedDelta:
        values, ci = _r2_delta(self.pair, self.confidence)
        return self.result(spec, values, ci, "delta method")

    # -- row bootstrap (cml_bot.stats.bootstrap) -------------------------------------------

    def bootstrap(self, specs: list[MetricSpec]) -> dict[str, PairedDelta]:
        """Row bootstrap; metrics share the resampled rows (a metric capped to fewer resamples
        uses the first ones), so each result equals the single-metric call's."""
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
            work = n * (sb.passes + sc.passes)
            reps = min(self.n_resamples, max(MIN_CAPPED_RESAMPLES, BOOTSTRAP_BUDGET // work))
            live.append((spec, sb, sc, values, reps))
        if not live:
            return out
        diffs = _bootstrap_diffs(n, [(sb, sc, reps) for _, sb, sc, _, reps in live], self.seed)
        for j, (spec, _, _, values, reps) in enumerate(live):
            try:
                if reps < self.n_resamples:  # capped: few resamples, n large -> normal interval
                    ci = _normal_ci(values[1] - values[0], diffs[j], self.confidence)
                else:
                    ci = _percentile_ci(diffs[j], self.confidence)
            except _Undefined as exc:
                out[spec.name] = self.undefined(spec, str(exc))
                continue
            out[spec.name] = self.result(spec, values, ci, "bootstrap", reps)
        return out


def _safe_point(spec: MetricSpec, preds: PredictionSet) -> float:
    try:
        return _point(spec, _Pair(preds, preds))
    except _Undefined:
        return float("nan")


# --------------------------------------------------------------------------- point values


def _point(spec: MetricSpec, pair: _Pair) -> float:
    if pair.n == 0:
        raise _Undefined("no rows")
    if spec.kind == "label":
        table = _label_table(pair)
        if spec.average == "binary" and (why := table.binary_problem()):
            raise _Undefined(why)
        return float(_label_scores(spec, table.confusions(table.counts[None])[0], table.pos_b)[0])
    if spec.kind == "auc":
        pos, n_pos, n_neg = _binary_target(pair)
        return _delong_placements(_positive_scores(pair.b, pair), pos, n_pos, n_neg)[1]
    if spec.kind == "rowloss":
        return float(np.mean(_row_loss(spec, pair, 0)))
    if spec.kind == "rmse":
        return float(np.sqrt(np.mean(pair.sq_err(0))))
    if spec.kind == "r2":
        if pair.n < 2:
            raise _Undefined("r2 needs two rows")
        y = pair.y_float()
        return _r2(float(np.mean(pair.sq_err(0))), float(np.mean((y - y.mean()) ** 2)))
    return float(_evaluator(spec, pair, 0).fn(np.arange(pair.n)[None])[0])
