"""Training and evaluation data: loading, the seeded split, checks that fail with a clear fix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cml_bot.config import Config
from cml_bot.core import ConfigError, DataError
from cml_bot.ml import rows

ROW_ID = "__row_id__"
SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
# float labels with more distinct values than this are a regression target, not classes
MAX_FLOAT_CLASSES = 20


@dataclass
class Dataset:
    """The rows one run trains and evaluates on. ``row_id`` identifies evaluation rows stably."""

    train: pd.DataFrame
    evaluation: pd.DataFrame
    target: str
    features: list[str]
    source: str
    summary: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)  # how ROW_ID was made (rows.py)
    table: pd.DataFrame | None = None  # the whole training table, in file order
    eval_table: pd.DataFrame | None = None  # the evaluate.data table, when there is one

    @property
    def eval_row_ids(self) -> np.ndarray:
        return self.evaluation[ROW_ID].to_numpy()

    def keys_under(self, identity: dict[str, Any]) -> tuple[dict[Any, str], dict[Any, str]] | None:
        """Row id -> identity under another (recorded) scheme, for the training table and the
        evaluation table; None when this data lacks a column that scheme needs."""
        tables = [self.table, self.eval_table if self.eval_table is not None else self.table]
        out = []
        for table in tables:
            if table is None:
                return None
            keys = rows.keys_under(table, identity)
            if keys is None:
                return None
            out.append(dict(zip(table[ROW_ID].tolist(), keys.tolist(), strict=True)))
        return out[0], out[1]

    def training_record(self, estimator: str | None) -> rows.TrainingRecord:
        """What a model fitted on these training rows records (``train_rows.json``)."""
        return rows.TrainingRecord(
            identity=self.identity,
            rows=[str(r) for r in self.train[ROW_ID].tolist()],
            features=list(self.features),
            target=self.target,
            estimator=estimator,
        )

    def fingerprint(self) -> str:
        """Hash of the evaluation rows (ids, features and labels): changes when the rows do."""
        cols = [ROW_ID, *self.features, self.target]
        hashed = pd.util.hash_pandas_object(self.evaluation[cols], index=False).to_numpy()
        return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _read_table(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(
            f"{what} file not found: {path}",
            fix="check the path in cml-bot.yaml (relative to the config file's folder)",
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(path)
            except ImportError:
                raise DataError(
                    f"reading {path} needs pyarrow", fix="pip install 'cml-bot[parquet]'"
                ) from None
        return pd.read_csv(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{what} file is empty: {path}", fix="give a file with a header and rows"
        ) from None
    except Exception as exc:  # the reader's own message says what is wrong with the file
        raise DataError(
            f"cannot read {what} file {path}: {exc}",
            fix="use a CSV with a header row, or a Parquet file",
        ) from None


def _sklearn_dataset(name: str) -> tuple[pd.DataFrame, str]:
    if name not in SKLEARN_DATASETS:
        raise DataError(
            f"unknown bundled dataset 'sklearn:{name}'",
            fix=f"use one of {', '.join('sklearn:' + n for n in SKLEARN_DATASETS)}",
        )
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame: pd.DataFrame = bunch.frame
    return frame, "target"


def load_frame(spec: str, cfg: Config, what: str) -> tuple[pd.DataFrame, str | None]:
    """A table from a path or ``sklearn:<name>``, and the dataset's own target column if any."""
    if spec.startswith("sklearn:"):
        frame, target = _sklearn_dataset(spec.split(":", 1)[1])
        return frame, target
    return _read_table(cfg.resolve(spec), what), None


def _with_row_ids(
    frame: pd.DataFrame, id_column: str | None, identity: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The table with ``ROW_ID``: the id column's values, else content keys (:mod:`rows`) over
    ``identity``'s columns (default: every column of the table)."""
    frame = frame.copy()
    if id_column:
        if id_column not in frame.columns:
            raise DataError(
                f"id column '{id_column}' is not in the data",
                fix=f"set train.id_column to one of: {', '.join(map(str, frame.columns))}",
            )
        if frame[id_column].duplicated().any():
            raise DataError(
                f"id column '{id_column}' has duplicate values",
                fix="use a column that identifies each row, or remove train.id_column",
            )
        frame[ROW_ID] = frame[id_column].astype(str)
    else:
        own = rows.identity_of(frame, None, ())
        wanted = (identity or own)["columns"]
        columns = wanted if all(c in frame for c in wanted) else own["columns"]
        frame[ROW_ID] = rows.content_keys(frame, columns)
    return frame


def _check_target(frame: pd.DataFrame, target: str, what: str) -> None:
    if target not in frame.columns:
        cols = ", ".join(str(c) for c in frame.columns if c != ROW_ID)
        raise DataError(
            f"target column '{target}' is not in the {what} data",
            fix=f"set train.target to one of: {cols}",
        )
    n_missing = int(frame[target].isna().sum())
    if n_missing:
        raise DataError(
            f"{n_missing} row(s) of the {what} data have no label in '{target}'",
            fix="drop or fill the rows with missing labels before training",
        )
    if len(frame) == 0:
        raise DataError(f"the {what} data has no rows", fix="give a file with rows")


def _finite_features(frame: pd.DataFrame, features: list[str], what: str) -> None:
    """Missing values are imputed; infinite ones cannot be, so name the columns that hold them."""
    bad = [
        str(c)
        for c in features
        if frame[c].dtype.kind == "f" and np.isinf(frame[c].to_numpy()).any()
    ]
    if bad:
        raise DataError(
            f"the {what} data has infinite values in column(s) {bad!r}",
            fix="replace inf/-inf with a number, or leave the cell empty (missing values are "
            "imputed)",
        )


def _classification_checks(train: pd.DataFrame, evaluation: pd.DataFrame, target: str) -> None:
    seen = set(train[target].unique().tolist())
    if len(seen) < 2:
        raise DataError(
            f"the training data has only one class ({next(iter(seen))!r})",
            fix="a classifier needs at least two classes in train.data",
        )
    unseen = sorted(set(evaluation[target].unique().tolist()) - seen, key=str)
    if unseen:
        raise DataError(
            f"class(es) {unseen!r} appear in the evaluation data but not in training",
            fix="add rows of those classes to the training data, or use a stratified "
            "split (leave evaluate.data unset)",
        )


def _class_labels(labels: pd.Series) -> None:
    """Float labels with fractions, or with many values, are a regression target: say so before
    the split's unseen-class message would point at stratification."""
    if labels.dtype.kind != "f":
        return
    distinct = int(labels.nunique())
    if distinct > MAX_FLOAT_CLASSES or not bool((labels % 1 == 0).all()):
        raise ConfigError(
            f"the target '{labels.name}' has {distinct} distinct float values (e.g. "
            f"{labels.iloc[0]!r}), and model.task is classification",
            fix="did you mean `model.task: regression`? (class labels are text or a few whole "
            "numbers)",
        )


def _regression_checks(frame: pd.DataFrame, target: str, what: str) -> None:
    values = pd.to_numeric(frame[target], errors="coerce")
    if values.isna().any() or not np.isfinite(values.to_numpy(dtype=float)).all():
        raise DataError(
            f"the {what} target '{target}' has non-numeric or infinite values",
            fix="a regression target must be finite numbers",
        )


def summarize(frame: pd.DataFrame, target: str, task: str) -> dict[str, Any]:
    """Rows, columns and (for classification) class balance: the report's "data changes"."""
    out: dict[str, Any] = {
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns if c != ROW_ID],
    }
    if task == "classification":
        shares = frame[target].value_counts(normalize=True).sort_index()
        out["class_balance"] = {str(k): round(float(v), 4) for k, v in shares.items()}
    return out


def load_dataset(cfg: Config) -> Dataset:
    """Read ``train.data`` (and ``evaluate.data``), check it, split it with the seed."""
    if cfg.train.data is None:
        raise DataError("train.data is not set", fix="set train.data, or use train.command")
    frame, own_target = load_frame(cfg.train.data, cfg, "training")
    target = cfg.train.target or own_target
    if target is None:
        raise DataError("train.target is not set", fix="name the label column in train.target")
    identity = rows.identity_of(frame, cfg.train.id_column, ())
    frame = _with_row_ids(frame, cfg.train.id_column)
    _check_target(frame, target, "training")
    task = cfg.model.task
    if task == "classification":
        _class_labels(frame[target])
    eval_table = None
    if cfg.evaluate.data:
        eval_frame, _ = load_frame(cfg.evaluate.data, cfg, "evaluation")
        evaluation = eval_table = _with_row_ids(eval_frame, cfg.train.id_column, identity)
        _check_target(evaluation, target, "evaluation")
        train = frame
    else:
        from sklearn.model_selection import train_test_split

        stratify = frame[target] if task == "classification" else None
        if stratify is not None and stratify.value_counts().min() < 2:
            stratify = None
        try:
            train, evaluation = train_test_split(
                frame,
                test_size=cfg.evaluate.test_size,
                random_state=cfg.train.seed,
                stratify=stratify,
            )
        except ValueError as exc:  # too few rows (or rows per class) for the split
            raise DataError(
                f"cannot split the {len(frame)} training row(s) with evaluate.test_size "
                f"{cfg.evaluate.test_size:g}: {exc}",
                fix="give more rows, change evaluate.test_size, or set evaluate.data",
            ) from None
    features = cfg.train.features or [
        c
        for c in frame.columns
        if c not in (target, ROW_ID, cfg.train.id_column, cfg.evaluate.group_column)
    ]
    missing = [c for c in [*features, *cfg.evaluate.row_columns] if c not in evaluation.columns]
    if missing:
        raise DataError(
            f"column(s) {missing!r} named in the config are not in the data",
            fix="check train.features and evaluate.slices against the data's header",
        )
    _finite_features(train, features, "training")
    _finite_features(evaluation, features, "evaluation")
    if task == "classification":
        _classification_checks(train, evaluation, target)
    else:
        _regression_checks(train, target, "training")
        _regression_checks(evaluation, target, "evaluation")
    summary = {
        "train": summarize(train, target, task),
        "evaluation": summarize(evaluation, target, task),
    }
    return Dataset(
        train=train.reset_index(drop=True),
        evaluation=evaluation.reset_index(drop=True),
        target=target,
        features=list(features),
        source=cfg.train.data,
        summary=summary,
        identity=identity,
        table=frame,
        eval_table=eval_table,
    )
