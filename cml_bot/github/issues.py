"""Pull-request conversation: the bot's identity, its comments (sticky report, replies),
reactions, commit statuses, a user's permission, and pull requests."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cml_bot.core import GitHubError, is_fork
from cml_bot.github.common import STATUS_DESCRIPTION_MAX, _login, _Op, _q, _trim
from cml_bot.github.transport import Transport, _require

log = logging.getLogger(__package__)  # "cml_bot.github", as for the whole adapter

DEFAULT_BOT_LOGIN = "github-actions[bot]"
PERMISSION_LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
COMMIT_STATES = frozenset({"success", "failure", "pending", "error"})
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})

_READ_PRS = "pull-requests: read"
_WRITE_PRS = "pull-requests: write"
_WRITE_STATUSES = "statuses: write"

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
class Comment:
    """An issue/PR comment: its id, body, author login and web URL."""

    id: int
    body: str
    login: str
    url: str


_Comment = Comment  # the name the adapter's own code uses


@dataclass(frozen=True)
class RepoInfo:
    """What ``GET /repos/{owner}/{repo}`` says; ``push`` is None when GitHub does not say (a
    token without a user, for some endpoints)."""

    full_name: str
    default_branch: str
    private: bool
    push: bool | None


class IssuesMixin(Transport):
    """Comments, reactions, statuses, permissions and pull requests of the repository."""

    # ------------------------------------------------------------------ identity

    def whoami(self) -> str | None:
        """The login the token acts as, or None when GitHub won't say (an Actions token: 403)."""
        op = _Op("find out which user the token acts as", "")
        response = self._request(op, "GET", "/user", tolerate=frozenset({403}))
        if response is None or not isinstance(response.data, dict):
            return None
        login = response.data.get("login")
        return str(login) if login else None

    def repository_info(self) -> RepoInfo:
        """The repository as the token sees it (1 call; any token that can read it may ask)."""
        op = _Op(f"read the repository {self.repository}", "metadata: read")
        data = _require(self._request(op, "GET", self._repo_path)).data
        perms = data.get("permissions") if isinstance(data.get("permissions"), dict) else {}
        push = perms.get("push") if perms else None
        return RepoInfo(
            full_name=str(data.get("full_name") or self.repository),
            default_branch=str(data.get("default_branch") or ""),
            private=bool(data.get("private")),
            push=push if isinstance(push, bool) else None,
        )

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
        if not body.startswith(marker):
            body = f"{marker}\n{body}"
        login = self.bot_login
        # The report is the bot's comment that *starts* with the marker: a reply quoting a
        # commenter's text may contain the marker anywhere else, and must never be taken for the
        # report (edited over it, or the real report deleted as its "duplicate").
        mine = self._find_comments(
            pr, lambda c: c.body.startswith(marker) and _same_login(c.login, login)
        )
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
        op = _Op(f"react {content} to comment {comment_id}", "issues: write")
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
                pr, lambda c: _carries(c.body, marker) and _same_login(c.login, login)
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

    def comments_after(self, pr: int, after_id: int) -> list[Comment]:
        """The PR's comments newer than comment ``after_id`` (ids grow with time on GitHub),
        by anyone. Calls: 1 per 100 comments of the PR."""
        return self._find_comments(pr, lambda c: c.id > after_id)

    def _find_comments(self, pr: int, keep: Callable[[_Comment], bool]) -> list[_Comment]:
        op = _Op(f"list the comments of PR #{pr}", _READ_PRS)
        path = f"{self._repo_path}/issues/{int(pr)}/comments"
        return [c for c in map(_comment, self._paginate(op, path)) if keep(c)]

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


# ---------------------------------------------------------------------- helpers


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
        fork=is_fork(head.get("repo"), base.get("repo")),
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


def _same_login(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _normalise(body: str) -> str:
    return body.replace("\r\n", "\n").rstrip()


def _carries(body: str, marker: str) -> bool:
    """A report marker opens the body; a reply's request id closes it (see :meth:`reply`)."""
    return body.startswith(marker) or body.rstrip().endswith(marker)
