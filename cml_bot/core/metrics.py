"""The metric catalogue: scikit-learn scorer names and how cml-bot computes and compares them.

Pure: no I/O, no heavy imports. Values are always reported in the metric's natural units
(``neg_mean_squared_error`` is reported as a positive mean squared error, lower is better), so a
gate's ``min``/``max``/``max_drop`` read the way a person reads the number.

``kind`` tells :mod:`cml_bot.stats.engine` which paired interval applies:

- ``label``: a function of the confusion matrix -> Tango's paired-proportion score interval,
  scaled for the metrics other than accuracy by a bootstrap of the joint counts of
  (label, baseline prediction, candidate prediction) instead of rows.
- ``auc``: binary ROC AUC -> paired DeLong variance.
- ``rowloss``: the mean of a per-row loss -> closed-form interval of the mean paired difference.
- ``rmse`` / ``r2``: functions of the mean squared error -> the MSE interval rescaled / the
  delta method including var(y).
- ``other``: a seeded bootstrap over rows (the general fallback; ``max_error`` gets none).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Kind = Literal["label", "auc", "rowloss", "rmse", "r2", "other"]
Task = Literal["classification", "regression"]
Needs = Literal["pred", "proba"]


@dataclass(frozen=True)
class MetricSpec:
    name: str  # the scikit-learn scorer name, as written in the config
    label: str  # what the report shows
    task: Task
    kind: Kind
    needs: Needs
    greater_is_better: bool
    average: str | None = None  # for precision/recall/f1: binary | macro | micro | weighted

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"


def _cls(
    name: str,
    kind: Kind = "label",
    needs: Needs = "pred",
    average: str | None = None,
    greater: bool = True,
    label: str | None = None,
) -> MetricSpec:
    return MetricSpec(name, label or name, "classification", kind, needs, greater, average)


def _reg(name: str, label: str, kind: Kind, greater: bool) -> MetricSpec:
    return MetricSpec(name, label, "regression", kind, "pred", greater)


_SPECS: list[MetricSpec] = [
    _cls("accuracy"),
    _cls("balanced_accuracy"),
    _cls("matthews_corrcoef"),
    *(
        _cls(f"{base}{suffix}", average=avg)
        for base in ("f1", "precision", "recall")
        for suffix, avg in (
            ("", "binary"),
            ("_macro", "macro"),
            ("_micro", "micro"),
            ("_weighted", "weighted"),
        )
    ),
    _cls("roc_auc", kind="auc", needs="proba"),
    _cls("roc_auc_ovr", kind="other", needs="proba"),
    _cls("roc_auc_ovo", kind="other", needs="proba"),
    _cls("roc_auc_ovr_weighted", kind="other", needs="proba"),
    _cls("average_precision", kind="other", needs="proba"),
    _cls("neg_log_loss", kind="rowloss", needs="proba", greater=False, label="log_loss"),
    _cls("neg_brier_score", kind="rowloss", needs="proba", greater=False, label="brier_score"),
    _reg("neg_mean_squared_error", "mean_squared_error", "rowloss", False),
    _reg("neg_mean_absolute_error", "mean_absolute_error", "rowloss", False),
    _reg("neg_mean_absolute_percentage_error", "mean_absolute_percentage_error", "rowloss", False),
    _reg("neg_root_mean_squared_error", "root_mean_squared_error", "rmse", False),
    _reg("neg_median_absolute_error", "median_absolute_error", "other", False),
    _reg("max_error", "max_error", "other", False),
    _reg("r2", "r2", "r2", True),
    _reg("explained_variance", "explained_variance", "other", True),
]

METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS}

DEFAULT_METRICS: dict[str, list[str]] = {
    "classification": ["accuracy", "f1_macro"],
    "regression": ["neg_root_mean_squared_error", "r2"],
}


def suggest(name: str, task: str | None = None, n: int = 3) -> list[str]:
    """The closest known metric names to ``name`` (for "did you mean" messages)."""
    pool = [s.name for s in _SPECS if task is None or s.task == task]
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not found:  # e.g. "mean_squared_error" -> "neg_mean_squared_error"
        found = [p for p in pool if name in p][:n]
    return found


# Scorers for two classes only besides those with ``average: binary``.
BINARY_ONLY = ("roc_auc", "average_precision", "neg_brier_score")


def binary_only(name: str) -> bool:
    """Whether the scorer needs exactly two classes (binary ROC AUC, ``f1`` and the like)."""
    spec = METRICS.get(name)
    return spec is not None and (name in BINARY_ONLY or spec.average == "binary")


def value_range(name: str) -> tuple[float | None, float | None]:
    """The values ``name`` can take (``None``: unbounded that way): a fraction from 0 to 1 for
    the label, AUC and precision metrics and the Brier score, -1 to 1 for MCC, at most 1 for R²
    and explained variance; the losses and errors are at least 0."""
    spec = METRICS[name]
    if name == "matthews_corrcoef":
        return (-1.0, 1.0)
    if spec.task == "classification":
        return (0.0, None) if name == "neg_log_loss" else (0.0, 1.0)
    return (None, 1.0) if spec.greater_is_better else (0.0, None)


def get(name: str) -> MetricSpec:
    """The spec of a known metric; :class:`KeyError` for an unknown one (config validates first)."""
    return METRICS[name]
