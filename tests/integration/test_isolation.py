"""Isolation end to end: the CLI on the bundled example with secrets in its environment, a
pull request's own estimator module, and a champion whose files were replaced in a real MLflow
store (SQLite, artifacts on disk). Also the worker's edges: timeouts, crashes, the team's
``train.env``, the scikit-learn models the fixed allow-list must load."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner, Result

from cml_bot.cli import main
from cml_bot.core.errors import CmlBotError, TrainingError
from cml_bot.ml.data import load_dataset
from cml_bot.ml.training import train_builtin
from tests.integration.support import EXAMPLE, git
from tests.unit.model_payloads import (
    SECRETS,
    SPY_MODULE,
    leaked,
    poison_pickle,
    poison_skops,
    project,
    registered_model,
    rescore,
)


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"MLFLOW_TRACKING_URI": "", **(env or {})})


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".cml-bot", "__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo


def edit(config: Path, change: Any) -> None:
    data = yaml.safe_load(config.read_text())
    change(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))


# ---------------------------------------------------------------------- (a) the CLI, training


def test_cli_train_runs_the_pr_estimator_without_secrets(example: Path) -> None:
    """`cml-bot train` (with MLflow logging) of `estimator: evil_est.Spy`, a module the pull
    request added beside its config: it fits, is logged, and never sees a secret."""
    (example / "evil_est.py").write_text(SPY_MODULE)
    config = example / "cml-bot.yaml"

    def spy(data: dict[str, Any]) -> None:
        data["train"].update(estimator="evil_est.Spy", params={"depth": 3})
        data["evaluate"]["metrics"] = ["accuracy"]
        data["gates"] = {}

    edit(config, spy)
    out = example / "out"
    result = cli("train", "-c", str(config), "--out", str(out), "-q", env=SECRETS)
    assert result.exit_code == 0, result.output
    env = json.loads((example / "env.json").read_text())
    assert leaked(env) == [], leaked(env)
    run = json.loads((out / "run.json").read_text())
    assert run["run_id"] and run["params"] == {"depth": 3} and run["model_size_bytes"] > 0
    assert (out / "model" / "MLmodel").is_file() and (out / "predictions.csv").is_file()
    logged = list((example / ".cml-bot" / "artifacts").rglob("model/MLmodel"))
    assert len(logged) == 1  # the worker's model directory, logged as the run's model


def test_an_estimator_module_beside_the_config_is_importable(tmp_path: Path) -> None:
    """The fit worker runs in the config's folder: no sys.path change in cml-bot is needed."""
    cfg = project(tmp_path, "evil_est.Spy")
    train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    assert (tmp_path / "env.json").is_file()


def test_the_team_may_pass_a_named_variable_to_the_builtin_trainer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**SECRETS, "HF_TOKEN": "hf_0123456789"}.items():
        monkeypatch.setenv(name, value)
    cfg = project(tmp_path, "evil_est.Spy")
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"env": ["HF_TOKEN"]})})
    train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["HF_TOKEN"] == "hf_0123456789" and leaked(env) == []


def test_a_hung_or_crashed_fit_is_a_training_error(tmp_path: Path) -> None:
    cfg = project(tmp_path, "evil_est.Sleeper")
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"timeout": 2})})
    with pytest.raises(TrainingError, match=r"training evil_est.Sleeper did not finish within 2 s"):
        train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    cfg = project(tmp_path, "evil_est.Crasher")
    with pytest.raises(TrainingError, match="worker process exited with code 7") as info:
        train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    assert info.value.exit_code == 3


@pytest.mark.parametrize(
    "estimator",
    [
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.neighbors.KNeighborsClassifier",
    ],
)
def test_builtin_models_load_with_the_fixed_allow_list(tmp_path: Path, estimator: str) -> None:
    from cml_bot.ml.loading import load_sklearn

    cfg = project(tmp_path, estimator)
    dataset = load_dataset(cfg)
    trained = train_builtin(cfg, dataset, {}, tmp_path / "out")
    model = load_sklearn(trained.model_dir)  # type: ignore[arg-type]
    assert trained.scored is not None
    np.testing.assert_array_equal(
        model.predict(dataset.evaluation[dataset.features]), trained.scored.pred
    )


# ---------------------------------------------------------------------- (b) a poisoned champion


def poison_the_store(repo: Path, marker: Path) -> list[Path]:
    """Replace every logged scikit-learn model in the example's artifact store by the payload,
    as someone who can write the registry's artifacts would."""
    poisoned = []
    for mlmodel in (repo / ".cml-bot" / "artifacts").rglob("MLmodel"):
        if "sklearn" in yaml.safe_load(mlmodel.read_text()).get("flavors", {}):
            poison_skops(mlmodel.parent, marker)
            poisoned.append(mlmodel.parent)
    return poisoned


def forge_the_digest(repo: Path) -> None:
    """Set v1's ``cml_bot.model_sha256`` to the digest of the files the store now serves."""
    from cml_bot.registry import Tracker, download_model
    from cml_bot.registry.archive import tree_sha256

    uri = f"sqlite:///{repo / '.cml-bot' / 'mlflow.db'}"
    tracker = Tracker(uri, "tumor-classifier", repo)
    served = download_model("models:/tumor-classifier/1", uri, repo / "forged")
    tracker.client.set_model_version_tag(
        "tumor-classifier", "1", "cml_bot.model_sha256", tree_sha256(served)
    )


def test_cli_scoring_a_poisoned_champion_never_runs_the_payload(example: Path) -> None:
    config = example / "cml-bot.yaml"
    assert cli("train", "-c", str(config), "--out", str(example / "b"), "-q").exit_code == 0
    assert cli("promote", "-c", str(config), "--out", str(example / "b"), "-q").exit_code == 0
    marker = example / "pwned"
    assert poison_the_store(example, marker)

    # first line of defence: the files no longer match the digest cml-bot took at registration
    scored = cli("evaluate", "-c", str(config), "--out", str(example / "e"), "-q", env=SECRETS)
    assert scored.exit_code == 5, scored.output  # refused: unsafe (issue 17: it was 4)
    assert scored.output.startswith(
        "error: the model files of tumor-classifier v1 changed since cml-bot registered them"
    ), scored.output
    assert not marker.exists()

    # an attacker who may also write the registry forges the digest: the loader still refuses
    forge_the_digest(example)
    scored = cli("evaluate", "-c", str(config), "--out", str(example / "e"), "-q", env=SECRETS)
    assert scored.exit_code == 5, scored.output
    assert scored.output.startswith(
        "error: refused to load model models:/tumor-classifier/1: it needs type(s) cml-bot "
        "does not trust: posix.system\n  fix: cml-bot loads a registered scikit-learn model only"
    ), scored.output
    assert not marker.exists()

    # the PR flow re-scores the champion when the evaluation rows changed: refused the same way
    edit(config, lambda d: d["evaluate"].update(test_size=0.4))
    result = cli("run", "--local", "-c", str(config), "-q", "--no-fail", env=SECRETS)
    assert result.exit_code == 5 and "posix.system" in result.output, result.output
    assert not marker.exists()


def test_the_poisoned_skops_payload_is_real(tmp_path: Path) -> None:
    """Loaded the way MLflow does (the trusted types from the file), it runs its command: here in
    a throwaway process, to show what cml-bot keeps from happening."""
    marker = tmp_path / "pwned"
    model_dir = registered_model(tmp_path / "model")
    poison_skops(model_dir, marker)
    code = "import mlflow.sklearn, sys; mlflow.sklearn.load_model(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(model_dir)], check=False, timeout=120)
    assert marker.exists()


def test_a_registered_model_scores_in_the_worker(tmp_path: Path) -> None:
    evaluation = rescore(tmp_path, registered_model(tmp_path / "champion"))
    assert evaluation.predictions.classes == ["no", "yes"]
    assert evaluation.metrics["accuracy"] > 0.8 and evaluation.latency_median_ms > 0


def test_a_command_model_runs_only_in_the_worker_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training command's model is loaded with MLflow's own loader, which may run its code:
    only in the worker, which holds no secret to steal."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    stolen = tmp_path / "stolen.env"
    model_dir = registered_model(tmp_path / "champion")
    poison_pickle(model_dir, f"env > {stolen}")
    with pytest.raises(CmlBotError):  # os.system's return value is no model
        rescore(tmp_path, model_dir, kind="command")
    assert stolen.is_file()  # the payload ran, in the worker
    env = dict(line.split("=", 1) for line in stolen.read_text().splitlines() if "=" in line)
    assert leaked(env) == [] and env["PATH"]
