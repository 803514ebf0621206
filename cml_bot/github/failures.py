"""What a failed GitHub call was: a rate limit to wait out, a transient failure to retry, or a
fatal answer to explain.

:func:`_classify` turns PyGithub's exception into a :class:`_Failure` (data, not an exception)
that the retry loop in :mod:`cml_bot.github.transport` acts on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests
from github.GithubException import GithubException

RATE_LIMIT_SLACK = 1.0  # seconds added to x-ratelimit-reset against clock skew
SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: "wait at least one minute" when no retry-after is given
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,  # connection errors, timeouts, broken chunked bodies
    json.JSONDecodeError,  # a truncated JSON body from a proxy or a failing server
)


@dataclass(frozen=True)
class _Failure:
    kind: Literal["rate", "transient", "fatal"]
    status: int | None
    detail: str
    wait: float | None = None  # server-requested wait (rate limits, retry-after)
    # The request reached GitHub and may still be applied there (a read timeout, a 504 from a
    # gateway that gave up on the origin): a write may land after the client gave up on it.
    pending: bool = False


def _classify(exc: GithubException, now: float) -> _Failure:
    status = int(exc.status)
    headers = {str(k).lower(): v for k, v in (exc.headers or {}).items()}
    detail = _message(exc)
    if status in (403, 429):
        wait = _rate_limit_wait(status, headers, detail, now)
        if wait is not None:
            return _Failure("rate", status, f"rate limit (HTTP {status})", wait)
    if status >= 500:
        retry_after = _seconds(headers.get("retry-after"))
        return _Failure("transient", status, f"HTTP {status}", retry_after, pending=status == 504)
    return _Failure("fatal", status, detail)


def _transport_failure(exc: BaseException) -> _Failure:
    """A failure below HTTP (connection, timeout, truncated body): always worth a retry."""
    pending = isinstance(exc, requests.exceptions.ReadTimeout)
    return _Failure("transient", None, type(exc).__name__, pending=pending)


def _rate_limit_wait(
    status: int, headers: Mapping[str, Any], detail: str, now: float
) -> float | None:
    """Seconds to wait for a rate limit, or None when the 403/429 is no rate limit."""
    if str(headers.get("x-ratelimit-remaining", "")).strip() == "0":
        reset = _seconds(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return max(reset - now, 0.0) + RATE_LIMIT_SLACK
        return SECONDARY_DEFAULT_WAIT
    retry_after = _seconds(headers.get("retry-after"))
    if retry_after is not None:
        return retry_after
    lowered = detail.lower()
    if status == 429 or "secondary rate limit" in lowered or "abuse" in lowered:
        return SECONDARY_DEFAULT_WAIT
    if lowered.startswith("api rate limit exceeded"):
        return SECONDARY_DEFAULT_WAIT
    return None


def _seconds(value: Any) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _message(exc: GithubException) -> str:
    data = exc.data
    message = data.get("message") if isinstance(data, dict) else None
    text = str(message or exc.message or f"HTTP {exc.status}")
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors:
        text += " (" + "; ".join(_error_item(e) for e in errors[:3]) + ")"
    return text


def _error_item(item: Any) -> str:
    if isinstance(item, dict):
        if item.get("message"):
            return str(item["message"])
        return " ".join(f"{k}={v}" for k, v in item.items() if k in ("resource", "field", "code"))
    return str(item)


def _http_error(exc: requests.exceptions.HTTPError) -> GithubException:
    """A streamed download's HTTP error as the exception :func:`_classify` understands."""
    response = exc.response
    status = response.status_code if response is not None else 0
    headers = dict(response.headers) if response is not None else {}
    data: Any = None
    if response is not None:
        try:
            data = response.json()
        except ValueError:
            data = {"message": (response.text or "")[:200]}
    return GithubException(status, data, headers)


def _permission_fix(permission: str) -> str:
    if not permission:
        return (
            "use a token with access to this repository "
            "(docs/troubleshooting.md#resource-not-accessible-by-integration)"
        )
    return (
        f"give the workflow job `permissions:` with `{permission}` (GITHUB_TOKEN), or grant it "
        "to the token passed as `github-token`. On pull requests from forks GITHUB_TOKEN is "
        "read-only whatever the workflow asks for "
        "(docs/troubleshooting.md#resource-not-accessible-by-integration)"
    )
