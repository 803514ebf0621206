"""Safe reads of a webhook payload, which is untrusted JSON: every key may be missing, ``null``
or of another type. Each reader returns the value when it has the expected type, else ``None``
(``False`` for flags); nothing here raises.

Pure: no GitHub calls, no environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cml_bot.core import is_fork as is_fork_of
from cml_bot.core import same_repository

_FULL_SHA_RE = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
_SHORT_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_PRINTABLE_RE = re.compile(r"[^\x20-\x7e]")


def get_map(obj: object, key: str) -> Mapping[str, object] | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, Mapping) else None


def get_str(obj: object, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else None


def get_int(obj: object, key: str) -> int | None:
    """A positive integer (PR numbers and ids); anything else is ``None``."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else None


def get_flag(obj: object, key: str) -> bool:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value is True


def get_input(inputs: Mapping[str, object], key: str) -> str | None:
    """A ``workflow_dispatch`` input as stripped text; a boolean or a structure is ``None``."""
    value = inputs.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        return str(value).strip()
    return None


def dispatch_pr(inputs: Mapping[str, object]) -> tuple[int | None, str | None]:
    """The ``pr`` input of a ``workflow_dispatch`` (``12`` or ``#12``), or the problem with it."""
    text = get_input(inputs, "pr")
    if not text:
        return None, None
    digits = text.removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9 or int(digits) < 1:
        return None, f"workflow_dispatch input pr={show(text)} is not a pull request number."
    return int(digits), None


def dispatch_sha(inputs: Mapping[str, object]) -> tuple[str | None, str | None]:
    """The ``sha`` input of a ``workflow_dispatch`` (7 to 64 hex digits, lower-cased), or the
    problem with it."""
    text = get_input(inputs, "sha")
    if text and not _SHORT_SHA_RE.fullmatch(text):
        return None, f"workflow_dispatch input sha={show(text)} is not a commit hash."
    return (text.lower() if text else None), None


def full_sha(value: object) -> str | None:
    """A full commit SHA (SHA-1 or SHA-256), lower-case; all zeros or anything else is ``None``."""
    if isinstance(value, str) and _FULL_SHA_RE.fullmatch(value) and value.strip("0"):
        return value.lower()
    return None


def show(value: object, limit: int = 60) -> str:
    """A user-controlled value safe for a one-line log message."""
    text = _PRINTABLE_RE.sub("?", str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def login_of(user: Mapping[str, object] | None) -> str | None:
    return get_str(user, "login")


def is_bot(user: Mapping[str, object] | None, login: str, bot_login: str | None) -> bool:
    """A bot account, or cml-bot's own login (with or without ``[bot]``)."""
    if get_str(user, "type") == "Bot" or login.lower().endswith("[bot]"):
        return True
    if not bot_login:
        return False
    return login.lower().removesuffix("[bot]") == bot_login.lower().removesuffix("[bot]")


def is_fork(head: Mapping[str, object] | None, base: Mapping[str, object] | None) -> bool:
    """True unless the head repository is known to be the base repository (core.repos)."""
    return is_fork_of(get_map(head, "repo"), get_map(base, "repo"))


def same_repo(
    head_repo: Mapping[str, object] | None, base_repo: Mapping[str, object] | None
) -> bool:
    return same_repository(head_repo, base_repo)
