"""Closed-form paired intervals on per-row values (``rowloss``, ``rmse``, ``r2``) of
:mod:`cml_bot.stats.engine`.

- ``rowloss``: the per-row loss whose mean is the metric (squared, absolute and percentage
  errors, log loss, Brier score); Student-t interval of the mean paired difference.
- ``rmse``: the paired MSE interval divided by RMSE_b + RMSE_c (exact identity of the point
  values), so RMSE is significant exactly when MSE is.
- ``r2``: delta method on (MSE_b - MSE_c) / var(y), var(y)'s own variability included.
- ``groups``: the cluster-robust (CR1) variance of the mean, G - 1 degrees of freedom.

Pure: numpy only.
"""

from __future__ import annotations

import numpy as np

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.intervals import _t
from cml_bot.stats.pair import _columns_of, _Pair, _proba, _Undefined

_EPS64 = float(np.finfo(np.float64).eps)


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


def _r2(mse: float, var_y: float) -> float:
    """scikit-learn's r2 (force_finite): 1 - mse/var_y, 1.0 or 0.0 for constant y_true."""
    if var_y == 0.0:
        return 1.0 if mse == 0.0 else 0.0
    return 1.0 - mse / var_y


def _mean_half_width(d: np.ndarray, confidence: float, groups: np.ndarray | None = None) -> float:
    """Half width of the Student-t interval of the mean of ``d``; with ``groups``, from the
    cluster-robust (CR1) variance of the mean with G - 1 degrees of freedom."""
    n = len(d)
    if n < 2:
        raise _Undefined("an interval needs two rows")
    if groups is None:
        return _t(confidence, n - 1) * float(np.std(d, ddof=1)) / float(np.sqrt(n))
    g = int(groups.max()) + 1
    if g < 2:
        raise _Undefined("an interval needs two groups")
    resid = np.bincount(groups, weights=d - d.mean(), minlength=g)
    var = g / (g - 1) * float(np.sum(resid * resid)) / (n * n)
    return _t(confidence, g - 1) * float(np.sqrt(var))


def _paired_mean(
    spec: MetricSpec, pair: _Pair, confidence: float, groups: np.ndarray | None = None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' mean row loss and the interval of the mean paired difference."""
    lb, lc = (_row_loss(spec, pair, i) for i in (0, 1))
    vb, vc = float(np.mean(lb)), float(np.mean(lc))
    half = _mean_half_width(lc - lb, confidence, groups)
    delta = vc - vb
    return (vb, vc), (delta - half, delta + half)


def _rmse_from_mse(
    pair: _Pair, confidence: float, groups: np.ndarray | None = None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' RMSE and the paired MSE interval's ends divided by RMSE_b + RMSE_c.

    RMSE_c - RMSE_b = (MSE_c - MSE_b) / (RMSE_c + RMSE_b) exactly, so the interval is the MSE
    interval on the RMSE scale and is significant exactly when the MSE interval is (to first
    order it is the delta method's)."""
    seb, sec = pair.sq_err(0), pair.sq_err(1)
    mb, mc = float(np.mean(seb)), float(np.mean(sec))
    rb, rc = float(np.sqrt(mb)), float(np.sqrt(mc))
    half = _mean_half_width(sec - seb, confidence, groups)
    if rb + rc == 0.0:  # both models exact on every row
        return (rb, rc), (0.0, 0.0)
    lo, hi = (mc - mb - half) / (rb + rc), (mc - mb + half) / (rb + rc)
    return (rb, rc), (lo, hi)


def _r2_delta(
    pair: _Pair, confidence: float, groups: np.ndarray | None = None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' r2 and the delta-method interval of the difference, which is
    (MSE_b - MSE_c) / var(y): its influence function includes the sampling variability of
    var(y), so the interval widens when errors grow with y (Student-t quantile)."""
    y = pair.y_float()
    if pair.n < 2:
        raise _Undefined("r2 needs two rows")
    dev2 = (y - y.mean()) ** 2
    var_y = float(np.mean(dev2))
    seb, sec = pair.sq_err(0), pair.sq_err(1)
    values = (_r2(float(np.mean(seb)), var_y), _r2(float(np.mean(sec)), var_y))
    if var_y == 0.0:
        raise _Undefined("constant y_true (r2 has no spread to compare)")
    d = seb - sec
    ratio = float(np.mean(d)) / var_y  # r2_c - r2_b
    influence = d / var_y - ratio * dev2 / var_y  # mean-centred in _mean_half_width
    half = _mean_half_width(influence, confidence, groups)
    delta = values[1] - values[0]
    return values, (delta - half, delta + half)
