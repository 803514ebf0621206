"""``cml-bot doctor``: check a repository's cml-bot setup and say what to fix.

Each check is one line of a checklist: ``ok``, ``FAIL`` (with the fix), ``warn`` (works, but
will bite later) or ``skip`` (cannot be checked here, and why). The checks:

1. the config is valid (:func:`cml_bot.config.load_config`);
2. the data is readable and the target is there (:func:`cml_bot.data.load_dataset`), or the
   training command's program exists;
3. git: a repository, and the default branch to compare with (``baseline: base``, first PRs);
4. workflows under ``.github/workflows``: at least one runs cml-bot; each job that does has the
   ``permissions:`` its triggers need; every action is pinned to a full commit SHA; checkouts
   fetch the history (``fetch-depth: 0``);
5. the GitHub token named by ``--token-env`` (when set): accepted by ``GITHUB_API_URL``, who it
   acts as (the login the sticky comment is matched by), and its access to the repository;
6. the tracking store: an http(s) server answers ``/health`` and accepts the credentials from
   ``MLFLOW_TRACKING_*``; a SQLite store's folder is writable.

Exit code: 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from cml_bot import gitinfo
from cml_bot.config import Config, load_config
from cml_bot.errors import CmlBotError

Status = Literal["ok", "fail", "warn", "skip"]
TROUBLE = "docs/troubleshooting.md"
LEVELS = {"none": 0, "read": 1, "write": 2}
SCOPES = (
    "actions",
    "checks",
    "contents",
    "deployments",
    "id-token",
    "issues",
    "discussions",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
    "attestations",
    "models",
)
_REPORT = {"contents": "read", "pull-requests": "write", "statuses": "write"}
_DEPLOY = {
    "contents": "read",
    "deployments": "write",
    "statuses": "write",
    "pull-requests": "write",
}
# What a job that runs cml-bot needs, by the event that starts it (see docs/workflows.md).
NEEDS: dict[str, dict[str, str]] = {
    "pull_request": _REPORT,
    "pull_request_target": _REPORT,
    "issue_comment": _REPORT,
    "workflow_dispatch": _REPORT,
    "push": _DEPLOY,
    "workflow_run": {**_REPORT, "actions": "read"},
}
# Not needed for every run, but a feature of that workflow fails without it.
RECOMMENDED: dict[str, dict[str, tuple[str, str]]] = {
    "issue_comment": {"deployments": ("write", "/deploy and /rollback create deployments")},
    "push": {
        "contents": (
            "write",
            "the github registry backend (the default inside Actions "
            "without a tracking URI) keeps versions as Releases and tags",
        )
    },
}
SHA_RE = re.compile(r"^[0-9a-f]{40}$")
PROGRAM_PLACEHOLDERS = ("{python}",)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Inputs:
    config_path: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 - the variable's name, not a token
    repository: str | None = None
    timeout: float = 5.0


# --------------------------------------------------------------------------- the run


def run(inp: Inputs) -> list[Check]:
    """Every check, in checklist order."""
    checks: list[Check] = []
    cfg, check = check_config(inp.config_path)
    checks.append(check)
    config_dir = inp.config_path.resolve().parent
    root = repo_root(config_dir)
    if cfg is not None:
        checks.append(check_data(cfg))
    checks.extend(check_git(root, cfg))
    checks.extend(check_workflows(root))
    checks.extend(check_token(inp, root))
    if cfg is not None:
        checks.append(check_tracking(cfg, inp.env, inp.timeout))
    return checks


def exit_code(checks: Iterable[Check]) -> int:
    return 1 if any(c.status == "fail" for c in checks) else 0


def render(checks: list[Check], config_path: Path) -> str:
    marks = {"ok": "[ok]  ", "fail": "[FAIL]", "warn": "[warn]", "skip": "[skip]"}
    lines = [f"cml-bot doctor: {config_path}"]
    for c in checks:
        detail = c.detail.replace("\n", "\n         ")
        lines.append(f"{marks[c.status]} {c.name}: {detail}")
        if c.fix and c.status in ("fail", "warn"):
            lines.append(f"         fix: {c.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    summary = "all checks passed" if not failed else f"{failed} problem{'s' * (failed > 1)} to fix"
    if warned:
        summary += f" ({warned} warning{'s' * (warned > 1)})"
    lines += ["", summary + "."]
    return "\n".join(lines)


def repo_root(folder: Path) -> Path:
    top = (
        gitinfo.git(["rev-parse", "--show-toplevel"], folder, check=False)
        if folder.is_dir()
        else ""
    )
    return Path(top) if top else folder


# --------------------------------------------------------------------------- config and data


def check_config(path: Path) -> tuple[Config | None, Check]:
    try:
        cfg = load_config(path)
    except CmlBotError as exc:
        return None, Check("config", "fail", exc.message, exc.fix or "fix the config")
    return cfg, Check(
        "config",
        "ok",
        f"{path.name} is valid (model {cfg.model.name}, {cfg.model.task}; metrics "
        f"{', '.join(cfg.evaluate.metrics)}; baseline {cfg.baseline})",
    )


def check_data(cfg: Config) -> Check:
    if cfg.train.command is not None:
        return _check_command(cfg)
    from cml_bot import data

    try:
        ds = data.load_dataset(cfg)
    except CmlBotError as exc:
        return Check("data", "fail", exc.message, exc.fix)
    what = f"target '{ds.target}'"
    if cfg.model.task == "classification":
        what += f" ({ds.train[ds.target].nunique()} classes)"
    return Check(
        "data",
        "ok",
        f"{cfg.train.data}: {len(ds.train)} training and {len(ds.evaluation)} evaluation rows, "
        f"{len(ds.features)} features, {what}",
    )


def _check_command(cfg: Config) -> Check:
    assert cfg.train.command is not None
    program = cfg.train.command[0]
    found = (
        program in PROGRAM_PLACEHOLDERS
        or shutil.which(program) is not None
        or cfg.resolve(program).is_file()
    )
    if not found:
        return Check(
            "data",
            "fail",
            f"the training command's program {program!r} is neither on PATH nor a file",
            "fix train.command (a relative path resolves against the config's folder); "
            "`{python}` is the interpreter running cml-bot",
        )
    if cfg.evaluate.data:
        from cml_bot import data

        try:
            frame, _ = data.load_frame(cfg.evaluate.data, cfg, "evaluation")
        except CmlBotError as exc:
            return Check("data", "fail", exc.message, exc.fix)
        return Check(
            "data",
            "ok",
            f"training command {program}; evaluate.data {cfg.evaluate.data} has {len(frame)} rows",
        )
    return Check(
        "data",
        "ok",
        f"training command {program} (it reads its own data; run `cml-bot train` to try it)",
    )


# --------------------------------------------------------------------------- git


def check_git(root: Path, cfg: Config | None) -> list[Check]:
    info = gitinfo.read(root)
    if not info.sha:
        return [
            Check(
                "git",
                "warn",
                f"{root} is not a git repository with a commit",
                "cml-bot compares commits: `git init`, commit, and push to GitHub",
            )
        ]
    from cml_bot.baseline import default_base_ref

    try:
        base = default_base_ref(root)
    except CmlBotError as exc:
        needs = cfg is None or cfg.baseline != "none"
        return [
            Check(
                "git",
                "warn" if needs else "ok",
                f"at {info.sha[:7]}; {exc.message}",
                f"{exc.fix} ({TROUBLE}#shallow-checkout)",
            )
        ]
    return [Check("git", "ok", f"at {info.sha[:7]}; the base to compare with is {base[:7]}")]


# --------------------------------------------------------------------------- workflows


@dataclass(frozen=True)
class Job:
    file: str
    name: str
    triggers: tuple[str, ...]
    permissions: Any  # None: not set at all; str (read-all/write-all) or a mapping
    inherited: bool  # the permissions come from the workflow's top level
    steps: tuple[Mapping[str, Any], ...]
    uses: str | None  # a reusable workflow call


def load_workflows(root: Path) -> tuple[list[Job], list[Check]]:
    folder = root / ".github" / "workflows"
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    jobs: list[Job] = []
    problems: list[Check] = []
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(
                Check(f"workflow {path.name}", "fail", f"not valid YAML: {exc}", "fix the syntax")
            )
            continue
        if not isinstance(doc, dict):
            continue
        triggers = _triggers(doc.get("on", doc.get(True)))
        top = doc.get("permissions")
        for name, job in (doc.get("jobs") or {}).items():
            if not isinstance(job, dict):
                continue
            own = job.get("permissions")
            steps = tuple(s for s in job.get("steps") or [] if isinstance(s, dict))
            jobs.append(
                Job(
                    file=path.name,
                    name=str(name),
                    triggers=triggers,
                    permissions=own if "permissions" in job else top,
                    inherited="permissions" not in job and "permissions" in doc,
                    steps=steps,
                    uses=job.get("uses") if isinstance(job.get("uses"), str) else None,
                )
            )
    return jobs, problems


def _triggers(on: Any) -> tuple[str, ...]:
    if isinstance(on, str):
        return (on,)
    if isinstance(on, list):
        return tuple(str(t) for t in on)
    if isinstance(on, dict):
        return tuple(str(t) for t in on)
    return ()


def runs_cml_bot(job: Job) -> bool:
    """A step uses the cml-bot action (any owner, or a local copy) or runs the CLI."""
    for step in job.steps:
        uses = str(step.get("uses") or "")
        action = uses.split("@", 1)[0].rstrip("/")
        if action.endswith("/cml-bot") or action in ("cml-bot", "."):
            return True
        if re.search(r"(^|[\s/])cml-bot\s", str(step.get("run") or "")):
            return True
    return False


def granted(permissions: Any, scope: str) -> int:
    """The level a job's ``permissions:`` grants a scope (0 none, 1 read, 2 write)."""
    if isinstance(permissions, str):
        return {"read-all": 1, "write-all": 2}.get(permissions, 0)
    if isinstance(permissions, dict):
        return LEVELS.get(str(permissions.get(scope, "none")), 0)
    return 0


def needed(triggers: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for trigger in triggers:
        for scope, level in NEEDS.get(trigger, {}).items():
            if LEVELS[level] > LEVELS.get(out.get(scope, "none"), 0):
                out[scope] = level
    return out


def check_job(job: Job) -> list[Check]:
    name = f"workflow {job.file}, job {job.name}"
    need = needed(job.triggers) or dict(_REPORT)
    block = "; ".join(f"{s}: {lvl}" for s, lvl in need.items())
    if job.permissions is None:
        return [
            Check(
                name,
                "fail",
                "no `permissions:` for this job or its workflow: the token gets the "
                "repository's default, which is read-only for repositories created since 2023",
                f"give the job `permissions:` with {block} "
                f"({TROUBLE}#resource-not-accessible-by-integration)",
            )
        ]
    missing = [
        f"{s}: {lvl}" for s, lvl in need.items() if granted(job.permissions, s) < LEVELS[lvl]
    ]
    where = "the workflow's top-level" if job.inherited else "its"
    if missing:
        return [
            Check(
                name,
                "fail",
                f"{where} `permissions:` lack {', '.join(missing)} (triggers: "
                f"{', '.join(job.triggers) or 'none'})",
                f"add {', '.join(missing)} to the job's `permissions:` "
                f"({TROUBLE}#resource-not-accessible-by-integration)",
            )
        ]
    checks = [Check(name, "ok", f"permissions grant {block}")]
    for trigger in job.triggers:
        for scope, (level, why) in RECOMMENDED.get(trigger, {}).items():
            if granted(job.permissions, scope) < LEVELS[level]:
                checks.append(
                    Check(name, "warn", f"no {scope}: {level}: {why}", f"add {scope}: {level}")
                )
    if job.permissions == "write-all" or job.inherited:
        checks.append(
            Check(
                name,
                "warn",
                "permissions are broader than the job needs"
                if job.permissions == "write-all"
                else "permissions are granted at the workflow's top level, to every job",
                f"set `permissions: {{}}` at the top and {block} on this job",
            )
        )
    return checks


def unpinned(jobs: Iterable[Job]) -> list[str]:
    """``file: job: uses`` of every action not pinned to a full commit SHA."""
    out = []
    for job in jobs:
        refs = [job.uses] if job.uses else []
        refs += [str(s["uses"]) for s in job.steps if s.get("uses")]
        for ref in refs:
            if ref.startswith("./"):
                continue  # an action in this repository: pinned by the commit itself
            if ref.startswith("docker://"):
                if "@sha256:" not in ref:
                    out.append(f"{job.file}: {job.name}: {ref}")
                continue
            if not SHA_RE.match(ref.rpartition("@")[2]):
                out.append(f"{job.file}: {job.name}: {ref}")
    return out


def shallow(jobs: Iterable[Job]) -> list[str]:
    """Jobs running cml-bot whose actions/checkout fetches one commit only."""
    out = []
    for job in jobs:
        for step in job.steps:
            uses = str(step.get("uses") or "")
            if uses.split("@", 1)[0] != "actions/checkout":
                continue
            depth = (step.get("with") or {}).get("fetch-depth", 1)
            if str(depth) != "0":
                out.append(f"{job.file}: {job.name}")
    return out


def check_workflows(root: Path) -> list[Check]:
    jobs, checks = load_workflows(root)
    mine = [j for j in jobs if runs_cml_bot(j)]
    if not mine:
        checks.append(
            Check(
                "workflows",
                "fail",
                f"no workflow under {root / '.github' / 'workflows'} runs cml-bot",
                "`cml-bot init` writes the PR, slash-command and deploy workflows "
                "(docs/workflows.md has them to copy)",
            )
        )
        return checks
    files = sorted({j.file for j in mine})
    checks.append(Check("workflows", "ok", f"cml-bot runs in {', '.join(files)}"))
    for job in mine:
        checks.extend(check_job(job))
    loose = unpinned(j for j in jobs if j.file in files)
    if loose:
        checks.append(
            Check(
                "pinned actions",
                "fail",
                "not pinned to a full commit SHA:\n" + "\n".join(loose),
                "replace each tag or branch with the full commit SHA you reviewed (keep the tag "
                "in a comment: `uses: owner/repo@<sha> # v1.2.3`)",
            )
        )
    else:
        checks.append(Check("pinned actions", "ok", "every action is pinned to a full commit SHA"))
    flat = shallow(mine)
    if flat:
        checks.append(
            Check(
                "checkout depth",
                "warn",
                "actions/checkout fetches one commit in " + ", ".join(flat),
                f"add `with: {{fetch-depth: 0}}` so the base branch is there "
                f"({TROUBLE}#shallow-checkout)",
            )
        )
    return checks


# --------------------------------------------------------------------------- the GitHub token

# Names a GitHub adapter method for ``GET /repos/{owner}/{repo}`` may have.
REPO_METHODS = ("repository_info", "repo_info", "get_repository", "repository")


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


def _token_checks(client: Any, repository: str, api_url: str) -> list[Check]:
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
    method = next(
        (getattr(client, n) for n in REPO_METHODS if callable(getattr(client, n, None))), None
    )
    if method is None:
        checks.append(
            Check(
                "repository access",
                "skip",
                f"this cml-bot's GitHub adapter has no repository lookup (GET /repos/{repository})"
                "; the first workflow run will tell",
            )
        )
    else:
        checks.append(_repository_check(method, repository))
    if login:
        checks.append(_role_check(client, login, repository))
    return checks


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _repository_check(method: Callable[[], Any], repository: str) -> Check:
    try:
        info = method()
    except CmlBotError as exc:
        return Check("repository access", "fail", exc.message, exc.fix)
    perms = _field(info, "permissions")
    push = _field(perms, "push") if perms is not None else None
    name = _field(info, "full_name") or repository
    if push is False:
        return Check(
            "repository access",
            "fail",
            f"the token can read {name} but not write to it",
            "use a token with write access (GITHUB_TOKEN with the job's `permissions:`); "
            f"a fork's pull request always gets a read-only token ({TROUBLE}#fork-pull-requests)",
        )
    return Check("repository access", "ok", f"the token can reach {name}")


def _role_check(client: Any, login: str, repository: str) -> Check:
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
    from cml_bot.tracking import default_tracking_uri

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


def _auth_headers(env: Mapping[str, str], parts: urllib.parse.SplitResult) -> dict[str, str]:
    if env.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"}
    user = env.get("MLFLOW_TRACKING_USERNAME") or urllib.parse.unquote(parts.username or "")
    password = env.get("MLFLOW_TRACKING_PASSWORD") or urllib.parse.unquote(parts.password or "")
    if user:
        raw = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}
    return {}


def _get(url: str, headers: Mapping[str, str], timeout: float) -> int:
    """The HTTP status of a GET (an error status too); raises OSError when nothing answers."""
    request = urllib.request.Request(url, headers=dict(headers), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _check_server(uri: str, env: Mapping[str, str], timeout: float) -> Check:
    parts = urllib.parse.urlsplit(uri)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    shown = _safe(uri)
    try:
        health = _get(f"{base}/health", {}, timeout)
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        return Check(
            "tracking",
            "fail",
            f"{shown} does not answer ({reason})",
            f"check the URI and that the server is up and reachable from here "
            f"({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    headers = _auth_headers(env, parts)
    search = f"{base}/api/2.0/mlflow/experiments/search?max_results=1"
    try:
        status = _get(search, headers, timeout)
    except OSError as exc:
        return Check(
            "tracking", "fail", f"{shown}: {exc}", f"{TROUBLE}#cannot-open-the-mlflow-store"
        )
    if status in (401, 403):
        given = (
            "with the credentials from MLFLOW_TRACKING_*"
            if headers
            else "without credentials (no MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME set)"
        )
        return Check(
            "tracking",
            "fail",
            f"{shown} refused the request (HTTP {status}) {given}",
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) "
            f"to an account the server accepts ({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    if status >= 400:
        return Check(
            "tracking",
            "warn" if health == 200 else "fail",
            f"{shown}: /health answered {health}, the experiments API answered HTTP {status}",
            f"is this an MLflow tracking server? ({TROUBLE}#cannot-open-the-mlflow-store)",
        )
    auth = "with the credentials given" if headers else "without credentials"
    return Check("tracking", "ok", f"{shown} is up and answers {auth}")


def _safe(uri: str) -> str:
    """The URI without any ``user:password@`` part, fit for output."""
    parts = urllib.parse.urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
