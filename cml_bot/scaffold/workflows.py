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
# Current majors, on GitHub's Node 24 runtime; each pinned to the full commit SHA of its tag.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
UPLOAD_ARTIFACT = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0"
DOWNLOAD_ARTIFACT = "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1"
OUT_DIR = ".cml-bot/out"  # where `cml-bot run` writes result.json and pr.json (app.local)
PYTHON_VERSION = "3.11"
WORKFLOW_DIR = Path(".github") / "workflows"
PR_WORKFLOW = WORKFLOW_DIR / "cml-bot.yml"
COMMANDS_WORKFLOW = WORKFLOW_DIR / "cml-bot-commands.yml"
DEPLOY_WORKFLOW = WORKFLOW_DIR / "cml-bot-deploy.yml"
PUBLISH_WORKFLOW = WORKFLOW_DIR / "cml-bot-publish.yml"  # with --forks
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_TAG_RE = re.compile(r"^v?[0-9]+(\.[0-9]+){0,3}([-+][0-9A-Za-z.-]+)?$")  # v1, v1.2.0, 1.2.0-rc1
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
    at = ref.rpartition("@")[2]
    short = re.fullmatch(r"[0-9a-f]{7,39}", at) is not None
    if short or not (_SHA_RE.match(at) or _TAG_RE.match(at)):
        raise ConfigError(
            f"--action-ref {ref!r}: '{at}' is "
            + (
                "a short commit SHA, which can become ambiguous"
                if short
                else "not a release tag "
                "or a commit SHA: a branch moves, so the workflows would run whatever it points at "
                "next"
            ),
            fix=f"pin the full 40-character commit SHA ({ref.rpartition('@')[0]}@<sha>), or a "
            "release tag such as v1.2.0",
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
    forks: bool = False,
    paths: Sequence[str] = (),
) -> dict[Path, str]:
    """The PR report, slash command and deploy workflows (docs/workflows.md), by relative path;
    with ``forks``, the fork recipe too: the PR job's upload step and ``cml-bot-publish.yml``.

    Each is ``templates/scaffold/workflows/<file name>.j2``; the first three end with the
    cml-bot step of ``workflows/action-step.yml.j2``. ``paths``: the files (relative to the
    repository) whose change deploys (:func:`deploy_paths`); none: every push to ``branch`` does.
    """
    folder = working_directory.strip("/") if working_directory not in ("", ".") else ""
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
        "forks": forks,
        "setup_python": SETUP_PYTHON,
        "upload_artifact": UPLOAD_ARTIFACT,
        "download_artifact": DOWNLOAD_ARTIFACT,
        "out_dir": f"{folder}/{OUT_DIR}" if folder else OUT_DIR,
        "config_path": f"{folder}/{config_name}" if folder else config_name,
        "paths": list(paths),
    }
    files = [PR_WORKFLOW, COMMANDS_WORKFLOW, DEPLOY_WORKFLOW, *([PUBLISH_WORKFLOW] * forks)]
    return {path: render(f"workflows/{path.name}.j2", **context) for path in files}
