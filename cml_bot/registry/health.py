"""``cml-bot doctor``'s question to a tracking store, asked through MLflow's own client (its TLS
and auth settings apply): :func:`ping`."""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cml_bot.core import scrub, secret_values, uri_secrets
from cml_bot.registry.mlflow_models import _first_line


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
