"""The GitHub adapter's transport: one bounded retry loop around PyGithub's ``Requester``.

Data in, data out: methods take plain values and return small frozen dataclasses, never PyGithub
objects. Every HTTP call goes through PyGithub's ``Requester`` (``requestJsonAndCheck``) inside one
bounded retry loop, :meth:`Transport._request`. Going through the requester rather than
PyGithub's lazy object model keeps three promises that the object model makes hard to keep:

* the number of API calls is exact and counted (``client.api_calls``): a PR run whose report
  comment already exists makes two calls for the comment (list, edit) and one for the status;
* every call has the same retry policy, rate-limit handling and error messages;
* a ``POST`` that may have been applied before a failure is never repeated blindly (see
  :meth:`GitHubClient.upsert_sticky`), so there are no duplicate comments or deployments.

Retry policy (per call): server errors (5xx), connection errors, timeouts and malformed responses
are retried with exponential backoff and jitter, at most ``max_attempts`` attempts in all.
Rate limits (403/429 with ``x-ratelimit-remaining: 0``, a ``retry-after`` header, or a "secondary
rate limit" message) are waited out when the wait fits the ``max_wait`` budget, else they fail at
once with the reset time. All waits of one call together never exceed ``max_wait`` seconds. Other
4xx answers are not retried: they become a :class:`~cml_bot.core.errors.GitHubError` whose ``fix``
says what to change (token, workflow ``permissions:``, names).

The token never appears in a message, a ``repr`` or a log line.
"""

from __future__ import annotations

import io
import logging
import math
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import github
import requests
from github.GithubException import GithubException

from cml_bot import __version__
from cml_bot.core import EXIT_CONFIG, ConfigError, GitHubError
from cml_bot.github.common import _Op, _q
from cml_bot.github.failures import (
    RETRYABLE_EXCEPTIONS,
    _classify,
    _Failure,
    _http_error,
    _transport_failure,
)
from cml_bot.github.messages import _exhausted_text, _fatal_text, _rate_limited_text

log = logging.getLogger(__package__)  # "cml_bot.github", as for the whole adapter

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
MAX_PAGES = 100
DOWNLOAD_CHUNK = 1 << 20  # bytes per read while streaming a release asset to disk

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


@dataclass(frozen=True)
class _Response:
    headers: Mapping[str, object]
    data: Any  # the JSON answer


@dataclass(frozen=True)
class _Upload:
    """A request body sent as raw bytes rather than JSON (release asset uploads)."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class _Download:
    """A GET whose binary answer is streamed to ``dest`` (release asset downloads)."""

    dest: Path


class Transport:
    """Authentication, the counted retry loop, pagination and error messages.

    The resource families (:mod:`~cml_bot.github.issues`, :mod:`~cml_bot.github.deployments`,
    :mod:`~cml_bot.github.releases`) subclass it and are composed into
    :class:`~cml_bot.github.GitHubClient`.
    """

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        api_url: str = DEFAULT_API_URL,
        bot_login: str | None = None,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 15,
        max_attempts: int = 4,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token:
            raise GitHubError(
                "no GitHub token was given",
                fix="pass `github-token: ${{ secrets.GITHUB_TOKEN }}` to the action "
                "(or set GITHUB_TOKEN when running the CLI)",
                exit_code=EXIT_CONFIG,
            )
        self._token = token
        self.owner, self.repo = _split_repository(repository)
        self.repository = f"{self.owner}/{self.repo}"
        self.api_url = _check_api_url(api_url)
        self.max_wait = max_wait
        self.max_attempts = max(1, max_attempts)
        self.api_calls = 0
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self._bot_login = bot_login
        self._repo_path = f"/repos/{_q(self.owner)}/{_q(self.repo)}"
        # retry=None: no urllib3 retries under ours; no PyGithub request throttling sleeps;
        # lazy=True: building objects never makes a call.
        self._gh = github.Github(
            base_url=self.api_url,
            auth=github.Auth.Token(token),
            timeout=max(1, math.ceil(timeout)),
            user_agent=f"cml-bot/{__version__}",
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )

    def close(self) -> None:
        self._gh.close()

    # ------------------------------------------------------------------ pagination

    def _paginate(
        self, op: _Op, path: str, params: Mapping[str, object] | None = None
    ) -> Iterator[Any]:
        """Items of every page, following the ``Link: rel="next"`` header (per_page=100)."""
        url: str | None = path
        query: dict[str, object] = {**(params or {}), "per_page": PER_PAGE}
        for page in range(1, MAX_PAGES + 1):
            if url is None:
                return
            response = _require(self._request(op, "GET", url, params=query))
            items = response.data if isinstance(response.data, list) else []
            yield from items
            url, query = self._next_page(response.headers, path, query, page, len(items))
        log.warning("stopped after %d pages while trying to %s", MAX_PAGES, op.what)

    def _next_page(
        self,
        headers: Mapping[str, object],
        path: str,
        query: dict[str, object],
        page: int,
        count: int,
    ) -> tuple[str | None, dict[str, object]]:
        link = headers.get("link")
        if link:
            match = _LINK_NEXT.search(str(link))
            return (self._relative(match.group(1)), {}) if match else (None, {})
        if count >= PER_PAGE:  # a server that does not send Link headers: ask for the next page
            return path, {**query, "page": page + 1}
        return None, {}

    def _relative(self, url: str) -> str:
        """A ``Link`` URL as a path under the API prefix, so it always goes to ``api_url``."""
        parts = urllib.parse.urlsplit(url)
        prefix = urllib.parse.urlsplit(self.api_url).path.rstrip("/")
        path = parts.path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        return f"{path}?{parts.query}" if parts.query else path

    # ------------------------------------------------------------------ the retry loop

    def _request(
        self,
        op: _Op,
        verb: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: object = None,
        tolerate: frozenset[int] = frozenset(),
        recover: Callable[[], object] | None = None,
    ) -> _Response | None:
        """One API operation with bounded retries. None when the final status is in ``tolerate``.

        ``recover`` is for non-idempotent writes: after a failure that the server may have applied
        (5xx, connection reset, timeout) it is called before the next attempt, and what it returns
        (the resource that the failed attempt created) is adopted instead of writing again.
        """
        slept = 0.0
        for attempt in range(1, self.max_attempts + 1):
            outcome = self._attempt(verb, path, params, body)
            if isinstance(outcome, _Response):
                return outcome
            failure = outcome
            if failure.kind == "fatal":
                if failure.status in tolerate:
                    return None
                raise self._fatal(op, verb, path, failure)
            wait = self._wait_for(failure, attempt)
            last_try = attempt == self.max_attempts or slept + wait > self.max_wait
            if last_try and failure.kind == "rate":
                raise self._rate_limited(op, wait)
            if last_try:
                break
            log.warning(
                "GitHub API: %s on %s %s; retrying in %.1f s (attempt %d of %d)",
                failure.detail,
                verb,
                path,
                wait,
                attempt + 1,
                self.max_attempts,
            )
            self._sleep(wait)
            slept += wait
            if recover is not None and failure.kind == "transient":
                adopted, waited = self._recover(recover, failure, self.max_wait - slept)
                slept += waited
                if adopted is not None:
                    return _Response({}, adopted)
        raise self._exhausted(op, verb, path, failure, attempt)

    def _recover(
        self, recover: Callable[[], object], failure: _Failure, budget: float
    ) -> tuple[object, float]:
        """What a failed write created, if it was applied: looked up at once, then polled for
        within ``budget`` seconds when the write may still land. Also the seconds slept."""
        adopted = recover()
        if adopted is None and failure.pending:
            return self._await_pending(recover, budget)
        return adopted, 0.0

    def _await_pending(self, recover: Callable[[], object], budget: float) -> tuple[object, float]:
        """After a write timed out, look for it landing late before writing again.

        A timed-out request may still be applied by GitHub seconds later; writing again at once
        would leave two comments (or two deployments). So poll ``recover`` with doubling waits
        (from the backoff, capped at 5 s) within ``budget`` seconds. Returns what was found (or
        None) and the seconds slept. A write that lands later than the budget can still leave a
        duplicate; the next run collapses it (docs/reliability.md).
        """
        waited, step = 0.0, max(self._backoff, 0.05)
        while waited < budget:
            pause = min(step, 5.0, budget - waited)
            self._sleep(pause)
            waited += pause
            step *= 2
            adopted = recover()
            if adopted is not None:
                return adopted, waited
        return None, waited

    def _attempt(
        self, verb: str, path: str, params: Mapping[str, object] | None, body: object
    ) -> _Response | _Failure:
        """One HTTP request, counted; a failure is returned as data for the retry loop."""
        self.api_calls += 1
        if isinstance(body, (_Upload, _Download)):  # release assets: raw bytes, not JSON
            return self._transfer(verb, path, params, body)
        try:
            headers, data = self._gh.requester.requestJsonAndCheck(
                verb, path, parameters=dict(params) if params else None, input=body
            )
        except GithubException as exc:
            return _classify(exc, self._clock())
        except RETRYABLE_EXCEPTIONS as exc:
            return _transport_failure(exc)
        log.debug("%s %s -> ok", verb, path)
        return _Response(headers or {}, data)

    def _transfer(
        self, verb: str, path: str, params: Mapping[str, object] | None, body: _Upload | _Download
    ) -> _Response | _Failure:
        """One raw-bytes request for :meth:`_attempt`, with the same failure classification."""
        requester = self._gh.requester
        query = dict(params) if params else None
        try:
            if isinstance(body, _Upload):
                headers, data = requester.requestMemoryBlobAndCheck(
                    verb, path, query, {"Content-Type": body.content_type}, io.BytesIO(body.data)
                )
                return _Response(headers or {}, data)
            _, headers, chunks = requester.getStream(path, query, chunk_size=DOWNLOAD_CHUNK)
            partial = body.dest.with_name(body.dest.name + ".part")
            try:
                with partial.open("wb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                partial.replace(body.dest)
            finally:
                partial.unlink(missing_ok=True)
            return _Response(headers or {}, str(body.dest))
        except GithubException as exc:
            return _classify(exc, self._clock())
        except requests.exceptions.HTTPError as exc:  # getStream's raise_for_status()
            return _classify(_http_error(exc), self._clock())
        except RETRYABLE_EXCEPTIONS as exc:
            return _transport_failure(exc)
        except AssertionError:  # PyGithub refuses to follow a redirect to a host it doesn't know
            raise self._error(
                f"GitHub redirected {verb} {path} to a host outside {self.api_url}",
                "check that `api_url` is this repository's GitHub API; on GitHub Enterprise "
                "Server with external storage, download the asset from the web UI",
            ) from None

    def _wait_for(self, failure: _Failure, attempt: int) -> float:
        if failure.wait is not None:
            return failure.wait
        base = self._backoff * 2 ** (attempt - 1)
        return base * (0.5 + self._random.random() / 2)  # "equal jitter": [base/2, base)

    # ------------------------------------------------------------------ errors

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if len(self._token) >= 4 else text

    def _error(self, message: str, fix: str) -> GitHubError:
        return GitHubError(self._redact(message), fix=self._redact(fix))

    def _fatal(self, op: _Op, verb: str, path: str, failure: _Failure) -> GitHubError:
        return self._error(
            *_fatal_text(op, f"{verb} {path}", failure, self.api_url, self.repository)
        )

    def _exhausted(
        self, op: _Op, verb: str, path: str, failure: _Failure, attempts: int
    ) -> GitHubError:
        return self._error(*_exhausted_text(op, f"{verb} {path}", failure, attempts, self.api_url))

    def _rate_limited(self, op: _Op, wait: float) -> GitHubError:
        return self._error(*_rate_limited_text(op, self._clock(), wait, self.max_wait))


# ---------------------------------------------------------------------- helpers


def _require(response: _Response | None) -> _Response:
    if response is None:  # only tolerated statuses give None, and callers that pass none here
        raise GitHubError("GitHub returned no response", fix="re-run the job")
    return response


def _split_repository(repository: str) -> tuple[str, str]:
    owner, _, name = repository.strip().partition("/")
    if not owner or not name or "/" in name:
        raise ConfigError(
            f"repository must look like OWNER/NAME, got {repository!r}",
            fix="set GITHUB_REPOSITORY (Actions sets it) or pass --repository OWNER/NAME",
        )
    return owner, name


def _check_api_url(api_url: str) -> str:
    url = (api_url or DEFAULT_API_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"the GitHub API URL must be an http(s) URL, got {api_url!r}",
            fix="use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server "
            "(Actions sets GITHUB_API_URL)",
        )
    return url
