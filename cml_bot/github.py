"""GitHub REST adapter: the only module that imports PyGithub.

Data in, data out: methods take plain values and return small frozen dataclasses, never PyGithub
objects. Every HTTP call goes through PyGithub's ``Requester`` (``requestJsonAndCheck``) inside one
bounded retry loop, :meth:`GitHubClient._request`. Going through the requester rather than
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
4xx answers are not retried: they become a :class:`~cml_bot.errors.GitHubError` whose ``fix``
says what to change (token, workflow ``permissions:``, names).

The token never appears in a message, a ``repr`` or a log line.
"""

from __future__ import annotations

import io
import json
import logging
import math
import random
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import github
import requests
from github.GithubException import GithubException

from cml_bot import __version__
from cml_bot.errors import EXIT_CONFIG, ConfigError, GitHubError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_BOT_LOGIN = "github-actions[bot]"
PER_PAGE = 100
MAX_PAGES = 100
STATUS_DESCRIPTION_MAX = 139  # GitHub rejects descriptions of 140 characters and more
PERMISSION_LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
COMMIT_STATES = frozenset({"success", "failure", "pending", "error"})
DEPLOYMENT_STATES = frozenset(
    {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
)
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
RATE_LIMIT_SLACK = 1.0  # seconds added to x-ratelimit-reset against clock skew
SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: "wait at least one minute" when no retry-after is given
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,  # connection errors, timeouts, broken chunked bodies
    json.JSONDecodeError,  # a truncated JSON body from a proxy or a failing server
)

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_READ_PRS = "pull-requests: read"
_WRITE_PRS = "pull-requests: write"
_WRITE_STATUSES = "statuses: write"
_READ_DEPLOYMENTS = "deployments: read"
_WRITE_DEPLOYMENTS = "deployments: write"

StickyAction = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class StickyResult:
    action: StickyAction
    comment_id: int
    url: str
    removed_duplicates: int = 0


@dataclass(frozen=True)
class PullInfo:
    number: int
    state: str
    merged: bool
    draft: bool
    head_sha: str
    head_ref: str
    head_repo: str | None
    base_ref: str
    base_sha: str
    merge_commit_sha: str | None
    author: str
    fork: bool
    html_url: str
    title: str = ""


@dataclass(frozen=True)
class DeploymentInfo:
    id: int
    sha: str
    ref: str
    environment: str
    description: str
    created_at: str
    creator: str | None
    payload: Mapping[str, Any]
    state: str | None  # state of the latest deployment status; None when it has none


@dataclass(frozen=True)
class _Comment:
    id: int
    body: str
    login: str
    url: str


@dataclass(frozen=True)
class _Op:
    """What a call is for, in words a user understands, and the permission it needs."""

    what: str
    permission: str


@dataclass(frozen=True)
class _Response:
    headers: Mapping[str, Any]
    data: Any


@dataclass(frozen=True)
class _Failure:
    kind: Literal["rate", "transient", "fatal"]
    status: int | None
    detail: str
    wait: float | None = None  # server-requested wait (rate limits, retry-after)


# -------------------------------------------------------------- releases, assets, refs: data
# (for cml_bot/registry/github_backend.py; the methods are in the section of the same name below)

_READ_CONTENTS = "contents: read"
_WRITE_CONTENTS = "contents: write"
DOWNLOAD_CHUNK = 1 << 20  # bytes per read while streaming a release asset to disk

RefOutcome = Literal["created", "exists", "uncertain"]


@dataclass(frozen=True)
class AssetInfo:
    id: int
    name: str
    size: int
    state: str  # "uploaded" when complete; "starter"/"open" is an upload that never finished
    content_type: str
    download_url: str  # browser_download_url: the web URL people use
    digest: str | None  # "sha256:<hex>" where GitHub reports it
    created_at: str


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    tag: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    created_at: str
    published_at: str | None
    html_url: str
    upload_url: str  # without the ``{?name,label}`` template
    assets: tuple[AssetInfo, ...]

    def asset(self, name: str) -> AssetInfo | None:
        return next((a for a in self.assets if a.name == name), None)


@dataclass(frozen=True)
class RefInfo:
    ref: str  # fully qualified: ``refs/tags/...``
    sha: str
    type: str  # "commit" for branches and lightweight tags


@dataclass(frozen=True)
class RefCreation:
    """What :meth:`GitHubClient.create_ref` did.

    ``created``: this call created the ref. ``exists``: it existed already, made by someone else.
    ``uncertain``: an attempt failed in a way GitHub may have applied (reset, timeout, 5xx) and
    the ref now exists at the very sha this call asked for, so whether this call or another
    writer with the same sha created it cannot be told.
    """

    outcome: RefOutcome
    ref: RefInfo | None


@dataclass(frozen=True)
class _Upload:
    """A request body sent as raw bytes rather than JSON (release asset uploads)."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class _Download:
    """A GET whose binary answer is streamed to ``dest`` (release asset downloads)."""

    dest: Path


class GitHubClient:
    """A small, counted, retrying client for the calls cml-bot makes."""

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

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ identity

    def whoami(self) -> str | None:
        """The login the token acts as, or None when GitHub won't say (an Actions token: 403)."""
        op = _Op("find out which user the token acts as", "")
        response = self._request(op, "GET", "/user", tolerate=frozenset({403}))
        if response is None or not isinstance(response.data, dict):
            return None
        login = response.data.get("login")
        return str(login) if login else None

    @property
    def bot_login(self) -> str:
        """The login that authors the bot's comments: given, else asked once, else the default."""
        if self._bot_login is None:
            self._bot_login = self.whoami() or DEFAULT_BOT_LOGIN
        return self._bot_login

    # ------------------------------------------------------------------ comments

    def upsert_sticky(self, pr: int, marker: str, body: str) -> StickyResult:
        """Create or edit the one comment of this bot that carries ``marker``; never duplicate it.

        Calls: list (1 per 100 comments) + create or edit (0 when unchanged) + 1 delete per
        duplicate left by an earlier failure; + 1 ``GET /user`` if no bot login was given.
        """
        if marker not in body:
            body = f"{marker}\n{body}"
        login = self.bot_login
        mine = self._find_comments(pr, lambda c: marker in c.body and _same_login(c.login, login))
        if not mine:
            return self._create_sticky(pr, marker, body)
        newest, *older = sorted(mine, key=lambda c: c.id, reverse=True)
        action: StickyAction = "unchanged"
        url = newest.url
        if _normalise(newest.body) != _normalise(body):
            edited = self._edit_comment(pr, newest.id, body)
            action, url = "updated", edited.url or url
        removed = sum(self._delete_comment(pr, c.id) for c in older)
        return StickyResult(action, newest.id, url, removed)

    def reply(self, pr: int, body: str) -> str:
        """Post a new comment on the PR and return its URL.

        A hidden request id makes the post safe to retry: after an ambiguous failure the PR's
        comments are listed again and a comment carrying the id is adopted instead of re-posting.
        """
        nonce = f"<!-- cml-bot:reply:{uuid.uuid4().hex[:16]} -->"
        comment = self._create_comment(pr, f"{body}\n{nonce}", nonce, "post a reply on")
        return comment.url

    def react(self, comment_id: int, content: str) -> None:
        """Add a reaction to an issue/PR comment (idempotent on GitHub's side)."""
        if content not in REACTIONS:
            raise ValueError(f"unknown reaction {content!r}; one of {sorted(REACTIONS)}")
        op = _Op(f"react {content} to comment {comment_id}", _WRITE_PRS)
        path = f"{self._repo_path}/issues/comments/{int(comment_id)}/reactions"
        self._request(op, "POST", path, body={"content": content})

    def _create_sticky(self, pr: int, marker: str, body: str) -> StickyResult:
        comment = self._create_comment(pr, body, marker, "create the report comment on")
        return StickyResult("created", comment.id, comment.url, 0)

    def _create_comment(self, pr: int, body: str, marker: str, what: str) -> _Comment:
        op = _Op(f"{what} PR #{pr}", _WRITE_PRS)
        login = self.bot_login

        def adopt() -> Any:
            found = self._find_comments(
                pr, lambda c: marker in c.body and _same_login(c.login, login)
            )
            if not found:
                return None
            newest = max(found, key=lambda c: c.id)
            log.warning("adopted comment %s that an earlier failed attempt created", newest.id)
            return {"id": newest.id, "body": newest.body, "html_url": newest.url}

        path = f"{self._repo_path}/issues/{int(pr)}/comments"
        response = self._request(op, "POST", path, body={"body": body}, recover=adopt)
        return _comment(_require(response).data)

    def _edit_comment(self, pr: int, comment_id: int, body: str) -> _Comment:
        op = _Op(f"update the report comment on PR #{pr}", _WRITE_PRS)
        path = f"{self._repo_path}/issues/comments/{int(comment_id)}"
        response = self._request(op, "PATCH", path, body={"body": body})
        return _comment(_require(response).data)

    def _delete_comment(self, pr: int, comment_id: int) -> int:
        """1 when the duplicate is gone; a failure here only leaves a stale duplicate behind."""
        op = _Op(f"delete a duplicate report comment on PR #{pr}", _WRITE_PRS)
        path = f"{self._repo_path}/issues/comments/{int(comment_id)}"
        try:
            self._request(op, "DELETE", path, tolerate=frozenset({404}))
        except GitHubError as exc:
            log.warning("could not delete duplicate comment %s: %s", comment_id, exc.message)
            return 0
        return 1

    def _find_comments(self, pr: int, keep: Callable[[_Comment], bool]) -> list[_Comment]:
        op = _Op(f"list the comments of PR #{pr}", _READ_PRS)
        path = f"{self._repo_path}/issues/{int(pr)}/comments"
        return [c for c in map(_comment, self._paginate(op, path)) if keep(c)]

    def _paginate(
        self, op: _Op, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Items of every page, following the ``Link: rel="next"`` header (per_page=100)."""
        url: str | None = path
        query: dict[str, Any] = {**(params or {}), "per_page": PER_PAGE}
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
        headers: Mapping[str, Any],
        path: str,
        query: dict[str, Any],
        page: int,
        count: int,
    ) -> tuple[str | None, dict[str, Any]]:
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

    # ------------------------------------------------------------------ statuses

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        """Set a commit status (1 call). The description is trimmed to GitHub's limit."""
        if state not in COMMIT_STATES:
            raise ValueError(f"unknown commit state {state!r}; one of {sorted(COMMIT_STATES)}")
        body: dict[str, Any] = {
            "state": state,
            "context": context,
            "description": _trim(description, STATUS_DESCRIPTION_MAX),
        }
        if target_url:
            body["target_url"] = target_url
        op = _Op(f"set the commit status {context!r} on {sha[:12]}", _WRITE_STATUSES)
        self._request(op, "POST", f"{self._repo_path}/statuses/{_q(sha)}", body=body)

    # ------------------------------------------------------------------ people

    def permission(self, username: str) -> str:
        """The user's permission on the repository: none|read|triage|write|maintain|admin.

        Uses the collaborator permission endpoint (1 call); 403/404 mean "none". ``role_name``
        carries triage and maintain, which the legacy ``permission`` field folds into read and
        write; a custom role name falls back to ``permission``.
        """
        op = _Op(f"check the permission of @{username}", "metadata: read")
        path = f"{self._repo_path}/collaborators/{_q(username)}/permission"
        response = self._request(op, "GET", path, tolerate=frozenset({403, 404}))
        if response is None or not isinstance(response.data, dict):
            return "none"
        return _permission_level(response.data)

    # ------------------------------------------------------------------ pull requests

    def pull(self, number: int) -> PullInfo:
        """One pull request (1 call)."""
        op = _Op(f"read PR #{number}", _READ_PRS)
        response = self._request(op, "GET", f"{self._repo_path}/pulls/{int(number)}")
        return _pull_info(_require(response).data)

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """Pull requests associated with a commit (1 call per 100 PRs)."""
        op = _Op(f"list the pull requests of commit {sha[:12]}", _READ_PRS)
        path = f"{self._repo_path}/commits/{_q(sha)}/pulls"
        return [_pull_info(p) for p in self._paginate(op, path)]

    # ------------------------------------------------------------------ deployments

    def create_deployment(
        self,
        ref: str,
        environment: str,
        payload: Mapping[str, Any],
        description: str,
        *,
        production_environment: bool | None = None,
    ) -> int:
        """Record a deployment (1 call) and return its id.

        The payload gets a ``cml_bot_request`` id: after an ambiguous failure the deployments of
        ``ref`` are listed and one carrying the id is adopted instead of creating a second one.
        """
        nonce = uuid.uuid4().hex
        body: dict[str, Any] = {
            "ref": ref,
            "environment": environment,
            "payload": {**payload, "cml_bot_request": nonce},
            "description": _trim(description, STATUS_DESCRIPTION_MAX),
            "auto_merge": False,
            "required_contexts": [],
        }
        if production_environment is not None:
            body["production_environment"] = production_environment
        op = _Op(f"create a deployment of {ref} to {environment!r}", _WRITE_DEPLOYMENTS)

        def adopt() -> Any:
            params = {"ref": ref, "environment": environment}
            for item in self._paginate(op, f"{self._repo_path}/deployments", params):
                if (item.get("payload") or {}).get("cml_bot_request") == nonce:
                    return item
            return None

        path = f"{self._repo_path}/deployments"
        response = _require(self._request(op, "POST", path, body=body, recover=adopt))
        if not isinstance(response.data, dict) or "id" not in response.data:
            message = response.data.get("message") if isinstance(response.data, dict) else None
            raise GitHubError(
                f"GitHub did not create the deployment of {ref}: {message or 'no id returned'}",
                fix="make sure the ref exists and is pushed; cml-bot never auto-merges for a "
                "deployment",
            )
        return int(response.data["id"])

    def deployment_status(
        self,
        deployment_id: int,
        state: str,
        description: str,
        environment_url: str | None = None,
        log_url: str | None = None,
    ) -> None:
        """Add a status to a deployment (1 call)."""
        if state not in DEPLOYMENT_STATES:
            allowed = sorted(DEPLOYMENT_STATES)
            raise ValueError(f"unknown deployment state {state!r}; one of {allowed}")
        body: dict[str, Any] = {
            "state": state,
            "description": _trim(description, STATUS_DESCRIPTION_MAX),
        }
        if environment_url:
            body["environment_url"] = environment_url
        if log_url:
            body["log_url"] = log_url
        op = _Op(f"set the status of deployment {deployment_id} to {state}", _WRITE_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments/{int(deployment_id)}/statuses"
        self._request(op, "POST", path, body=body)

    def list_deployments(
        self, sha: str | None = None, environment: str | None = None, *, limit: int = 30
    ) -> list[DeploymentInfo]:
        """Deployments, newest first, each with its latest status state.

        Calls: 1 for the list (up to ``limit`` ≤ 100) + 1 per deployment for its statuses.
        """
        params: dict[str, Any] = {"per_page": max(1, min(limit, PER_PAGE))}
        if sha:
            params["sha"] = sha
        if environment:
            params["environment"] = environment
        op = _Op("list deployments", _READ_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments"
        response = _require(self._request(op, "GET", path, params=params))
        items = response.data if isinstance(response.data, list) else []
        return [self._deployment_info(item) for item in items[:limit]]

    def _deployment_info(self, item: Mapping[str, Any]) -> DeploymentInfo:
        deployment_id = int(item["id"])
        op = _Op(f"read the statuses of deployment {deployment_id}", _READ_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments/{deployment_id}/statuses"
        response = _require(self._request(op, "GET", path, params={"per_page": PER_PAGE}))
        statuses = response.data if isinstance(response.data, list) else []
        latest = max(statuses, key=lambda s: int(s.get("id", 0)), default=None)
        payload = item.get("payload")
        return DeploymentInfo(
            id=deployment_id,
            sha=str(item.get("sha") or ""),
            ref=str(item.get("ref") or ""),
            environment=str(item.get("environment") or ""),
            description=str(item.get("description") or ""),
            created_at=str(item.get("created_at") or ""),
            creator=_login(item.get("creator")),
            payload=payload if isinstance(payload, dict) else {},
            state=str(latest["state"]) if latest and latest.get("state") else None,
        )

    # ------------------------------------------------------------------ releases, assets, refs
    # Used by the GitHub registry backend (cml_bot/registry/github_backend.py). Reads need
    # `contents: read` (any token of a public repository, a fork PR's read-only GITHUB_TOKEN);
    # writes need `contents: write`.

    def default_branch_sha(self) -> str | None:
        """The commit at the tip of the default branch (2 calls); None for an empty repository."""
        op = _Op("read the repository", _READ_CONTENTS)
        repo = _require(self._request(op, "GET", self._repo_path)).data
        branch = str(repo.get("default_branch") or "") if isinstance(repo, dict) else ""
        return self.commit_sha(branch) if branch else None

    def commit_sha(self, ref: str) -> str | None:
        """The full sha of the commit ``ref`` (a sha, branch or tag) names (1 call); None if no
        such commit is in the repository."""
        op = _Op(f"look up the commit {ref[:40]}", _READ_CONTENTS)
        path = f"{self._repo_path}/commits/{_qpath(ref)}"
        response = self._request(op, "GET", path, tolerate=frozenset({404, 409, 422}))
        if response is None or not isinstance(response.data, dict):
            return None
        sha = response.data.get("sha")
        return str(sha) if sha else None

    def list_releases(self) -> list[ReleaseInfo]:
        """Every release, newest first (1 call per 100). Drafts only show to tokens that may
        push."""
        op = _Op("list the releases", _READ_CONTENTS)
        return [_release_info(r) for r in self._paginate(op, f"{self._repo_path}/releases")]

    def release_by_tag(self, tag: str) -> ReleaseInfo | None:
        """The published release of ``tag`` (1 call); None when there is none."""
        op = _Op(f"read the release {tag}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/tags/{_qpath(tag)}"
        response = self._request(op, "GET", path, tolerate=frozenset({404}))
        return None if response is None else _release_info(response.data)

    def create_release(
        self,
        tag: str,
        *,
        name: str,
        body: str,
        draft: bool = False,
        prerelease: bool = False,
        make_latest: Literal["true", "false", "legacy"] = "false",
        target: str | None = None,
    ) -> ReleaseInfo:
        """Create a release of ``tag`` (1 call); ``target`` only matters when the tag is new.

        For callers that own ``tag`` (they created it with :meth:`create_ref`): after an
        ambiguous failure the releases are listed and one of this tag is adopted instead of
        creating a second. A release that exists already is a 422 :class:`GitHubError`.
        """
        payload: dict[str, Any] = {
            "tag_name": tag,
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            "make_latest": make_latest,
        }
        if target:
            payload["target_commitish"] = target
        op = _Op(f"create the release {tag}", _WRITE_CONTENTS)

        def adopt() -> Any:
            for item in self._paginate(op, f"{self._repo_path}/releases"):
                if isinstance(item, dict) and item.get("tag_name") == tag:
                    log.warning("adopted release %s that an earlier failed attempt created", tag)
                    return item
            return None

        path = f"{self._repo_path}/releases"
        response = self._request(op, "POST", path, body=payload, recover=adopt)
        return _release_info(_require(response).data)

    def update_release(
        self,
        release_id: int,
        *,
        draft: bool | None = None,
        body: str | None = None,
        make_latest: Literal["true", "false", "legacy"] | None = None,
    ) -> ReleaseInfo:
        """Edit a release (1 call; idempotent). ``draft=False`` publishes it."""
        payload: dict[str, Any] = {}
        if draft is not None:
            payload["draft"] = draft
        if body is not None:
            payload["body"] = body
        if make_latest is not None:
            payload["make_latest"] = make_latest
        op = _Op(f"update release {release_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}"
        return _release_info(_require(self._request(op, "PATCH", path, body=payload)).data)

    def delete_release(self, release_id: int) -> None:
        """Delete a release and its assets, not its tag (1 call; already gone is fine)."""
        op = _Op(f"delete release {release_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}"
        self._request(op, "DELETE", path, tolerate=frozenset({404}))

    def list_release_assets(self, release_id: int) -> list[AssetInfo]:
        """The assets of a release (1 call per 100)."""
        op = _Op(f"list the assets of release {release_id}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}/assets"
        return [_asset_info(a) for a in self._paginate(op, path)]

    def upload_release_asset(
        self,
        release: ReleaseInfo,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> AssetInfo:
        """Upload ``data`` as the asset ``name`` of ``release`` (1 call, to the upload host).

        After an ambiguous failure the release's assets are listed: a complete asset of this name
        and size is adopted; an unfinished one (GitHub keeps those and then refuses the name) is
        deleted so that the next attempt can upload again.
        """
        op = _Op(f"upload {name} to the release {release.tag}", _WRITE_CONTENTS)
        url = self._upload_url(release)

        def adopt() -> Any:
            for asset in self.list_release_assets(release.id):
                if asset.name != name:
                    continue
                if asset.state == "uploaded" and asset.size == len(data):
                    log.warning("adopted asset %s that an earlier failed attempt uploaded", name)
                    return _asset_json(asset)
                self.delete_release_asset(asset.id)
            return None

        body = _Upload(data, content_type)
        response = self._request(op, "POST", url, params={"name": name}, body=body, recover=adopt)
        return _asset_info(_require(response).data)

    def download_release_asset(self, asset_id: int, dest: Path) -> Path:
        """Stream an asset's bytes to ``dest`` (1 call; GitHub's redirect to its storage host is
        followed without the token). ``dest`` is replaced only once the download is complete."""
        op = _Op(f"download release asset {asset_id}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/assets/{int(asset_id)}"
        _require(self._request(op, "GET", path, body=_Download(dest)))
        return dest

    def delete_release_asset(self, asset_id: int) -> None:
        """Delete a release asset (1 call; already gone is fine)."""
        op = _Op(f"delete release asset {asset_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/assets/{int(asset_id)}"
        self._request(op, "DELETE", path, tolerate=frozenset({404}))

    def get_ref(self, ref: str) -> RefInfo | None:
        """The git ref ``ref`` (``tags/x``, ``heads/x``) (1 call); None when it does not exist."""
        op = _Op(f"read the git ref {ref}", _READ_CONTENTS)
        path = f"{self._repo_path}/git/ref/{_qpath(_short_ref(ref))}"
        response = self._request(op, "GET", path, tolerate=frozenset({404, 409}))
        if response is None or not isinstance(response.data, dict):
            return None
        return _ref_info(response.data)

    def matching_refs(self, prefix: str) -> list[RefInfo]:
        """Every git ref whose name starts with ``prefix`` (``tags/x/``), following ``Link``
        pages if GitHub sends them (1 call per page); [] for an empty repository."""
        op = _Op(f"list the git refs {prefix}*", _READ_CONTENTS)
        url: str | None = f"{self._repo_path}/git/matching-refs/{_qpath(_short_ref(prefix))}"
        found: list[RefInfo] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._request(op, "GET", url, tolerate=frozenset({404, 409}))
            if response is None:
                break
            items = response.data if isinstance(response.data, list) else []
            found.extend(_ref_info(item) for item in items if isinstance(item, dict))
            link = _LINK_NEXT.search(str(response.headers.get("link") or ""))
            url = self._relative(link.group(1)) if link else None
        return found

    def create_ref(self, ref: str, sha: str) -> RefCreation:
        """Create the git ref ``ref`` (``refs/...``) at ``sha`` if it does not exist yet.

        Creating a ref is git's atomic create-only update: of many writers racing for one name,
        exactly one gets 201 and the others 422 ``Reference already exists``. That makes it a
        compare-and-set on "this name is still free". 1 call, + 1 to tell an existing ref from
        another 422 (a commit that is not in the repository, a bad name), + recovery reads.
        """
        op = _Op(f"create the git ref {ref}", _WRITE_CONTENTS)
        short = _short_ref(ref)
        failed = False
        adopted = False

        def adopt() -> Any:
            nonlocal failed, adopted
            failed = True
            found = self.get_ref(short)
            if found is not None and found.sha == sha:
                adopted = True
                return {"ref": found.ref, "object": {"sha": found.sha, "type": found.type}}
            return None

        path = f"{self._repo_path}/git/refs"
        response = self._request(
            op,
            "POST",
            path,
            body={"ref": ref, "sha": sha},
            tolerate=frozenset({422}),
            recover=adopt,
        )
        if response is not None:
            info = _ref_info(response.data) if isinstance(response.data, dict) else None
            return RefCreation("uncertain" if adopted else "created", info)
        existing = self.get_ref(short)
        if existing is None:
            raise self._error(
                f"GitHub refused to create the git ref {ref} at {sha[:12]} (HTTP 422)",
                f"the commit must exist in {self.repository} (push it first), the name must be "
                "a valid git ref name, and no tag ruleset or protection may forbid creating it",
            )
        same = failed and existing.sha == sha
        return RefCreation("uncertain" if same else "exists", existing)

    def _upload_url(self, release: ReleaseInfo) -> str:
        """Where assets of ``release`` are uploaded: its ``upload_url``, if that is on this API's
        host or its GitHub upload host (``uploads.github.com``, ``uploads.<name>.ghe.com``)."""
        api = urllib.parse.urlsplit(self.api_url)
        target = urllib.parse.urlsplit(release.upload_url)
        api_host = (api.hostname or "").lower()
        allowed = {api_host, "uploads." + api_host.removeprefix("api.")}
        if target.scheme not in ("http", "https") or (target.hostname or "").lower() not in allowed:
            raise self._error(
                f"GitHub gave the release {release.tag} an upload URL on an unexpected host "
                f"({target.hostname or release.upload_url!r})",
                f"check that `api_url` ({self.api_url}) is the GitHub API of this repository",
            )
        return release.upload_url

    def _transfer(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: _Upload | _Download
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
            return _Failure("transient", None, type(exc).__name__)
        except AssertionError:  # PyGithub refuses to follow a redirect to a host it doesn't know
            raise self._error(
                f"GitHub redirected {verb} {path} to a host outside {self.api_url}",
                "check that `api_url` is this repository's GitHub API; on GitHub Enterprise "
                "Server with external storage, download the asset from the web UI",
            ) from None

    # ------------------------------------------------------------------ the retry loop

    def _request(
        self,
        op: _Op,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        tolerate: frozenset[int] = frozenset(),
        recover: Callable[[], Any] | None = None,
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
                adopted = recover()
                if adopted is not None:
                    return _Response({}, adopted)
        raise self._exhausted(op, verb, path, failure, attempt)

    def _attempt(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: Any
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
            return _Failure("transient", None, type(exc).__name__)
        log.debug("%s %s -> ok", verb, path)
        return _Response(headers or {}, data)

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
        status, detail = failure.status, failure.detail
        where = f"{verb} {path}"
        if status == 401:
            return self._error(
                f"GitHub token rejected (HTTP 401, {detail}) trying to {op.what}",
                "the token is missing, expired or revoked: check the `github-token` input "
                "(default: secrets.GITHUB_TOKEN) and, on GitHub Enterprise Server, that `api_url` "
                f"({self.api_url}) is the server that issued the token "
                "(docs/troubleshooting.md#github-token-rejected)",
            )
        if status == 403 and "resource not accessible" in detail.lower():
            return self._error(
                f"GitHub refused to {op.what}: {detail} (HTTP 403, {where})",
                _permission_fix(op.permission),
            )
        if status == 403:
            return self._error(
                f"GitHub refused to {op.what}: {detail} (HTTP 403, {where})",
                "the token lacks access to this repository or action; "
                + _permission_fix(op.permission),
            )
        if status == 404:
            return self._error(
                f"GitHub found nothing to {op.what} (HTTP 404, {where})",
                f"check the repository ({self.repository}) and the number or SHA; a token "
                "without access to a private repository also gets 404",
            )
        return self._error(
            f"GitHub answered HTTP {status} trying to {op.what} ({where}): {detail}",
            "read GitHub's message above; it names the field it did not accept",
        )

    def _exhausted(
        self, op: _Op, verb: str, path: str, failure: _Failure, attempts: int
    ) -> GitHubError:
        last = f"HTTP {failure.status}" if failure.status else failure.detail
        return self._error(
            f"GitHub API failed to {op.what} ({verb} {path}) after {attempts} attempts; "
            f"last error: {last}",
            "GitHub may be having an incident (https://www.githubstatus.com): re-run the job "
            f"later; if it keeps failing, check that `api_url` ({self.api_url}) is reachable "
            "from the runner (docs/troubleshooting.md#github-api-failed-after-retries)",
        )

    def _rate_limited(self, op: _Op, wait: float) -> GitHubError:
        at = datetime.fromtimestamp(self._clock() + wait, tz=timezone.utc).strftime("%H:%M:%S")
        return self._error(
            f"GitHub rate limit: resets at {at} UTC (in {math.ceil(wait)} s); re-run the job then "
            f"(while trying to {op.what})",
            f"re-run the job after {at} UTC; cml-bot waits at most {self.max_wait:g} s. Busy "
            "repositories can use a GitHub App token (higher limits) or a `concurrency:` group "
            "so fewer runs overlap (docs/troubleshooting.md#rate-limits)",
        )


# ---------------------------------------------------------------------- helpers


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
        return _Failure("transient", status, f"HTTP {status}", retry_after)
    return _Failure("fatal", status, detail)


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


def _permission_level(data: Mapping[str, Any]) -> str:
    role = str(data.get("role_name") or "").lower()
    if role in PERMISSION_LEVELS:
        return role
    legacy = str(data.get("permission") or "").lower()
    return legacy if legacy in PERMISSION_LEVELS else "none"


def _pull_info(data: Mapping[str, Any]) -> PullInfo:
    head = data.get("head") or {}
    base = data.get("base") or {}
    head_repo = (head.get("repo") or {}).get("full_name")
    base_repo = (base.get("repo") or {}).get("full_name")
    merged = data.get("merged")
    return PullInfo(
        number=int(data["number"]),
        state=str(data.get("state") or ""),
        merged=bool(merged) if merged is not None else bool(data.get("merged_at")),
        draft=bool(data.get("draft")),
        head_sha=str(head.get("sha") or ""),
        head_ref=str(head.get("ref") or ""),
        head_repo=str(head_repo) if head_repo else None,
        base_ref=str(base.get("ref") or ""),
        base_sha=str(base.get("sha") or ""),
        merge_commit_sha=data.get("merge_commit_sha") or None,
        author=_login(data.get("user")) or "",
        # a deleted head repository counts as a fork: it is not this repository
        fork=head_repo is None or head_repo != base_repo,
        html_url=str(data.get("html_url") or ""),
        title=str(data.get("title") or ""),
    )


def _comment(data: Any) -> _Comment:
    if not isinstance(data, dict) or "id" not in data:
        raise GitHubError(
            "GitHub returned a comment without an id",
            fix="check that `api_url` points at a GitHub REST API",
        )
    return _Comment(
        id=int(data["id"]),
        body=str(data.get("body") or ""),
        login=_login(data.get("user")) or "",
        url=str(data.get("html_url") or ""),
    )


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def _same_login(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _normalise(body: str) -> str:
    return body.replace("\r\n", "\n").rstrip()


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _require(response: _Response | None) -> _Response:
    if response is None:  # only tolerated statuses give None, and callers that pass none here
        raise GitHubError("GitHub returned no response", fix="re-run the job")
    return response


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


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


# ----------------------------------------------------------- releases, assets, refs: helpers


def _qpath(path: str) -> str:
    """A multi-segment path parameter (a tag or ref name): each segment quoted, slashes kept."""
    return urllib.parse.quote(path, safe="/")


def _short_ref(ref: str) -> str:
    return ref[len("refs/") :] if ref.startswith("refs/") else ref


def _ref_info(data: Mapping[str, Any]) -> RefInfo:
    target = data.get("object") or {}
    return RefInfo(
        ref=str(data.get("ref") or ""),
        sha=str(target.get("sha") or ""),
        type=str(target.get("type") or "commit"),
    )


def _asset_info(data: Any) -> AssetInfo:
    if not isinstance(data, dict) or "id" not in data:
        raise GitHubError(
            "GitHub returned a release asset without an id",
            fix="check that `api_url` points at a GitHub REST API",
        )
    return AssetInfo(
        id=int(data["id"]),
        name=str(data.get("name") or ""),
        size=int(data.get("size") or 0),
        state=str(data.get("state") or "uploaded"),
        content_type=str(data.get("content_type") or ""),
        download_url=str(data.get("browser_download_url") or ""),
        digest=str(data["digest"]) if data.get("digest") else None,
        created_at=str(data.get("created_at") or ""),
    )


def _asset_json(asset: AssetInfo) -> dict[str, Any]:
    return {
        "id": asset.id,
        "name": asset.name,
        "size": asset.size,
        "state": asset.state,
        "content_type": asset.content_type,
        "browser_download_url": asset.download_url,
        "digest": asset.digest,
        "created_at": asset.created_at,
    }


def _release_info(data: Any) -> ReleaseInfo:
    if not isinstance(data, dict) or "id" not in data:
        raise GitHubError(
            "GitHub returned a release without an id",
            fix="check that `api_url` points at a GitHub REST API",
        )
    assets = data.get("assets")
    return ReleaseInfo(
        id=int(data["id"]),
        tag=str(data.get("tag_name") or ""),
        name=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        created_at=str(data.get("created_at") or ""),
        published_at=str(data["published_at"]) if data.get("published_at") else None,
        html_url=str(data.get("html_url") or ""),
        upload_url=str(data.get("upload_url") or "").split("{", 1)[0],
        assets=tuple(_asset_info(a) for a in assets) if isinstance(assets, list) else (),
    )


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
