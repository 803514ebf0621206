"""Paired statistics for metric deltas (candidate minus baseline) on the same evaluation rows.

Pure: numpy/scipy only. Point values equal scikit-learn's metric functions; the interval
depends on the metric's ``kind`` (see :mod:`cml_bot.metrics`):

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from scipy.special import ndtri, stdtrit

from cml_bot.metrics import METRICS, MetricSpec, suggest
from cml_bot.predictions import PredictionSet

# Row bootstrap ("other" metrics): resamples are capped so that rows x resamples x passes over
# the rows (both models) stays within the budget, but never below the floor.
BOOTSTRAP_BUDGET = 200_000_000
MIN_CAPPED_RESAMPLES = 100
_BLOCK = 1 << 21  # elements per (resamples x rows) block held at once
_EPS64 = float(np.finfo(np.float64).eps)

Evaluator = Callable[[np.ndarray], np.ndarray]  # row indices (r, n) -> metric per resample (r,)


@dataclass(frozen=True)
class _Stat:
    """A metric on resampled rows and its work per resample (for chunking and capping)."""

    fn: Evaluator
    passes: int = 1  # passes over n rows per resample
    width: int = 1  # memory per resample, in units of n values


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
        """True/False: a significant improvement/regression (metric direction); else None."""
        from cml_bot.metrics import METRICS

        if not self.significant:
            return None
        greater = METRICS[self.metric].greater_is_better
        return (self.delta > 0) == greater


class _Undefined(Exception):
    """The metric or its interval has no value on these rows (the message says why)."""


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


# --------------------------------------------------------------------------- inputs


def _spec(metric: str) -> MetricSpec:
    if metric not in METRICS:
        hint = suggest(metric)
        extra = f" (did you mean {', '.join(hint)}?)" if hint else ""
        raise ValueError(f"unknown metric {metric!r}{extra}")
    return METRICS[metric]


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class _Pair:
    """Baseline and candidate predictions on the same rows, with cached derived arrays."""

    def __init__(self, baseline: PredictionSet, candidate: PredictionSet) -> None:
        n = len(baseline)
        if len(candidate) != n:
            raise ValueError(
                f"baseline and candidate have different row counts ({n} vs {len(candidate)}); "
                "align them first (cml_bot.predictions.align)"
            )
        yb, yc = np.asarray(baseline.y_true), np.asarray(candidate.y_true)
        if yc is not yb and not _same_labels(yb, yc):
            raise ValueError(
                "baseline and candidate have different y_true; align them first "
                "(cml_bot.predictions.align)"
            )
        self.b, self.c, self.n = baseline, candidate, n
        self.y = yb
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            try:
                self._memo[key] = make()
            except _Undefined as exc:
                self._memo[key] = exc
        found = self._memo[key]
        if isinstance(found, _Undefined):
            raise found
        return found

    def models(self) -> tuple[PredictionSet, PredictionSet]:
        return self.b, self.c

    def y_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted labels of y_true and each row's index into them."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            labels, codes = _encode_labels([self.y])
            return labels, codes[0]

        result: tuple[np.ndarray, np.ndarray] = self.memo("y_codes", make)
        return result

    def y_float(self) -> np.ndarray:
        result: np.ndarray = self.memo("y_float", lambda: _floats(self.y, "y_true"))
        return result

    def pred_float(self, which: int) -> np.ndarray:
        model = self.models()[which]
        result: np.ndarray = self.memo(
            f"pred_float{which}", lambda: _floats(model.y_pred, "predictions")
        )
        return result

    def sq_err(self, which: int) -> np.ndarray:
        def make() -> np.ndarray:
            e = self.y_float() - self.pred_float(which)
            return e * e

        result: np.ndarray = self.memo(f"sq_err{which}", make)
        return result


def _same_labels(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    try:
        return bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return bool(np.array_equal(a.astype(str), b.astype(str)))


def _floats(values: np.ndarray, what: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Undefined(f"non-numeric {what}") from None
    if not np.isfinite(out).all():
        raise _Undefined(f"NaN or infinite {what}")
    return out


def _encode_labels(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted union of the labels of ``arrays`` and each array's int64 codes into it."""
    arrs = [np.asarray(a) for a in arrays]
    kinds = {a.dtype.kind for a in arrs}
    for a in arrs:
        if a.dtype.kind in "fc" and np.isnan(a).any():
            raise _Undefined("NaN labels")
    if kinds & set("US") and kinds & set("biuf"):
        raise _Undefined("labels mix strings and numbers")
    ints = _small_ints(arrs)
    if ints is not None:
        lo = min(int(x.min()) for x in ints)
        span = max(int(x.max()) for x in ints) - lo + 1
        present = np.zeros(span, dtype=bool)
        shifted = [x - lo if lo else x for x in ints]
        for x in shifted:
            present |= np.bincount(x, minlength=span) > 0
        lookup = np.cumsum(present) - 1
        dtype = np.result_type(*[a.dtype for a in arrs])
        labels = (np.flatnonzero(present) + lo).astype(dtype)
        return labels, [lookup[x] for x in shifted]
    try:
        labels, inverse = np.unique(np.concatenate(arrs), return_inverse=True)
    except TypeError:
        raise _Undefined("labels of mixed types (or missing labels)") from None
    if labels.dtype.kind == "O" and any(v is None or v != v for v in labels.tolist()):
        raise _Undefined("missing labels")
    inverse = inverse.reshape(-1).astype(np.int64)
    bounds = np.cumsum([0, *[len(a) for a in arrs]])
    return labels, [inverse[bounds[i] : bounds[i + 1]] for i in range(len(arrs))]


def _small_ints(arrs: list[np.ndarray]) -> list[np.ndarray] | None:
    """int64 copies when every array holds integers (any numeric dtype) of a small range."""
    out = []
    for a in arrs:
        if a.size == 0:
            return None
        if a.dtype.kind in "biu":
            x = a.astype(np.int64, copy=False)
        elif a.dtype.kind == "f":
            if not (np.isfinite(a).all() and (a == np.floor(a)).all() and np.abs(a).max() < 2**52):
                return None
            x = a.astype(np.int64)
        else:
            return None
        out.append(x)
    lo = min(int(x.min()) for x in out)
    hi = max(int(x.max()) for x in out)
    return out if hi - lo < (1 << 20) else None


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

    # -- label metrics: joint counts --------------------------------------------------------

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
        diffs = {s.name: np.empty(self.n_resamples) for s in usable}
        for start, draw_b, draw_c in _label_draws(table, self.n_resamples, self.seed):
            for spec in usable:
                d = _label_scores(spec, draw_c, table.pos_c) - _label_scores(
                    spec, draw_b, table.pos_b
                )
                diffs[spec.name][start : start + len(d)] = d
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

    # -- paired DeLong ---------------------------------------------------------------------

    def delong(self, spec: MetricSpec) -> PairedDelta:
        pos, n_pos, n_neg = _binary_target(self.pair)
        if n_pos < 2 or n_neg < 2:
            raise _Undefined("DeLong variance needs two rows of each class")
        placements = []
        aucs = []
        for model in self.pair.models():
            v, auc = _delong_placements(_positive_scores(model, self.pair), pos, n_pos, n_neg)
            placements.append(v)
            aucs.append(auc)
        d = placements[1] - placements[0]
        var = np.var(d[pos], ddof=1) / n_pos + np.var(d[~pos], ddof=1) / n_neg
        delta = aucs[1] - aucs[0]
        half = _z(self.confidence) * float(np.sqrt(var))
        return self.result(spec, (aucs[0], aucs[1]), (delta - half, delta + half), "paired DeLong")

    # -- means of per-row values -----------------------------------------------------------

    def paired_mean(self, spec: MetricSpec) -> PairedDelta:
        lb, lc = (_row_loss(spec, self.pair, i) for i in (0, 1))
        vb, vc = float(np.mean(lb)), float(np.mean(lc))
        half = self.mean_half_width(lc - lb)
        delta = vc - vb
        return self.result(spec, (vb, vc), (delta - half, delta + half), "paired mean")

    def mean_half_width(self, d: np.ndarray) -> float:
        n = len(d)
        if n < 2:
            raise _Undefined("an interval needs two rows")
        return _t(self.confidence, n - 1) * float(np.std(d, ddof=1)) / float(np.sqrt(n))

    def rmse(self, spec: MetricSpec) -> PairedDelta:
        n = self.pair.n
        if n < 2:
            raise _Undefined("an interval needs two rows")
        seb, sec = self.pair.sq_err(0), self.pair.sq_err(1)
        mb, mc = float(np.mean(seb)), float(np.mean(sec))
        vb, vc = float(np.sqrt(mb)), float(np.sqrt(mc))
        if mb == 0.0 or mc == 0.0:  # sqrt is not differentiable at 0: resample rows instead
            return self.bootstrap([spec])[spec.name]
        gb, gc = -0.5 / vb, 0.5 / vc
        cov = np.cov(np.vstack([seb, sec]), ddof=1)
        var = (gb * gb * cov[0, 0] + gc * gc * cov[1, 1] + 2 * gb * gc * cov[0, 1]) / n
        half = _z(self.confidence) * float(np.sqrt(max(var, 0.0)))
        delta = vc - vb
        return self.result(spec, (vb, vc), (delta - half, delta + half), "delta method")

    def r2(self, spec: MetricSpec) -> PairedDelta:
        y = self.pair.y_float()
        if self.pair.n < 2:
            raise _Undefined("r2 needs two rows")
        var_y = float(np.mean((y - y.mean()) ** 2))
        seb, sec = self.pair.sq_err(0), self.pair.sq_err(1)
        values = (_r2(float(np.mean(seb)), var_y), _r2(float(np.mean(sec)), var_y))
        if var_y == 0.0:
            raise _Undefined("constant y_true (r2 has no spread to compare)")
        d = (seb - sec) / var_y  # r2_c - r2_b per row
        half = self.mean_half_width(d)
        delta = values[1] - values[0]
        return self.result(spec, values, (delta - half, delta + half), "delta method")

    # -- row bootstrap ---------------------------------------------------------------------

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
        width = max(max(sb.width, sc.width) for _, sb, sc, _, _ in live)
        diffs = [np.empty(reps) for *_, reps in live]
        for start, idx in _row_samples(n, max(reps for *_, reps in live), width, self.seed):
            for j, (_, sb, sc, _, reps) in enumerate(live):
                if start < reps:
                    part = idx[: reps - start]
                    diffs[j][start : start + len(part)] = sc.fn(part) - sb.fn(part)
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


def _r2(mse: float, var_y: float) -> float:
    """scikit-learn's r2 (force_finite): 1 - mse/var_y, 1.0 or 0.0 for constant y_true."""
    if var_y == 0.0:
        return 1.0 if mse == 0.0 else 0.0
    return 1.0 - mse / var_y


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


# --------------------------------------------------------------------------- label metrics


@dataclass
class _LabelTable:
    labels: list[Any]  # label of each code (sorted, plus an absent positive class if needed)
    cells: np.ndarray  # occupied cells (y_true * K + baseline pred) * K + candidate pred
    counts: np.ndarray  # rows in each occupied cell (int64)
    pos_b: int | None  # code of the positive class for average="binary", per model
    pos_c: int | None
    union_sizes: tuple[int, int]  # labels seen in y_true or the model's predictions

    def binary_problem(self) -> str | None:
        worst = max(self.union_sizes)
        if worst > 2:
            return f"average='binary' needs at most two classes, found {worst}"
        return None

    def confusions(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Baseline and candidate confusion matrices (r, K, K) for cell counts (r, cells)."""
        k = len(self.labels)
        r = weights.shape[0]
        y, b, c = self.cells // (k * k), (self.cells // k) % k, self.cells % k
        offset = (np.arange(r) * (k * k))[:, None]
        flat = weights.astype(np.float64).reshape(-1)

        def matrix(into: np.ndarray) -> np.ndarray:
            index = (offset + into).reshape(-1)
            return np.bincount(index, weights=flat, minlength=r * k * k).reshape(r, k, k)

        return matrix(y * k + b), matrix(y * k + c)


def _label_table(pair: _Pair) -> _LabelTable:
    def make() -> _LabelTable:
        same = pair.b is pair.c
        arrays = [pair.y, pair.b.y_pred] if same else [pair.y, pair.b.y_pred, pair.c.y_pred]
        labels_arr, codes = _encode_labels(arrays)
        if same:
            codes.append(codes[1])
        labels = [_py(v) for v in labels_arr.tolist()]
        k0 = len(labels)
        seen_y = np.bincount(codes[0], minlength=k0) > 0
        pos: list[int | None] = []
        sizes: list[int] = []
        for model, pred in ((pair.b, codes[1]), (pair.c, codes[2])):
            union = seen_y | (np.bincount(pred, minlength=k0) > 0)
            sizes.append(int(union.sum()))
            if union.sum() > 2:
                pos.append(None)
                continue
            label = _positive_label([labels[i] for i in np.flatnonzero(union)], model.classes)
            if label not in labels:
                labels.append(label)
            pos.append(labels.index(label))
        k = len(labels)
        cell = (codes[0] * k + codes[1]) * k + codes[2]
        if k**3 <= max(1 << 16, 4 * pair.n):
            dense = np.bincount(cell, minlength=k**3)
            cells = np.flatnonzero(dense)
            counts = dense[cells]
        else:  # many classes: only the occupied cells
            cells, counts = np.unique(cell, return_counts=True)
        return _LabelTable(
            labels, cells, counts.astype(np.int64), pos[0], pos[1], (sizes[0], sizes[1])
        )

    result: _LabelTable = pair.memo("label_table", make)
    return result


def _positive_label(present: list[Any], classes: Sequence[Any]) -> Any:
    """The positive class for average="binary" (see the module docstring)."""
    if len(present) == 2:
        return max(present)
    pool = list(present)
    model_classes = [_py(c) for c in classes]
    if len(model_classes) <= 2:
        pool += [c for c in model_classes if c not in pool]
    numeric = all(isinstance(v, (int, float)) for v in pool)
    if numeric and all(v in (-1, 0, 1) for v in pool):
        return True if all(isinstance(v, bool) for v in pool) else 1
    try:
        return max(pool)
    except TypeError:
        return max(present)


def _label_draws(
    table: _LabelTable, n_resamples: int, seed: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Blocks of (first resample, baseline and candidate confusion matrices (r, K, K))."""
    k = len(table.labels)
    n = int(table.counts.sum())
    pvals = table.counts / n
    rng = np.random.default_rng(seed)
    per = max(1, min(n_resamples, _BLOCK // max(len(table.cells), k * k)))
    for start in range(0, n_resamples, per):
        draws = rng.multinomial(n, pvals, size=min(per, n_resamples - start))
        cb, cc = table.confusions(draws)
        yield start, cb, cc


def _label_scores(spec: MetricSpec, cm: np.ndarray, pos: int | None) -> np.ndarray:
    """The metric for each confusion matrix in ``cm`` (r, K, K): rows true, columns predicted."""
    tp = np.diagonal(cm, axis1=1, axis2=2)
    t = cm.sum(axis=2)
    p = cm.sum(axis=1)
    n = t.sum(axis=1)
    name = spec.name
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "accuracy" or spec.average == "micro":  # micro P = R = F1 = accuracy
            return tp.sum(axis=1) / n
        if name == "balanced_accuracy":
            has = t > 0
            recall = np.divide(tp, t, out=np.zeros_like(tp), where=has)
            return recall.sum(axis=1) / has.sum(axis=1)
        if name == "matthews_corrcoef":
            cov_tp = tp.sum(axis=1) * n - (t * p).sum(axis=1)
            cov_pp = n * n - (p * p).sum(axis=1)
            cov_tt = n * n - (t * t).sum(axis=1)
            den = cov_pp * cov_tt
            return np.where(den == 0, 0.0, cov_tp / np.sqrt(np.where(den == 0, 1.0, den)))
        base = name.split("_")[0]
        num, den = {"f1": (2 * tp, t + p), "precision": (tp, p), "recall": (tp, t)}[base]
        score = np.divide(num, den, out=np.zeros_like(num), where=den > 0)  # zero_division -> 0
        if spec.average == "binary":
            if pos is None:  # pragma: no cover - filtered by binary_problem
                raise _Undefined("average='binary' needs two classes")
            return score[:, pos]
        if spec.average == "macro":
            present = (t + p) > 0
            return (score * present).sum(axis=1) / present.sum(axis=1)
        if spec.average == "weighted":
            return (score * t).sum(axis=1) / t.sum(axis=1)
    raise AssertionError(f"unhandled label metric {name}")  # pragma: no cover


# --------------------------------------------------------------------------- probabilities


def _model_classes(preds: PredictionSet, y_labels: np.ndarray) -> list[Any]:
    return [_py(c) for c in preds.classes] or [_py(v) for v in y_labels.tolist()]


def _proba(preds: PredictionSet, y_labels: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    if preds.proba is None:
        raise _Undefined("the model gave no probabilities")
    proba = np.asarray(preds.proba, dtype=np.float64)
    classes = _model_classes(preds, y_labels)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise _Undefined(f"probabilities have {proba.shape[-1]} columns for {len(classes)} classes")
    if not np.isfinite(proba).all():
        raise _Undefined("NaN or infinite probabilities")
    return proba, classes


def _columns_of(labels: Sequence[Any], classes: list[Any]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    cols = np.array([index.get(_py(v), -1) for v in labels], dtype=np.int64)
    if (cols < 0).any():
        missing = [_py(v) for v, c in zip(labels, cols, strict=True) if c < 0]
        raise _Undefined(f"labels {missing[:5]} have no probability column")
    return cols


def _binary_target(pair: _Pair) -> tuple[np.ndarray, int, int]:
    """Positive-row mask (the greater of two labels), positives, negatives."""
    labels, codes = pair.y_codes()
    if len(labels) < 2:
        raise _Undefined("one class in y_true")
    if len(labels) > 2:
        raise _Undefined(f"roc_auc needs a binary target, found {len(labels)} classes")
    pos = codes == 1
    n_pos = int(pos.sum())
    return pos, n_pos, pair.n - n_pos


def _positive_scores(model: PredictionSet, pair: _Pair) -> np.ndarray:
    labels, _ = pair.y_codes()
    proba, classes = _proba(model, labels)
    if not model.classes and proba.shape[1] != 2:  # pragma: no cover - caught by _proba
        raise _Undefined("binary scores need two probability columns")
    col = int(_columns_of([labels[-1]], classes)[0])
    return proba[:, col]


def _groups(sorted_values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values."""
    new = np.empty(len(sorted_values), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _delong_placements(
    score: np.ndarray, pos: np.ndarray, n_pos: int, n_neg: int
) -> tuple[np.ndarray, float]:
    """DeLong placement values per row (V10 for positives, V01 for negatives) and the AUC.

    One argsort; tied scores count one half (midranks), as in Sun & Xu (2014).
    """
    n = len(score)
    order = np.argsort(score)
    ps = pos[order]
    starts = _groups(score[order])
    pos_cum = np.cumsum(ps, dtype=np.int64)
    if len(starts) == n:  # no ties: every row is its own group
        pos_g = ps.astype(np.int64)
        neg_g = 1 - pos_g
        neg_below = np.arange(n) - (pos_cum - pos_g)
        sizes = None
    else:
        sizes = np.diff(starts, append=n)
        pos_cum = pos_cum[starts + sizes - 1]
        pos_g = np.diff(pos_cum, prepend=0)
        neg_g = sizes - pos_g
        neg_below = np.cumsum(neg_g) - neg_g
    v10 = (neg_below + 0.5 * neg_g) / n_neg
    v01 = (n_pos - pos_cum + 0.5 * pos_g) / n_pos
    auc = float(np.dot(pos_g, v10) / n_pos)
    if sizes is not None:
        v10, v01 = np.repeat(v10, sizes), np.repeat(v01, sizes)
    out = np.empty(n)
    out[order] = np.where(ps, v10, v01)
    return out, auc


def _row_loss(spec: MetricSpec, pair: _Pair, which: int) -> np.ndarray:
    """Per-row loss whose mean is the metric (natural units)."""
    name = spec.name
    if name == "neg_mean_squared_error":
        return pair.sq_err(which)
    if spec.task == "regression":
        y, p = pair.y_float(), pair.pred_float(which)
        if name == "neg_mean_absolute_error":
            return np.abs(y - p)
        if name == "neg_mean_absolute_percentage_error":
            return np.abs(y - p) / np.maximum(np.abs(y), _EPS64)
        raise AssertionError(f"unhandled row loss {name}")  # pragma: no cover
    model = pair.models()[which]
    labels, codes = pair.y_codes()
    proba, classes = _proba(model, labels)
    if (proba < 0).any() or (proba > 1).any():
        raise _Undefined("probabilities outside [0, 1]")
    cols = _columns_of(labels.tolist(), classes)[codes]
    rows = np.arange(pair.n)
    if name == "neg_log_loss":
        raw = model.proba.dtype if model.proba is not None else np.float64
        eps = float(np.finfo(raw).eps) if np.issubdtype(raw, np.floating) else _EPS64
        return -np.log(np.clip(proba[rows, cols], eps, 1 - eps))
    if name == "neg_brier_score":
        diff = proba.copy()
        diff[rows, cols] -= 1.0
        scale = 0.5 if proba.shape[1] < 3 else 1.0  # scikit-learn's scale_by_half="auto"
        return scale * np.einsum("ij,ij->i", diff, diff)
    raise AssertionError(f"unhandled row loss {name}")  # pragma: no cover


# --------------------------------------------------------------------------- bootstrap
#
# Evaluators take resampled row indices (r, n). Rank-based metrics sort once and give each row
# a small integer code (class, tie group of its score), so one resample is one bincount.


def _row_samples(n: int, reps: int, width: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of (first resample, resampled row indices (r, n)); blocks do not change draws."""
    rng = np.random.default_rng(seed)
    per = max(1, min(reps, _BLOCK // (n * width)))
    for start in range(0, reps, per):
        yield start, rng.integers(0, n, size=(min(per, reps - start), n))


def _counts(code: np.ndarray, n_codes: int, idx: np.ndarray) -> np.ndarray:
    """How often each code occurs in each resample: (r, n_codes) int64."""
    r = idx.shape[0]
    flat = code[idx]
    flat += (np.arange(r) * n_codes)[:, None]
    return np.bincount(flat.reshape(-1), minlength=r * n_codes).reshape(r, n_codes)


def _tie_groups(values: np.ndarray, descending: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the index of its value among the sorted distinct values; the distinct values."""
    uniq, group = np.unique(values, return_inverse=True)
    group = group.reshape(-1).astype(np.int64)
    if descending:
        return len(uniq) - 1 - group, uniq[::-1]
    return group, uniq


def _auc_counts(gp: np.ndarray, gn: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC (ties count one half) from positive/negative counts per score group
    (ascending), one row per resample; exact integer sums."""
    num2 = (gp * (2 * np.cumsum(gn, axis=1) - gn)).sum(axis=1)
    den2 = 2 * gp.sum(axis=1) * gn.sum(axis=1)
    return np.where(den2 > 0, num2 / np.maximum(den2, 1), np.nan)


def _binary_codes(
    score: np.ndarray, pos: np.ndarray, descending: bool = False
) -> tuple[np.ndarray, int]:
    group, uniq = _tie_groups(score, descending)
    return pos.astype(np.int64) * len(uniq) + group, len(uniq)


def _stat_ovr(per_class: list[tuple[np.ndarray, np.ndarray]], weighted: bool) -> _Stat:
    """Binary AUC (one entry) or the macro / prevalence-weighted one-vs-rest AUC."""
    parts = [_binary_codes(score, pos) for score, pos in per_class]

    def fn(idx: np.ndarray) -> np.ndarray:
        aucs, prevalence = [], []
        for code, g in parts:
            c = _counts(code, 2 * g, idx).reshape(-1, 2, g)
            aucs.append(_auc_counts(c[:, 1], c[:, 0]))
            prevalence.append(c[:, 1].sum(axis=1))
        values = np.stack(aucs, axis=1)
        if not weighted:
            return values.mean(axis=1)
        w = np.stack(prevalence, axis=1).astype(np.float64)
        return (values * w).sum(axis=1) / w.sum(axis=1)

    return _Stat(fn, passes=len(parts), width=2)


def _stat_ovo(per_class: list[tuple[np.ndarray, np.ndarray]], y_code: np.ndarray) -> _Stat:
    """Macro one-vs-one AUC (Hand & Till): mean over class pairs (a, b) of the AUC of a vs b
    on score a and of b vs a on score b. One pass per score column."""
    k = len(per_class)
    parts = []
    for score, _ in per_class:
        group, uniq = _tie_groups(score)
        parts.append((y_code * len(uniq) + group, len(uniq)))

    def fn(idx: np.ndarray) -> np.ndarray:
        auc: dict[tuple[int, int], np.ndarray] = {}
        for a, (code, g) in enumerate(parts):
            c = _counts(code, k * g, idx).reshape(-1, k, g)
            for b in range(k):
                if b != a:
                    auc[a, b] = _auc_counts(c[:, a], c[:, b])
        pairs = [(auc[a, b] + auc[b, a]) / 2 for a, b in combinations(range(k), 2)]
        return np.mean(pairs, axis=0)

    return _Stat(fn, passes=k + k * (k - 1) // 2, width=k)  # K counts + K(K-1) AUC sums


def _stat_ap(per_class: list[tuple[np.ndarray, np.ndarray]]) -> _Stat:
    """Average precision (scikit-learn's step integral; 0 without positives), macro over
    classes for a multiclass target."""
    parts = [_binary_codes(score, pos, descending=True) for score, pos in per_class]

    def fn(idx: np.ndarray) -> np.ndarray:
        out = []
        for code, g in parts:
            c = _counts(code, 2 * g, idx).reshape(-1, 2, g)
            gp = c[:, 1]
            tps = np.cumsum(gp, axis=1)
            seen = tps + np.cumsum(c[:, 0], axis=1)
            precision = tps / np.maximum(seen, 1)  # seen == 0 only where gp == 0
            total = tps[:, -1]
            out.append(np.where(total > 0, (gp * precision).sum(axis=1) / np.maximum(total, 1), 0))
        return np.mean(out, axis=0)

    return _Stat(fn, passes=2 * len(parts), width=2)


def _class_scores(spec: MetricSpec, pair: _Pair, which: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(score, positive mask) per class for a multiclass target, or one pair for a binary one."""
    model = pair.models()[which]
    labels, codes = pair.y_codes()
    if len(labels) < 2:
        raise _Undefined("one class in y_true")
    proba, classes = _proba(model, labels)
    if len(labels) == 2 and proba.shape[1] == 2:
        return [(_positive_scores(model, pair), codes == 1)]
    if proba.shape[1] != len(labels):
        raise _Undefined(
            f"y_true has {len(labels)} classes but the probabilities have {proba.shape[1]} columns"
        )
    if spec.name.startswith("roc_auc") and not np.allclose(1, proba.sum(axis=1)):
        raise _Undefined("probabilities do not sum to 1")
    cols = _columns_of(labels.tolist(), classes)
    return [(proba[:, col], codes == j) for j, col in enumerate(cols)]


def _evaluator(spec: MetricSpec, pair: _Pair, which: int) -> _Stat:
    """The metric on resampled rows, for the row bootstrap."""
    name = spec.name
    if name == "neg_root_mean_squared_error":
        se = pair.sq_err(which)
        return _Stat(lambda idx: np.sqrt(se[idx].mean(axis=1)))
    if spec.task == "regression":
        y, p = pair.y_float(), pair.pred_float(which)
        if name == "explained_variance":
            return _stat_explained_variance(y, y - p)
        group, uniq = _tie_groups(np.abs(y - p))
        if name == "max_error":
            last = len(uniq) - 1
            return _Stat(
                lambda idx: uniq[last - (_counts(group, len(uniq), idx)[:, ::-1] > 0).argmax(1)]
            )
        if name == "neg_median_absolute_error":
            return _stat_median(group, uniq)
        raise AssertionError(f"unhandled metric {name}")  # pragma: no cover
    per_class = _class_scores(spec, pair, which)
    if name == "average_precision":
        return _stat_ap(per_class)
    if len(per_class) == 1 or name in ("roc_auc_ovr", "roc_auc_ovr_weighted"):
        return _stat_ovr(per_class, weighted=name == "roc_auc_ovr_weighted")
    if name == "roc_auc_ovo":
        return _stat_ovo(per_class, pair.y_codes()[1])
    raise AssertionError(f"unhandled metric {name}")  # pragma: no cover


def _stat_median(group: np.ndarray, uniq: np.ndarray) -> _Stat:
    """np.median of the resampled values (mean of the two middle ones for an even count)."""

    def fn(idx: np.ndarray) -> np.ndarray:
        cw = np.cumsum(_counts(group, len(uniq), idx), axis=1)
        total = cw[:, -1:]
        lo = (cw > (total - 1) // 2).argmax(axis=1)
        hi = (cw > total // 2).argmax(axis=1)
        return (uniq[lo] + uniq[hi]) / 2

    return _Stat(fn)


def _stat_explained_variance(y: np.ndarray, e: np.ndarray) -> _Stat:
    """scikit-learn's explained_variance_score (force_finite) of the resampled rows."""

    def fn(idx: np.ndarray) -> np.ndarray:
        ye, ee = y[idx], e[idx]
        var_e = ((ee - ee.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
        var_y = ((ye - ye.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = 1 - var_e / var_y
        return np.where(var_e == 0, 1.0, np.where(var_y == 0, 0.0, score))

    return _Stat(fn, passes=2, width=4)
