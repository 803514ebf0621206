"""MLflow model files: saving a scikit-learn model with skops (its requirements pinned), and
downloading a registered model to a local folder; and MLflow's error text without credentials.
Loading happens only in cml-bot's worker process (:mod:`cml_bot.ml.loading`), which holds no
credentials."""

from __future__ import annotations

import contextlib
import logging
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cml_bot.core import RegistryError, scrub, uri_secrets, without_credentials


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


def _quiet_mlflow() -> None:
    """MLflow and alembic log every step at INFO; cml-bot prints its own progress."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


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
    """The MLflow model layout on local disk, in the skops format (the built-in trainer's worker
    saves here; the directory is what gets logged and registered, and what its size is of)."""
    import shutil

    import mlflow.sklearn

    _quiet_mlflow()
    if path.exists():
        shutil.rmtree(path)
    with contextlib.redirect_stdout(sys.stderr):
        mlflow.sklearn.save_model(
            model,
            str(path),
            serialization_format="skops",
            skops_trusted_types=trusted_types(model),
            pip_requirements=sklearn_requirements(),
        )


# ---------------------------------------------------------------------- loading models
#
# Loading a model can run code from its files (pickle by design; skops for every type it is
# told to trust, and MLflow tells it the types listed in the model's own MLmodel file). cml-bot
# downloads here, with the credentials, and loads only in a worker process that has none
# (cml_bot.ml.isolation): scikit-learn models with skops and a fixed allow-list
# (cml_bot.ml.loading), a training command's model with :func:`load_pyfunc`.

LOAD_FIX = (
    "check the registry has that version and its artifacts "
    "(docs/troubleshooting.md#model-loading-refused)"
)


def _local_dir(model_uri: str) -> Path | None:
    """The local directory a model URI names (a path or ``file://``); None for remote URIs."""
    parts = urllib.parse.urlsplit(model_uri)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme == "" or len(parts.scheme) == 1:  # a plain path (or a Windows drive)
        return Path(model_uri)
    return None


def download_model(model_uri: str, tracking_uri: str, dest: Path) -> Path:
    """The model at ``model_uri`` as a local directory: a local path as it is; ``models:/``,
    ``runs:/`` and other artifact URIs downloaded into ``dest`` (replaced), with this process's
    credentials. Nothing is loaded."""
    local = _local_dir(model_uri)
    if local is not None:
        return local
    import shutil

    import mlflow.artifacts

    _quiet_mlflow()
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri,
                dst_path=str(dest),
                tracking_uri=tracking_uri,
                registry_uri=tracking_uri,
            )
    except Exception as exc:
        raise RegistryError(
            f"cannot load model {without_credentials(model_uri)}: {_first_line(exc, tracking_uri)}",
            fix=LOAD_FIX,
        ) from None
    return Path(path)


def load_pyfunc(
    model_uri: str, tracking_uri: str | None = None, *, label: str | None = None
) -> Any:
    """Any MLflow model (a training command's), with MLflow's own loader: it may run code from
    the model's files, so cml-bot calls it only in the worker process with no credentials."""
    import mlflow.pyfunc

    _quiet_mlflow()
    if tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except Exception as exc:
        raise RegistryError(
            f"cannot load model {label or without_credentials(model_uri)}: "
            f"{_first_line(exc, tracking_uri)}",
            fix=LOAD_FIX,
        ) from None


def _first_line(exc: BaseException, uri: str | None = None) -> str:
    """The first line of an MLflow error, without the credentials of ``uri``: MLflow quotes the
    URL it failed on, ``user:password@`` included."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if uri:
        text = scrub(text.replace(uri, without_credentials(uri)), uri_secrets(uri))
    return f"{type(exc).__name__}: {text}"
