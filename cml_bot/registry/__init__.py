"""Where model versions and the champion pointer live: the :class:`Registry` protocol, the MLflow
backend with its tracking adapter (runs, artifacts, model downloads; MLflow's own loader only
for the isolated worker), and the GitHub Releases backend.

May import: ``core``, ``github`` (the Releases backend); the only package besides ``github``
that talks to a service, and the only importer of MLflow (``tracking``, ``mlflow_backend``,
``mlflow_models``, ``health``).
"""

from cml_bot.registry.base import AliasConflict, ModelVersion, Registry
from cml_bot.registry.github_backend import GitHubRegistry
from cml_bot.registry.health import Ping, ping
from cml_bot.registry.mlflow_backend import MlflowRegistry
from cml_bot.registry.mlflow_models import download_model, load_pyfunc, save_sklearn_model
from cml_bot.registry.tracking import (
    TAG_PREFIX,
    LoggedRun,
    Tracker,
    default_tracking_uri,
    find_candidate,
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
    "download_model",
    "find_candidate",
    "load_pyfunc",
    "ping",
    "save_sklearn_model",
]
