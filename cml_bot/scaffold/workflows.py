"""The three GitHub workflow files ``cml-bot init`` writes, and the action ref they pin.

The PR report (``cml-bot.yml``), slash command (``cml-bot-commands.yml``) and deploy
(``cml-bot-deploy.yml``) workflows follow ``docs/workflows.md``: nothing granted at the top
level, least-privilege ``permissions:`` per job, every action pinned to a full commit SHA (the
cml-bot action itself is pinned by the user: ``--action-ref``). Also here: checking that ref.
The texts are Jinja2 templates (``templates/scaffold/workflows/``, loaded by
:mod:`cml_bot.scaffold.templates`); this module decides what goes into them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cml_bot import DEFAULT_CONFIG_FILE, __version__
from cml_bot.core import ConfigError
from cml_bot.scaffold.templates import render

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


def deploy_paths(training: Sequence[str]) -> list[str]:
    """The deploy workflow's ``paths:`` filter: what training reads (``ml.filter_paths``) and
    the deploy workflow itself, so that editing the filter runs it once."""
    return list(dict.fromkeys([*training, DEPLOY_WORKFLOW.as_posix()]))


def is_pinned(ref: str) -> bool:
    return bool(_SHA_RE.match(ref.rpartition("@")[2]))


def render_workflows(
    action_ref: str,
    *,
    branch: str = "main",
    config_name: str = DEFAULT_CONFIG_FILE,
    working_directory: str = ".",
    environment: str = "production",
    python_version: str = PYTHON_VERSION,
    paths: Sequence[str] = (),
) -> dict[Path, str]:
    """The PR report, slash command and deploy workflows (docs/workflows.md), by relative path.

    Each is ``templates/scaffold/workflows/<file name>.j2``; all three end with the cml-bot step
    of ``workflows/action-step.yml.j2``. ``paths``: the files (relative to the repository) whose
    change deploys (:func:`deploy_paths`); none: every push to ``branch`` does.
    """
    context = {
        "version": __version__,
        "checkout": CHECKOUT,
        "action_repo": ACTION_REPO,
        "action_ref": action_ref,
        "pinned": is_pinned(action_ref),
        "python_version": python_version,
        "default_config": DEFAULT_CONFIG_FILE,
        "config_name": config_name,
        "working_directory": working_directory,
        "branch": branch,
        "environment": environment,
        "paths": list(paths),
    }
    return {
        path: render(f"workflows/{path.name}.j2", **context)
        for path in (PR_WORKFLOW, COMMANDS_WORKFLOW, DEPLOY_WORKFLOW)
    }
