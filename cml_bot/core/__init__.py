"""The core every package may use: errors (each says its fix), progress lines, secret redaction,
git facts and the metric catalogue.

May import: the standard library only (``cml-bot plan`` loads it, so nothing heavy). Never click,
PyGithub, MLflow or the environment; ``git`` runs the git CLI. ``git`` and ``metrics`` are public
as namespaces (``git.head_sha()``, ``metrics.METRICS``); the rest is imported by name from here.
"""

from cml_bot.core import git, metrics
from cml_bot.core.clock import iso_utc, utc_now
from cml_bot.core.errors import (
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_GATE_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVICE,
    CmlBotError,
    ConfigError,
    DataError,
    GitHubError,
    NotFoundError,
    PayloadError,
    RefusedError,
    RegistryError,
    TrainingError,
)
from cml_bot.core.files import file_sha256
from cml_bot.core.markdown import VALUE_LIMIT, fenced, markdown_table, md_escape
from cml_bot.core.progress import Progress
from cml_bot.core.redact import (
    is_private,
    scrub,
    scrubbed,
    secret_values,
    untrusted_env,
    uri_secrets,
    without_credentials,
)
from cml_bot.core.repos import is_fork, same_repository

__all__ = [
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_DATA",
    "EXIT_GATE_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_SERVICE",
    "VALUE_LIMIT",
    "CmlBotError",
    "ConfigError",
    "DataError",
    "GitHubError",
    "NotFoundError",
    "PayloadError",
    "Progress",
    "RefusedError",
    "RegistryError",
    "TrainingError",
    "fenced",
    "file_sha256",
    "git",
    "is_fork",
    "is_private",
    "iso_utc",
    "markdown_table",
    "md_escape",
    "metrics",
    "same_repository",
    "scrub",
    "scrubbed",
    "secret_values",
    "untrusted_env",
    "uri_secrets",
    "utc_now",
    "without_credentials",
]
