"""One line of ``cml-bot doctor``'s checklist: the :class:`Check` every doctor check returns.

Shared by :mod:`cml_bot.doctor.diagnose` (config, data, git; the run and its output),
:mod:`cml_bot.doctor.workflows` and :mod:`cml_bot.doctor.remote`, with the troubleshooting page
their fixes link to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["ok", "fail", "warn", "skip"]
TROUBLE = "docs/troubleshooting.md"


@dataclass(frozen=True)
class Check:
    """``ok``, ``fail`` (with the fix), ``warn`` (works, but will bite later) or ``skip``."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Inputs:
    """What ``cml-bot doctor`` was given: the config, the environment, the token's variable."""

    config_path: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 - the variable's name, not a token
    repository: str | None = None
    timeout: float = 5.0
