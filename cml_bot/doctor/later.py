"""Doctor checks for what works today but breaks on the first pull request: metrics the task or
the model cannot give, data CI cannot read, and an evaluation set too small to compare on."""

from __future__ import annotations

from pathlib import Path

from cml_bot.config import Config
from cml_bot.core import CmlBotError
from cml_bot.core import git as gitinfo
from cml_bot.core import metrics as catalogue
from cml_bot.doctor.check import Check


def check_later(cfg: Config, root: Path) -> list[Check]:
    """The metrics, the data paths and the evaluation rows, each one line."""
    if cfg.train.command is not None and not cfg.evaluate.data:
        return [check_paths(cfg, root)]
    from cml_bot import ml

    try:
        ds = ml.load_dataset(cfg) if cfg.train.data else None
    except CmlBotError:
        ds = None  # the data check has said why
    n_classes = None
    if ds is not None and cfg.model.task == "classification":
        n_classes = int(ds.train[ds.target].nunique())
    checks = [check_metrics(cfg, n_classes), check_paths(cfg, root)]
    if ds is not None:
        checks.append(check_rows(cfg, len(ds.evaluation)))
    return checks


def _without_proba(cfg: Config) -> bool:
    """Whether the built-in trainer's scikit-learn estimator has no ``predict_proba`` (only
    scikit-learn's own classes are imported here: a pull request's module is not run)."""
    path = cfg.estimator
    if cfg.train.command is not None or not path.startswith("sklearn."):
        return False
    import importlib

    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False  # the training run says what is wrong with the name
    return not hasattr(cls, "predict_proba")


def check_metrics(cfg: Config, n_classes: int | None) -> Check:
    names = list(dict.fromkeys([*cfg.evaluate.metrics, *cfg.gates]))
    if n_classes is not None and n_classes > 2:
        binary = [n for n in names if catalogue.binary_only(n)]
        if binary:
            return Check(
                "metrics",
                "fail",
                f"{', '.join(binary)} need(s) two classes; the target has {n_classes}",
                "use a multiclass form (roc_auc_ovr, f1_macro, precision_macro, "
                "recall_macro) in evaluate.metrics and gates",
            )
    proba = [n for n in names if n in catalogue.METRICS and catalogue.METRICS[n].needs == "proba"]
    if proba and _without_proba(cfg):
        model = cfg.estimator.rpartition(".")[2]
        return Check(
            "metrics",
            "fail",
            f"{', '.join(proba)} need(s) class probabilities, and {model} has no predict_proba",
            "use label metrics (accuracy, f1_macro) or an estimator with predict_proba",
        )
    return Check("metrics", "ok", f"{', '.join(names)} can be computed for this task and model")


def _data_paths(cfg: Config) -> list[tuple[str, str]]:
    specs = [("train.data", cfg.train.data), ("evaluate.data", cfg.evaluate.data)]
    return [(k, v) for k, v in specs if v and not v.startswith("sklearn:")]


def check_paths(cfg: Config, root: Path) -> Check:
    """Data files must be in the repository and tracked: CI sees only the checkout."""
    problems = []
    for key, spec in _data_paths(cfg):
        path = cfg.resolve(spec).resolve()
        try:
            path.relative_to(root.resolve())
        except ValueError:
            problems.append(f"{key} {spec} is outside the repository {root}")
            continue
        if gitinfo.git(["check-ignore", str(path)], root, check=False):
            problems.append(f"{key} {spec} is ignored by git")
    if not problems:
        return Check("data paths", "ok", "the data files are inside the repository")
    return Check(
        "data paths",
        "warn",
        "; ".join(problems) + ": a CI checkout will not have it",
        "commit the data into the repository (Git LFS for large files), or have train.command "
        "fetch it",
    )


def check_rows(cfg: Config, rows: int) -> Check:
    floor = cfg.evaluate.min_rows
    if rows < floor:
        return Check(
            "evaluation rows",
            "warn",
            f"{rows} evaluation rows, fewer than evaluate.min_rows ({floor}): the champion cannot "
            "be compared on so few, so every PR retrains the base commit",
            "add rows, raise evaluate.test_size, or lower evaluate.min_rows",
        )
    return Check("evaluation rows", "ok", f"{rows} evaluation rows (evaluate.min_rows {floor})")
