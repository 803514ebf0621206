"""Closed-form paired intervals on per-row values (``rowloss``, ``rmse``, ``r2``) of
:mod:`cml_bot.stats.engine`.

- ``rowloss``: the per-row loss whose mean is the metric (squared, absolute and percentage
  errors, log loss, Brier score); Student-t interval of the mean paired difference.
- ``rmse``: delta method on the per-row squared errors (``None`` when a model's MSE is 0, where
  sqrt has no slope: the caller resamples rows instead).
- ``r2``: exact linear transform of the paired MSE interval (divided by the population variance
  of ``y_true``).

Pure: numpy only.
"""

from __future__ import annotations

import numpy as np

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.intervals import _t, _z
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


def _mean_half_width(d: np.ndarray, confidence: float) -> float:
    """Half width of the Student-t interval of the mean of ``d``."""
    n = len(d)
    if n < 2:
        raise _Undefined("an interval needs two rows")
    return _t(confidence, n - 1) * float(np.std(d, ddof=1)) / float(np.sqrt(n))


def _paired_mean(
    spec: MetricSpec, pair: _Pair, confidence: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' mean row loss and the interval of the mean paired difference."""
    lb, lc = (_row_loss(spec, pair, i) for i in (0, 1))
    vb, vc = float(np.mean(lb)), float(np.mean(lc))
    half = _mean_half_width(lc - lb, confidence)
    delta = vc - vb
    return (vb, vc), (delta - half, delta + half)


def _rmse_delta_method(
    pair: _Pair, confidence: float
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Both models' RMSE and the delta-method interval; None when a model's MSE is 0."""
    n = pair.n
    if n < 2:
        raise _Undefined("an interval needs two rows")
    seb, sec = pair.sq_err(0), pair.sq_err(1)
    mb, mc = float(np.mean(seb)), float(np.mean(sec))
    vb, vc = float(np.sqrt(mb)), float(np.sqrt(mc))
    if mb == 0.0 or mc == 0.0:  # sqrt is not differentiable at 0
        return None
    gb, gc = -0.5 / vb, 0.5 / vc
    cov = np.cov(np.vstack([seb, sec]), ddof=1)
    var = (gb * gb * cov[0, 0] + gc * gc * cov[1, 1] + 2 * gb * gc * cov[0, 1]) / n
    half = _z(confidence) * float(np.sqrt(max(var, 0.0)))
    delta = vc - vb
    return (vb, vc), (delta - half, delta + half)


def _r2_delta(pair: _Pair, confidence: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' r2 and the interval of the difference (the paired MSE interval / var_y)."""
    y = pair.y_float()
    if pair.n < 2:
        raise _Undefined("r2 needs two rows")
    var_y = float(np.mean((y - y.mean()) ** 2))
    seb, sec = pair.sq_err(0), pair.sq_err(1)
    values = (_r2(float(np.mean(seb)), var_y), _r2(float(np.mean(sec)), var_y))
    if var_y == 0.0:
        raise _Undefined("constant y_true (r2 has no spread to compare)")
    d = (seb - sec) / var_y  # r2_c - r2_b per row
    half = _mean_half_width(d, confidence)
    delta = values[1] - values[0]
    return values, (delta - half, delta + half)
