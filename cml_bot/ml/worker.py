"""The worker process: ``python -m cml_bot.ml.worker fit|score|time|imports JOB.json``.

It runs what must not run where the secrets are (:mod:`cml_bot.ml.isolation` starts it with no
token and no credential): the estimator class a pull request's config names, and the loading of
a registered model (``time``: two of them, timed together). It reads the job folder
:mod:`~cml_bot.ml.isolation` wrote and answers in it: ``result.json``, the predictions, and
``error.json`` for an error the user can fix (the same
:class:`~cml_bot.core.CmlBotError` messages as in-process). Any other failure is a traceback on
stderr and a non-zero exit code.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cml_bot.core import CmlBotError, ConfigError, TrainingError
from cml_bot.ml import evaluation as ev
from cml_bot.ml.isolation import EVAL_FRAME, RESULT, TRAIN_FRAME, save_array, write_error
from cml_bot.ml.team import TEAM_PATH


def import_estimator(path: str) -> type:
    module_name, _, cls_name = path.rpartition(".")
    if not module_name:
        raise ConfigError(
            f"train.estimator {path!r} is not an import path",
            fix="write module.Class, e.g. sklearn.ensemble.RandomForestClassifier",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import module '{module_name}' for train.estimator: {exc}",
            fix="check the spelling, or add the package to your environment",
        ) from None
    cls = getattr(module, cls_name, None)
    if not isinstance(cls, type):
        names = [n for n in dir(module) if not n.startswith("_")]
        hint = difflib.get_close_matches(cls_name, names, n=3)
        raise ConfigError(
            f"'{module_name}' has no estimator class '{cls_name}'",
            fix=f"did you mean {', '.join(hint)}?"
            if hint
            else "check the class name in train.estimator",
        )
    return cls


def check_params(estimator_cls: type, params: dict[str, Any], source: str = "train.params") -> None:
    """Every key must be a parameter of the estimator; say which ones exist when not."""
    valid = set(estimator_cls().get_params(deep=False))
    for key in params:
        if key not in valid:
            hint = difflib.get_close_matches(key, sorted(valid), n=3)
            raise ConfigError(
                f"{source}.{key}: {estimator_cls.__name__} has no parameter '{key}'",
                fix=f"did you mean {', '.join(hint)}?"
                if hint
                else f"valid parameters: {', '.join(sorted(valid))}",
            )


def build_pipeline(
    estimator: str, frame: Any, features: list[str], params: dict[str, Any], seed: int
) -> Any:
    """Imputation and one-hot encoding in front of the estimator, so the model scores raw rows."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cls = import_estimator(estimator)
    check_params(cls, params)
    params = dict(params)
    if "random_state" in cls().get_params(deep=False) and "random_state" not in params:
        params["random_state"] = seed
    numeric = [c for c in features if frame[c].dtype.kind in "biuf"]
    categorical = [c for c in features if c not in numeric]
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical,
            ),
        ],
        remainder="drop",
    )
    try:
        model = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"cannot build {cls.__name__} with {params}: {exc}",
            fix="check the values in train.params",
        ) from None
    return Pipeline([("preprocess", pre), ("model", model)])


def _check_kind(model: Any, task: str, estimator: str) -> None:
    """A regressor for a classification task (or the reverse) is named before it fails."""
    from sklearn.base import is_classifier, is_regressor

    wrong = (task == "classification" and is_regressor(model)) or (
        task == "regression" and is_classifier(model)
    )
    if wrong:
        kind, other = (
            ("a regressor", "regression")
            if task == "classification"
            else ("a classifier", "classification")
        )
        raise ConfigError(
            f"train.estimator {estimator} is {kind}, and model.task is {task}",
            fix=f"use a {task} estimator (e.g. {_DEFAULT[task]}), or set model.task: {other}",
        )


_DEFAULT = {
    "classification": "sklearn.ensemble.RandomForestClassifier",
    "regression": "sklearn.ensemble.RandomForestRegressor",
}


def _may_encode(exc: Exception, target: Any, task: str) -> bool:
    """Whether a failed fit is worth a second one with the labels encoded as 0..K-1: text
    labels of a classification, and not a parameter value scikit-learn refused."""
    refused_value = type(exc).__name__ == "InvalidParameterError"
    return task == "classification" and target.dtype.kind not in "biuf" and not refused_value


def _with_encoded_labels(pipeline: Any) -> Any:
    """An unfitted copy of ``pipeline`` whose estimator is fitted on encoded labels."""
    from sklearn.base import clone

    from cml_bot.ml.labels import EncodedLabels

    fresh = clone(pipeline)
    name, model = fresh.steps[-1]
    fresh.steps[-1] = (name, EncodedLabels(model))
    return fresh


def _fit_error(exc: Exception, estimator: str) -> CmlBotError:
    """What went wrong in ``fit``: a parameter value scikit-learn refused, or the estimator's own
    message."""
    why = f"{type(exc).__name__}: {exc}"
    if type(exc).__name__ == "InvalidParameterError":  # scikit-learn's check of a value
        return ConfigError(
            f"train.params: {exc}",
            fix="give the parameter a value the estimator accepts (in train.params, "
            "`--set` or `/retrain`; `name=null` sets it to None)",
        )
    return TrainingError(
        f"training {estimator} failed: {why}",
        fix="the estimator's message above says what it refused: check the values in "
        "train.params and the feature columns it names",
    )


def _measure(
    folder: Path, predict_fn: ev.PredictFn, frame: Any, classes: list[Any]
) -> dict[str, Any]:
    """Predictions (and probabilities) of every row into the folder; latency as today."""
    pred, proba = ev.raw_predict(predict_fn, frame)
    save_array(folder, "pred", pred)
    if proba is not None:
        save_array(folder, "proba", proba)
    median, p95 = ev.measure_latency(predict_fn, frame)
    return {"classes": classes, "latency_median_ms": median, "latency_p95_ms": p95}


def fit(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    import pandas as pd

    from cml_bot.registry import save_sklearn_model

    # Written by the cml-bot process into a folder only this user can write: pickling keeps
    # every dtype, and unpickling here can harm only this process (it runs PR code anyway).
    train = pd.read_pickle(folder / TRAIN_FRAME)  # noqa: S301
    evaluation = pd.read_pickle(folder / EVAL_FRAME)  # noqa: S301
    features, estimator = list(job["features"]), str(job["estimator"])
    pipeline = build_pipeline(estimator, train, features, dict(job["params"]), int(job["seed"]))
    _check_kind(pipeline[-1], str(job.get("task", "")), estimator)
    target = train[job["target"]]
    start = time.perf_counter()
    try:
        pipeline.fit(train[features], target)
    except Exception as exc:  # the estimator's own message names the problem
        if not _may_encode(exc, target, str(job.get("task", ""))):
            raise _fit_error(exc, estimator) from None
        pipeline = _with_encoded_labels(pipeline)  # it may need labels 0..K-1: encode them
        try:
            pipeline.fit(train[features], target)
        except Exception as again:
            raise _fit_error(again, estimator) from None
    seconds = time.perf_counter() - start
    predict_fn = ev.sklearn_predict_fn(pipeline)
    result = _measure(folder, predict_fn, evaluation, ev.model_classes(pipeline))
    save_sklearn_model(pipeline, Path(job["model_dir"]))
    return {**result, "fit_seconds": seconds}


def score(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    import pandas as pd

    from cml_bot.ml.loading import load_sklearn
    from cml_bot.registry import load_pyfunc

    frame = pd.read_pickle(folder / EVAL_FRAME)  # noqa: S301  (written by cml-bot, see fit)
    model_dir, label = str(job["model_dir"]), str(job["label"])
    if job["kind"] == "sklearn":
        model = load_sklearn(Path(model_dir), label, job.get("packages", ()))
        return _measure(folder, ev.sklearn_predict_fn(model), frame, ev.model_classes(model))
    pyfunc = load_pyfunc(model_dir, label=label)

    def predict_fn(rows: Any) -> Any:
        import numpy as np

        return np.asarray(pyfunc.predict(rows)).ravel(), None

    return _measure(folder, predict_fn, frame, [])


def time_pair(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Load the candidate's and the baseline's scikit-learn models (skops, the same fixed
    allow-list as ``score``) and time them in interleaved rounds on the same rows."""
    import pandas as pd

    from cml_bot.ml.loading import load_sklearn

    frame = pd.read_pickle(folder / EVAL_FRAME)  # noqa: S301  (written by cml-bot, see fit)
    rows = frame.head(int(job["rows"]))
    sides = [job["candidate"], job["baseline"]]
    packages = [str(p) for p in job.get("packages", ())]
    fns = [
        ev.sklearn_predict_fn(load_sklearn(Path(s["model_dir"]), str(s["label"]), packages))
        for s in sides
    ]
    frames = [rows[list(s["features"])] for s in sides]
    cand, base = ev.timed_rounds(fns, frames, int(job["rounds"]))
    return {"candidate_ms": cand, "baseline_ms": base, "rows": len(rows)}


def imports(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Whether the estimator the config names imports here (`cml-bot doctor`)."""
    cls = import_estimator(str(job["estimator"]))
    module = sys.modules.get(cls.__module__.partition(".")[0])
    return {"file": str(getattr(module, "__file__", None) or "")}


JOBS = {"fit": fit, "score": score, "time": time_pair, "imports": imports}


def _team_paths() -> None:
    """The team's import paths after this interpreter's own (:mod:`cml_bot.ml.team`)."""
    extra = [p for p in os.environ.get(TEAM_PATH, "").split(os.pathsep) if p]
    sys.path.extend(p for p in extra if p not in sys.path)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in JOBS:
        print("usage: python -m cml_bot.ml.worker fit|score|time|imports JOB.json", file=sys.stderr)
        return 2
    _team_paths()
    job_file = Path(argv[1])
    folder = job_file.parent
    job = json.loads(job_file.read_text())
    try:
        result = JOBS[argv[0]](job, folder)
    except CmlBotError as exc:
        write_error(folder, exc)
        return 3
    (folder / RESULT).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
