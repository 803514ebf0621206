"""Where model versions and the champion pointer live: the :class:`Registry` protocol, the MLflow
backend with its tracking adapter (runs, artifacts, model loading), and the GitHub Releases
backend.

May import: ``core``, ``github`` (the Releases backend); the only package besides ``github``
that talks to a service, and the only importer of MLflow (``tracking``, ``mlflow_backend``).
"""

from cml_bot.registry.base import AliasConflict, ModelVersion, Registry
from cml_bot.registry.github_backend import GitHubRegistry
from cml_bot.registry.mlflow_backend import MlflowRegistry
from cml_bot.registry.tracking import (
    TAG_PREFIX,
    LoggedRun,
    Ping,
    Tracker,
    default_tracking_uri,
    find_candidate,
    load_pyfunc,
    load_sklearn,
    ping,
    save_sklearn_model,
)

__all__ = [
    "TAG_PREFIX",
    "AliasConflict",
    "GitHubRegistry",
    "LoggedRun",
    "MlflowRegistry",
    "ModelVersion",
    "Ping",
    "Registry",
    "Tracker",
    "default_tracking_uri",
    "find_candidate",
    "load_pyfunc",
    "load_sklearn",
    "ping",
    "save_sklearn_model",
]
