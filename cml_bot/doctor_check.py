"""One line of ``cml-bot doctor``'s checklist: the :class:`Check` every doctor check returns.

Shared by :mod:`cml_bot.doctor` (config, data, git; the run and its output),
:mod:`cml_bot.doctor_workflows` and :mod:`cml_bot.doctor_remote`, with the troubleshooting page
their fixes link to.
"""

from __future__ import annotations

from dataclasses import dataclass
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
