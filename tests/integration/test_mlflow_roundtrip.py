"""The MLflow adapter for real: log a run, register, move the alias, load by alias — on the
embedded SQLite store and on a real `mlflow server`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from cml_bot.core.errors import RegistryError
from cml_bot.ml.loading import load_sklearn
from cml_bot.registry.base import AliasConflict
from cml_bot.registry.mlflow_backend import MlflowRegistry
from cml_bot.registry.mlflow_models import download_model
from cml_bot.registry.tracking import Tracker, default_tracking_uri


def _fit(c: float) -> LogisticRegression:
    x, y = load_iris(return_X_y=True)
    return LogisticRegression(C=c, max_iter=500).fit(x, y)


def roundtrip(uri: str, root: Path, name: str) -> None:
    tracker = Tracker(uri, name, root)
    registry = MlflowRegistry(tracker)
    assert registry.champion() is None
    assert registry.versions() == []
    preds = root / "predictions.csv"
    preds.write_text("row_id,label,prediction\n0,0,0\n1,1,2\n")
    runs = []
    for c in (0.01, 1.0):
        runs.append(
            tracker.log_run(
                run_name=f"c{c}",
                params={"C": c},
                metrics={"accuracy": 0.9, "nan": float("nan")},
                tags={
                    "cml_bot.sha": "a" * 40,
                    "cml_bot.fingerprint": "fp1",
                    "cml_bot.metric.accuracy": "0.9",
                    "cml_bot.pr": "7",
                },
                model=_fit(c),
                artifacts=[preds],
            )
        )
    v1 = registry.register(run_id=runs[0].run_id, model_uri=runs[0].model_uri, tags={})
    assert (v1.version, v1.sha, v1.pr, v1.fingerprint) == ("1", "a" * 40, 7, "fp1")
    assert v1.metrics == {"accuracy": 0.9}
    registry.move_alias("champion", "1", expected=None, reason="first")
    v2 = registry.register(
        run_id=runs[1].run_id, model_uri=runs[1].model_uri, tags={"cml_bot.pr": "8"}
    )
    assert v2.pr == 8
    # compare-and-set: a stale expectation is refused and changes nothing
    with pytest.raises(AliasConflict):
        registry.move_alias("champion", "2", expected=None)
    assert registry.champion().version == "1"  # type: ignore[union-attr]
    registry.move_alias("champion", "2", expected="1", reason="better")
    champ = registry.champion()
    assert champ is not None and champ.version == "2"
    assert [(m.version, m.previous) for m in registry.alias_history()] == [("1", None), ("2", "1")]
    # download by alias, load (skops, fixed allow-list) and predict: the model that went in
    model = load_sklearn(download_model(f"models:/{name}@champion", uri, root / "champion"))
    x, _ = load_iris(return_X_y=True)
    assert np.array_equal(model.predict(x), _fit(1.0).predict(x))
    got = registry.download_predictions(champ, root / "dl")
    assert got is not None and got.read_text() == preds.read_text()
    assert [v.version for v in registry.versions()] == ["1", "2"]


def test_sqlite_store_roundtrip(tmp_path: Path) -> None:
    uri = default_tracking_uri(None, {}, tmp_path)
    assert uri == f"sqlite:///{tmp_path / '.cml-bot' / 'mlflow.db'}"
    roundtrip(uri, tmp_path, "iris-local")
    assert (tmp_path / ".cml-bot" / "artifacts").is_dir()  # artifacts stay under .cml-bot/


def test_env_tracking_uri_wins_over_default(tmp_path: Path) -> None:
    assert default_tracking_uri(None, {"MLFLOW_TRACKING_URI": "http://x"}, tmp_path) == "http://x"
    assert (
        default_tracking_uri("http://cfg", {"MLFLOW_TRACKING_URI": "http://x"}, tmp_path)
        == "http://cfg"
    )


@pytest.mark.server
def test_mlflow_server_roundtrip(mlflow_server: str, tmp_path: Path) -> None:
    roundtrip(mlflow_server, tmp_path, "iris-server")
    tracker = Tracker(mlflow_server, "iris-server", tmp_path)
    tracker.ensure_store()
    assert tracker.run_url("abc") is not None and tracker.run_url("abc").startswith(mlflow_server)


def test_versions_not_registered_by_cml_bot_are_ignored_and_tampered_files_refused(
    tmp_path: Path,
) -> None:
    """Security issue 16 item 1 for MLflow: a version registered around cml-bot (by hand, with
    the MLflow client) and pointed at as champion is neither the champion nor listed, and is
    reported; a registered model whose files are replaced in the artifact store is refused
    before anything loads it."""
    uri = default_tracking_uri(None, {}, tmp_path)
    tracker = Tracker(uri, "iris-trust", tmp_path)
    registry = MlflowRegistry(tracker)
    run = tracker.log_run(run_name="ok", params={}, metrics={}, tags={}, model=_fit(1.0))
    v1 = registry.register(run_id=run.run_id, model_uri=run.model_uri, tags={})
    registry.move_alias("champion", "1", expected=None)
    # someone with registry access registers a model of their own and moves the alias to it
    rogue = tracker.log_run(run_name="rogue", params={}, metrics={}, tags={}, model=_fit(0.01))
    client = tracker.client
    client.create_model_version("iris-trust", rogue.model_uri, run_id=rogue.run_id)
    client.set_registered_model_alias("iris-trust", "champion", "2")

    fresh = MlflowRegistry(Tracker(uri, "iris-trust", tmp_path))
    assert fresh.champion() is None
    assert [v.version for v in fresh.versions()] == ["1"]
    assert fresh.get("2") is None
    assert fresh.ignored() == [
        "v2 of iris-trust was not registered by cml-bot (it has no cml_bot.model_sha256 tag), "
        "so it is not used"
    ]
    # the next promotion moves the alias off the rogue version
    fresh.move_alias("champion", "1", expected=None, reason="back to ours")
    assert fresh.champion() == v1

    # the model files of v1 are replaced in the artifact store: refused, nothing loaded
    local = Path(fresh.model_location(v1, tmp_path / "ok"))
    assert (local / "MLmodel").is_file()
    stored = [p for p in (tmp_path / ".cml-bot" / "artifacts").rglob("model.skops")]
    assert stored
    for path in stored:
        path.write_bytes(b"a payload")
    with pytest.raises(RegistryError, match="changed since cml-bot registered them") as err:
        fresh.model_location(v1, tmp_path / "tampered")
    assert err.value.fix and "register the model again" in err.value.fix
