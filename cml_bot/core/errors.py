"""One error base class. Every message says what went wrong and how to fix it.

Exit codes (documented in the README):

====  =======================================================
code  meaning
====  =======================================================
0     success (or nothing to do)
1     the model failed a gate, or one is inconclusive under ``verdict.inconclusive: fail``
      (``--no-fail`` turns this into 0)
2     bad configuration or bad command-line usage
3     bad data, a failed training or evaluation
4     an external service failed (GitHub, MLflow) after retries
5     refused: the caller lacks permission or the request is unsafe
====  =======================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_SERVICE = 4
EXIT_REFUSED = 5


class CmlBotError(Exception):
    """Base of every error cml-bot raises on purpose.

    ``message`` says what happened; ``fix`` says what the user should do about it.
    """

    exit_code: int = EXIT_DATA

    def __init__(self, message: str, *, fix: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class ConfigError(CmlBotError):
    """The configuration file or a command-line override is invalid."""

    exit_code = EXIT_CONFIG


class DataError(CmlBotError):
    """Training or evaluation data is missing or unusable."""

    exit_code = EXIT_DATA


class TrainingError(CmlBotError):
    """The estimator or the user's training command failed."""

    exit_code = EXIT_DATA


class RegistryError(CmlBotError):
    """The model registry (MLflow or GitHub Releases) failed or is inconsistent."""

    exit_code = EXIT_SERVICE


class GitHubError(CmlBotError):
    """The GitHub API failed after retries, or refused a request."""

    exit_code = EXIT_SERVICE


class PayloadError(CmlBotError):
    """A webhook payload is malformed."""

    exit_code = EXIT_CONFIG


class RefusedError(CmlBotError):
    """The request is not allowed (permission, fork safety)."""

    exit_code = EXIT_REFUSED
