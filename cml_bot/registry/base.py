"""The registry interface every backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cml_bot.core import RegistryError


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version and what cml-bot recorded about it."""

    name: str
    version: str
    model_uri: str  # loadable by mlflow.pyfunc / mlflow.sklearn
    run_id: str | None = None
    sha: str | None = None
    pr: int | None = None
    fingerprint: str | None = None  # of the evaluation rows it was scored on
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    kind: str = "sklearn"  # "sklearn" | "command"
    data: dict[str, Any] = field(default_factory=dict)  # evaluation rows, class balance, columns
    created_at: str | None = None
    inputs: str | None = None  # fingerprint of the training inputs (config, data, code, pins)
    libraries: dict[str, str] = field(default_factory=dict)  # Python and library versions


@dataclass(frozen=True)
class AliasMove:
    alias: str
    version: str
    previous: str | None
    at: str
    reason: str = ""


class AliasConflict(RegistryError):
    """The alias moved under us: someone else promoted first (compare-and-set failed)."""


class Registry(Protocol):
    def versions(self) -> list[ModelVersion]: ...

    def get(self, version: str) -> ModelVersion | None: ...

    def champion(self, alias: str = "champion") -> ModelVersion | None: ...

    def register(self, *, run_id: str, model_uri: str, tags: dict[str, str]) -> ModelVersion: ...

    def move_alias(
        self, alias: str, version: str, *, expected: str | None, reason: str = ""
    ) -> AliasMove: ...

    def remove_alias(self, alias: str, *, expected: str, reason: str = "") -> None: ...

    def alias_history(self, alias: str = "champion") -> list[AliasMove]: ...

    def ignored(self) -> list[str]:
        """Why each registry entry read so far was not used: not made by the bot."""
        ...

    def download_predictions(self, version: ModelVersion, dest: Path) -> Path | None: ...

    def model_location(self, version: ModelVersion, dest: Path) -> str:
        """Where MLflow can load ``version``'s model from: its ``models:/`` or ``runs:/`` URI,
        or a local directory under ``dest`` for a backend that keeps models as files."""
        ...
