"""Row identity and the training-row record: which rows a model was trained on, so that no model is
scored on them.

A row's identity is its ``train.id_column`` value, or without one a hash of its content: every
column of the table (names sorted, numbers compared as numbers so ``3750`` and ``3750.0`` agree,
missing values alike), plus the occurrence index among identical rows (``<hash>``, ``<hash>#1``,
...): duplicates stay separate rows, counted, never merged. Reordering, appending or deleting
rows keeps the identity of the rows that stayed; editing a cell gives that row a new identity.

Every model the built-in trainer fits carries :data:`RECORD_FILE` in its model directory (so the
registered version carries it too): the identity scheme, the training rows' identities, the
input columns and the estimator. A later run re-identifies its own rows with the *recorded*
scheme (the champion's columns), so a pull request that adds a column or drops a feature still
recognises the champion's training rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RECORD_FILE = "train_rows.json"
_SEP = "\x1f"


def _canonical(column: pd.Series) -> pd.Series:
    """Text that is equal when the values are: numbers as floats, missing values as one token."""
    missing = column.isna()
    if column.dtype.kind in "biuf":
        text = column.astype("float64").map(repr)
    else:
        numeric = pd.to_numeric(column, errors="coerce")
        text = column.astype(str)
        as_number = numeric.notna()
        text[as_number] = numeric[as_number].astype("float64").map(repr)
    text[missing] = "\x00NA"
    return text


def content_keys(frame: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    """One identity per row: the hash of its values in ``columns`` and its occurrence index."""
    names = sorted(str(c) for c in columns)
    joined = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for name in names:
        joined = joined + _SEP + _canonical(frame[name])
    hashed = pd.util.hash_pandas_object(joined, index=False).to_numpy()
    keys = pd.Series([f"r{h:016x}" for h in hashed.tolist()], index=frame.index)
    nth = keys.groupby(keys).cumcount()
    return np.asarray(
        [k if n == 0 else f"{k}#{n}" for k, n in zip(keys.tolist(), nth.tolist(), strict=True)],
        dtype=object,
    )


def identity_of(frame: pd.DataFrame, id_column: str | None, skip: Iterable[str]) -> dict[str, Any]:
    """The identity scheme of a table: its id column, or the columns its content hash covers."""
    if id_column:
        return {"scheme": "id_column", "column": id_column}
    left_out = set(skip)
    return {"scheme": "content", "columns": sorted(str(c) for c in frame if c not in left_out)}


def keys_under(frame: pd.DataFrame, identity: dict[str, Any]) -> np.ndarray | None:
    """The identities of ``frame``'s rows under ``identity`` (None: a column it needs is gone)."""
    if identity.get("scheme") == "id_column":
        column = str(identity.get("column"))
        return frame[column].astype(str).to_numpy() if column in frame else None
    columns = [str(c) for c in identity.get("columns", [])]
    if not columns or any(c not in frame for c in columns):
        return None
    return content_keys(frame, columns)


def describe(identity: dict[str, Any]) -> str:
    if identity.get("scheme") == "id_column":
        return f"id column '{identity.get('column')}'"
    return f"content hash of {len(identity.get('columns', []))} column(s)"


@dataclass
class TrainingRecord:
    """What a fitted model was trained on and with: written as ``model/train_rows.json``."""

    identity: dict[str, Any]
    rows: list[str]
    features: list[str] = field(default_factory=list)
    target: str = ""
    estimator: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "identity": self.identity,
            "features": self.features,
            "target": self.target,
            "estimator": self.estimator,
            "rows": self.rows,
        }

    def write(self, *folders: Path) -> None:
        text = json.dumps(self.to_json()) + "\n"
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / RECORD_FILE).write_text(text)


def read_record(model_dir: Path | None) -> TrainingRecord | None:
    """The record in a model directory; None when there is none or it is not one of ours.

    The file is parsed as data only (JSON with checked types): a model's files are not trusted."""
    path = None if model_dir is None else model_dir / RECORD_FILE
    if path is None or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("identity"), dict):
        return None
    rows, features = doc.get("rows"), doc.get("features")
    if not isinstance(rows, list) or not isinstance(features, list):
        return None
    estimator = doc.get("estimator")
    return TrainingRecord(
        identity=doc["identity"],
        rows=[str(r) for r in rows],
        features=[str(f) for f in features],
        target=str(doc.get("target") or ""),
        estimator=estimator if isinstance(estimator, str) else None,
    )


@dataclass
class RowAccount:
    """How many evaluation rows were compared, and which were set aside and why."""

    evaluation: int
    excluded: set[Any] = field(default_factory=set)  # candidate row ids left out of the comparison
    baseline_trained_on: int = 0
    candidate_trained_on: int = 0
    duplicates: int = 0  # evaluation rows identical to an earlier row (counted separately)
    identity: str = ""
    training_added: int | None = None  # candidate training rows the baseline was not trained on
    training_removed: int | None = None  # baseline training rows the candidate was not trained on
    unmatched: str | None = None  # why the baseline's training rows could not be matched

    @property
    def compared(self) -> int:
        return self.evaluation - len(self.excluded)

    def to_json(self) -> dict[str, Any]:
        training = None
        if self.training_added is not None:
            training = {"added": self.training_added, "removed": self.training_removed}
        return {
            "evaluation": self.evaluation,
            "compared": self.compared,
            "set_aside": {
                "baseline_trained_on": self.baseline_trained_on,
                "candidate_trained_on": self.candidate_trained_on,
            },
            "duplicates": self.duplicates,
            "identity": self.identity,
            "training_rows": training,
            "unmatched": self.unmatched,
        }
