"""The sections of ``cml-bot.yaml`` that are settings rather than the model: registry, deploy,
verdict policy, slash-command permissions, report (split from :mod:`cml_bot.config.models`, which
composes them into :class:`~cml_bot.config.models.Config`), and the strict base model."""

from __future__ import annotations

import re
import shlex
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cml_bot.config.errors import _FieldError

Permission = Literal["none", "read", "triage", "write", "maintain", "admin"]
PERMISSION_ORDER: tuple[str, ...] = ("none", "read", "triage", "write", "maintain", "admin")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _argv(value: object) -> object:
    """A command given as one string is split like a shell line (never run through a shell)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValueError(
                f"cannot split {value!r} like a shell line ({exc}): close the quotes, or write "
                "the command as a YAML list of arguments"
            ) from None
    return value


class RegistrySection(_Strict):
    backend: Literal["auto", "mlflow", "github"] = Field(
        "auto",
        description="auto: mlflow when a tracking URI is set, github inside Actions, else "
        "the local SQLite store.",
    )
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; default "
        "MLFLOW_TRACKING_URI, else sqlite:///.cml-bot/mlflow.db.",
    )
    authors: list[str] = Field(
        default_factory=lambda: ["github-actions[bot]"],
        min_length=1,
        description="GitHub registry: the accounts whose releases and assets count as model "
        "versions and champion steps (the login of the token that registers: "
        "`github-actions[bot]` for GITHUB_TOKEN, `<app-slug>[bot]` for a GitHub App). "
        "Releases or assets by anyone else are ignored and reported.",
    )

    trusted_packages: list[str] = Field(
        default_factory=list,
        description="Packages besides scikit-learn, numpy and scipy whose classes cml-bot may "
        "create when it loads a registered model (skops), for a third-party estimator such as "
        "`lightgbm`. Only these packages' own classes are added to the allow-list; a standard "
        "library module cannot be listed.",
    )

    @field_validator("trusted_packages")
    @classmethod
    def _packages(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", name):
                raise ValueError(f"{name!r} is not a Python package name, e.g. lightgbm")
            if name.partition(".")[0] in sys.stdlib_module_names or name == "builtins":
                raise ValueError(
                    f"{name!r} is in Python's standard library, whose classes can run "
                    "programs and open files; list only the estimator's own package"
                )
        return value

    @field_validator("authors")
    @classmethod
    def _logins(cls, value: list[str]) -> list[str]:
        for login in value:
            if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?", login):
                raise _FieldError(
                    ("registry", "authors"),
                    login,
                    "is not a GitHub login",
                    "write the account name, e.g. github-actions[bot] or my-app[bot]",
                )
        return value


class DeploySection(_Strict):
    alias: str = Field(
        "champion",
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$",
        description="The registry alias that marks the deployed model.",
    )
    environment: str = Field("production", description="GitHub Deployment environment.")
    command: list[str] | None = Field(
        None,
        description="Deploy hook (argument list); gets "
        "MODEL_URI, MODEL_VERSION and MODEL_NAME in its environment.",
    )
    timeout: int = Field(600, gt=0, description="Seconds before the deploy hook is stopped.")

    _split_command = field_validator("command", mode="before")(_argv)


class VerdictSection(_Strict):
    slice_regression: Literal["ignore", "warn", "fail"] = Field(
        "warn",
        description="A metric that regresses significantly in one slice (after Holm's "
        "correction over every slice x metric): `fail` fails the PR even when the overall "
        "number improves; `warn` shows it; `ignore`.",
    )
    inconclusive: Literal["fail", "pending", "pass"] = Field(
        "fail",
        description="The commit status when a gate is inconclusive (the interval straddles "
        "its threshold: more rows are needed to tell). `fail` (safe): failure; `pending`: "
        "pending, so a required check blocks the merge without calling it a failure; `pass`: "
        "success, with the inconclusive gate named in the description.",
    )


class CommandSpec(_Strict):
    permission: Permission = Field("write", description="Least repository permission needed.")
    params: list[str] = Field(
        default_factory=list, description="Parameter keys `/retrain` may override."
    )


class CommandsSection(_Strict):
    retrain: CommandSpec = CommandSpec(permission="write")
    evaluate: CommandSpec = CommandSpec(permission="write")
    deploy: CommandSpec = CommandSpec(permission="maintain")
    rollback: CommandSpec = CommandSpec(permission="maintain")
    help: CommandSpec = CommandSpec(permission="none")


class ReportSection(_Strict):
    template: str | None = Field(None, description="Your own Jinja2 report template (path).")
    max_chars: int = Field(65000, ge=2000, le=65000, description="Size budget of the comment.")
