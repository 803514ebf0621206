"""``cml-bot doctor``'s checks that ask a server: the GitHub token and the tracking store.

The token named by ``--token-env`` (when set): accepted by ``GITHUB_API_URL``, who it acts as
(the login the sticky comment is matched by), and its access to the repository. The tracking
store: an http(s) server answers ``/health`` and MLflow's own client, with MLflow's TLS and auth
settings (``MLFLOW_TRACKING_*``; :func:`cml_bot.registry.ping`); a SQLite or file store's folder
is writable. Credentials never reach the output (:func:`_safe`).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot.config import Config
from cml_bot.core import CmlBotError
from cml_bot.core import git as gitinfo
from cml_bot.doctor.check import TROUBLE, Check, Inputs

if TYPE_CHECKING:  # PyGithub loads with it: only when a token is checked
    from cml_bot.github import GitHubClient

# --------------------------------------------------------------------------- the GitHub token


def repository_name(inp: Inputs, root: Path) -> str | None:
    """``--repository``, else GITHUB_REPOSITORY, else the ``origin`` remote's OWNER/NAME."""
    if inp.repository:
        return inp.repository
    if inp.env.get("GITHUB_REPOSITORY"):
        return inp.env["GITHUB_REPOSITORY"]
    url = gitinfo.git(["remote", "get-url", "origin"], root, check=False) if root.is_dir() else ""
    match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def check_token(
    inp: Inputs, root: Path, client_factory: Callable[..., Any] | None = None
) -> list[Check]:
    token = inp.env.get(inp.token_env, "")
    if not token:
        return [
            Check(
                "github token",
                "skip",
                f"{inp.token_env} is not set; set it (or pass --token-env NAME) to check a token "
                "against the GitHub API",
            )
        ]
    repository = repository_name(inp, root)
    if not repository:
        return [
            Check(
                "github token",
                "skip",
                "no repository to check against: pass --repository OWNER/NAME or set "
                "GITHUB_REPOSITORY (no `origin` remote found)",
            )
        ]
    api_url = inp.env.get("GITHUB_API_URL") or "https://api.github.com"
    if client_factory is None:
        from cml_bot.github import GitHubClient

        client_factory = GitHubClient
    try:
        client = client_factory(
            token,
            repository,
            api_url=api_url,
            max_attempts=2,
            max_wait=inp.timeout,
            timeout=inp.timeout,
        )
    except CmlBotError as exc:
        return [Check("github token", "fail", exc.message, exc.fix)]
    try:
        return _token_checks(client, repository, api_url)
    finally:
        client.close()


def _token_checks(client: GitHubClient, repository: str, api_url: str) -> list[Check]:
    try:
        login = client.whoami()
    except CmlBotError as exc:
        return [Check("github token", "fail", exc.message, exc.fix)]
    who = (
        f"acts as @{login}"
        if login
        else "is an installation token (GITHUB_TOKEN or a GitHub App): comments come from "
        "github-actions[bot] or the app"
    )
    checks = [
        Check(
            "github token",
            "ok",
            f"accepted by {api_url}; it {who}. cml-bot finds its sticky comment by this "
            "identity: a different token later means a new comment "
            f"({TROUBLE}#the-comment-never-updates)",
        )
    ]
    checks.append(_repository_check(client, repository))
    if login:
        checks.append(_role_check(client, login, repository))
    return checks


def _repository_check(client: GitHubClient, repository: str) -> Check:
    """``GET /repos/{owner}/{repo}`` through the same client the bot uses."""
    try:
        info = client.repository_info()
    except CmlBotError as exc:
        return Check("repository access", "fail", exc.message, exc.fix)
    name = info.full_name or repository
    if info.push is False:
        return Check(
            "repository access",
            "fail",
            f"the token can read {name} but not write to it",
            "use a token with write access (GITHUB_TOKEN with the job's `permissions:`); "
            f"a fork's pull request always gets a read-only token ({TROUBLE}#fork-pull-requests)",
        )
    return Check("repository access", "ok", f"the token can reach {name}")


def _role_check(client: GitHubClient, login: str, repository: str) -> Check:
    try:
        level = client.permission(login)
    except CmlBotError as exc:
        return Check("repository role", "fail", exc.message, exc.fix)
    if level in ("write", "maintain", "admin"):
        return Check("repository role", "ok", f"@{login} has {level} on {repository}")
    return Check(
        "repository role",
        "fail",
        f"@{login} has {level} on {repository}: cml-bot cannot comment or set statuses",
        "give that user write access, or use another token",
    )


# --------------------------------------------------------------------------- the tracking store


def check_tracking(cfg: Config, env: Mapping[str, str], timeout: float = 5.0) -> Check:
    from cml_bot.registry import default_tracking_uri

    uri = default_tracking_uri(cfg.registry.tracking_uri, env, cfg.root)
    if uri.startswith(("http://", "https://")):
        return _check_server(uri, env, timeout)
    if uri.startswith("sqlite:///"):
        return _check_folder(uri, Path(uri.removeprefix("sqlite:///")).parent)
    if uri.startswith("file:") or "://" not in uri:
        path = Path(urllib.parse.urlsplit(uri).path if uri.startswith("file:") else uri)
        return _check_folder(uri, path)
    return Check(
        "tracking",
        "skip",
        f"{_safe(uri)}: cml-bot checks http(s), sqlite and file stores only",
    )


def _check_folder(uri: str, folder: Path) -> Check:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if os.access(existing, os.W_OK):
        made = "" if existing == folder else " (it will be created)"
        return Check("tracking", "ok", f"{_safe(uri)}: the folder {folder} is writable{made}")
    return Check(
        "tracking",
        "fail",
        f"{_safe(uri)}: cannot write to {existing}",
        "make the folder writable, or set registry.tracking_uri / MLFLOW_TRACKING_URI "
        "to another store",
    )


def _check_server(uri: str, env: Mapping[str, str], timeout: float) -> Check:
    """An http(s) tracking server, asked through MLflow's own client (:func:`registry.ping`), with
    MLflow's TLS and auth settings from ``env``."""
    from cml_bot.registry import ping

    shown = _safe(uri)
    answer = ping(uri, env=env, timeout=timeout)
    if answer.status is None and answer.health is None:
        return Check(
            "tracking",
            "fail",
            f"{shown} does not answer ({answer.reason})",
            f"check the URI and that the server is up and reachable from here "
            f"({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    if answer.status is None:
        return Check(
            "tracking",
            "fail",
            f"{shown}: {answer.reason}",
            f"{TROUBLE}#cannot-open-the-mlflow-store",
        )
    if answer.status in (401, 403):
        given = (
            "with the credentials from MLFLOW_TRACKING_*"
            if answer.credentials
            else "without credentials (no MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME set)"
        )
        return Check(
            "tracking",
            "fail",
            f"{shown} refused the request (HTTP {answer.status}) {given}",
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) "
            f"to an account the server accepts ({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    if not answer.ok:
        return Check(
            "tracking",
            "warn" if answer.health == 200 else "fail",
            f"{shown}: /health answered {answer.health}, the experiments API answered HTTP "
            f"{answer.status}",
            f"is this an MLflow tracking server? ({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    auth = "with the credentials given" if answer.credentials else "without credentials"
    return Check("tracking", "ok", f"{shown} is up and answers {auth}")


def _safe(uri: str) -> str:
    """The URI without any ``user:password@`` part, fit for output."""
    parts = urllib.parse.urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
