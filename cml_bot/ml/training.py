"""The two trainers: the built-in scikit-learn pipeline and the user's own command.

Both end with a :class:`TrainedModel` whose predictions on the evaluation rows are a
:class:`~cml_bot.stats.predictions.PredictionSet`.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.config import Config
from cml_bot.core import ConfigError, TrainingError, untrusted_env
from cml_bot.ml.data import Dataset

COMMAND_OUTPUT = "command-output"


@dataclass
class TrainedModel:
    """A fitted model, or the directory of an MLflow model a training command wrote."""

    kind: str  # "sklearn" | "command"
    params: dict[str, Any]
    fit_seconds: float
    estimator: Any = None  # the fitted sklearn Pipeline (kind == "sklearn")
    model_dir: Path | None = None  # an MLflow model directory (kind == "command")
    predictions_path: Path | None = None  # predictions.csv the command wrote
    log: list[str] = field(default_factory=list)


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


def build_pipeline(cfg: Config, dataset: Dataset, params: dict[str, Any]) -> Any:
    """Imputation and one-hot encoding in front of the estimator, so the model scores raw rows."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cls = import_estimator(cfg.estimator)
    check_params(cls, params)
    params = dict(params)
    if "random_state" in cls().get_params(deep=False) and "random_state" not in params:
        params["random_state"] = cfg.train.seed
    frame = dataset.train[dataset.features]
    numeric = [c for c in dataset.features if frame[c].dtype.kind in "biuf"]
    categorical = [c for c in dataset.features if c not in numeric]
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
        estimator = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"cannot build {cls.__name__} with {params}: {exc}",
            fix="check the values in train.params",
        ) from None
    return Pipeline([("preprocess", pre), ("model", estimator)])


def train_builtin(cfg: Config, dataset: Dataset, params: dict[str, Any]) -> TrainedModel:
    pipeline = build_pipeline(cfg, dataset, params)
    x = dataset.train[dataset.features]
    y = dataset.train[dataset.target]
    start = time.perf_counter()
    try:
        pipeline.fit(x, y)
    except Exception as exc:  # the estimator's own message names the problem
        raise TrainingError(
            f"training {cfg.estimator} failed: {type(exc).__name__}: {exc}",
            fix="check train.params and the data's columns",
        ) from None
    return TrainedModel(
        kind="sklearn", params=params, fit_seconds=time.perf_counter() - start, estimator=pipeline
    )


def _expand(arg: str, values: dict[str, str]) -> str:
    out = arg
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def _stream(pipe: Any, sink: Callable[[str], None], lines: list[str]) -> None:
    for raw in iter(pipe.readline, ""):
        line = raw.rstrip("\n")
        lines.append(line)
        sink(line)


def to_stderr(line: str) -> None:
    """A training command's own output goes to stderr: stdout carries only the report."""
    print(line, file=sys.stderr, flush=True)


def run_command(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, echo: Callable[[str], None]
) -> list[str]:
    """Run an argument list (no shell), stream its output, stop it (and its children) on timeout."""
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError:
        raise TrainingError(
            f"command not found: {argv[0]}",
            fix="check train.command; the program must be on PATH or a path "
            "relative to the config file",
        ) from None
    reader = threading.Thread(target=_stream, args=(proc.stdout, echo, lines), daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(timeout=5)
        raise TrainingError(
            f"the command {argv[0]} did not finish within {timeout:g} s",
            fix="make it faster, or raise train.timeout "
            "(docs/troubleshooting.md#training-command-timed-out)",
        ) from None
    reader.join(timeout=5)
    if code != 0:
        tail = "\n    ".join(lines[-10:])
        shown = f"; last lines:\n    {tail}" if lines else " and printed nothing"
        raise TrainingError(
            f"the command {argv[0]} exited with code {code}{shown}",
            fix="run the command by hand to see the full error",
        )
    return lines


def train_command(
    cfg: Config, params: dict[str, Any], output_dir: Path, echo: Callable[[str], None] | None = None
) -> TrainedModel:
    """Run ``train.command``; it must write ``model/`` (an MLflow model) and ``predictions.csv``.

    See docs/training-contract.md for the full contract.
    """
    assert cfg.train.command is not None
    # The contract promises an empty folder: a fresh one under the run's outputs, every time.
    output_dir = output_dir / COMMAND_OUTPUT
    if output_dir.exists():
        shutil.rmtree(output_dir)
    output_dir.mkdir(parents=True)
    params_json = json.dumps(params, sort_keys=True)
    values = {
        "output_dir": str(output_dir.resolve()),
        "params_json": params_json,
        "seed": str(cfg.train.seed),
        "python": sys.executable,
        "eval_data": str(cfg.resolve(cfg.evaluate.data)) if cfg.evaluate.data else "",
    }
    argv = [_expand(a, values) for a in cfg.train.command]
    env = {  # pull-request code: no token, no credential (docs/reliability.md, security)
        **untrusted_env(os.environ, cfg.train.env),
        "CML_BOT_OUTPUT_DIR": values["output_dir"],
        "CML_BOT_PARAMS": params_json,
        "CML_BOT_SEED": values["seed"],
    }
    start = time.perf_counter()
    log = run_command(
        argv, cwd=cfg.root, env=env, timeout=cfg.train.timeout, echo=echo or to_stderr
    )
    seconds = time.perf_counter() - start
    predictions = output_dir / "predictions.csv"
    if not predictions.is_file():
        raise TrainingError(
            f"the command finished but wrote no {predictions}",
            fix="write predictions.csv (row_id,label,prediction[,proba_<class>...]) "
            "into {output_dir}; see docs/training-contract.md",
        )
    model_dir = output_dir / "model"
    if not (model_dir / "MLmodel").is_file():
        raise TrainingError(
            f"the command finished but wrote no MLflow model in {model_dir}",
            fix="save the model with mlflow.<flavor>.save_model(model, "
            "'{output_dir}/model'); see docs/training-contract.md",
        )
    written = output_dir / "params.json"
    if written.is_file():
        try:
            params = {**json.loads(written.read_text()), **params}
        except json.JSONDecodeError:
            raise TrainingError(
                f"{written} is not valid JSON", fix="write a JSON object of the parameters used"
            ) from None
    return TrainedModel(
        kind="command",
        params=params,
        fit_seconds=seconds,
        model_dir=model_dir,
        predictions_path=predictions,
        log=log,
    )


def train(
    cfg: Config,
    dataset: Dataset | None,
    params: dict[str, Any],
    output_dir: Path,
    echo: Callable[[str], None] | None = None,
) -> TrainedModel:
    if cfg.train.command is not None:
        return train_command(cfg, params, output_dir, echo)
    assert dataset is not None
    return train_builtin(cfg, dataset, params)
