"""The emulator's state: what GitHub would store, how tests seed it, and what they assert on.

Everything is kept in plain dataclasses guarded by one re-entrant lock (``state.lock``); the
HTTP handlers in :mod:`tests.emulator.github` take it for each request, and the seeding and
assertion helpers below take it too, so tests may call them while a client is running.

Most helpers take ``repo=None``, meaning the first repository seeded (the usual single-repo
test); pass ``repo="owner/name"`` when there are several.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .permissions import normalize_permissions

BOT_LOGIN = "github-actions[bot]"
BOT_ID = 41898282

PERMISSIONS = ("admin", "maintain", "write", "triage", "read")
# `permission` in GitHub's answer is the legacy base role; `role_name` the real one.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}

HEX_SHA = re.compile(r"^[0-9a-f]{40}$")


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def iso(moment: _dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | _dt.datetime | None) -> _dt.datetime:
    if value is None:
        return utcnow()
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User" | "Bot" | "Organization"
    site_admin: bool = False


@dataclass
class Token:
    token: str
    login: str
    read_only: bool = False
    # None: every permission (the emulator's historical behaviour). Otherwise the normalised
    # `{scope: level}` of a GitHub Actions job (tests/emulator/permissions.py).
    permissions: dict[str, str] | None = None
    name: str = ""  # what the request log records (never the secret itself)


@dataclass
class Commit:
    sha: str
    parents: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class PullInfo:
    head_sha: str
    head_ref: str
    head_repo: str  # full name; differs from the base repository for a fork
    base_ref: str
    base_sha: str
    merged: bool = False
    draft: bool = False
    merged_at: _dt.datetime | None = None
    merge_commit_sha: str | None = None


@dataclass
class Reaction:
    id: int
    content: str
    user: str
    created_at: _dt.datetime


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str  # "open" | "closed"
    created_at: _dt.datetime
    updated_at: _dt.datetime
    closed_at: _dt.datetime | None = None
    labels: list[str] = field(default_factory=list)
    pull: PullInfo | None = None
    reactions: list[Reaction] = field(default_factory=list)

    @property
    def is_pull(self) -> bool:
        return self.pull is not None


@dataclass
class Comment:
    id: int
    repo: str
    issue_number: int
    body: str
    user: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: _dt.datetime
    updated_at: _dt.datetime


@dataclass
class DeploymentStatus:
    id: int
    deployment_id: int
    state: str
    description: str
    environment: str
    target_url: str
    log_url: str
    environment_url: str
    creator: str
    created_at: _dt.datetime
    updated_at: _dt.datetime


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    payload: Any
    environment: str
    original_environment: str
    description: str | None
    creator: str
    transient_environment: bool
    production_environment: bool
    created_at: _dt.datetime
    updated_at: _dt.datetime
    statuses: list[DeploymentStatus] = field(default_factory=list)


@dataclass
class Asset:
    id: int
    release_id: int
    name: str
    label: str | None
    content_type: str
    data: bytes = field(repr=False)
    uploader: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    download_count: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    author: str
    created_at: _dt.datetime
    published_at: _dt.datetime | None
    updated_at: _dt.datetime
    assets: list[Asset] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    fork: bool = False
    created_at: _dt.datetime = field(default_factory=utcnow)
    collaborators: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1

    def is_ancestor(self, ancestor: str, sha: str) -> bool:
        """Whether ``ancestor`` is ``sha`` or reachable from it through known parents."""
        seen: set[str] = set()
        todo = [sha]
        while todo:
            current = todo.pop()
            if current == ancestor:
                return True
            if current in seen:
                continue
            seen.add(current)
            commit = self.commits.get(current)
            if commit is not None:
                todo.extend(commit.parents)
        return False

    def resolve(self, ref: str) -> str | None:
        """A commit sha from a sha, ``heads/x``/``tags/x``/``refs/...`` or a bare branch/tag."""
        candidates = [ref, f"refs/{ref}", f"refs/heads/{ref}", f"refs/tags/{ref}"]
        for name in candidates:
            if name in self.refs:
                return self.refs[name]
        if ref in self.commits:
            return ref
        if HEX_SHA.match(ref):
            return ref
        return None


@dataclass
class RecordedRequest:
    seq: int
    time: float
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any
    actor: str | None = None
    operation_id: str | None = None
    fault: str | None = None
    response: Any = None  # kept for error answers (status >= 400) only
    token: str | None = None  # the name of the seeded token used (None: unseeded/none)
    # Refused for the token's permissions (403): the permission sets that would have granted
    # it, as in GitHub's x-accepted-github-permissions header ("issues=write", ...).
    denied: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "body": self.body,
            "actor": self.actor,
            "operation_id": self.operation_id,
            "fault": self.fault,
            "response": self.response,
            "token": self.token,
            "denied": self.denied,
        }


@dataclass
class Violation:
    kind: str  # unknown-operation | invalid-body | invalid-query | invalid-json
    method: str
    path: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "message": self.message,
            "errors": self.errors,
        }


class EmulatorState:
    """GitHub's data as the emulator keeps it, plus the request log and contract violations."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    # ------------------------------------------------------------------ setup

    def reset(self) -> None:
        with self.lock:
            self._next_id = 1000
            self.users: dict[str, User] = {}
            self.tokens: dict[str, Token] = {}
            self.revoked_tokens: list[str] = []  # names
            self.repos: dict[str, Repo] = {}
            self.requests: list[RecordedRequest] = []
            self.violations: list[Violation] = []
            # Any token is accepted and acts as `default_login`, unless tokens are configured
            # and this is turned off (then an unknown token gets 401 Bad credentials).
            self.accept_any_token = True
            self.default_login = BOT_LOGIN
            # Lenient: a sha never seeded is accepted as a commit with unknown parents.
            # Strict: GitHub's 422 "Object does not exist"/"No commit found for SHA".
            self.strict_objects = False
            self.rate_limit = 5000
            self.rate_used: dict[str, int] = {}
            self.rate_reset = int(utcnow().timestamp()) + 3600
            self.seed_user(BOT_LOGIN, type="Bot", id=BOT_ID)

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    # ---------------------------------------------------------------- seeding

    def seed_user(self, login: str, *, type: str = "User", id: int | None = None) -> User:
        with self.lock:
            user = self.users.get(login)
            if user is None:
                user = User(login=login, id=id or self.new_id(), type=type)
                self.users[login] = user
            else:
                user.type = type
                if id is not None:
                    user.id = id
            return user

    def add_token(
        self,
        token: str,
        login: str = BOT_LOGIN,
        *,
        read_only: bool = False,
        user_type: str | None = None,
        permissions: Any = None,
        name: str | None = None,
    ) -> Token:
        """``token`` authenticates as ``login``; a read-only token gets 403 on every write.

        ``permissions``: a GitHub Actions ``permissions:`` value (``{"contents": "read",
        "pull-requests": "write"}``, ``"read-all"``, ``"write-all"``, ``{}``); the token may
        then do only what those grant (tests/emulator/permissions.py), anything else is 403
        ``Resource not accessible by integration``. ``None`` (default): everything.
        ``name``: how the request log names the token (default ``token-<n>``).
        """
        granted = None if permissions is None else normalize_permissions(permissions)
        with self.lock:
            if login not in self.users:
                self.seed_user(
                    login, type=user_type or ("Bot" if login.endswith("[bot]") else "User")
                )
            entry = Token(
                token=token,
                login=login,
                read_only=read_only,
                permissions=granted,
                name=name or f"token-{len(self.tokens) + len(self.revoked_tokens) + 1}",
            )
            self.tokens[token] = entry
            return entry

    def revoke_token(self, token: str) -> None:
        """The token stops working (401 ``Bad credentials`` unless ``accept_any_token``), as a
        job's ``GITHUB_TOKEN`` does when the job ends. Unknown tokens are ignored."""
        with self.lock:
            entry = self.tokens.pop(token, None)
            if entry is not None:
                self.revoked_tokens.append(entry.name)

    def seed_repo(
        self,
        full_name: str,
        *,
        private: bool = False,
        default_branch: str = "main",
        default_branch_sha: str | None = None,
        owner_type: str = "User",
        fork: bool = False,
    ) -> Repo:
        with self.lock:
            if full_name in self.repos:
                return self.repos[full_name]
            owner, name = full_name.split("/", 1)
            self.seed_user(owner, type=owner_type)
            repo = Repo(
                owner=owner,
                name=name,
                id=self.new_id(),
                private=private,
                default_branch=default_branch,
                fork=fork,
            )
            repo.collaborators[owner] = "admin"
            sha = default_branch_sha or fake_sha(f"{full_name}@{default_branch}")
            repo.commits[sha] = Commit(sha=sha, message="Initial commit")
            repo.refs[f"refs/heads/{default_branch}"] = sha
            self.repos[full_name] = repo
            return repo

    def repo(self, repo: str | None = None) -> Repo:
        with self.lock:
            if repo is None:
                if not self.repos:
                    raise LookupError("no repository seeded; call seed_repo('owner/name') first")
                return next(iter(self.repos.values()))
            try:
                return self.repos[repo]
            except KeyError:
                raise LookupError(f"repository {repo} is not seeded") from None

    def seed_collaborator(
        self, login: str, permission: str = "write", *, repo: str | None = None, type: str = "User"
    ) -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"permission {permission!r} not one of {PERMISSIONS}")
        with self.lock:
            if login not in self.users:
                self.seed_user(login, type=type)
            self.repo(repo).collaborators[login] = permission

    def seed_commit(
        self,
        sha: str,
        parents: list[str] | tuple[str, ...] = (),
        *,
        message: str = "",
        repo: str | None = None,
    ) -> Commit:
        with self.lock:
            r = self.repo(repo)
            commit = Commit(sha=sha, parents=list(parents), message=message)
            r.commits[sha] = commit
            return commit

    def seed_ref(self, ref: str, sha: str, *, repo: str | None = None) -> None:
        """``ref`` as ``refs/heads/x``, ``heads/x`` or ``tags/x``."""
        with self.lock:
            r = self.repo(repo)
            full = ref if ref.startswith("refs/") else f"refs/{ref}"
            r.commits.setdefault(sha, Commit(sha=sha))
            r.refs[full] = sha

    def seed_pull(
        self,
        number: int | None = None,
        *,
        head_sha: str | None = None,
        head_ref: str = "feature",
        base_ref: str | None = None,
        base_sha: str | None = None,
        state: str = "open",
        merged: bool = False,
        draft: bool = False,
        user: str = "octocat",
        head_repo: str | None = None,
        title: str = "A pull request",
        body: str | None = "",
        labels: list[str] | None = None,
        repo: str | None = None,
        created_at: str | _dt.datetime | None = None,
    ) -> Issue:
        """A pull request; ``head_repo="someone/fork"`` makes it come from a fork.

        The head commit is recorded as a child of the base commit, and ``refs/heads/<head_ref>``
        is created when the pull request comes from the same repository.
        """
        with self.lock:
            r = self.repo(repo)
            number = number or r.next_number()
            base_ref = base_ref or r.default_branch
            base_sha = base_sha or r.refs.get(f"refs/heads/{base_ref}") or fake_sha(base_ref)
            head_sha = head_sha or fake_sha(f"{r.full_name}#{number}")
            head_repo = head_repo or r.full_name
            if user not in self.users:
                self.seed_user(user)
            r.commits.setdefault(base_sha, Commit(sha=base_sha))
            r.commits.setdefault(head_sha, Commit(sha=head_sha, parents=[base_sha]))
            if head_repo == r.full_name:
                r.refs.setdefault(f"refs/heads/{head_ref}", head_sha)
            moment = parse_time(created_at)
            closed = state == "closed" or merged
            issue = Issue(
                number=number,
                id=self.new_id(),
                title=title,
                body=body,
                user=user,
                state="closed" if closed else "open",
                created_at=moment,
                updated_at=moment,
                closed_at=moment if closed else None,
                labels=list(labels or []),
                pull=PullInfo(
                    head_sha=head_sha,
                    head_ref=head_ref,
                    head_repo=head_repo,
                    base_ref=base_ref,
                    base_sha=base_sha,
                    merged=merged,
                    draft=draft,
                    merged_at=moment if merged else None,
                    merge_commit_sha=fake_sha(f"merge {head_sha}") if merged else None,
                ),
            )
            r.issues[number] = issue
            return issue

    def seed_issue(
        self,
        number: int | None = None,
        *,
        title: str = "An issue",
        body: str | None = "",
        user: str = "octocat",
        state: str = "open",
        repo: str | None = None,
    ) -> Issue:
        with self.lock:
            r = self.repo(repo)
            number = number or r.next_number()
            if user not in self.users:
                self.seed_user(user)
            moment = utcnow()
            issue = Issue(
                number=number,
                id=self.new_id(),
                title=title,
                body=body,
                user=user,
                state=state,
                created_at=moment,
                updated_at=moment,
            )
            r.issues[number] = issue
            return issue

    def seed_comment(
        self,
        issue_number: int,
        body: str,
        *,
        user: str = "octocat",
        repo: str | None = None,
        created_at: str | _dt.datetime | None = None,
    ) -> Comment:
        with self.lock:
            r = self.repo(repo)
            if issue_number not in r.issues:
                raise LookupError(f"#{issue_number} is not seeded in {r.full_name}")
            if user not in self.users:
                self.seed_user(user, type="Bot" if user.endswith("[bot]") else "User")
            moment = parse_time(created_at)
            comment = Comment(
                id=self.new_id(),
                repo=r.full_name,
                issue_number=issue_number,
                body=body,
                user=user,
                created_at=moment,
                updated_at=moment,
            )
            r.comments[comment.id] = comment
            return comment

    def seed_status(
        self,
        sha: str,
        state: str,
        context: str = "default",
        *,
        description: str | None = None,
        target_url: str | None = None,
        creator: str = BOT_LOGIN,
        repo: str | None = None,
    ) -> Status:
        with self.lock:
            r = self.repo(repo)
            moment = utcnow()
            status = Status(
                id=self.new_id(),
                sha=sha,
                state=state,
                context=context,
                description=description,
                target_url=target_url,
                creator=creator,
                created_at=moment,
                updated_at=moment,
            )
            r.statuses.append(status)
            return status

    def apply_seed(self, data: dict[str, Any]) -> None:
        """The JSON form of the seeding helpers (``POST /_emulator/seed``)::

        {"settings": {"accept_any_token": true, "strict_objects": false,
                      "default_login": "github-actions[bot]", "rate_limit": 5000},
         "users": [{"login": "alice", "type": "User"}],
         "tokens": [{"token": "ro", "login": "github-actions[bot]", "read_only": true},
                    {"token": "job", "name": "report", "permissions": {"statuses": "write"}}],
         "revoke_tokens": ["job"],
         "repos": [{"full_name": "o/r", "private": false, "default_branch": "main",
                    "default_branch_sha": "...",
                    "collaborators": {"alice": "write"},
                    "commits": [{"sha": "...", "parents": ["..."]}],
                    "refs": {"refs/heads/main": "..."},
                    "pulls": [{"number": 1, "head_sha": "...", "head_ref": "f", ...}],
                    "issues": [{"number": 2, "title": "..."}],
                    "comments": [{"issue_number": 1, "body": "hi", "user": "alice"}],
                    "statuses": [{"sha": "...", "state": "success", "context": "ci"}]}]}
        """
        with self.lock:
            settings = data.get("settings", {})
            for key in ("accept_any_token", "strict_objects", "default_login", "rate_limit"):
                if key in settings:
                    setattr(self, key, settings[key])
            for user in data.get("users", []):
                self.seed_user(user["login"], type=user.get("type", "User"), id=user.get("id"))
            for tok in data.get("tokens", []):
                self.add_token(
                    tok["token"],
                    tok.get("login", BOT_LOGIN),
                    read_only=bool(tok.get("read_only", False)),
                    permissions=tok.get("permissions"),
                    name=tok.get("name"),
                )
            for token in data.get("revoke_tokens", []):
                self.revoke_token(token)
            for spec in data.get("repos", []):
                name = spec["full_name"]
                self.seed_repo(
                    name,
                    private=spec.get("private", False),
                    default_branch=spec.get("default_branch", "main"),
                    default_branch_sha=spec.get("default_branch_sha"),
                    owner_type=spec.get("owner_type", "User"),
                )
                for login, perm in spec.get("collaborators", {}).items():
                    self.seed_collaborator(login, perm, repo=name)
                for commit in spec.get("commits", []):
                    self.seed_commit(
                        commit["sha"],
                        commit.get("parents", []),
                        message=commit.get("message", ""),
                        repo=name,
                    )
                for ref, sha in spec.get("refs", {}).items():
                    self.seed_ref(ref, sha, repo=name)
                for pull in spec.get("pulls", []):
                    self.seed_pull(**pull, repo=name)
                for issue in spec.get("issues", []):
                    self.seed_issue(**issue, repo=name)
                for comment in spec.get("comments", []):
                    comment = dict(comment)
                    self.seed_comment(
                        comment.pop("issue_number"), comment.pop("body"), **comment, repo=name
                    )
                for status in spec.get("statuses", []):
                    status = dict(status)
                    self.seed_status(status.pop("sha"), status.pop("state"), **status, repo=name)

    # -------------------------------------------------------------- assertions

    def comments_on(self, issue_number: int, repo: str | None = None) -> list[Comment]:
        with self.lock:
            r = self.repo(repo)
            return [c for c in r.comments.values() if c.issue_number == issue_number]

    def comment(self, comment_id: int, repo: str | None = None) -> Comment:
        with self.lock:
            return self.repo(repo).comments[comment_id]

    def reactions_on(self, comment_id: int, repo: str | None = None) -> list[Reaction]:
        with self.lock:
            return list(self.repo(repo).comments[comment_id].reactions)

    def statuses_for(self, sha: str, repo: str | None = None) -> list[Status]:
        """Statuses of a commit, oldest first (``ref`` names are resolved too)."""
        with self.lock:
            r = self.repo(repo)
            target = r.resolve(sha) or sha
            return [s for s in r.statuses if s.sha == target]

    def combined_state(self, sha: str, repo: str | None = None) -> str:
        return combine([s.state for s in latest_per_context(self.statuses_for(sha, repo))])

    def deployments(self, repo: str | None = None) -> list[Deployment]:
        with self.lock:
            return list(self.repo(repo).deployments.values())

    def releases(self, repo: str | None = None) -> list[Release]:
        with self.lock:
            return list(self.repo(repo).releases.values())

    def release_by_tag(self, tag: str, repo: str | None = None) -> Release | None:
        with self.lock:
            for rel in self.repo(repo).releases.values():
                if rel.tag_name == tag:
                    return rel
            return None

    def ref(self, name: str, repo: str | None = None) -> str | None:
        """The sha a ref points at (``refs/heads/x`` or ``heads/x``), ``None`` if absent."""
        with self.lock:
            full = name if name.startswith("refs/") else f"refs/{name}"
            return self.repo(repo).refs.get(full)

    def requests_matching(
        self, method: str | None = None, path: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, in order; ``path`` is a regular expression searched in the path."""
        with self.lock:
            rx = re.compile(path) if path is not None else None
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (rx is None or rx.search(r.path))
            ]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.requests_matching(method, path))

    def denied(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests refused (403) because the token lacked a permission (or was read-only)."""
        return [r for r in self.requests_matching(method, path) if r.denied is not None]

    # --------------------------------------------------------------- recording

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            entry.seq = len(self.requests) + 1
            self.requests.append(entry)

    def violate(self, violation: Violation) -> None:
        with self.lock:
            self.violations.append(violation)

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-able data (``GET /_emulator/state`` and ``--state-file``)."""
        with self.lock:
            return {
                "users": [vars(u).copy() for u in self.users.values()],
                "tokens": [
                    {
                        "name": t.name,
                        "login": t.login,
                        "read_only": t.read_only,
                        "permissions": t.permissions,
                    }
                    for t in self.tokens.values()
                ],
                "revoked_tokens": list(self.revoked_tokens),
                "repos": {name: _dump_repo(r) for name, r in self.repos.items()},
                "requests": [r.to_dict() for r in self.requests],
                "violations": [v.to_dict() for v in self.violations],
            }


def latest_per_context(statuses: list[Status]) -> list[Status]:
    latest: dict[str, Status] = {}
    for status in statuses:
        latest[status.context.lower()] = status
    return list(latest.values())


def combine(states: list[str]) -> str:
    """GitHub's combined state: failure on any error/failure, pending on any pending or none."""
    if any(s in ("error", "failure") for s in states):
        return "failure"
    if not states or any(s == "pending" for s in states):
        return "pending"
    return "success"


def _jsonable(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return iso(value)
    if isinstance(value, bytes):
        return {
            "size": len(value),
            "sha256": hashlib.sha256(value).hexdigest(),
            "base64": base64.b64encode(value).decode("ascii"),
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def _dump_repo(repo: Repo) -> dict[str, Any]:
    data = _jsonable(repo)
    data["full_name"] = repo.full_name
    return data
