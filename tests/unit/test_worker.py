"""Pull-request code and model loading run in a worker process with no secrets.

The built-in trainer's estimator (a class the PR's config names) runs in ``cml_bot.ml.worker``
with the environment :func:`cml_bot.core.untrusted_env` leaves; a registered model is loaded
there too, scikit-learn models with skops and cml-bot's fixed allow-list, whatever the model's
MLmodel file claims. The payloads are real (:mod:`tests.unit.model_payloads`).

The two contract tests, ``test_a_pr_estimator_fits_without_the_token_or_credentials`` and
``test_a_poisoned_skops_model_is_refused_and_never_runs``, go through entry points that predate
the worker (``train_candidate``, ``score_registered``): on in-process code they fail on their
assertions (the secrets are seen, the payload runs), not on an import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cml_bot.core import Progress
from cml_bot.core.errors import ConfigError, DataError, RegistryError, TrainingError
from cml_bot.core.git import GitInfo
from cml_bot.ml import train_candidate
from cml_bot.ml.data import load_dataset
from tests.unit.model_payloads import (
    SECRETS,
    SYSTEM,
    leaked,
    poison_pickle,
    poison_skops,
    project,
    registered_model,
    rescore,
    skops_payload,
)


@pytest.fixture()
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


# ---------------------------------------------------------------------- (a) training


def test_a_pr_estimator_fits_without_the_token_or_credentials(
    tmp_path: Path, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`estimator: evil_est.Spy`, a module of the PR's tree, dumps its environment while it
    fits: none of the cml-bot process's secrets is in it. (On the path for an in-process fit too,
    so this fails when the fit runs where the secrets are.)"""
    monkeypatch.syspath_prepend(str(tmp_path))  # so that an in-process fit can import it too
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cfg = project(tmp_path, "evil_est.Spy")
    out = tmp_path / "out"
    outcome = train_candidate(
        cfg,
        overrides={"depth": 2},
        out_dir=out,
        tracker=None,
        git=GitInfo(),
        progress=Progress(quiet=True),
    )
    env = json.loads((tmp_path / "env.json").read_text())
    assert leaked(env) == [], leaked(env)
    assert env["PATH"] and env["OMP_NUM_THREADS"] == "1"  # what a program needs is still there
    assert outcome.params == {"depth": 2} and outcome.evaluation.metrics["accuracy"] > 0
    assert (out / "model" / "MLmodel").is_file() and (out / "predictions.csv").is_file()


def test_worker_errors_come_back_as_the_same_errors(tmp_path: Path) -> None:
    from cml_bot.ml.training import train_builtin

    cfg = project(tmp_path, "evil_est.Spyy")
    dataset = load_dataset(cfg)
    with pytest.raises(ConfigError) as info:
        train_builtin(cfg, dataset, {}, tmp_path / "out")
    assert info.value.message == "'evil_est' has no estimator class 'Spyy'"
    assert info.value.fix == "did you mean Spy?" and info.value.exit_code == 2
    cfg = project(tmp_path, "evil_est.Spy")
    with pytest.raises(ConfigError, match="Spy has no parameter 'deep'") as info:
        train_builtin(cfg, dataset, {"deep": 1}, tmp_path / "out")
    assert info.value.fix == "did you mean depth?"


# ---------------------------------------------------------------------- the allow-list


def test_the_allow_list_is_scikit_learn_numpy_and_scipy_types_only() -> None:
    from cml_bot.ml.loading import skops_allowed_types

    allowed = skops_allowed_types()
    assert {
        "sklearn.pipeline.Pipeline",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._tree.Tree",
        "sklearn.neighbors._kd_tree.KDTree",
        "numpy.dtype",
        "scipy.sparse._csr.csr_matrix",
    } <= allowed
    assert {name.split(".")[0] for name in allowed} == {"sklearn", "numpy", "scipy"}
    assert SYSTEM not in allowed and "builtins.eval" not in allowed


def test_a_model_with_its_own_class_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cml_bot.ml.loading import load_sklearn
    from cml_bot.ml.training import train_builtin

    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = project(tmp_path, "evil_est.Spy")
    trained = train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    with pytest.raises(RegistryError) as info:
        load_sklearn(trained.model_dir, "models:/m/3")  # type: ignore[arg-type]
    assert info.value.message == (
        "refused to load model models:/m/3: it needs type(s) cml-bot does not trust: evil_est.Spy"
    )
    assert info.value.fix and "scikit-learn, numpy and scipy types" in info.value.fix


# ---------------------------------------------------------------------- (b) scoring


def test_a_poisoned_skops_model_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model_dir = registered_model(tmp_path / "champion")
    needs = poison_skops(model_dir, marker)
    with pytest.raises(RegistryError) as info:
        rescore(tmp_path, model_dir)
    assert info.value.message == (
        f"refused to load model models:/m/3: it needs type(s) cml-bot does not trust: {needs}"
    )
    assert info.value.fix and "never trusting the list in the model's own MLmodel" in info.value.fix
    assert not marker.exists()


def test_a_pickled_model_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model_dir = registered_model(tmp_path / "champion")
    poison_pickle(model_dir, f"touch {marker}")
    with pytest.raises(RegistryError, match="serialized as 'pickle', which runs code when loaded"):
        rescore(tmp_path, model_dir)
    assert not marker.exists()


# ---------------------------------------------------------------------- the protocol


@pytest.mark.parametrize(
    "values",
    [
        np.array(["yes", "no", None], dtype=object),
        np.array([1, "a", 2.5, True], dtype=object),
        np.array(["a", "bc"]),
        np.array([1.5, np.nan, -0.0]),
        np.array([[0.1, 0.9], [0.7, 0.3]]),
        np.array([3, 4], dtype=np.int64),
        np.array([True, False]),
    ],
)
def test_arrays_round_trip_without_pickle(tmp_path: Path, values: np.ndarray) -> None:
    from cml_bot.ml import isolation

    isolation.save_array(tmp_path, "a", values)
    back = isolation.load_array(tmp_path, "a")
    assert back is not None and back.dtype == values.dtype and back.shape == values.shape
    assert [str(v) for v in back.ravel()] == [str(v) for v in values.ravel()]


def test_errors_are_rebuilt_by_class_and_unknown_ones_default(tmp_path: Path) -> None:
    from cml_bot.ml import isolation

    isolation.write_error(tmp_path, DataError("bad rows", fix="check them"))
    got = isolation.read_error(tmp_path, TrainingError)
    assert type(got) is DataError and str(got) == "bad rows\n  fix: check them"
    (tmp_path / isolation.ERROR).write_text(json.dumps({"type": "SystemExit", "message": "x"}))
    assert type(isolation.read_error(tmp_path, TrainingError)) is TrainingError
    (tmp_path / isolation.ERROR).write_text("[1, 2]")
    assert isolation.read_error(tmp_path, TrainingError) is None


def test_the_worker_environment_has_no_secret(secrets: dict[str, str]) -> None:
    from cml_bot.ml import isolation

    env = isolation.worker_env([])
    assert leaked(env) == [] and "PATH" in env
    assert str(Path(isolation.__file__).parents[2]) in env["PYTHONPATH"].split(":")


def test_the_skops_payload_names_the_function_it_calls() -> None:
    import skops.io

    assert skops.io.get_untrusted_types(data=skops_payload("true")) == [SYSTEM]
