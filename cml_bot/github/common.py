"""Values every part of the GitHub adapter shares: what a call is for, and small text helpers."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

STATUS_DESCRIPTION_MAX = 139  # GitHub rejects descriptions of 140 characters and more


@dataclass(frozen=True)
class _Op:
    """What a call is for, in words a user understands, and the permission it needs."""

    what: str
    permission: str


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")
