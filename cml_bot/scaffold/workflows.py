"""The three GitHub workflow files ``cml-bot init`` writes, and the action ref they pin.

The PR report (``cml-bot.yml``), slash command (``cml-bot-commands.yml``) and deploy
(``cml-bot-deploy.yml``) workflows follow ``docs/workflows.md``: nothing granted at the top
level, least-privilege ``permissions:`` per job, every action pinned to a full commit SHA (the
cml-bot action itself is pinned by the user: ``--action-ref``). Also here: checking that ref,
and quoting a string as one YAML scalar (shared with the config ``init`` writes).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from cml_bot import DEFAULT_CONFIG_FILE, __version__
from cml_bot.core import ConfigError

ACTION_REPO = "cml-bot/cml-bot"
DEFAULT_ACTION_REF = f"{ACTION_REPO}@v{__version__}"
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
PYTHON_VERSION = "3.11"
WORKFLOW_DIR = Path(".github") / "workflows"
PR_WORKFLOW = WORKFLOW_DIR / "cml-bot.yml"
COMMANDS_WORKFLOW = WORKFLOW_DIR / "cml-bot-commands.yml"
DEPLOY_WORKFLOW = WORKFLOW_DIR / "cml-bot-deploy.yml"
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_REF_RE = re.compile(r"^[A-Za-z0-9._-]+/[A-Za-z0-9._/-]+@[A-Za-z0-9._/-]+$")


def check_action_ref(ref: str) -> str:
    """``owner/repo@ref``; a bare commit SHA or tag means the cml-bot action at that ref."""
    ref = ref.strip()
    if "@" not in ref and re.match(r"^[A-Za-z0-9._/-]+$", ref):
        ref = f"{ACTION_REPO}@{ref}"
    if not _REF_RE.match(ref):
        raise ConfigError(
            f"--action-ref {ref!r} is not OWNER/REPO@REF",
            fix=f"pass e.g. {ACTION_REPO}@<full commit SHA of the release you reviewed>",
        )
    return ref


def is_pinned(ref: str) -> bool:
    return bool(_SHA_RE.match(ref.rpartition("@")[2]))


def yaml_scalar(value: str) -> str:
    """A string as one YAML scalar (quoted when YAML would read it as something else)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _action_step(action_ref: str, config_name: str, working_directory: str, py: str) -> str:
    pin = (
        f" # pinned; {ACTION_REPO} release you reviewed"
        if is_pinned(action_ref)
        else " # NOT PINNED: replace the ref with the full commit SHA you reviewed"
    )
    lines = [
        f"        uses: {action_ref}{pin}",
        "        with:",
        f'          python-version: "{py}"',
    ]
    if config_name != DEFAULT_CONFIG_FILE:
        lines.append(f"          config: {yaml_scalar(config_name)}")
    if working_directory != ".":
        lines.append(f"          working-directory: {yaml_scalar(working_directory)}")
    return "\n".join(lines)


def render_workflows(
    action_ref: str,
    *,
    branch: str = "main",
    config_name: str = DEFAULT_CONFIG_FILE,
    working_directory: str = ".",
    environment: str = "production",
    python_version: str = PYTHON_VERSION,
) -> dict[Path, str]:
    """The PR report, slash command and deploy workflows (docs/workflows.md), by relative path."""
    step = _action_step(action_ref, config_name, working_directory, python_version)
    header = (
        f"# Written by `cml-bot init` (cml-bot {__version__}); docs/workflows.md explains it.\n"
    )
    pr = (
        header
        + """\
name: cml-bot
on:
  pull_request:
    types: [opened, synchronize, reopened, ready_for_review]
permissions: {}                    # nothing at the top level: each job asks for what it needs
concurrency:                       # one run per PR; a new push cancels the old run
  group: cml-bot-pr-${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  report:
    runs-on: ubuntu-latest
    permissions:
      contents: read               # check out the code
      pull-requests: write         # the sticky comment (fork PRs get a read-only token anyway)
      statuses: write              # the commit status
    steps:
      - uses: @@CHECKOUT@@
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          fetch-depth: 0           # the base commit, for `baseline: base` and the first PR
          persist-credentials: false
      - id: cml
@@STEP@@
          # mlflow-tracking-uri: ${{ secrets.MLFLOW_TRACKING_URI }}   # a shared MLflow server
"""
    )
    commands = (
        header
        + """\
name: cml-bot commands
on:
  issue_comment:
    types: [created]               # edited and deleted comments never fire
permissions: {}
concurrency:                       # one command at a time per PR; later ones wait their turn
  group: cml-bot-pr-${{ github.event.issue.number }}
  cancel-in-progress: false
jobs:
  command:
    # a cheap filter so ordinary comments start no runner; cml-bot checks everything again
    if: github.event.issue.pull_request && startsWith(github.event.comment.body, '/')
    runs-on: ubuntu-latest
    permissions:
      contents: read               # the default branch's config decides who may do what
      pull-requests: write         # replies, reactions, the report
      issues: write                # reactions on comments
      statuses: write              # the commit status of a retrained head
      deployments: write           # /deploy and /rollback (maintainers only)
    steps:
      - uses: @@CHECKOUT@@
        with:
          fetch-depth: 0           # cml-bot fetches refs/pull/N/head into a separate worktree
      - id: cml
@@STEP@@
"""
    )
    deploy = (
        header
        + """\
name: cml-bot deploy
on:
  push:
    branches: [@@BRANCH@@]  # the default branch: every merge is evaluated, then deployed
permissions: {}
concurrency:                       # deployments run one at a time, in order; none is cancelled
  group: cml-bot-deploy
  cancel-in-progress: false
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: @@ENVIRONMENT@@  # its protection rules and secrets apply to this job
    permissions:
      contents: write              # versions as Releases + tags (github backend)
                                   # (`read` is enough with a team MLflow server)
      deployments: write           # the GitHub Deployment and its statuses
      statuses: write              # the cml-bot/<model>/deploy status on the merge commit
      pull-requests: write         # the comment on the merged pull request
    steps:
      - uses: @@CHECKOUT@@
        with:
          fetch-depth: 0           # ancestry checks when two merges race
          persist-credentials: false
      - id: cml
@@STEP@@
"""
    )
    out = {PR_WORKFLOW: pr, COMMANDS_WORKFLOW: commands, DEPLOY_WORKFLOW: deploy}
    return {
        path: text.replace("@@CHECKOUT@@", CHECKOUT)
        .replace("@@STEP@@", step)
        .replace("@@BRANCH@@", yaml_scalar(branch))
        .replace("@@ENVIRONMENT@@", yaml_scalar(environment))
        for path, text in out.items()
    }
