"""Predictions on the evaluation rows -> metrics (overall and per slice), size and latency."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cml_bot import stats
from cml_bot.core import DataError
from cml_bot.ml.data import ROW_ID, Dataset
from cml_bot.stats import PROBA_PREFIX, PredictionSet

SLICE_PREFIX = "slice:"
LATENCY_SAMPLE_ROWS = 50

PredictFn = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray | None]]


def rows_fingerprint(preds: PredictionSet, columns: str | None) -> str:
    """``<rows>`` (ids and labels, :meth:`PredictionSet.fingerprint`: what any trainer's
    predictions carry), then ``:<columns>`` (the rows' values) when cml-bot read the rows."""
    return f"{preds.fingerprint()}:{columns}" if columns else preds.fingerprint()


def same_rows(recorded: str | None, current: str | None) -> bool:
    """Whether two evaluation fingerprints are of the same rows with the same values; one
    without a values part (a training command's) matches on the rows alone."""
    if not recorded or not current:
        return False
    rows, _, values = recorded.partition(":")
    now_rows, _, now_values = current.partition(":")
    return rows == now_rows and (values == now_values or not values or not now_values)


def rows_changed(who: str, recorded: str | None, current: str) -> str:
    """The report's note when ``who`` was scored on other evaluation rows than ``current``,
    or on the same rows whose column values changed."""
    rows, _, values = (recorded or "").partition(":")
    now_rows, _, now_values = current.partition(":")
    if recorded and rows == now_rows:
        return (
            f"The evaluation rows are those {who} was scored on, but their column values "
            f"changed (values {values} → {now_values}), so {who} was re-scored on them."
        )
    return (
        f"The evaluation rows changed since {who} was scored (fingerprint "
        f"{rows or 'unknown'} → {now_rows}), so {who} was re-scored on the current rows."
    )


@dataclass
class Evaluation:
    predictions: PredictionSet
    metrics: dict[str, float]
    slices: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    latency_median_ms: float | None = None
    latency_p95_ms: float | None = None
    model_size_bytes: int | None = None
    fingerprint: str | None = None


def sklearn_predict_fn(model: Any) -> PredictFn:
    """Predictions and (where the model has them) class probabilities of a fitted estimator."""

    def predict(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        pred = np.asarray(model.predict(frame))
        proba = None
        if hasattr(model, "predict_proba"):
            try:
                proba = np.asarray(model.predict_proba(frame), dtype=float)
            except (AttributeError, NotImplementedError):
                proba = None
        return pred, proba

    return predict


def model_classes(model: Any) -> list[Any]:
    classes = getattr(model, "classes_", None)
    return [c.item() if hasattr(c, "item") else c for c in classes] if classes is not None else []


def raw_predict(predict_fn: PredictFn, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions (and probabilities) of every row of ``frame``; a DataError if the model fails."""
    try:
        return predict_fn(frame)
    except Exception as exc:  # the model's own message names the problem
        raise DataError(
            f"the model could not score the evaluation rows: {type(exc).__name__}: {exc}",
            fix="check that the evaluation data has the training columns",
        ) from None


def predict(
    predict_fn: PredictFn, dataset: Dataset, classes: list[Any], slices: list[str], task: str
) -> PredictionSet:
    pred, proba = raw_predict(predict_fn, dataset.evaluation[dataset.features])
    return prediction_set(dataset, pred, proba, classes, slices, task)


def prediction_set(
    dataset: Dataset,
    pred: np.ndarray,
    proba: np.ndarray | None,
    classes: list[Any],
    slices: list[str],
    task: str,
) -> PredictionSet:
    """The evaluation rows' ids, labels and slices with a model's predictions of them."""
    frame = dataset.evaluation
    if task == "regression" or (proba is not None and proba.shape[1] != len(classes)):
        proba = None
    return PredictionSet(
        row_id=frame[ROW_ID].to_numpy(),
        y_true=frame[dataset.target].to_numpy(),
        y_pred=pred,
        proba=proba,
        classes=list(classes),
        slices={s: frame[s].astype(str).to_numpy() for s in slices},
    )


def measure_latency(
    predict_fn: PredictFn, frame: pd.DataFrame, rows: int = LATENCY_SAMPLE_ROWS
) -> tuple[float, float]:
    """Median and p95 milliseconds to score one row, measured on up to ``rows`` single-row calls."""
    sample = frame.head(rows)
    predict_fn(sample.iloc[:1])  # warm-up
    times = []
    for i in range(len(sample)):
        start = time.perf_counter()
        predict_fn(sample.iloc[i : i + 1])
        times.append((time.perf_counter() - start) * 1000)
    arr = np.asarray(times)
    return float(np.median(arr)), float(np.percentile(arr, 95))


def timed_rounds(
    predict_fns: Sequence[PredictFn],
    frames: Sequence[pd.DataFrame],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> list[list[float]]:
    """Each model's median milliseconds per row in each of ``rounds`` interleaved rounds, on the
    same rows: one warm-up call each, then every round scores every row singly with each model
    in turn, the order reversed every other round (A B, B A, ...) so neither always goes first."""
    for fn, frame in zip(predict_fns, frames, strict=True):
        fn(frame.iloc[:1])  # warm-up
    out: list[list[float]] = [[] for _ in predict_fns]
    order = list(range(len(predict_fns)))
    for r in range(rounds):
        for i in order if r % 2 == 0 else order[::-1]:
            times = []
            for k in range(len(frames[i])):
                start = clock()
                predict_fns[i](frames[i].iloc[k : k + 1])
                times.append((clock() - start) * 1000)
            out[i].append(float(np.median(times)))
    return out


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def compute_metrics(preds: PredictionSet, names: list[str]) -> dict[str, float]:
    return {name: stats.metric_value(name, preds) for name in names}


def slice_metrics(
    preds: PredictionSet, names: list[str], columns: list[str] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """{column: {value: {metric: value}}} for the slice ``columns`` (default: every column the
    predictions carry; the group column is carried but is not a slice)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for column, values in preds.slices.items():
        if columns is not None and column not in columns:
            continue
        out[column] = {}
        for value in sorted(set(values.tolist()), key=str):
            subset = preds.take(np.flatnonzero(values == value))
            out[column][str(value)] = compute_metrics(subset, names)
    return out


def save_predictions(preds: PredictionSet, path: Path) -> None:
    frame = pd.DataFrame(
        {"row_id": preds.row_id, "label": preds.y_true, "prediction": preds.y_pred}
    )
    if preds.proba is not None:
        for i, cls in enumerate(preds.classes):
            frame[f"{PROBA_PREFIX}{cls}"] = preds.proba[:, i]
    for column, values in preds.slices.items():
        frame[f"{SLICE_PREFIX}{column}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _coerce(values: pd.Series, like: pd.Series) -> np.ndarray:
    """Read labels back with the labels' own type (CSV turns 1 into "1" or 1.0 otherwise)."""
    if like.dtype.kind in "iu" and values.dtype.kind == "f" and (values % 1 == 0).all():
        return values.astype(like.dtype).to_numpy()
    return values.to_numpy()


def load_predictions(path: Path, task: str) -> PredictionSet:
    """Read a predictions.csv (ours or a training command's), checking its columns."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(
            f"cannot read predictions {path}: {exc}",
            fix="write row_id,label,prediction[,proba_<class>...] as CSV",
        ) from None
    missing = [c for c in ("row_id", "label", "prediction") if c not in frame.columns]
    if missing:
        raise DataError(
            f"predictions {path} lack column(s) {missing}",
            fix="write row_id,label,prediction[,proba_<class>...] as CSV",
        )
    if frame["label"].isna().any():
        raise DataError(
            f"predictions {path} have rows with no label",
            fix="every evaluation row needs its true label",
        )
    proba_cols = [c for c in frame.columns if c.startswith(PROBA_PREFIX)]
    proba = None
    classes: list[Any] = []
    if task == "classification" and proba_cols:
        raw = [c[len(PROBA_PREFIX) :] for c in proba_cols]
        label_kind = frame["label"].dtype.kind
        classes = [int(c) if label_kind in "iu" and c.lstrip("-").isdigit() else c for c in raw]
        proba = frame[proba_cols].to_numpy(dtype=float)
    label = frame["label"]
    y_pred = _coerce(frame["prediction"], label)
    slices = {
        c[len(SLICE_PREFIX) :]: frame[c].astype(str).to_numpy()
        for c in frame.columns
        if c.startswith(SLICE_PREFIX)
    }
    return PredictionSet(
        row_id=frame["row_id"].to_numpy(),
        y_true=label.to_numpy(),
        y_pred=y_pred,
        proba=proba,
        classes=classes,
        slices=slices,
    )
