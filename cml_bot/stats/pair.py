"""The paired inputs of :mod:`cml_bot.stats.engine`: baseline and candidate on the same rows.

Holds :class:`_Pair` (both prediction sets, checked to share ``y_true``, with cached derived
arrays), the :class:`_Undefined` signal (a metric or interval with no value on these rows),
label encoding (sorted labels and integer codes) and the probability columns of a model.
Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cml_bot.stats.predictions import PredictionSet


class _Undefined(Exception):
    """The metric or its interval has no value on these rows (the message says why)."""


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class _Pair:
    """Baseline and candidate predictions on the same rows, with cached derived arrays."""

    def __init__(self, baseline: PredictionSet, candidate: PredictionSet) -> None:
        n = len(baseline)
        if len(candidate) != n:
            raise ValueError(
                f"baseline and candidate have different row counts ({n} vs {len(candidate)}); "
                "align them first (cml_bot.stats.predictions.align)"
            )
        yb, yc = np.asarray(baseline.y_true), np.asarray(candidate.y_true)
        if yc is not yb and not _same_labels(yb, yc):
            raise ValueError(
                "baseline and candidate have different y_true; align them first "
                "(cml_bot.stats.predictions.align)"
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


def label_codes(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """One array of labels (or slice values) as text: its distinct values, sorted, and each
    row's int64 index into them. The metric encoder above does the work; values it refuses
    (missing, NaN, mixed types) are compared as text."""
    arr = np.asarray(values)
    try:
        labels, (codes,) = _encode_labels([arr])
    except _Undefined:
        uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
        labels, codes = uniq, inverse.reshape(-1).astype(np.int64)
    return [str(u.item() if isinstance(u, np.generic) else u) for u in labels], codes


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


def _group_codes(groups: np.ndarray | Sequence[Any] | None, n: int) -> np.ndarray | None:
    """Each row's group as an int64 code in ``range(G)``; None when rows are independent."""
    if groups is None:
        return None
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"groups must hold one value per row ({n}), got shape {arr.shape}")
    return label_codes(arr)[1]
