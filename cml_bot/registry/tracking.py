"""MLflow adapter: runs (params, metrics, the model, predictions) on any tracking URI, and
:func:`ping`, ``cml-bot doctor``'s question to a tracking store through MLflow's own client.

The embedded default is a SQLite store in ``.cml-bot/mlflow.db`` with artifacts beside it in
``.cml-bot/artifacts``. MLflow is imported here only, and only when a run is logged or a model
loaded, so the event and comment paths never pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cml_bot.core import RegistryError, scrub, secret_values, uri_secrets, without_credentials

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
                f"cannot open the MLflow store at {_safe_uri(self.tracking_uri)}:"
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
        import math

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
                f"logging the run to {_safe_uri(self.tracking_uri)} failed: "
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
            f"searching {_safe_uri(tracker.tracking_uri)} for the run of {sha[:7]} failed: "
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


@dataclass(frozen=True)
class Ping:
    """What a tracking store answered :func:`ping`; no credentials in it.

    ``status`` is the experiment search's HTTP status (200: it worked; for a non-HTTP store
    200 or None), None when no answer came back; ``reason`` says why not, in MLflow's words.
    ``health`` is an http(s) server's answer to ``GET /health`` (None: no answer, or not
    asked); ``credentials`` whether MLflow sent any (user and password, a token, an auth plugin).
    """

    status: int | None
    reason: str = ""
    health: int | None = None
    credentials: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


def ping(tracking_uri: str, *, env: Mapping[str, str] | None = None, timeout: float = 5.0) -> Ping:
    """Ask a tracking store for one experiment with MLflow's own client, so MLflow's TLS
    (``MLFLOW_TRACKING_INSECURE_TLS``, ``MLFLOW_TRACKING_SERVER_CERT_PATH`` ...) and auth
    settings (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``, ``MLFLOW_TRACKING_TOKEN`` ...) apply,
    read from ``env`` (default: this process's environment). An http(s) server is asked
    ``GET /health`` first. One attempt per request, each at most ``timeout`` seconds.

    A local SQLite store is created if missing (MLflow creates it on first use)."""
    overrides = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, math.ceil(timeout))),
    }
    secrets = uri_secrets(tracking_uri) + secret_values(os.environ if env is None else env)
    with _mlflow_environ(env, overrides):
        from mlflow import MlflowClient
        from mlflow.utils.credentials import get_default_host_creds

        health, credentials = None, False
        if tracking_uri.startswith(("http://", "https://")):
            creds = get_default_host_creds(tracking_uri)
            credentials = _sends_credentials(tracking_uri, creds)
            try:
                health = _health(creds, timeout)
            except Exception as exc:  # refused, timed out, TLS: nothing answered
                return Ping(None, scrub(str(_root_cause(exc)), secrets), None, credentials)
        try:
            MlflowClient(tracking_uri).search_experiments(max_results=1)
        except Exception as exc:
            status = _http_status(exc) if health is not None else None
            cause = str(_root_cause(exc)) if status is None else _first_line(exc, tracking_uri)
            return Ping(status, scrub(cause, secrets), health, credentials)
    return Ping(200, "", health, credentials)


def _health(creds: Any, timeout: float) -> int:
    """The HTTP status of ``GET /health`` (an error status too; no retries)."""
    from mlflow.utils.rest_utils import http_request

    response = http_request(
        creds,
        "/health",
        "GET",
        max_retries=0,
        timeout=timeout,
        retry_codes=(),
        raise_on_status=False,
    )
    return int(response.status_code)


def _sends_credentials(uri: str, creds: Any) -> bool:
    """Whether MLflow's request carries credentials: the URI's ``user:password@``, a user and
    password, a token, an auth plugin or AWS SigV4 (``MLFLOW_TRACKING_*``)."""
    if "@" in uri.partition("://")[2].partition("/")[0]:
        return True
    return bool((creds.username and creds.password) or creds.token or creds.auth or creds.aws_sigv4)


def _http_status(exc: Exception) -> int | None:
    """The HTTP status an MLflow client error stands for; None when no response came back."""
    text = str(exc)
    found = re.search(r"failed with error code (\d{3})|too many (\d{3}) error responses", text)
    if found:
        return int(found.group(1) or found.group(2))
    if isinstance(_root_cause(exc), OSError):  # refused, reset, timed out: no response
        return None
    code = getattr(exc, "get_http_status_code", None)
    return int(code()) if callable(code) else None


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error under MLflow's, requests' and urllib3's wrappers: for a dead server
    the socket's own ``[Errno 111] Connection refused``."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__ or getattr(exc, "reason", None)
        if not isinstance(inner, BaseException) and exc.args:
            inner = exc.args[0]
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


@contextlib.contextmanager
def _mlflow_environ(env: Mapping[str, str] | None, overrides: Mapping[str, str]) -> Iterator[None]:
    """MLflow reads its settings from ``os.environ`` when it makes a request: meanwhile, the
    ``MLFLOW_*`` variables are those of ``env`` (when given) plus ``overrides``."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    wanted = saved if env is None else {k: v for k, v in env.items() if k.startswith("MLFLOW_")}
    _set_mlflow_environ({**wanted, **overrides})
    try:
        yield
    finally:
        _set_mlflow_environ(saved)


def _set_mlflow_environ(values: Mapping[str, str]) -> None:
    for name in [k for k in os.environ if k.startswith("MLFLOW_")]:
        del os.environ[name]
    os.environ.update(values)


def sklearn_requirements() -> list[str]:
    """Explicit pins for the logged model, so MLflow does not infer them by importing things."""
    from importlib.metadata import version

    reqs = []
    for dist in ("scikit-learn", "numpy", "pandas", "scipy", "skops"):
        with contextlib.suppress(Exception):
            reqs.append(f"{dist}=={version(dist)}")
    return reqs


def trusted_types(model: Any) -> list[str]:
    """The types skops must be told to trust to load this model back (all sklearn/numpy here)."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def log_sklearn_model(model: Any, input_example: Any = None) -> None:
    import mlflow.sklearn

    mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=trusted_types(model),
        pip_requirements=sklearn_requirements(),
        input_example=input_example,
    )


def save_sklearn_model(model: Any, path: Path) -> None:
    """The same MLflow model layout on local disk (for size and for the output folder)."""
    import shutil

    import mlflow.sklearn

    if path.exists():
        shutil.rmtree(path)
    mlflow.sklearn.save_model(
        model,
        str(path),
        serialization_format="skops",
        skops_trusted_types=trusted_types(model),
        pip_requirements=sklearn_requirements(),
    )


def load_pyfunc(model_uri: str, tracking_uri: str) -> Any:
    import mlflow.pyfunc

    return _load(mlflow.pyfunc.load_model, model_uri, tracking_uri)


def load_sklearn(model_uri: str, tracking_uri: str) -> Any:
    import mlflow.sklearn

    return _load(mlflow.sklearn.load_model, model_uri, tracking_uri)


def _load(loader: Any, model_uri: str, tracking_uri: str) -> Any:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        return loader(model_uri)
    except Exception as exc:
        raise RegistryError(
            f"cannot load model {without_credentials(model_uri)}: {_first_line(exc, tracking_uri)}",
            fix="check the registry has that version and its artifacts "
            "(docs/troubleshooting.md#model-loading-refused)",
        ) from None


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


def _first_line(exc: BaseException, uri: str | None = None) -> str:
    """The first line of an MLflow error, without the credentials of ``uri``: MLflow quotes the
    URL it failed on, ``user:password@`` included."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if uri:
        text = scrub(text.replace(uri, without_credentials(uri)), uri_secrets(uri))
    return f"{type(exc).__name__}: {text}"


def _safe_uri(uri: str) -> str:
    """A URI with any user:password@ credentials masked, fit for messages."""
    return without_credentials(uri)
