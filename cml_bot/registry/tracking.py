"""MLflow adapter: runs (params, metrics, the model, predictions) on any tracking URI, and
:func:`ping`, ``cml-bot doctor``'s question to a tracking store through MLflow's own client.

The embedded default is a SQLite store in ``.cml-bot/mlflow.db`` with artifacts beside it in
``.cml-bot/artifacts``. MLflow is imported here only, and only when a run is logged or a model
saved, downloaded or loaded, so the event and comment paths never pay for it. Models are loaded
only in cml-bot's worker process, which holds no credentials (see "loading models" below).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cml_bot.core import RegistryError, without_credentials
from cml_bot.registry.mlflow_models import _first_line, log_sklearn_model

STATE_DIR = ".cml-bot"
TAG_PREFIX = "cml_bot."


def default_tracking_uri(configured: str | None, env: Mapping[str, str], root: Path) -> str:
    """Config first, then ``MLFLOW_TRACKING_URI``, then the local SQLite store under ``root``."""
    if configured:
        return configured
    if env.get("MLFLOW_TRACKING_URI"):
        return env["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{(root / STATE_DIR / 'mlflow.db').resolve()}"


def is_local_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///")


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    run_url: str | None
    experiment_id: str


# MLflow's HTTP client retries 7 times with a doubling backoff and waits 120 s per request: a
# dead tracking server took 246 s to fail. cml-bot's defaults fail it in seconds; a value set in
# the environment (or the workflow) is left alone.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


class Tracker:
    """One experiment (``cml-bot/<model>``) on one tracking URI."""

    def __init__(self, tracking_uri: str, model_name: str, root: Path):
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.root = root
        self.experiment_name = f"cml-bot/{model_name}"
        self._client: Any = None
        self._experiment_id: str | None = None

    @property
    def store_missing(self) -> bool:
        """Whether this is the local SQLite store and it was never created: there is nothing
        to read, and reading must not create it."""
        if self._client is not None or not is_local_sqlite(self.tracking_uri):
            return False
        return not Path(self.tracking_uri.removeprefix("sqlite:///")).exists()

    @property
    def client(self) -> Any:
        if self._client is None:
            self.ensure_store()
        return self._client

    def ensure_store(self) -> None:
        """Create the store (and the experiment) once, under a file lock for the SQLite default:
        two processes creating a fresh SQLite database at once can corrupt it."""
        if self._client is not None:
            return
        if self.tracking_uri.startswith(("http://", "https://")):
            for name, value in HTTP_DEFAULTS.items():  # the team's own settings win
                os.environ.setdefault(name, value)
        import mlflow
        from mlflow import MlflowClient

        # MLflow and alembic log every schema step at INFO; cml-bot prints its own progress.
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        lock_ctx: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if is_local_sqlite(self.tracking_uri):
            state = self.root / STATE_DIR
            state.mkdir(parents=True, exist_ok=True)
            lock_ctx = _file_lock(state / "mlflow.lock")
        try:
            with lock_ctx:
                client = MlflowClient(self.tracking_uri, self.tracking_uri)
                exp = client.get_experiment_by_name(self.experiment_name)
                if exp is None:
                    artifacts = None
                    if is_local_sqlite(self.tracking_uri):
                        artifacts = (self.root / STATE_DIR / "artifacts").resolve().as_uri()
                    exp_id = client.create_experiment(
                        self.experiment_name, artifact_location=artifacts
                    )
                else:
                    exp_id = exp.experiment_id
        except Exception as exc:  # MLflow's own message names the store problem
            raise RegistryError(
                f"cannot open the MLflow store at {without_credentials(self.tracking_uri)}:"
                f" {_first_line(exc, self.tracking_uri)}",
                fix="check registry.tracking_uri / MLFLOW_TRACKING_URI and that "
                "the server is up; credentials go in MLFLOW_TRACKING_USERNAME/"
                "MLFLOW_TRACKING_PASSWORD (docs/troubleshooting.md#cannot-open-the-mlflow-store)",
            ) from None
        self._client, self._experiment_id = client, exp_id

    def run_url(self, run_id: str) -> str | None:
        if self.tracking_uri.startswith(("http://", "https://")):
            base = without_credentials(self.tracking_uri, mask="").rstrip("/")
            return f"{base}/#/experiments/{self._experiment_id}/runs/{run_id}"
        return None

    def log_run(
        self,
        *,
        run_name: str,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        model: Any = None,
        model_dir: Path | None = None,
        artifacts: list[Path] | None = None,
        input_example: Any = None,
    ) -> LoggedRun:
        """One MLflow run with params, metrics, tags, the model and the given artifact files."""

        import mlflow

        client = self.client
        try:
            # MLflow prints "View run at ..." to stdout; stdout is the report's, so divert it.
            with (
                contextlib.redirect_stdout(sys.stderr),
                mlflow.start_run(experiment_id=self._experiment_id, run_name=run_name) as run,
            ):
                run_id = run.info.run_id
                if params:
                    mlflow.log_params({k: _param(v) for k, v in params.items()})
                finite = {k: v for k, v in metrics.items() if v is not None and math.isfinite(v)}
                if finite:
                    mlflow.log_metrics(finite)
                mlflow.set_tags(tags)
                for path in artifacts or []:
                    mlflow.log_artifact(str(path))
                if model is not None:
                    log_sklearn_model(model, input_example)
                elif model_dir is not None:
                    mlflow.log_artifacts(str(model_dir), artifact_path="model")
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(
                f"logging the run to {without_credentials(self.tracking_uri)} failed: "
                f"{_first_line(exc, self.tracking_uri)}",
                fix="check the tracking store is reachable and writable "
                "(docs/troubleshooting.md#cannot-open-the-mlflow-store)",
            ) from None
        del client
        return LoggedRun(
            run_id=run_id,
            model_uri=f"runs:/{run_id}/model",
            run_url=self.run_url(run_id),
            experiment_id=str(self._experiment_id),
        )


def find_candidate(tracker: Tracker, sha: str) -> tuple[LoggedRun, dict[str, str]] | None:
    """The newest candidate run logged for commit ``sha`` (its run and tags), if any."""
    if not sha or any(c not in "0123456789abcdef" for c in sha.lower()):
        return None
    client = tracker.client
    try:
        runs = client.search_runs(
            [tracker._experiment_id],
            filter_string=f"tags.`cml_bot.sha` = '{sha}' and tags.`cml_bot.role` = 'candidate'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    except Exception as exc:
        raise RegistryError(
            f"searching {without_credentials(tracker.tracking_uri)} for the run of {sha[:7]} "
            "failed: "
            f"{_first_line(exc, tracker.tracking_uri)}",
            fix="check the tracking server is reachable "
            "(docs/troubleshooting.md#cannot-open-the-mlflow-store)",
        ) from None
    if not runs:
        return None
    run = runs[0]
    logged = LoggedRun(
        run_id=run.info.run_id,
        model_uri=f"runs:/{run.info.run_id}/model",
        run_url=tracker.run_url(run.info.run_id),
        experiment_id=str(tracker._experiment_id),
    )
    return logged, dict(run.data.tags)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created when missing) against other processes, with
    ``filelock``: flock on Unix, the Windows API on Windows. It blocks until the lock is free."""
    from filelock import FileLock  # imported here: only the local SQLite store needs it

    with FileLock(path):
        yield


def _param(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 6000 else text[:5997] + "..."
