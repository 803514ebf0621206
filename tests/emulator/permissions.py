"""GitHub Actions token permissions: what a ``GITHUB_TOKEN`` may do, per emulated operation.

A workflow job's ``GITHUB_TOKEN`` is an installation token of the GitHub App that Actions
installs on the repository, with exactly the scopes of the job's ``permissions:`` block (each
scope ``none``/``read``/``write``; ``write`` includes ``read``; unnamed scopes are ``none``;
``metadata: read`` is always granted). A request outside them gets 403 ``Resource not
accessible by integration``. :data:`OPERATION_PERMISSIONS` says, for every operation the
emulator serves, which ``(scope, level)`` grants it; :func:`job_permissions` computes a job's
effective permissions from a workflow file, as GitHub does.

Sources (checked 2026-11):

* Which permission each REST endpoint needs, for installation tokens ("IAT"):
  https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps
  (its data: ``src/github-apps/data/fpt-2022-11-28/server-to-server-permissions.json`` in
  github/docs), and each endpoint's "Fine-grained access tokens" section of the REST
  reference, e.g. https://docs.github.com/en/rest/issues/comments ("at least one of the
  following permission sets: Issues (write), Pull requests (write)"; "This endpoint can be
  used without authentication or the aforementioned permissions if only public resources
  are requested").
* The scopes and levels of ``permissions:``, ``read-all``/``write-all``/``{}``, job-level
  over workflow-level:
  https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token
* The default when a workflow has no ``permissions:`` at all ("restricted": contents and
  packages read, metadata read; "permissive": read/write for all):
  https://docs.github.com/en/actions/reference/github_token-reference#permissions-for-the-github_token
* The ``x-accepted-github-permissions`` header (permission sets separated by ``;``):
  https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DOCS_APP_PERMISSIONS = (
    "https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps"
)
DOCS_GITHUB_TOKEN = (
    "https://docs.github.com/en/actions/reference/github_token-reference"
    "#permissions-for-the-github_token"
)

LEVELS = ("none", "read", "write")
# Every scope of a workflow's `permissions:` and the levels it takes (`read` where the docs
# list it, `write` includes `read`), plus `metadata`, which the token always has (read).
SCOPES: dict[str, tuple[str, ...]] = {
    "actions": LEVELS,
    "attestations": LEVELS,
    "checks": LEVELS,
    "contents": LEVELS,
    "deployments": LEVELS,
    "discussions": LEVELS,
    "id-token": ("none", "write"),
    "issues": LEVELS,
    "metadata": ("read",),
    "models": ("none", "read"),
    "packages": LEVELS,
    "pages": LEVELS,
    "pull-requests": LEVELS,
    "repository-projects": LEVELS,
    "security-events": LEVELS,
    "statuses": LEVELS,
}
# A job (or workflow) without any `permissions:` gets the repository's default. New
# repositories and organizations default to "restricted" since 2023 (the github_token
# reference above; `packages: read` included). A repository set to "permissive" would give
# read/write on every scope: pass `"write-all"` for that.
RESTRICTED_DEFAULT: dict[str, str] = {"contents": "read", "packages": "read", "metadata": "read"}

NOT_ACCESSIBLE = "Resource not accessible by integration"


def _max_level(scope: str, wanted: str) -> str:
    """``wanted`` capped to what ``scope`` takes (``read-all`` gives ``id-token: none``)."""
    allowed = SCOPES[scope]
    if wanted in allowed:
        return wanted
    below = [lv for lv in allowed if LEVELS.index(lv) <= LEVELS.index(wanted)]
    return below[-1] if below else "none"


def normalize_permissions(value: Any) -> dict[str, str]:
    """A ``permissions:`` value (mapping, ``"read-all"``, ``"write-all"``, ``{}``) as a full
    ``{scope: level}`` map over :data:`SCOPES`; ``metadata`` is always ``read``.

    Scope names may use ``_`` for ``-`` (``pull_requests``, the REST/App spelling).
    """
    if isinstance(value, str):
        if value not in ("read-all", "write-all"):
            raise ValueError(f"permissions: {value!r} is not read-all, write-all or a mapping")
        wanted = value.removesuffix("-all")
        out = {scope: _max_level(scope, wanted) for scope in SCOPES}
    elif isinstance(value, Mapping):
        out = {scope: "none" for scope in SCOPES}
        for raw_scope, raw_level in value.items():
            scope = str(raw_scope).replace("_", "-")
            if scope not in SCOPES:
                raise ValueError(
                    f"permissions: unknown scope {raw_scope!r} (one of {list(SCOPES)})"
                )
            level = str(raw_level)
            if level not in SCOPES[scope]:
                raise ValueError(
                    f"permissions: {raw_scope}: {raw_level!r} is not one of {SCOPES[scope]}"
                )
            out[scope] = level
    else:
        raise ValueError(f"permissions: {value!r} is not read-all, write-all or a mapping")
    out["metadata"] = "read"
    return out


def grants(permissions: Mapping[str, str], scope: str, level: str) -> bool:
    """Whether ``permissions`` (normalised) give at least ``level`` on ``scope``."""
    have = permissions.get(scope, "none")
    return LEVELS.index(have) >= LEVELS.index(level)


@dataclass(frozen=True)
class Requirement:
    """What grants one operation to a fine-grained (Actions/App) token.

    ``any_of``: one ``(scope, level)`` of these is enough (GitHub's "at least one of the
    following permission sets"); empty: no repository permission is involved.
    ``public_read``: on a public repository the operation also works without the permission
    (the REST reference's "can be used ... without ... the aforementioned permissions if only
    public resources are requested"); only reads are marked so, never writes.
    """

    any_of: tuple[tuple[str, str], ...]
    docs: str
    public_read: bool = False
    note: str = ""

    def allows(self, permissions: Mapping[str, str], *, private: bool) -> bool:
        if not self.any_of:
            return True
        if self.public_read and not private:
            return True
        return any(grants(permissions, scope, level) for scope, level in self.any_of)

    def header(self) -> str:
        """The ``x-accepted-github-permissions`` value: ``issues=write; pull_requests=write``."""
        return "; ".join(f"{scope.replace('-', '_')}={level}" for scope, level in self.any_of)

    def describe(self) -> str:
        return " or ".join(f"{scope}: {level}" for scope, level in self.any_of) or "(none)"


_REST = "https://docs.github.com/rest"


def _req(*any_of: str, docs: str, public_read: bool = False, note: str = "") -> Requirement:
    pairs = tuple((item.split(":")[0], item.split(":")[1]) for item in any_of)
    for scope, level in pairs:
        assert scope in SCOPES and level in SCOPES[scope], (scope, level)
    return Requirement(pairs, f"{_REST}/{docs}", public_read, note)


# (HTTP method, operationId) -> what grants it, for EVERY operation the emulator serves (the
# vendored OpenAPI subset, plus "web/release-download", github.com's browser_download_url).
# From GitHub's "Permissions required for GitHub Apps" (DOCS_APP_PERMISSIONS, data file
# server-to-server-permissions.json in github/docs) and each endpoint's REST reference page.
# A test (tests/unit/test_emulator_permission_table.py) fails when an operation is missing.
OPERATION_PERMISSIONS: dict[tuple[str, str], Requirement] = {
    # --- not repository resources
    ("GET", "users/get-authenticated"): _req(
        docs="users/users#get-the-authenticated-user",
        note="user tokens only: an installation (Actions) token gets 403 "
        "'Resource not accessible by integration' whatever its permissions (the handler)",
    ),
    ("GET", "users/get-by-username"): _req(docs="users/users#get-a-user"),
    ("GET", "rate-limit/get"): _req(
        docs="rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user"
    ),
    # --- Metadata (always granted)
    ("GET", "repos/get"): _req("metadata:read", docs="repos/repos#get-a-repository"),
    ("GET", "repos/get-collaborator-permission-level"): _req(
        "metadata:read",
        docs="collaborators/collaborators#get-repository-permissions-for-a-user",
    ),
    # --- Pull requests
    ("GET", "pulls/list"): _req(
        "pull-requests:read", docs="pulls/pulls#list-pull-requests", public_read=True
    ),
    ("GET", "pulls/get"): _req(
        "pull-requests:read",
        "contents:read",
        docs="pulls/pulls#get-a-pull-request",
        public_read=True,
    ),
    ("GET", "repos/list-pull-requests-associated-with-commit"): _req(
        "pull-requests:read",
        docs="commits/commits#list-pull-requests-associated-with-a-commit",
        public_read=True,
    ),
    # --- Issues (a pull request is an issue; its comments are issue comments)
    ("GET", "issues/get"): _req("issues:read", docs="issues/issues#get-an-issue", public_read=True),
    ("GET", "issues/list-comments"): _req(
        "issues:read",
        "pull-requests:read",
        docs="issues/comments#list-issue-comments",
        public_read=True,
    ),
    ("POST", "issues/create-comment"): _req(
        "issues:write", "pull-requests:write", docs="issues/comments#create-an-issue-comment"
    ),
    ("GET", "issues/get-comment"): _req(
        "issues:read",
        "pull-requests:read",
        docs="issues/comments#get-an-issue-comment",
        public_read=True,
    ),
    ("PATCH", "issues/update-comment"): _req(
        "issues:write", "pull-requests:write", docs="issues/comments#update-an-issue-comment"
    ),
    ("DELETE", "issues/delete-comment"): _req(
        "issues:write", "pull-requests:write", docs="issues/comments#delete-an-issue-comment"
    ),
    # Reactions on issues and issue comments are listed under "Issues" only (not "Pull
    # requests"), also when the comment is on a pull request.
    ("GET", "reactions/list-for-issue-comment"): _req(
        "issues:read",
        docs="reactions/reactions#list-reactions-for-an-issue-comment",
        public_read=True,
    ),
    ("POST", "reactions/create-for-issue-comment"): _req(
        "issues:write", docs="reactions/reactions#create-reaction-for-an-issue-comment"
    ),
    ("DELETE", "reactions/delete-for-issue-comment"): _req(
        "issues:write", docs="reactions/reactions#delete-an-issue-comment-reaction"
    ),
    ("GET", "reactions/list-for-issue"): _req(
        "issues:read", docs="reactions/reactions#list-reactions-for-an-issue", public_read=True
    ),
    ("POST", "reactions/create-for-issue"): _req(
        "issues:write", docs="reactions/reactions#create-reaction-for-an-issue"
    ),
    # --- Commit statuses
    ("POST", "repos/create-commit-status"): _req(
        "statuses:write", docs="commits/statuses#create-a-commit-status"
    ),
    ("GET", "repos/list-commit-statuses-for-ref"): _req(
        "statuses:read",
        docs="commits/statuses#list-commit-statuses-for-a-reference",
        public_read=True,
    ),
    ("GET", "repos/get-combined-status-for-ref"): _req(
        "statuses:read",
        docs="commits/statuses#get-the-combined-status-for-a-specific-reference",
        public_read=True,
    ),
    # --- Contents: commits, releases and their assets, git refs
    ("GET", "repos/get-commit"): _req(
        "contents:read", docs="commits/commits#get-a-commit", public_read=True
    ),
    ("GET", "repos/list-releases"): _req(
        "contents:read", docs="releases/releases#list-releases", public_read=True
    ),
    ("POST", "repos/create-release"): _req(
        "contents:write",
        docs="releases/releases#create-a-release",
        note="also workflows: write when the tag would touch workflow files (not modelled)",
    ),
    ("GET", "repos/get-latest-release"): _req(
        "contents:read", docs="releases/releases#get-the-latest-release", public_read=True
    ),
    ("GET", "repos/get-release-by-tag"): _req(
        "contents:read", docs="releases/releases#get-a-release-by-tag-name", public_read=True
    ),
    ("GET", "repos/get-release"): _req(
        "contents:read", docs="releases/releases#get-a-release", public_read=True
    ),
    ("PATCH", "repos/update-release"): _req(
        "contents:write", docs="releases/releases#update-a-release"
    ),
    ("DELETE", "repos/delete-release"): _req(
        "contents:write", docs="releases/releases#delete-a-release"
    ),
    ("GET", "repos/list-release-assets"): _req(
        "contents:read", docs="releases/assets#list-release-assets", public_read=True
    ),
    ("POST", "repos/upload-release-asset"): _req(
        "contents:write",
        docs="releases/assets#upload-a-release-asset",
        note="served by uploads.github.com, so absent from the Apps permission table; the "
        "REST reference gives Contents (write)",
    ),
    ("GET", "repos/get-release-asset"): _req(
        "contents:read", docs="releases/assets#get-a-release-asset", public_read=True
    ),
    ("PATCH", "repos/update-release-asset"): _req(
        "contents:write", docs="releases/assets#update-a-release-asset"
    ),
    ("DELETE", "repos/delete-release-asset"): _req(
        "contents:write", docs="releases/assets#delete-a-release-asset"
    ),
    ("GET", "web/release-download"): Requirement(
        (("contents", "read"),),
        "https://docs.github.com/repositories/releasing-projects-on-github/linking-to-releases",
        public_read=True,
        note="github.com's browser_download_url, not the REST API: checked only when a "
        "token with permissions is sent",
    ),
    ("GET", "git/get-ref"): _req(
        "contents:read", docs="git/refs#get-a-reference", public_read=True
    ),
    ("GET", "git/list-matching-refs"): _req(
        "contents:read", docs="git/refs#list-matching-references", public_read=True
    ),
    ("POST", "git/create-ref"): _req(
        "contents:write",
        docs="git/refs#create-a-reference",
        note="also workflows: write for refs that change workflow files (not modelled)",
    ),
    ("PATCH", "git/update-ref"): _req(
        "contents:write",
        docs="git/refs#update-a-reference",
        note="also workflows: write for refs that change workflow files (not modelled)",
    ),
    ("DELETE", "git/delete-ref"): _req("contents:write", docs="git/refs#delete-a-reference"),
    # --- Deployments
    ("GET", "repos/list-deployments"): _req(
        "deployments:read", docs="deployments/deployments#list-deployments", public_read=True
    ),
    ("POST", "repos/create-deployment"): _req(
        "deployments:write", docs="deployments/deployments#create-a-deployment"
    ),
    ("GET", "repos/get-deployment"): _req(
        "deployments:read", docs="deployments/deployments#get-a-deployment", public_read=True
    ),
    ("GET", "repos/list-deployment-statuses"): _req(
        "deployments:read", docs="deployments/statuses#list-deployment-statuses", public_read=True
    ),
    ("POST", "repos/create-deployment-status"): _req(
        "deployments:write", docs="deployments/statuses#create-a-deployment-status"
    ),
    ("GET", "repos/get-deployment-status"): _req(
        "deployments:read", docs="deployments/statuses#get-a-deployment-status", public_read=True
    ),
}


def requirement(method: str, operation_id: str) -> Requirement:
    try:
        return OPERATION_PERMISSIONS[(method.upper(), operation_id)]
    except KeyError:
        raise KeyError(
            f"{method} {operation_id} has no entry in tests/emulator/permissions.py "
            "OPERATION_PERMISSIONS: add the permission GitHub's docs give it"
        ) from None


# ------------------------------------------------------------------ workflow files


def workflow_jobs(workflow: Mapping[str, Any]) -> dict[str, Any]:
    jobs = workflow.get("jobs")
    if not isinstance(jobs, Mapping) or not jobs:
        raise ValueError("the workflow has no jobs")
    return dict(jobs)


def job_permissions(workflow_text: str, job: str | None = None) -> tuple[str, dict[str, str]]:
    """``(job id, effective permissions)`` of ``job`` in a workflow file, as GitHub computes
    them: the job's own ``permissions:`` if it has one (it replaces the workflow's, it is not
    merged), else the workflow's top-level ``permissions:``, else the repository default
    (:data:`RESTRICTED_DEFAULT`). ``job=None`` is allowed when the workflow has one job.

    (PyYAML reads the ``on:`` key as ``True``; only ``jobs`` and ``permissions`` are used.)
    """
    import yaml  # only here: the emulator itself needs nothing outside the standard library

    workflow = yaml.safe_load(workflow_text)
    if not isinstance(workflow, Mapping):
        raise ValueError("the workflow is not a YAML mapping")
    jobs = workflow_jobs(workflow)
    if job is None:
        if len(jobs) != 1:
            raise ValueError(
                f"the workflow has {len(jobs)} jobs ({', '.join(map(str, jobs))}): "
                "name the one to run (job=...), its token gets that job's permissions"
            )
        job = str(next(iter(jobs)))
    if job not in jobs:
        raise ValueError(f"no job {job!r} in the workflow (jobs: {', '.join(map(str, jobs))})")
    spec = jobs[job]
    if not isinstance(spec, Mapping):
        raise ValueError(f"job {job!r} is not a mapping")
    if "uses" in spec:
        raise ValueError(f"job {job!r} calls a reusable workflow: not supported")
    if "permissions" in spec:
        declared = spec["permissions"]
    elif "permissions" in workflow:
        declared = workflow["permissions"]
    else:
        declared = RESTRICTED_DEFAULT
    if declared is None:  # `permissions:` with nothing after it
        raise ValueError(f"job {job!r}: `permissions:` is empty; write `permissions: {{}}`")
    return job, normalize_permissions(declared)
