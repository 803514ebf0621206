"""One error base class. Every message says what went wrong and how to fix it.

Exit codes: :data:`EXIT_CODES` is the one table. Each code means one thing; every command's
``--help`` and the README render it from here (``cml_bot.app.cli_help``; a test keeps the README
equal to it). Each error class carries its code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_SERVICE = 4
EXIT_REFUSED = 5
EXIT_NOT_FOUND = 6

# code -> what it means, for people (the README's table and every command's --help).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success, or nothing to do for this event",
    EXIT_GATE_FAILED: "the model did not pass: a gate failed, or one is inconclusive under "
    "`verdict.inconclusive: fail` (`--no-fail` reports only); `doctor`: a check failed",
    EXIT_CONFIG: "usage or configuration: a bad option, config field, or parameter name or "
    "value; `init`: a file would be overwritten",
    EXIT_DATA: "data or training: the data is unusable, or training or scoring failed",
    EXIT_SERVICE: "a service failed: GitHub or MLflow, after retries",
    EXIT_REFUSED: "refused: the caller lacks permission, or the request is unsafe",
    EXIT_NOT_FOUND: "nothing to act on: no such output folder, run, model version or champion, "
    "or no earlier version to roll back to",
}


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


class NotFoundError(CmlBotError):
    """What the command should act on does not exist: an output folder, a logged run, a model
    version, the champion, an earlier version to roll back to."""

    exit_code = EXIT_NOT_FOUND
