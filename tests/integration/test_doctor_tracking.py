"""`cml-bot doctor`'s tracking check and `registry.ping` for real: a real `mlflow server`, a path
on it that is no MLflow API, a dead port, and a local SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cml_bot.doctor import diagnose as doctor
from cml_bot.registry import ping
from tests.integration.support import free_port


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def check(tmp_path: Path, uri: str) -> doctor.Check:
    path = tmp_path / "cml-bot.yaml"
    config = {"model": {"name": "wine"}, "train": {"data": "sklearn:wine"}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    cfg, _ = doctor.check_config(path)
    assert cfg is not None
    return doctor.check_tracking(cfg, {"MLFLOW_TRACKING_URI": uri}, timeout=10)


@pytest.mark.server
def test_a_real_server_passes(mlflow_server: str, tmp_path: Path) -> None:
    answer = ping(mlflow_server, env={}, timeout=10)
    assert (answer.status, answer.health, answer.credentials) == (200, 200, False)
    result = check(tmp_path, mlflow_server)
    assert (result.status, result.detail) == (
        "ok",
        f"{mlflow_server} is up and answers without credentials",
    )


@pytest.mark.server
def test_a_path_that_is_no_mlflow_api_fails(mlflow_server: str, tmp_path: Path) -> None:
    result = check(tmp_path, f"{mlflow_server}/not-mlflow")
    assert result.status == "fail"
    assert result.detail.endswith("/health answered 404, the experiments API answered HTTP 404")


def test_a_dead_port_fails_without_the_password(tmp_path: Path) -> None:
    result = check(tmp_path, f"http://u:s3cret-pw@127.0.0.1:{free_port()}")
    assert result.status == "fail"
    assert "does not answer (" in result.detail and "Connection refused" in result.detail
    assert "s3cret-pw" not in result.detail and "***@127.0.0.1" in result.detail


def test_a_local_sqlite_store_answers(tmp_path: Path) -> None:
    answer = ping(f"sqlite:///{tmp_path / 'mlflow.db'}", env={}, timeout=10)
    assert (answer.status, answer.ok, answer.reason) == (200, True, "")
