"""GitHub's behaviour for each vendored operation: state changes and GitHub-shaped JSON.

Each operation of the vendored subset has one handler here, named after its operationId
(``issues/create-comment`` -> ``op_issues_create_comment``). The HTTP layer
(:mod:`tests.emulator.server`) has already matched the operation, authenticated the token,
refused what the token's permissions do not grant (:mod:`tests.emulator.permissions`) and
validated the query and the JSON body; a handler gets an :class:`ApiRequest` and returns an
:class:`ApiResponse` or raises :class:`ApiError`.

URLs in answers are built from the request's ``Host`` header, so that what a client follows
(``url``, ``upload_url``, ``Link``) comes back to the emulator; ``html_url`` values point at
the emulator too (never at github.com).
"""

from __future__ import annotations

import base64
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, TypeVar

from .state import (
    LEGACY_PERMISSION,
    Asset,
    Comment,
    Commit,
    Deployment,
    DeploymentStatus,
    EmulatorState,
    Issue,
    Reaction,
    Release,
    Repo,
    Status,
    Token,
    User,
    combine,
    fake_sha,
    iso,
    latest_per_context,
    parse_time,
    utcnow,
)

DOCS = "https://docs.github.com/rest"
COMMENT_BODY_LIMIT = 65536
RELEASE_BODY_LIMIT = 125000
DEPLOYMENT_STATUS_DESCRIPTION_LIMIT = 140
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")

T = TypeVar("T")


class ApiError(Exception):
    """An error answer shaped like GitHub's: ``{"message", "documentation_url", "status"}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        docs: str = DOCS,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.docs = docs

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.docs
        out["status"] = str(self.status)
        return out


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(
    resource: str, field_name: str, code: str, message: str | None = None, status: int = 422
) -> ApiError:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if message is not None:
        error["message"] = message
    return ApiError(status, "Validation Failed", errors=[error])


@dataclass
class ApiRequest:
    method: str
    path: str  # as sent, percent-encoded, without the query
    query: dict[str, list[str]]
    headers: Message
    raw_body: bytes
    json: Any
    params: dict[str, Any]
    actor: User
    token: Token | None
    base: str  # scheme://host:port the client used

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def body_get(self, name: str, default: Any = None) -> Any:
        if isinstance(self.json, dict):
            return self.json.get(name, default)
        return default

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only

    @property
    def can_push(self) -> bool:
        """Push access: not a read-only token, and ``contents: write`` if it has permissions
        (what sees draft releases, and ``permissions.push`` of a repository)."""
        if self.token is None:
            return True
        if self.token.read_only:
            return False
        perms = self.token.permissions
        return perms is None or perms.get("contents") == "write"


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def node_id(prefix: str, ident: int) -> str:
    raw = base64.b64encode(f"0:{ident}".encode()).decode().rstrip("=")
    return f"{prefix}_kwDO{raw}"


class GitHubAPI:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # ------------------------------------------------------------- dispatch

    @staticmethod
    def handler_name(operation_id: str) -> str:
        return "op_" + re.sub(r"[^a-z0-9]+", "_", operation_id.lower())

    def has_handler(self, operation_id: str) -> bool:
        return hasattr(self, self.handler_name(operation_id))

    def handle(self, operation_id: str, req: ApiRequest) -> ApiResponse:
        handler: Callable[[ApiRequest], ApiResponse] = getattr(
            self, self.handler_name(operation_id)
        )
        return handler(req)

    # --------------------------------------------------------------- shapes

    def user_json(self, base: str, login: str) -> dict[str, Any]:
        user = self.state.users.get(login) or User(login=login, id=0)
        api = f"{base}/users/{urllib.parse.quote(login)}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("U" if user.type != "Bot" else "BOT", user.id),
            "avatar_url": f"{base}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{base}/{urllib.parse.quote(login)}",
            "followers_url": f"{api}/followers",
            "repos_url": f"{api}/repos",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": user.site_admin,
        }

    def repo_json(
        self, base: str, repo: Repo, actor: User | None = None, read_only: bool = False
    ) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        out: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user_json(base, repo.owner),
            "html_url": f"{base}/{repo.full_name}",
            "description": None,
            "fork": repo.fork,
            "url": api,
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "clone_url": f"{base}/{repo.full_name}.git",
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
            "pushed_at": iso(repo.created_at),
            "default_branch": repo.default_branch,
            "visibility": "private" if repo.private else "public",
            "archived": False,
            "disabled": False,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_downloads": True,
            "open_issues_count": sum(1 for i in repo.issues.values() if i.state == "open"),
            "topics": [],
        }
        if actor is not None:
            role = repo.collaborators.get(actor.login)
            push = not read_only
            out["permissions"] = {
                "admin": role == "admin" and push,
                "maintain": role in ("admin", "maintain") and push,
                "push": push,
                "triage": push,
                "pull": True,
            }
        return out

    def reactions_summary(self, base: str, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        out: dict[str, Any] = {"url": f"{url}/reactions", "total_count": len(reactions)}
        for content in REACTIONS:
            out[content] = sum(1 for r in reactions if r.content == content)
        return out

    def author_association(self, repo: Repo, login: str) -> str:
        if login == repo.owner:
            return "OWNER"
        if login in repo.collaborators:
            return "COLLABORATOR" if repo.collaborators[login] != "admin" else "MEMBER"
        return "NONE"

    def issue_json(self, base: str, repo: Repo, issue: Issue) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        url = f"{api}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        out: dict[str, Any] = {
            "url": url,
            "repository_url": api,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{base}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": node_id("PR" if issue.is_pull else "I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user_json(base, issue.user),
            "labels": [self.label_json(base, repo, name) for name in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == issue.number),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "author_association": self.author_association(repo, issue.user),
            "body": issue.body,
            "reactions": self.reactions_summary(base, url, issue.reactions),
            "state_reason": "completed" if issue.state == "closed" else None,
        }
        if issue.pull is not None:
            pull_url = f"{api}/pulls/{issue.number}"
            html = f"{base}/{repo.full_name}/pull/{issue.number}"
            out["draft"] = issue.pull.draft
            out["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(issue.pull.merged_at),
            }
        return out

    def label_json(self, base: str, repo: Repo, name: str) -> dict[str, Any]:
        ident = int(fake_sha(f"{repo.full_name} label {name}")[:8], 16)
        return {
            "id": ident,
            "node_id": node_id("LA", ident),
            "url": f"{base}/repos/{repo.full_name}/labels/{urllib.parse.quote(name)}",
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def branch_json(
        self, base: str, repo: Repo, full_name: str, ref: str, sha: str
    ) -> dict[str, Any]:
        target = self.state.repos.get(full_name)
        if target is not None:
            repo_data = self.repo_json(base, target)
        else:  # a fork that was not seeded as a repository of its own
            owner, name = full_name.split("/", 1)
            if owner not in self.state.users:
                self.state.seed_user(owner)
            fake = Repo(
                owner=owner,
                name=name,
                id=int(fake_sha(full_name)[:7], 16),
                fork=True,
                private=repo.private,
                default_branch=repo.default_branch,
            )
            repo_data = self.repo_json(base, fake)
        owner = full_name.split("/", 1)[0]
        return {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user_json(base, owner),
            "repo": repo_data,
        }

    def pull_json(self, base: str, repo: Repo, issue: Issue) -> dict[str, Any]:
        assert issue.pull is not None
        pull = issue.pull
        api = f"{base}/repos/{repo.full_name}"
        url = f"{api}/pulls/{issue.number}"
        html = f"{base}/{repo.full_name}/pull/{issue.number}"
        issue_url = f"{api}/issues/{issue.number}"
        return {
            "url": url,
            "id": issue.id,
            "node_id": node_id("PR", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user_json(base, issue.user),
            "body": issue.body,
            "labels": [self.label_json(base, repo, name) for name in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self.branch_json(base, repo, pull.head_repo, pull.head_ref, pull.head_sha),
            "base": self.branch_json(base, repo, repo.full_name, pull.base_ref, pull.base_sha),
            "author_association": self.author_association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
            "merged": pull.merged,
            "mergeable": None if pull.merged else True,
            "rebaseable": None if pull.merged else True,
            "mergeable_state": "unknown" if pull.merged else "clean",
            "merged_by": None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == issue.number),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def comment_json(self, base: str, repo: Repo, comment: Comment) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        url = f"{api}/issues/comments/{comment.id}"
        issue = repo.issues.get(comment.issue_number)
        kind = "pull" if issue is not None and issue.is_pull else "issues"
        return {
            "url": url,
            "html_url": f"{base}/{repo.full_name}/{kind}/{comment.issue_number}"
            f"#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "user": self.user_json(base, comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": self.author_association(repo, comment.user),
            "body": comment.body,
            "reactions": self.reactions_summary(base, url, comment.reactions),
            "performed_via_github_app": None,
        }

    def reaction_json(self, base: str, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": node_id("REA", reaction.id),
            "user": self.user_json(base, reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    def status_json(self, base: str, repo: Repo, status: Status) -> dict[str, Any]:
        return {
            "url": f"{base}/repos/{repo.full_name}/statuses/{status.sha}",
            "avatar_url": f"{base}/avatars/u/{self.state.users[status.creator].id}?v=4"
            if status.creator in self.state.users
            else None,
            "id": status.id,
            "node_id": node_id("SC", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.updated_at),
            "creator": self.user_json(base, status.creator),
        }

    def commit_json(self, base: str, repo: Repo, commit: Commit) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        when = iso(utcnow())
        person = {"name": "octocat", "email": "octocat@users.noreply.invalid", "date": when}
        return {
            "sha": commit.sha,
            "node_id": node_id("C", int(commit.sha[:7], 16) if _is_hex(commit.sha[:7]) else 0),
            "url": f"{api}/commits/{commit.sha}",
            "html_url": f"{base}/{repo.full_name}/commit/{commit.sha}",
            "comments_url": f"{api}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{api}/git/commits/{commit.sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "tree": {
                    "sha": fake_sha(f"tree {commit.sha}"),
                    "url": f"{api}/git/trees/{fake_sha(f'tree {commit.sha}')}",
                },
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": None,
            "committer": None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/commits/{p}",
                    "html_url": f"{base}/{repo.full_name}/commit/{p}",
                }
                for p in commit.parents
            ],
            "stats": {"total": 0, "additions": 0, "deletions": 0},
            "files": [],
        }

    def deployment_json(self, base: str, repo: Repo, dep: Deployment) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        url = f"{api}/deployments/{dep.id}"
        return {
            "url": url,
            "id": dep.id,
            "node_id": node_id("DE", dep.id),
            "sha": dep.sha,
            "ref": dep.ref,
            "task": dep.task,
            "payload": dep.payload,
            "original_environment": dep.original_environment,
            "environment": dep.environment,
            "description": dep.description,
            "creator": self.user_json(base, dep.creator),
            "created_at": iso(dep.created_at),
            "updated_at": iso(dep.updated_at),
            "statuses_url": f"{url}/statuses",
            "repository_url": api,
            "transient_environment": dep.transient_environment,
            "production_environment": dep.production_environment,
            "performed_via_github_app": None,
        }

    def deployment_status_json(self, base: str, repo: Repo, st: DeploymentStatus) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        dep_url = f"{api}/deployments/{st.deployment_id}"
        return {
            "url": f"{dep_url}/statuses/{st.id}",
            "id": st.id,
            "node_id": node_id("DES", st.id),
            "state": st.state,
            "creator": self.user_json(base, st.creator),
            "description": st.description,
            "environment": st.environment,
            "target_url": st.target_url,
            "created_at": iso(st.created_at),
            "updated_at": iso(st.updated_at),
            "deployment_url": dep_url,
            "repository_url": api,
            "environment_url": st.environment_url,
            "log_url": st.log_url,
            "performed_via_github_app": None,
        }

    def asset_json(self, base: str, repo: Repo, rel: Release, asset: Asset) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        return {
            "url": f"{api}/releases/assets/{asset.id}",
            "browser_download_url": f"{base}/{repo.full_name}/releases/download/"
            f"{urllib.parse.quote(rel.tag_name)}/{urllib.parse.quote(asset.name)}",
            "id": asset.id,
            "node_id": node_id("RA", asset.id),
            "name": asset.name,
            "label": asset.label,
            "state": "uploaded",
            "content_type": asset.content_type,
            "size": asset.size,
            "digest": asset.digest,
            "download_count": asset.download_count,
            "created_at": iso(asset.created_at),
            "updated_at": iso(asset.updated_at),
            "uploader": self.user_json(base, asset.uploader),
        }

    def release_json(self, base: str, repo: Repo, rel: Release) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        url = f"{api}/releases/{rel.id}"
        tag = urllib.parse.quote(rel.tag_name, safe="")
        html = (
            f"{base}/{repo.full_name}/releases/tag/{tag}"
            if not rel.draft
            else f"{base}/{repo.full_name}/releases/tag/untagged-{rel.id}"
        )
        return {
            "url": url,
            "html_url": html,
            "assets_url": f"{url}/assets",
            # GitHub answers https://uploads.github.com/...; the emulator serves uploads itself.
            "upload_url": f"{url}/assets{{?name,label}}",
            "tarball_url": f"{api}/tarball/{tag}",
            "zipball_url": f"{api}/zipball/{tag}",
            "id": rel.id,
            "node_id": node_id("RE", rel.id),
            "tag_name": rel.tag_name,
            "target_commitish": rel.target_commitish,
            "name": rel.name,
            "body": rel.body,
            "draft": rel.draft,
            "prerelease": rel.prerelease,
            "immutable": False,
            "created_at": iso(rel.created_at),
            "published_at": iso(rel.published_at),
            "updated_at": iso(rel.updated_at),
            "author": self.user_json(base, rel.author),
            "assets": [self.asset_json(base, repo, rel, a) for a in rel.assets],
        }

    def ref_json(self, base: str, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        api = f"{base}/repos/{repo.full_name}"
        return {
            "ref": ref,
            "node_id": node_id("REF", int(fake_sha(f"{repo.full_name} {ref}")[:7], 16)),
            "url": f"{api}/git/{ref}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    # ----------------------------------------------------------- utilities

    def paginate(
        self, req: ApiRequest, items: Sequence[T], shape: Callable[[T], Any]
    ) -> ApiResponse:
        per_page = min(max(int(req.q("per_page") or 30), 1), 100)
        page = max(int(req.q("page") or 1), 1)
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            query = {k: list(v) for k, v in req.query.items()}
            query["page"] = [str(number)]
            return f"{req.base}{req.path}?{urllib.parse.urlencode(query, doseq=True)}"

        rels: list[tuple[str, int]] = []
        if page < last:
            rels += [("next", page + 1), ("last", last)]
        if page > 1:
            rels += [("first", 1), ("prev", min(page - 1, last))]
        headers = {}
        if rels:
            headers["Link"] = ", ".join(f'<{link(n)}>; rel="{rel}"' for rel, n in rels)
        return ApiResponse(200, [shape(item) for item in chunk], headers)

    def repo_of(self, req: ApiRequest) -> Repo:
        repo = self.state.repos.get(f"{req.params['owner']}/{req.params['repo']}")
        if repo is None:
            raise not_found()
        if repo.private and req.token is None:
            raise not_found()
        return repo

    def issue_of(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise not_found()
        return issue

    def comment_of(self, repo: Repo, comment_id: int) -> Comment:
        comment = repo.comments.get(comment_id)
        if comment is None:
            raise not_found()
        return comment

    def commit_sha(self, repo: Repo, ref: str, *, missing: str = "422") -> str:
        sha = repo.resolve(ref)
        if sha is None or (self.state.strict_objects and sha not in repo.commits):
            if missing == "404":
                raise not_found()
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    def check_body_length(
        self, text: str | None, limit: int, resource: str, field_name: str = "body"
    ) -> None:
        if text is not None and len(text) > limit:
            raise validation_failed(
                resource,
                field_name,
                "custom",
                f"{field_name} is too long (maximum is {limit} characters)",
            )

    # ====================================================== operations: users

    def op_users_get_authenticated(self, req: ApiRequest) -> ApiResponse:
        if req.actor.type == "Bot":
            # An installation token (GITHUB_TOKEN) is not a user: GitHub refuses /user.
            raise ApiError(
                403,
                "Resource not accessible by integration",
                docs=f"{DOCS}/users/users#get-the-authenticated-user",
            )
        data = self.user_json(req.base, req.actor.login)
        data.update({"name": req.actor.login, "email": None, "created_at": iso(utcnow())})
        return ApiResponse(200, data)

    def op_users_get_by_username(self, req: ApiRequest) -> ApiResponse:
        login = req.params["username"]
        if login not in self.state.users:
            raise not_found()
        return ApiResponse(200, self.user_json(req.base, login))

    def op_rate_limit_get(self, req: ApiRequest) -> ApiResponse:
        used = self.state.rate_used.get(req.actor.login, 0)
        core = {
            "limit": self.state.rate_limit,
            "used": used,
            "remaining": max(self.state.rate_limit - used, 0),
            "reset": self.state.rate_reset,
            "resource": "core",
        }
        resources = {"core": core}
        for name, limit in (
            ("search", 30),
            ("graphql", 5000),
            ("integration_manifest", 5000),
            ("code_search", 10),
        ):
            resources[name] = {
                "limit": limit,
                "used": 0,
                "remaining": limit,
                "reset": self.state.rate_reset,
                "resource": name,
            }
        return ApiResponse(200, {"resources": resources, "rate": core})

    # ================================================= operations: repository

    def op_repos_get(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        return ApiResponse(200, self.repo_json(req.base, repo, req.actor, not req.can_push))

    def op_repos_get_collaborator_permission_level(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        login = req.params["username"]
        if login not in self.state.users:
            raise not_found()
        role = repo.collaborators.get(login)
        if role is None:
            role = "none" if repo.private else "read"
        permission = LEGACY_PERMISSION.get(role, "none")
        user = self.user_json(req.base, login)
        user["permissions"] = {
            "admin": role == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"),
            "triage": role in ("admin", "maintain", "write", "triage"),
            "pull": role != "none",
        }
        user["role_name"] = role
        return ApiResponse(200, {"permission": permission, "role_name": role, "user": user})

    # ============================================ operations: pulls and issues

    def op_pulls_list(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        state = req.q("state", "open")
        head = req.q("head")
        base_ref = req.q("base")
        pulls = [i for i in repo.issues.values() if i.pull is not None]
        if state != "all":
            pulls = [i for i in pulls if i.state == state]
        if head:
            owner, _, ref = head.partition(":")
            pulls = [
                i
                for i in pulls
                if i.pull is not None
                and i.pull.head_repo.split("/")[0] == owner
                and (not ref or i.pull.head_ref == ref)
            ]
        if base_ref:
            pulls = [i for i in pulls if i.pull is not None and i.pull.base_ref == base_ref]
        sort = req.q("sort", "created")
        direction = req.q("direction") or ("desc" if sort == "created" else "asc")
        key = (
            (lambda i: (i.updated_at, i.number))
            if sort == "updated"
            else (lambda i: (i.created_at, i.number))
        )
        pulls.sort(key=key, reverse=direction == "desc")
        return self.paginate(req, pulls, lambda i: self.pull_json(req.base, repo, i))

    def op_pulls_get(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        issue = self.issue_of(repo, req.params["pull_number"])
        if issue.pull is None:
            raise not_found()
        return ApiResponse(200, self.pull_json(req.base, repo, issue))

    def op_issues_get(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        issue = self.issue_of(repo, req.params["issue_number"])
        return ApiResponse(200, self.issue_json(req.base, repo, issue))

    # =================================================== operations: comments

    def op_issues_list_comments(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        number = req.params["issue_number"]
        self.issue_of(repo, number)
        comments = [c for c in repo.comments.values() if c.issue_number == number]
        since = req.q("since")
        if since:
            try:
                moment = parse_time(since)
            except ValueError:
                raise validation_failed("IssueComment", "since", "invalid") from None
            comments = [c for c in comments if c.updated_at >= moment]
        comments.sort(key=lambda c: (c.created_at, c.id))
        return self.paginate(req, comments, lambda c: self.comment_json(req.base, repo, c))

    def op_issues_create_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        number = req.params["issue_number"]
        issue = self.issue_of(repo, number)
        body = req.body_get("body")
        self.check_body_length(body, COMMENT_BODY_LIMIT, "IssueComment")
        moment = utcnow()
        comment = Comment(
            id=self.state.new_id(),
            repo=repo.full_name,
            issue_number=number,
            body=body,
            user=req.actor.login,
            created_at=moment,
            updated_at=moment,
        )
        repo.comments[comment.id] = comment
        issue.updated_at = moment
        data = self.comment_json(req.base, repo, comment)
        return ApiResponse(201, data, {"Location": data["url"]})

    def op_issues_get_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        comment = self.comment_of(repo, req.params["comment_id"])
        return ApiResponse(200, self.comment_json(req.base, repo, comment))

    def op_issues_update_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        comment = self.comment_of(repo, req.params["comment_id"])
        body = req.body_get("body")
        self.check_body_length(body, COMMENT_BODY_LIMIT, "IssueComment")
        comment.body = body
        comment.updated_at = utcnow()
        return ApiResponse(200, self.comment_json(req.base, repo, comment))

    def op_issues_delete_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        comment = self.comment_of(repo, req.params["comment_id"])
        del repo.comments[comment.id]
        return ApiResponse(204)

    # ================================================== operations: reactions

    def _list_reactions(self, req: ApiRequest, reactions: list[Reaction]) -> ApiResponse:
        content = req.q("content")
        chosen = [r for r in reactions if content is None or r.content == content]
        return self.paginate(req, chosen, lambda r: self.reaction_json(req.base, r))

    def _create_reaction(self, req: ApiRequest, reactions: list[Reaction]) -> ApiResponse:
        content = req.body_get("content")
        for existing in reactions:
            if existing.user == req.actor.login and existing.content == content:
                return ApiResponse(200, self.reaction_json(req.base, existing))
        reaction = Reaction(
            id=self.state.new_id(), content=content, user=req.actor.login, created_at=utcnow()
        )
        reactions.append(reaction)
        return ApiResponse(201, self.reaction_json(req.base, reaction))

    def op_reactions_list_for_issue_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        return self._list_reactions(req, self.comment_of(repo, req.params["comment_id"]).reactions)

    def op_reactions_create_for_issue_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        comment = self.comment_of(repo, req.params["comment_id"])
        return self._create_reaction(req, comment.reactions)

    def op_reactions_delete_for_issue_comment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        comment = self.comment_of(repo, req.params["comment_id"])
        for reaction in comment.reactions:
            if reaction.id == req.params["reaction_id"]:
                comment.reactions.remove(reaction)
                return ApiResponse(204)
        raise not_found()

    def op_reactions_list_for_issue(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        return self._list_reactions(req, self.issue_of(repo, req.params["issue_number"]).reactions)

    def op_reactions_create_for_issue(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        issue = self.issue_of(repo, req.params["issue_number"])
        return self._create_reaction(req, issue.reactions)

    # ================================================= operations: commits

    def op_repos_get_commit(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        sha = self.commit_sha(repo, req.params["ref"])
        commit = repo.commits.get(sha) or Commit(sha=sha)
        return ApiResponse(200, self.commit_json(req.base, repo, commit))

    def op_repos_create_commit_status(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        sha = req.params["sha"]
        if self.state.strict_objects and sha not in repo.commits:
            raise ApiError(422, f"No commit found for SHA: {sha}")
        moment = utcnow()
        status = Status(
            id=self.state.new_id(),
            sha=sha,
            state=req.body_get("state"),
            context=req.body_get("context") or "default",
            description=req.body_get("description"),
            target_url=req.body_get("target_url"),
            creator=req.actor.login,
            created_at=moment,
            updated_at=moment,
        )
        repo.statuses.append(status)
        data = self.status_json(req.base, repo, status)
        return ApiResponse(201, data, {"Location": data["url"]})

    def op_repos_list_commit_statuses_for_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        sha = self.commit_sha(repo, req.params["ref"], missing="404")
        statuses = [s for s in repo.statuses if s.sha == sha][::-1]  # newest first
        return self.paginate(req, statuses, lambda s: self.status_json(req.base, repo, s))

    def op_repos_get_combined_status_for_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        sha = self.commit_sha(repo, req.params["ref"], missing="404")
        latest = latest_per_context([s for s in repo.statuses if s.sha == sha])
        api = f"{req.base}/repos/{repo.full_name}"
        per_page = min(max(int(req.q("per_page") or 100), 1), 100)
        page = max(int(req.q("page") or 1), 1)
        shown = latest[(page - 1) * per_page : page * per_page]
        return ApiResponse(
            200,
            {
                "state": combine([s.state for s in latest]),
                "statuses": [self.status_json(req.base, repo, s) for s in shown],
                "sha": sha,
                "total_count": len(latest),
                "repository": self.repo_json(req.base, repo),
                "commit_url": f"{api}/commits/{sha}",
                "url": f"{api}/commits/{sha}/status",
            },
        )

    def op_repos_list_pull_requests_associated_with_commit(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        sha = self.commit_sha(repo, req.params["commit_sha"])
        pulls = [
            i
            for i in repo.issues.values()
            if i.pull is not None
            and (
                i.pull.merge_commit_sha == sha
                or (
                    repo.is_ancestor(sha, i.pull.head_sha)
                    and not repo.is_ancestor(sha, i.pull.base_sha)
                )
            )
        ]
        pulls.sort(key=lambda i: i.number, reverse=True)
        return self.paginate(req, pulls, lambda i: self.pull_json(req.base, repo, i))

    # ============================================== operations: deployments

    def deployment_of(self, repo: Repo, deployment_id: int) -> Deployment:
        dep = repo.deployments.get(deployment_id)
        if dep is None:
            raise not_found()
        return dep

    def op_repos_list_deployments(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        deps = list(repo.deployments.values())
        for name in ("sha", "ref", "task", "environment"):
            wanted = req.q(name)
            if wanted:
                deps = [d for d in deps if getattr(d, name) == wanted]
        deps.sort(key=lambda d: d.id, reverse=True)
        return self.paginate(req, deps, lambda d: self.deployment_json(req.base, repo, d))

    def op_repos_create_deployment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        ref = req.body_get("ref")
        sha = repo.resolve(ref)
        if sha is None or (self.state.strict_objects and sha not in repo.commits):
            raise ApiError(422, f"No ref found for: {ref}")
        required = req.body_get("required_contexts")
        latest = {
            s.context: s.state
            for s in latest_per_context([s for s in repo.statuses if s.sha == sha])
        }
        contexts = list(latest) if required is None else list(required)
        failing = [
            {"context": c, "state": latest.get(c, "missing")}
            for c in contexts
            if latest.get(c) != "success"
        ]
        if failing:
            raise ApiError(
                409,
                f"Conflict: Commit status checks failed for {ref}.",
                errors=[
                    {
                        "contexts": failing,
                        "resource": "Deployment",
                        "field": "required_contexts",
                        "code": "invalid",
                    }
                ],
            )
        payload = req.body_get("payload", {})
        if isinstance(payload, str):
            try:
                parsed = json.loads(payload) if payload else {}
                payload = parsed if isinstance(parsed, dict) else payload
            except ValueError:
                pass
        environment = req.body_get("environment") or "production"
        production = req.body_get("production_environment")
        moment = utcnow()
        dep = Deployment(
            id=self.state.new_id(),
            sha=sha,
            ref=ref,
            task=req.body_get("task") or "deploy",
            payload=payload,
            environment=environment,
            original_environment=environment,
            description=req.body_get("description"),
            creator=req.actor.login,
            transient_environment=bool(req.body_get("transient_environment", False)),
            production_environment=(environment == "production")
            if production is None
            else bool(production),
            created_at=moment,
            updated_at=moment,
        )
        repo.deployments[dep.id] = dep
        return ApiResponse(201, self.deployment_json(req.base, repo, dep))

    def op_repos_get_deployment(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        dep = self.deployment_of(repo, req.params["deployment_id"])
        return ApiResponse(200, self.deployment_json(req.base, repo, dep))

    def op_repos_list_deployment_statuses(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        dep = self.deployment_of(repo, req.params["deployment_id"])
        return self.paginate(
            req, dep.statuses[::-1], lambda s: self.deployment_status_json(req.base, repo, s)
        )

    def op_repos_create_deployment_status(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        dep = self.deployment_of(repo, req.params["deployment_id"])
        description = req.body_get("description") or ""
        self.check_body_length(
            description, DEPLOYMENT_STATUS_DESCRIPTION_LIMIT, "DeploymentStatus", "description"
        )
        state = req.body_get("state")
        environment = req.body_get("environment") or (
            dep.statuses[-1].environment if dep.statuses else dep.environment
        )
        log_url = req.body_get("log_url") or ""
        target_url = log_url or req.body_get("target_url") or ""
        moment = utcnow()
        status = DeploymentStatus(
            id=self.state.new_id(),
            deployment_id=dep.id,
            state=state,
            description=description,
            environment=environment,
            target_url=target_url,
            log_url=log_url or target_url,
            environment_url=req.body_get("environment_url") or "",
            creator=req.actor.login,
            created_at=moment,
            updated_at=moment,
        )
        dep.statuses.append(status)
        dep.environment = environment
        dep.updated_at = moment
        if state == "success" and req.body_get("auto_inactive", True):
            for other in repo.deployments.values():
                if (
                    other.id != dep.id
                    and other.environment == environment
                    and not other.transient_environment
                    and not other.production_environment
                    and other.statuses
                    and other.statuses[-1].state == "success"
                ):
                    other.statuses.append(
                        DeploymentStatus(
                            id=self.state.new_id(),
                            deployment_id=other.id,
                            state="inactive",
                            description="",
                            environment=environment,
                            target_url="",
                            log_url="",
                            environment_url="",
                            creator=req.actor.login,
                            created_at=moment,
                            updated_at=moment,
                        )
                    )
        return ApiResponse(201, self.deployment_status_json(req.base, repo, status))

    def op_repos_get_deployment_status(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        dep = self.deployment_of(repo, req.params["deployment_id"])
        for st in dep.statuses:
            if st.id == req.params["status_id"]:
                return ApiResponse(200, self.deployment_status_json(req.base, repo, st))
        raise not_found()

    # ================================================= operations: releases

    def visible_releases(self, req: ApiRequest, repo: Repo) -> list[Release]:
        rels = list(repo.releases.values())
        if not req.can_push:  # drafts are only shown to those with push access
            rels = [r for r in rels if not r.draft]
        return rels

    def release_of(self, req: ApiRequest, repo: Repo, release_id: int) -> Release:
        rel = repo.releases.get(release_id)
        if rel is None or (rel.draft and not req.can_push):
            raise not_found()
        return rel

    def publish_tag(self, repo: Repo, rel: Release) -> None:
        ref = f"refs/tags/{rel.tag_name}"
        if ref in repo.refs:
            return
        sha = repo.resolve(rel.target_commitish)
        if sha is None or (self.state.strict_objects and sha not in repo.commits):
            raise validation_failed("Release", "target_commitish", "invalid")
        repo.refs[ref] = sha

    def op_repos_list_releases(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rels = sorted(
            self.visible_releases(req, repo), key=lambda r: (r.created_at, r.id), reverse=True
        )
        return self.paginate(req, rels, lambda r: self.release_json(req.base, repo, r))

    def op_repos_create_release(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        tag = req.body_get("tag_name")
        if any(r.tag_name == tag for r in repo.releases.values()):
            raise validation_failed("Release", "tag_name", "already_exists")
        body = req.body_get("body")
        self.check_body_length(body, RELEASE_BODY_LIMIT, "Release")
        if body is None and req.body_get("generate_release_notes"):
            body = f"**Full Changelog**: {req.base}/{repo.full_name}/commits/{tag}"
        draft = bool(req.body_get("draft", False))
        moment = utcnow()
        rel = Release(
            id=self.state.new_id(),
            tag_name=tag,
            target_commitish=req.body_get("target_commitish") or repo.default_branch,
            name=req.body_get("name"),
            body=body,
            draft=draft,
            prerelease=bool(req.body_get("prerelease", False)),
            author=req.actor.login,
            created_at=moment,
            published_at=None if draft else moment,
            updated_at=moment,
        )
        if not draft:
            self.publish_tag(repo, rel)
        repo.releases[rel.id] = rel
        data = self.release_json(req.base, repo, rel)
        return ApiResponse(201, data, {"Location": data["url"]})

    def op_repos_get_latest_release(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rels = [r for r in repo.releases.values() if not r.draft and not r.prerelease]
        if not rels:
            raise not_found()
        latest = max(rels, key=lambda r: (r.created_at, r.id))
        return ApiResponse(200, self.release_json(req.base, repo, latest))

    def op_repos_get_release_by_tag(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        for rel in repo.releases.values():
            if rel.tag_name == req.params["tag"] and not rel.draft:
                return ApiResponse(200, self.release_json(req.base, repo, rel))
        raise not_found()

    def op_repos_get_release(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel = self.release_of(req, repo, req.params["release_id"])
        return ApiResponse(200, self.release_json(req.base, repo, rel))

    def op_repos_update_release(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel = self.release_of(req, repo, req.params["release_id"])
        tag = req.body_get("tag_name")
        if tag is not None and tag != rel.tag_name:
            if any(r.tag_name == tag for r in repo.releases.values()):
                raise validation_failed("Release", "tag_name", "already_exists")
            rel.tag_name = tag
        if "body" in (req.json or {}):
            self.check_body_length(req.body_get("body"), RELEASE_BODY_LIMIT, "Release")
            rel.body = req.body_get("body")
        for name in ("name", "target_commitish", "prerelease"):
            if name in (req.json or {}):
                setattr(rel, name, req.body_get(name))
        moment = utcnow()
        if "draft" in (req.json or {}):
            draft = bool(req.body_get("draft"))
            if rel.draft and not draft:
                self.publish_tag(repo, rel)
                rel.published_at = moment
            rel.draft = draft
        rel.updated_at = moment
        return ApiResponse(200, self.release_json(req.base, repo, rel))

    def op_repos_delete_release(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel = self.release_of(req, repo, req.params["release_id"])
        del repo.releases[rel.id]
        return ApiResponse(204)

    def op_repos_list_release_assets(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel = self.release_of(req, repo, req.params["release_id"])
        return self.paginate(req, rel.assets, lambda a: self.asset_json(req.base, repo, rel, a))

    def op_repos_upload_release_asset(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel = self.release_of(req, repo, req.params["release_id"])
        name = sanitize_asset_name(req.q("name") or "")
        if not name:
            raise validation_failed("ReleaseAsset", "name", "missing_field")
        if any(a.name == name for a in rel.assets):
            raise validation_failed("ReleaseAsset", "name", "already_exists")
        moment = utcnow()
        asset = Asset(
            id=self.state.new_id(),
            release_id=rel.id,
            name=name,
            label=req.q("label") or "",
            content_type=req.headers.get("Content-Type") or "application/octet-stream",
            data=req.raw_body,
            uploader=req.actor.login,
            created_at=moment,
            updated_at=moment,
        )
        rel.assets.append(asset)
        return ApiResponse(201, self.asset_json(req.base, repo, rel, asset))

    def asset_of(self, req: ApiRequest, repo: Repo, asset_id: int) -> tuple[Release, Asset]:
        for rel in repo.releases.values():
            for asset in rel.assets:
                if asset.id == asset_id and not (rel.draft and not req.can_push):
                    return rel, asset
        raise not_found()

    def op_repos_get_release_asset(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel, asset = self.asset_of(req, repo, req.params["asset_id"])
        if "application/octet-stream" in (req.headers.get("Accept") or ""):
            # GitHub answers 302 to a short-lived download URL; the bytes are served directly.
            asset.download_count += 1
            return ApiResponse(
                200,
                asset.data,
                {"Content-Disposition": f'attachment; filename="{asset.name}"'},
                content_type="application/octet-stream",
            )
        return ApiResponse(200, self.asset_json(req.base, repo, rel, asset))

    def op_repos_update_release_asset(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel, asset = self.asset_of(req, repo, req.params["asset_id"])
        name = req.body_get("name")
        if name is not None and name != asset.name:
            name = sanitize_asset_name(name)
            if any(a.name == name for a in rel.assets):
                raise validation_failed("ReleaseAsset", "name", "already_exists")
            asset.name = name
        if "label" in (req.json or {}):
            asset.label = req.body_get("label")
        asset.updated_at = utcnow()
        return ApiResponse(200, self.asset_json(req.base, repo, rel, asset))

    def op_repos_delete_release_asset(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        rel, asset = self.asset_of(req, repo, req.params["asset_id"])
        rel.assets.remove(asset)
        return ApiResponse(204)

    def download(self, base: str, owner: str, name: str, tag: str, filename: str) -> ApiResponse:
        """``browser_download_url`` (github.com's web host, not the REST API)."""
        repo = self.state.repos.get(f"{owner}/{name}")
        if repo is not None:
            for rel in repo.releases.values():
                if rel.tag_name == tag and not rel.draft:
                    for asset in rel.assets:
                        if asset.name == filename:
                            asset.download_count += 1
                            return ApiResponse(
                                200, asset.data, content_type="application/octet-stream"
                            )
        return ApiResponse(404, b"Not Found", content_type="text/plain; charset=utf-8")

    # ===================================================== operations: git refs

    def op_git_get_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        full = f"refs/{req.params['ref']}"
        if full not in repo.refs:
            raise not_found()
        return ApiResponse(200, self.ref_json(req.base, repo, full, repo.refs[full]))

    def op_git_list_matching_refs(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        prefix = f"refs/{req.params['ref']}"
        refs = sorted(name for name in repo.refs if name.startswith(prefix))
        return ApiResponse(200, [self.ref_json(req.base, repo, n, repo.refs[n]) for n in refs])

    def check_object(self, repo: Repo, sha: str) -> None:
        if sha not in repo.commits:
            if self.state.strict_objects:
                raise ApiError(422, "Object does not exist")
            repo.commits[sha] = Commit(sha=sha)

    def op_git_create_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        ref = req.body_get("ref")
        sha = req.body_get("sha")
        if not ref.startswith("refs/") or ref.count("/") < 2 or ref.endswith("/"):
            raise ApiError(422, "Reference name is invalid")
        if ref in repo.refs:
            raise ApiError(422, "Reference already exists")
        self.check_object(repo, sha)
        repo.refs[ref] = sha
        data = self.ref_json(req.base, repo, ref, sha)
        return ApiResponse(201, data, {"Location": data["url"]})

    def op_git_update_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        full = f"refs/{req.params['ref']}"
        if full not in repo.refs:
            raise ApiError(422, "Reference does not exist")
        sha = req.body_get("sha")
        self.check_object(repo, sha)
        current = repo.refs[full]
        if not req.body_get("force", False) and not repo.is_ancestor(current, sha):
            raise ApiError(422, "Update is not a fast forward")
        repo.refs[full] = sha
        return ApiResponse(200, self.ref_json(req.base, repo, full, sha))

    def op_git_delete_ref(self, req: ApiRequest) -> ApiResponse:
        repo = self.repo_of(req)
        full = f"refs/{req.params['ref']}"
        if full not in repo.refs:
            raise ApiError(422, "Reference does not exist")
        del repo.refs[full]
        return ApiResponse(204)


def sanitize_asset_name(name: str) -> str:
    """GitHub's renaming of asset names (approximation): odd characters become dots."""
    cleaned = re.sub(r"[^A-Za-z0-9._+\-@]", ".", name)
    return cleaned.strip(".")


def _is_hex(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]+", text))
