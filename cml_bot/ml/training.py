"""The two trainers: the built-in scikit-learn pipeline and the user's own command.

Both run what the pull request controls in another process with no token or credential (the
built-in one in :mod:`cml_bot.ml.worker`), and both end with a :class:`TrainedModel`: an MLflow
model directory and the predictions on the evaluation rows.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.config import Config
from cml_bot.core import ConfigError, TrainingError, untrusted_env
from cml_bot.ml import isolation
from cml_bot.ml.data import Dataset
from cml_bot.ml.isolation import Scored, spawn, tail, to_stderr
from cml_bot.ml.team import train_python

COMMAND_OUTPUT = "command-output"


@dataclass
class TrainedModel:
    """A trained model as files: an MLflow model directory and the predictions on the
    evaluation rows (the built-in trainer's worker measured them; a command wrote them)."""

    kind: str  # "sklearn" | "command"
    params: dict[str, Any]
    fit_seconds: float
    model_dir: Path | None = None  # an MLflow model directory
    scored: Scored | None = None  # predictions and latency from the worker (kind == "sklearn")
    predictions_path: Path | None = None  # predictions.csv the command wrote
    log: list[str] = field(default_factory=list)


def train_builtin(
    cfg: Config,
    dataset: Dataset,
    params: dict[str, Any],
    output_dir: Path | None = None,
    echo: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Fit the estimator with imputation and one-hot encoding in front, in a worker process with
    no token or credential (the estimator is code the config names); the model is saved to
    ``output_dir/model`` (default: a new temporary folder the caller owns)."""
    if output_dir is None:
        output_dir = Path(tempfile.mkdtemp(prefix="cml-bot-model-"))
    model_dir = output_dir / "model"
    seconds, scored = isolation.fit(cfg, dataset, params, model_dir, echo)
    return TrainedModel(
        kind="sklearn", params=params, fit_seconds=seconds, model_dir=model_dir, scored=scored
    )


def _expand(arg: str, values: dict[str, str]) -> str:
    out = arg
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def run_command(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, echo: Callable[[str], None]
) -> list[str]:
    """Run an argument list (no shell), stream its output, stop it (and its children) on timeout."""
    try:
        code, lines = spawn(argv, cwd=cwd, env=env, timeout=timeout, echo=echo)
    except FileNotFoundError:
        raise TrainingError(
            f"command not found: {argv[0]}",
            fix="check train.command; the program must be on PATH or a path "
            "relative to the config file",
        ) from None
    if code is None:
        raise TrainingError(
            f"the command {argv[0]} did not finish within {timeout:g} s",
            fix="make it faster, or raise train.timeout "
            "(docs/troubleshooting.md#training-command-timed-out)",
        )
    if code != 0:
        raise TrainingError(
            f"the command {argv[0]} exited with code {code}{tail(lines)}", fix=_fix_for(lines)
        )
    return lines


def _fix_for(lines: list[str]) -> str:
    missing = next((ln for ln in reversed(lines) if "ModuleNotFoundError" in ln), None)
    if missing is None:
        return "run the command by hand to see the full error"
    return (
        f"{missing.strip()}: `{{python}}` is {train_python(os.environ)}; install what the "
        "command imports into that Python (in Actions: a step before cml-bot, e.g. "
        "`pip install -r requirements.txt`; docs/workflows.md#6-your-own-packages)"
    )


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
    values = _placeholders(cfg, params_json, output_dir)
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


def _placeholders(cfg: Config, params_json: str, output_dir: Path) -> dict[str, str]:
    """The values of the command's placeholders ({output_dir}, {params_json}, ...)."""
    return {
        "output_dir": str(output_dir.resolve()),
        "params_json": params_json,
        "seed": str(cfg.train.seed),
        "python": train_python(os.environ),  # the team's interpreter in Actions (ml.team)
        "eval_data": str(cfg.resolve(cfg.evaluate.data)) if cfg.evaluate.data else "",
    }


def command_line(cfg: Config, params: dict[str, Any], output_dir: Path) -> str:
    """``train.command`` as it runs for a run writing to ``output_dir`` (placeholders filled,
    shell-quoted), for a progress line: what a person can paste to run it by hand."""
    assert cfg.train.command is not None
    values = _placeholders(cfg, json.dumps(params, sort_keys=True), output_dir / COMMAND_OUTPUT)
    return shlex.join(_expand(a, values) for a in cfg.train.command)


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
    return train_builtin(cfg, dataset, params, output_dir, echo)


def estimator_origin(cfg: Config) -> str:
    """Where the built-in trainer's estimator imports from, asked of a worker (the environment
    that will train it: cml-bot's packages, then the team's, :mod:`cml_bot.ml.team`); a
    ConfigError saying why it does not import."""
    answer: str = isolation.run_worker(
        "imports",
        {"estimator": cfg.estimator},
        {},
        cwd=cfg.root,  # as `fit`: an estimator module beside the config is importable
        allow=cfg.train.env,
        timeout=60,
        echo=lambda line: None,
        failure=ConfigError,
        what=f"importing {cfg.estimator}",
        read=lambda folder, result: str(result.get("file") or "?"),
    )
    return answer
