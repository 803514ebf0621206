"""Predictions on the evaluation rows: the one data shape every comparison is made from.

A model's predictions file (``predictions.csv``) has the columns ``row_id``, ``label``,
``prediction`` and, for classifiers that give probabilities, one ``proba_<class>`` column per
class in the order of ``classes``. Both the built-in trainer and a user's training command write
this shape (see docs/training-contract.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROBA_PREFIX = "proba_"


@dataclass
class PredictionSet:
    row_id: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None  # shape (n_rows, n_classes), columns in ``classes`` order
    classes: list[Any] = field(default_factory=list)
    # Per-row values of the configured slice columns (e.g. {"plan": array([...])}).
    slices: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.row_id)
        if len(self.y_true) != n or len(self.y_pred) != n:
            raise ValueError("row_id, y_true and y_pred must have the same length")
        if self.proba is not None and (self.proba.ndim != 2 or self.proba.shape[0] != n):
            raise ValueError("proba must have one row per prediction")

    def __len__(self) -> int:
        return len(self.row_id)

    def take(self, index: np.ndarray) -> PredictionSet:
        """The subset (or reordering) of rows at ``index``."""
        return PredictionSet(
            row_id=self.row_id[index],
            y_true=self.y_true[index],
            y_pred=self.y_pred[index],
            proba=None if self.proba is None else self.proba[index],
            classes=list(self.classes),
            slices={k: v[index] for k, v in self.slices.items()},
        )

    def positive_scores(self) -> np.ndarray | None:
        """Scores of the positive (last) class for a binary classifier, else None."""
        if self.proba is None or self.proba.shape[1] != 2:
            return None
        return np.asarray(self.proba[:, 1], dtype=float)

    def fingerprint(self) -> str:
        """A stable hash of the evaluation rows' identity and labels (not the predictions), in
        any row order: what the predictions of either trainer carry, so equal rows hash equal."""
        ids = np.asarray(self.row_id).astype(str)
        order = np.argsort(ids, kind="stable")
        h = hashlib.sha256()
        h.update(ids[order].astype("U").tobytes())
        h.update(np.asarray(self.y_true).astype(str)[order].astype("U").tobytes())
        return h.hexdigest()[:16]


def align(baseline: PredictionSet, candidate: PredictionSet) -> tuple[PredictionSet, PredictionSet]:
    """Both sets restricted to their common row ids, in the candidate's order.

    Raises ValueError when the shared rows disagree on the label (the sets are not the same rows).
    """
    if len(baseline) == len(candidate) and np.array_equal(baseline.row_id, candidate.row_id):
        b, c = baseline, candidate
    else:
        pos = {rid: i for i, rid in enumerate(baseline.row_id.tolist())}
        c_idx = np.array(
            [i for i, rid in enumerate(candidate.row_id.tolist()) if rid in pos], dtype=int
        )
        b_idx = np.array(
            [
                pos[
                    candidate.row_id[i].item()
                    if hasattr(candidate.row_id[i], "item")
                    else candidate.row_id[i]
                ]
                for i in c_idx
            ],
            dtype=int,
        )
        b, c = baseline.take(b_idx), candidate.take(c_idx)
    if not np.array_equal(b.y_true.astype(str), c.y_true.astype(str)):
        raise ValueError("the baseline and candidate disagree on the labels of the same rows")
    return b, c
