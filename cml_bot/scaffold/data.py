"""What the training data says before any config exists, for ``cml-bot init``'s defaults.

A CSV's (or Parquet file's) header names the columns, a column named like a target (or the
last one) is the target guess, and the target's values say whether the task is classification
or regression. The bundled scikit-learn datasets (``sklearn:<name>``) carry their own target
and task. Also here: where the data is (the one CSV in ``data/``), how its path is written in
the config, and the default metrics for a task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.core import ConfigError, DataError
from cml_bot.core import metrics as catalogue

TASKS = ("classification", "regression")
SKLEARN_TASKS = {
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "digits": "classification",
    "diabetes": "regression",
}
TARGET_NAMES = ("target", "label", "labels", "y", "class", "outcome", "species")
# integer-valued targets with at most this many distinct values are taken as class labels
MAX_CLASSES = 20


@dataclass(frozen=True)
class DataFacts:
    """What the data says before any config exists: its columns and a guess at target and task."""

    spec: str  # as written in the config (relative to the config's folder, or sklearn:<name>)
    columns: list[str]
    target: str | None  # the dataset's own target (sklearn) or a guess by name
    frame: Any = None  # a pandas DataFrame (a sample) for task inference; None when unread
    target_reason: str = "the dataset's own target"  # why ``target`` was guessed

    def infer_task(self, target: str) -> str | None:
        if self.spec.startswith("sklearn:"):
            return SKLEARN_TASKS.get(self.spec.split(":", 1)[1])
        if self.frame is None or target not in self.frame.columns:
            return None
        return infer_task(self.frame[target])

    def n_classes(self, target: str) -> int | None:
        if self.spec.startswith("sklearn:"):
            name = self.spec.split(":", 1)[1]
            return {"iris": 3, "wine": 3, "breast_cancer": 2, "digits": 10}.get(name)
        if self.frame is None or target not in self.frame.columns:
            return None
        return int(self.frame[target].dropna().nunique())

    def id_column(self) -> str | None:
        """A column that looks like a row id: named id or *_id, with unique values."""
        if self.frame is None:
            return None
        for col in self.columns:
            low = col.lower()
            if (low == "id" or low.endswith("_id")) and self.frame[col].is_unique:
                return col
        return None


def suggest_data(config_dir: Path) -> str | None:
    """The one CSV in ``data/`` or the config's folder, if there is exactly one."""
    for folder in (config_dir / "data", config_dir):
        found = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        if len(found) == 1:
            return found[0].relative_to(config_dir).as_posix()
    return None


def data_spec(value: str, config_dir: Path, cwd: Path | None = None) -> str:
    """The data path as the config will hold it: relative to the config's folder."""
    value = value.strip()
    if value.startswith("sklearn:") or not value:
        return value
    path = Path(value)
    if path.is_absolute():
        candidate = path
    elif (config_dir / path).exists():
        return path.as_posix()
    else:
        candidate = (cwd or Path.cwd()) / path
    try:
        return candidate.resolve().relative_to(config_dir.resolve()).as_posix()
    except ValueError:
        return candidate.resolve().as_posix()


def inspect_data(spec: str, config_dir: Path, max_rows: int = 100_000) -> DataFacts:
    """Columns (and a sample for task inference) of a CSV/Parquet file or a bundled dataset."""
    import pandas as pd

    if spec.startswith("sklearn:"):
        from cml_bot.ml import SKLEARN_DATASETS

        name = spec.split(":", 1)[1]
        if name not in SKLEARN_DATASETS:
            raise DataError(
                f"unknown bundled dataset {spec!r}",
                fix=f"use one of {', '.join('sklearn:' + n for n in SKLEARN_DATASETS)}",
            )
        from sklearn import datasets

        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return DataFacts(spec, [str(c) for c in frame.columns], "target", frame)
    path = Path(spec) if Path(spec).is_absolute() else config_dir / spec
    if not path.is_file():
        raise DataError(
            f"data file not found: {path}",
            fix="give a CSV or Parquet path (relative to the config's folder) or sklearn:<name>",
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, nrows=max_rows)
    except ImportError:
        raise DataError(
            f"reading {path} needs pyarrow", fix="pip install 'cml-bot[parquet]'"
        ) from None
    except Exception as exc:  # pandas says what is wrong with the file
        raise DataError(
            f"cannot read {path}: {exc}", fix="use a CSV with a header row, or a Parquet file"
        ) from None
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise DataError(f"{path} has no columns", fix="give a file with a header and rows")
    target, why = guess_target_why(columns, frame)
    return DataFacts(spec, columns, target, frame, why)


def guess_target(columns: Sequence[str], frame: Any = None) -> str | None:
    return guess_target_why(columns, frame)[0]


def guess_target_why(columns: Sequence[str], frame: Any = None) -> tuple[str | None, str]:
    """The likeliest target column and why: a name like ``target``/``label``/``class``/
    ``species``/``y``, else the only text column with few distinct values, else the last column."""
    lowered = {c.lower(): c for c in columns}
    for name in TARGET_NAMES:
        if name in lowered:
            return lowered[name], f"it is named like a target ({name})"
    if frame is not None:
        import pandas as pd

        texts = [
            c
            for c in columns
            if c in frame
            and not pd.api.types.is_numeric_dtype(frame[c])
            and 1 < frame[c].nunique() <= MAX_CLASSES
        ]
        if len(texts) == 1:
            return texts[0], "it is the only text column with few distinct values"
    if not columns:
        return None, ""
    return columns[-1], "it is the last column (no column is named like a target)"


def infer_task(values: Any) -> str:
    """Classification for text, booleans and integers with few distinct values; else regression."""
    import pandas as pd

    series = values.dropna()
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return "classification"
    whole = bool((series % 1 == 0).all()) if len(series) else True
    return "classification" if whole and series.nunique() <= MAX_CLASSES else "regression"


def default_metrics(task: str, n_classes: int | None) -> list[str]:
    if task == "regression":
        return ["neg_root_mean_squared_error", "r2"]
    if n_classes == 2:
        return ["roc_auc", "accuracy", "f1_macro"]
    return ["accuracy", "f1_macro"]


def check_fit(facts: DataFacts, target: str, task: str, chosen: list[str]) -> None:
    """Refuse answers the data contradicts: a regression on a text target, a two-class metric
    on more classes (ConfigError: `init` exits 2 before writing anything)."""
    import pandas as pd

    column = facts.frame[target] if facts.frame is not None and target in facts.frame else None
    if task == "regression" and column is not None:
        values = column.dropna()
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            example = f" (e.g. {values.iloc[0]!r})" if len(values) else ""
            raise ConfigError(
                f"--task regression needs a numeric target, and '{target}' holds "
                f"{'true/false' if pd.api.types.is_bool_dtype(values) else 'text'} "
                f"values{example}",
                fix="use --task classification, or pick a numeric --target",
            )
    n = facts.n_classes(target) if task == "classification" else None
    binary = [m for m in chosen if catalogue.binary_only(m)]
    if n is not None and n > 2 and binary:
        raise ConfigError(
            f"{', '.join(binary)} need(s) exactly two classes, and '{target}' has {n}",
            fix="use a multiclass form: roc_auc_ovr, f1_macro, precision_macro, recall_macro",
        )


@dataclass
class Answers:
    """Everything ``init`` needs; None means "ask, or use the default"."""

    data: str | None = None
    target: str | None = None
    task: str | None = None
    metrics: list[str] = field(default_factory=list)
    model_name: str | None = None
    id_column: str | None = None  # found in the data when not given
    target_reason: str | None = None  # why the target was guessed (None: it was given)
