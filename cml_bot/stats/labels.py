"""Label metrics (``kind="label"``) of :mod:`cml_bot.stats.engine`: resampled joint counts.

A label metric is a function of the confusion matrix, so the rows only matter through the joint
counts of (label, baseline prediction, candidate prediction): :class:`_LabelTable` holds them,
one multinomial draw of those counts is exactly one row bootstrap, and :func:`_label_scores`
computes accuracy, balanced accuracy, MCC and precision/recall/F1 (every ``average``) for a
batch of confusion matrices at once. Also here: the positive class for ``average="binary"``.
Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.pair import _encode_labels, _Pair, _py, _Undefined


@dataclass
class _LabelTable:
    labels: list[Any]  # label of each code (sorted, plus an absent positive class if needed)
    cells: np.ndarray  # occupied cells (y_true * K + baseline pred) * K + candidate pred
    counts: np.ndarray  # rows in each occupied cell (int64)
    pos_b: int | None  # code of the positive class for average="binary", per model
    pos_c: int | None
    union_sizes: tuple[int, int]  # labels seen in y_true or the model's predictions
    row_cells: np.ndarray  # each row's index into ``cells`` (for resampling groups of rows)

    def binary_problem(self) -> str | None:
        worst = max(self.union_sizes)
        if worst > 2:
            return f"average='binary' needs at most two classes, found {worst}"
        return None

    def confusions(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Baseline and candidate confusion matrices (r, K, K) for cell counts (r, cells)."""
        k = len(self.labels)
        y, b, c = self.cells // (k * k), (self.cells // k) % k, self.cells % k
        return _confusions(y * k + b, weights, k), _confusions(y * k + c, weights, k)


def _confusions(pairs: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """(r, K, K) matrices: ``pairs`` (m,) holds true * K + predicted per cell, ``weights``
    (r, m) how often each cell counts in each of r tables. The one confusion-matrix count."""
    r = weights.shape[0]
    index = ((np.arange(r) * (k * k))[:, None] + pairs).reshape(-1)
    flat = weights.astype(np.float64).reshape(-1)
    return np.bincount(index, weights=flat, minlength=r * k * k).reshape(r, k, k)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """The (K, K) counts of (true code, predicted code), codes in ``range(k)``."""
    pairs = np.asarray(truth, dtype=np.int64) * k + np.asarray(predicted, dtype=np.int64)
    return _confusions(pairs, np.ones((1, pairs.size)), k)[0].astype(np.int64)


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
            row_cells = (np.cumsum(dense > 0) - 1)[cell]
        else:  # many classes: only the occupied cells
            cells, row_cells, counts = np.unique(cell, return_inverse=True, return_counts=True)
        return _LabelTable(
            labels,
            cells,
            counts.astype(np.int64),
            pos[0],
            pos[1],
            (sizes[0], sizes[1]),
            row_cells.reshape(-1).astype(np.int64),
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
