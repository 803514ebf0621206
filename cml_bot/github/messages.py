"""What a failed GitHub call says: the message and the fix for each way a call can fail, naming
the operation in words a user understands (:class:`~cml_bot.github.common._Op`).

Texts only: :class:`~cml_bot.github.transport.Transport` redacts the token from them and raises.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from cml_bot.github.common import _Op
from cml_bot.github.failures import _Failure, _permission_fix

Text = tuple[str, str]  # (message, fix)


def _fatal_text(op: _Op, where: str, failure: _Failure, api_url: str, repository: str) -> Text:
    """A 4xx that retrying cannot fix; ``where`` is ``VERB path``."""
    status, detail = failure.status, failure.detail
    if status == 401:
        return (
            f"GitHub token rejected (HTTP 401, {detail}) trying to {op.what}",
            "the token is missing, expired or revoked: check the `github-token` input "
            "(default: secrets.GITHUB_TOKEN) and, on GitHub Enterprise Server, that `api_url` "
            f"({api_url}) is the server that issued the token "
            "(docs/troubleshooting.md#github-token-rejected)",
        )
    if status == 403 and "resource not accessible" in detail.lower():
        return (
            f"GitHub refused to {op.what}: {detail} (HTTP 403, {where})",
            _permission_fix(op.permission),
        )
    if status == 403:
        return (
            f"GitHub refused to {op.what}: {detail} (HTTP 403, {where})",
            "the token lacks access to this repository or action; "
            + _permission_fix(op.permission),
        )
    if status == 404:
        return (
            f"GitHub found nothing to {op.what} (HTTP 404, {where})",
            f"check the repository ({repository}) and the number or SHA; a token "
            "without access to a private repository also gets 404",
        )
    return (
        f"GitHub answered HTTP {status} trying to {op.what} ({where}): {detail}",
        "read GitHub's message above; it names the field it did not accept",
    )


def _exhausted_text(op: _Op, where: str, failure: _Failure, attempts: int, api_url: str) -> Text:
    """Every attempt failed with a retryable error; ``where`` is ``VERB path``."""
    last = f"HTTP {failure.status}" if failure.status else failure.detail
    return (
        f"GitHub API failed to {op.what} ({where}) after {attempts} attempts; last error: {last}",
        "GitHub may be having an incident (https://www.githubstatus.com): re-run the job "
        f"later; if it keeps failing, check that `api_url` ({api_url}) is reachable "
        "from the runner (docs/troubleshooting.md#github-api-failed-after-retries)",
    )


def _rate_limited_text(op: _Op, now: float, wait: float, max_wait: float) -> Text:
    """A rate limit that resets in ``wait`` seconds from ``now``, beyond the ``max_wait``
    budget."""
    at = datetime.fromtimestamp(now + wait, tz=timezone.utc).strftime("%H:%M:%S")
    return (
        f"GitHub rate limit: resets at {at} UTC (in {math.ceil(wait)} s); re-run the job then "
        f"(while trying to {op.what})",
        f"re-run the job after {at} UTC; cml-bot waits at most {max_wait:g} s. Busy "
        "repositories can use a GitHub App token (higher limits) or a `concurrency:` group "
        "so fewer runs overlap (docs/troubleshooting.md#rate-limits)",
    )
