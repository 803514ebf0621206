"""Per-slice and per-class breakdowns of a comparison.

Slice tables (the metrics per value of a slice column, the largest ``MAX_SLICE_VALUES`` slices),
confusion matrices (up to ``MAX_CONFUSION_LABELS`` classes) and label mismatches (evaluation
classes a model does not know or never predicts), with the notes they add. Labels are compared
as text. Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cml_bot.compare.results import ConfusionMatrices, LabelMismatch, SliceRow, SliceTable
from cml_bot.compare.values import _deltas, _value
from cml_bot.stats import PredictionSet, confusion_matrix, label_codes

MAX_SLICE_VALUES = 50  # per slice column: the largest slices are kept, the rest counted
MAX_CONFUSION_LABELS = 25  # more classes than this: no confusion matrix (a note says so)


@dataclass(frozen=True)
class _Codes:
    """An array of labels as text: the distinct labels and each row's index into them."""

    names: list[str]
    inverse: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Codes:
        names, codes = label_codes(values)
        return cls(names, codes)

    def to(self, labels: Sequence[str]) -> np.ndarray:
        """Each row's index into ``labels`` (which must hold every name)."""
        index = {label: i for i, label in enumerate(labels)}
        return np.array([index[n] for n in self.names], dtype=int)[self.inverse]


def _sorted_labels(names: set[str]) -> list[str]:
    return sorted(names, key=_label_key)


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _quoted(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{i}'" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def label_mismatch(
    role: str, preds: PredictionSet, eval_labels: Sequence[str], predicted: set[str] | None = None
) -> LabelMismatch:
    """Evaluation classes the model does not know or never predicts (``predicted``: its distinct
    predictions as text, when already known)."""
    known = {str(c) for c in preds.classes}
    predicted = set(_Codes.of(preds.y_pred).names) if predicted is None else predicted
    unknown = [c for c in eval_labels if known and c not in known]
    never = [c for c in eval_labels if c not in predicted and c not in unknown]
    return LabelMismatch(role, unknown, never)


def _mismatch_notes(m: LabelMismatch, counts: Mapping[str, int]) -> list[str]:
    notes = []
    if m.unknown:
        notes.append(
            f"The {m.role} does not know class(es) {_quoted(m.unknown)} that appear in "
            "the evaluation rows (it was trained without them)."
        )
    if m.never_predicted:
        rows = sum(counts.get(c, 0) for c in m.never_predicted)
        notes.append(
            f"The {m.role} never predicts class(es) {_quoted(m.never_predicted)} "
            f"({rows} evaluation rows)."
        )
    return notes


# ----------------------------------------------------------------------- slices and confusion


def _slice_table(
    column: str,
    names: Sequence[str],
    candidate: PredictionSet,
    baseline: PredictionSet | None,
    stats: Mapping[str, Any] | None = None,
) -> SliceTable:
    """The metrics per value of ``column``; with a baseline and ``stats`` (the interval
    settings: confidence, seed, n_resamples), a paired interval per value and metric."""
    codes = _Codes.of(candidate.slices[column])
    counts = np.bincount(codes.inverse, minlength=len(codes.names))
    order = sorted(range(len(codes.names)), key=lambda i: (-int(counts[i]), codes.names[i]))
    kept = order[:MAX_SLICE_VALUES]
    rows = []
    for i in kept:
        idx = np.flatnonzero(codes.inverse == i)
        c_sub = candidate.take(idx)
        b_vals, deltas = None, {}
        if baseline is not None:
            b_sub = baseline.take(idx)
            b_vals = {m: _value(m, b_sub) for m in names}
            if stats is not None:
                deltas = {d.metric: d for d in _deltas(list(names), b_sub, c_sub, **stats)}
        c_vals = {m: _value(m, c_sub) for m in names}
        rows.append(SliceRow(codes.names[i], int(counts[i]), c_vals, b_vals, deltas))
    return SliceTable(column, list(names), rows, omitted=len(codes.names) - len(kept))


def _matrix(truth: _Codes, pred: _Codes, labels: list[str]) -> list[list[int]]:
    matrix = confusion_matrix(truth.to(labels), pred.to(labels), len(labels))
    return [[int(v) for v in row] for row in matrix]


def _confusion(
    truth: _Codes, c_pred: _Codes, b_pred: _Codes | None
) -> tuple[ConfusionMatrices | None, list[str]]:
    names = set(truth.names) | set(c_pred.names) | set(b_pred.names if b_pred else [])
    labels = _sorted_labels(names)
    if len(labels) > MAX_CONFUSION_LABELS:
        return None, [
            f"No confusion matrix: {len(labels)} classes is more than {MAX_CONFUSION_LABELS}."
        ]
    return ConfusionMatrices(
        labels=labels,
        candidate=_matrix(truth, c_pred, labels),
        baseline=_matrix(truth, b_pred, labels) if b_pred else None,
    ), []


def _classification_extras(
    task: str, c: PredictionSet, b: PredictionSet | None, notes: list[str]
) -> tuple[list[LabelMismatch], ConfusionMatrices | None]:
    if task != "classification":
        return [], None
    truth = _Codes.of(c.y_true)  # the same rows and labels on both sides after alignment
    counts = np.bincount(truth.inverse, minlength=len(truth.names))
    count_of = {name: int(n) for name, n in zip(truth.names, counts, strict=True)}
    eval_labels = _sorted_labels(set(truth.names))
    c_pred = _Codes.of(c.y_pred)
    b_pred = _Codes.of(b.y_pred) if b is not None else None
    mismatches = []
    for role, preds, pred in (("baseline", b, b_pred), ("candidate", c, c_pred)):
        if preds is None or pred is None:
            continue
        m = label_mismatch(role, preds, eval_labels, set(pred.names))
        if m.unknown or m.never_predicted:
            mismatches.append(m)
            notes.extend(_mismatch_notes(m, count_of))
    confusion, extra = _confusion(truth, c_pred, b_pred)
    notes.extend(extra)
    return mismatches, confusion
