"""Data loading and both trainers, including every bad-input case of the foundation issue."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cml_bot.config.models import parse_config
from cml_bot.core.errors import ConfigError, DataError, TrainingError
from cml_bot.ml.data import ROW_ID, load_dataset
from cml_bot.ml.loading import load_sklearn
from cml_bot.ml.training import train, train_builtin


def make_cfg(root: Path, **train_extra: Any) -> Any:
    data = {
        "model": {"name": "m", "task": "classification"},
        "train": {"data": "train.csv", "target": "y", "params": {"n_estimators": 5}, **train_extra},
        "evaluate": {"metrics": ["accuracy"]},
    }
    cfg = parse_config(data, root=root)
    return cfg


def write_csv(root: Path, frame: pd.DataFrame, name: str = "train.csv") -> None:
    frame.to_csv(root / name, index=False)


def frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": rng.normal(size=n),
            "color": rng.choice(["red", "blue"], size=n),
            "y": np.where(x1 > 0, "yes", "no"),
        }
    )


def test_builtin_trainer_fits_a_full_pipeline(tmp_path: Path) -> None:
    write_csv(tmp_path, frame())
    cfg = make_cfg(tmp_path)
    ds = load_dataset(cfg)
    assert len(ds.train) == 60 and len(ds.evaluation) == 20
    assert ds.features == ["x1", "x2", "color"]
    model = train_builtin(cfg, ds, {"n_estimators": 5}, tmp_path / "out")
    # fitted in a worker process: the model comes back as a skops MLflow model directory and
    # the predictions of the evaluation rows
    assert model.model_dir == tmp_path / "out" / "model"
    assert model.scored is not None and len(model.scored.pred) == 20
    assert model.scored.classes == ["no", "yes"] and model.scored.proba is not None
    # the pipeline scores raw rows, categorical columns included
    pipeline = load_sklearn(model.model_dir)  # type: ignore[arg-type]
    raw = pd.DataFrame({"x1": [2.0], "x2": [0.0], "color": ["green"]})
    assert pipeline.predict(raw)[0] == "yes"
    assert pipeline.named_steps["model"].random_state == 0  # seeded from train.seed


def test_split_is_seeded_and_row_ids_stable(tmp_path: Path) -> None:
    write_csv(tmp_path, frame())
    cfg = make_cfg(tmp_path)
    a, b = load_dataset(cfg), load_dataset(cfg)
    assert list(a.evaluation[ROW_ID]) == list(b.evaluation[ROW_ID])
    assert a.fingerprint() == b.fingerprint()
    other = make_cfg(tmp_path, seed=1)
    assert load_dataset(other).fingerprint() != a.fingerprint()


def test_separate_evaluation_file(tmp_path: Path) -> None:
    write_csv(tmp_path, frame(60))
    write_csv(tmp_path, frame(30, seed=2), "eval.csv")
    data = {
        "model": {"name": "m"},
        "train": {"data": "train.csv", "target": "y"},
        "evaluate": {"data": "eval.csv"},
    }
    ds = load_dataset(parse_config(data, root=tmp_path))
    assert len(ds.train) == 60 and len(ds.evaluation) == 30


def test_parquet_data(tmp_path: Path) -> None:
    frame().to_parquet(tmp_path / "train.parquet")
    data = {"model": {"name": "m"}, "train": {"data": "train.parquet", "target": "y"}}
    assert len(load_dataset(parse_config(data, root=tmp_path)).train) == 60


def test_sklearn_bundled_dataset(tmp_path: Path) -> None:
    data = {"model": {"name": "m"}, "train": {"data": "sklearn:iris"}}
    ds = load_dataset(parse_config(data, root=tmp_path))
    assert ds.target == "target" and len(ds.evaluation) == 38


def test_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="training file not found"):
        load_dataset(make_cfg(tmp_path))


def test_empty_data_file(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_dataset(make_cfg(tmp_path))


def test_missing_target_column_lists_columns(tmp_path: Path) -> None:
    write_csv(tmp_path, frame().rename(columns={"y": "label"}))
    with pytest.raises(DataError) as info:
        load_dataset(make_cfg(tmp_path))
    assert "target column 'y' is not in the training data" in str(info.value)
    assert "x1, x2, color, label" in str(info.value)


def test_nan_labels(tmp_path: Path) -> None:
    f = frame()
    f.loc[[3, 7], "y"] = None
    write_csv(tmp_path, f)
    with pytest.raises(DataError, match="2 row\\(s\\) of the training data have no label"):
        load_dataset(make_cfg(tmp_path))


def test_class_in_evaluation_but_not_training(tmp_path: Path) -> None:
    write_csv(tmp_path, frame(60))
    ev = frame(20, seed=3)
    ev.loc[0, "y"] = "maybe"
    write_csv(tmp_path, ev, "eval.csv")
    data = {
        "model": {"name": "m"},
        "train": {"data": "train.csv", "target": "y"},
        "evaluate": {"data": "eval.csv"},
    }
    with pytest.raises(DataError, match="\\['maybe'\\] appear in the evaluation data"):
        load_dataset(parse_config(data, root=tmp_path))


def test_one_class_only(tmp_path: Path) -> None:
    f = frame()
    f["y"] = "yes"
    write_csv(tmp_path, f)
    with pytest.raises(DataError, match="only one class"):
        load_dataset(make_cfg(tmp_path))


def test_estimator_that_cannot_be_imported(tmp_path: Path) -> None:
    write_csv(tmp_path, frame())
    cfg = make_cfg(tmp_path, estimator="sklearn.ensemble.RandomForestClasifier")
    with pytest.raises(ConfigError) as info:
        train_builtin(cfg, load_dataset(cfg), {})
    assert "did you mean RandomForestClassifier" in str(info.value)
    cfg = make_cfg(tmp_path, estimator="nosuchpackage.Model")
    with pytest.raises(ConfigError, match="cannot import module 'nosuchpackage'"):
        train_builtin(cfg, load_dataset(cfg), {})


def test_unknown_estimator_parameter(tmp_path: Path) -> None:
    write_csv(tmp_path, frame())
    cfg = make_cfg(tmp_path)
    with pytest.raises(ConfigError) as info:
        train_builtin(cfg, load_dataset(cfg), {"n_estimator": 3})
    assert "has no parameter 'n_estimator'" in str(info.value)
    assert "n_estimators" in str(info.value)


def test_estimator_failure_is_a_training_error(tmp_path: Path) -> None:
    write_csv(tmp_path, frame())
    cfg = make_cfg(tmp_path)
    with pytest.raises((TrainingError, ConfigError)):
        train_builtin(cfg, load_dataset(cfg), {"n_estimators": -3})


TRAIN_PY = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    out = Path(sys.argv[1])
    params = json.loads(sys.argv[2])
    print("training with", params, flush=True)
    (out.parent / "env.json").write_text(json.dumps(dict(os.environ)))
    if params.get("fail"):
        sys.exit(3)
    if params.get("sleep"):
        import time; time.sleep(params["sleep"])
    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "model" / "MLmodel").write_text("flavors: {}\\n")
    (out / "predictions.csv").write_text("row_id,label,prediction\\n1,a,a\\n2,b,a\\n3,b,b\\n")
    (out / "params.json").write_text(json.dumps({"lr": 0.1}))
""")


def command_cfg(tmp_path: Path, timeout: int = 30) -> Any:
    (tmp_path / "train.py").write_text(TRAIN_PY)
    data = {
        "model": {"name": "m"},
        "train": {
            "command": [sys.executable, "train.py", "{output_dir}", "{params_json}"],
            "timeout": timeout,
        },
    }
    return parse_config(data, root=tmp_path)


def test_command_trainer_reads_back_what_it_wrote(tmp_path: Path) -> None:
    seen: list[str] = []
    model = train(command_cfg(tmp_path), None, {"depth": 3}, tmp_path / "out", echo=seen.append)
    assert model.kind == "command"
    assert seen == ["training with {'depth': 3}"]  # streamed
    assert model.params == {"lr": 0.1, "depth": 3}  # params.json + overrides
    assert model.predictions_path == tmp_path / "out" / "command-output" / "predictions.csv"
    # a second run gets an empty folder again (the contract), whatever the first one left
    again = train(command_cfg(tmp_path), None, {}, tmp_path / "out", echo=seen.append)
    assert again.params == {"lr": 0.1}


SECRETS = {
    "GITHUB_TOKEN": "ghs_0123456789abcdef",
    "INPUT_GITHUB-TOKEN": "ghs_0123456789abcdef",
    "ACTIONS_RUNTIME_TOKEN": "runtime-0123456789",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-0123456789",
    "MLFLOW_TRACKING_URI": "https://bot:hunter22@mlflow.internal",
    "MLFLOW_TRACKING_PASSWORD": "hunter22",
    "MLFLOW_TRACKING_TOKEN": "mlflow-token-0123",
    "AWS_SECRET_ACCESS_KEY": "aws-0123456789",
}


def test_the_training_command_gets_no_token_or_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    train(command_cfg(tmp_path), None, {}, tmp_path / "out", echo=lambda _: None)
    env = json.loads((tmp_path / "out" / "env.json").read_text())
    assert not set(SECRETS) & set(env), sorted(set(SECRETS) & set(env))
    assert not [v for v in env.values() if any(s in v for s in SECRETS.values())]
    assert env["OMP_NUM_THREADS"] == "1" and env["PATH"]  # what a program needs is still there


def test_the_team_may_pass_a_named_variable_to_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_0123456789")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_0123456789abcdef")
    cfg = command_cfg(tmp_path)
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"env": ["HF_TOKEN"]})})
    train(cfg, None, {}, tmp_path / "out", echo=lambda _: None)
    env = json.loads((tmp_path / "out" / "env.json").read_text())
    assert env["HF_TOKEN"] == "hf_0123456789" and "GITHUB_TOKEN" not in env


def test_command_that_fails(tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as info:
        train(command_cfg(tmp_path), None, {"fail": True}, tmp_path / "out", echo=lambda _: None)
    assert "exited with code 3" in str(info.value)
    assert "training with" in str(info.value)  # the last lines are shown


def test_command_that_times_out(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="did not finish within 1 s"):
        train(
            command_cfg(tmp_path, timeout=1),
            None,
            {"sleep": 30},
            tmp_path / "out",
            echo=lambda _: None,
        )


def test_command_not_found(tmp_path: Path) -> None:
    data = {"model": {"name": "m"}, "train": {"command": ["no-such-program-xyz"]}}
    with pytest.raises(TrainingError, match="command not found"):
        train(parse_config(data, root=tmp_path), None, {}, tmp_path / "out", echo=print)


def test_command_that_writes_nothing(tmp_path: Path) -> None:
    data = {"model": {"name": "m"}, "train": {"command": [sys.executable, "-c", "pass"]}}
    with pytest.raises(TrainingError, match="wrote no"):
        train(parse_config(data, root=tmp_path), None, {}, tmp_path / "out", echo=print)


def test_params_json_must_be_json(tmp_path: Path) -> None:
    script = TRAIN_PY.replace('json.dumps({"lr": 0.1})', '"{oops"')
    (tmp_path / "train.py").write_text(script)
    cfg = command_cfg(tmp_path)
    (tmp_path / "train.py").write_text(script)
    with pytest.raises(TrainingError, match="not valid JSON"):
        train(cfg, None, {}, tmp_path / "out", echo=lambda _: None)


def test_both_trainers_fingerprint_the_same_evaluation_rows_alike(tmp_path: Path) -> None:
    """A training command's predictions (row ids and labels, in its own order) match the
    built-in trainer's fingerprint of the same rows; other values of a column do not, and
    say so apart from other rows."""
    from cml_bot.ml.evaluation import rows_changed, rows_fingerprint, same_rows
    from cml_bot.stats import PredictionSet

    write_csv(tmp_path, frame().assign(id=[f"c{i}" for i in range(80)]))
    ds = load_dataset(make_cfg(tmp_path, id_column="id"))
    ids, labels = ds.evaluation[ROW_ID].to_numpy(), ds.evaluation["y"].to_numpy()
    preds = PredictionSet(row_id=ids, y_true=labels, y_pred=labels)
    built_in = rows_fingerprint(preds, ds.fingerprint())
    command = rows_fingerprint(preds.take(np.arange(len(ids))[::-1]), None)
    assert same_rows(built_in, command) and same_rows(command, built_in)
    write_csv(tmp_path, frame().assign(id=[f"c{i}" for i in range(80)], x2=0.5))
    edited = load_dataset(make_cfg(tmp_path, id_column="id"))
    after = rows_fingerprint(preds, edited.fingerprint())
    assert not same_rows(built_in, after)
    assert rows_changed("v1", built_in, after).startswith(
        "The evaluation rows are those v1 was scored on, but their column values changed"
    )
    fewer = rows_fingerprint(preds.take(np.arange(5)), ds.fingerprint())
    assert rows_changed("v1", built_in, fewer).startswith("The evaluation rows changed since v1")
