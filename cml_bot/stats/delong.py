"""Binary ROC AUC (``kind="auc"``) of :mod:`cml_bot.stats.engine`: paired DeLong.

The positive class and its scores, DeLong placement values (Sun & Xu 2014, midranks for ties;
one argsort per model) and the normal interval of the paired AUC difference. Pure: numpy only.
"""

from __future__ import annotations

import numpy as np

from cml_bot.stats.intervals import _z
from cml_bot.stats.pair import _columns_of, _Pair, _proba, _Undefined
from cml_bot.stats.predictions import PredictionSet


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


def _delong(pair: _Pair, confidence: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both models' AUC and the paired DeLong interval of candidate minus baseline."""
    pos, n_pos, n_neg = _binary_target(pair)
    if n_pos < 2 or n_neg < 2:
        raise _Undefined("DeLong variance needs two rows of each class")
    placements = []
    aucs = []
    for model in pair.models():
        v, auc = _delong_placements(_positive_scores(model, pair), pos, n_pos, n_neg)
        placements.append(v)
        aucs.append(auc)
    d = placements[1] - placements[0]
    var = np.var(d[pos], ddof=1) / n_pos + np.var(d[~pos], ddof=1) / n_neg
    delta = aucs[1] - aucs[0]
    half = _z(confidence) * float(np.sqrt(var))
    return (aucs[0], aucs[1]), (delta - half, delta + half)
