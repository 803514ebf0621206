"""`cml-bot publish`: the trusted half of the fork recipe (docs/workflows.md, fork pull requests).

A fork's pull-request run has a read-only token, so it uploads its ``result.json`` and
``pr.json`` as an artifact; a ``workflow_run`` job with a write token publishes them. Nothing from
the artifact is executed or rendered as-is (see :mod:`cml_bot.bot.fork_artifact`), and it is
published only for the commit both the run and the pull request are at.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot.app.actions_env import Runner, ScrubbingGitHub, github_client
from cml_bot.core import ConfigError, PayloadError, RefusedError

if TYPE_CHECKING:
    from cml_bot.app.local import Settings
    from cml_bot.config import Config
    from cml_bot.github import StickyResult


def publish_artifact(settings: Settings, artifact: Path) -> StickyResult:
    """Publish a fork PR's artifact from a workflow_run job: the compact report as the sticky
    comment, and the commit status."""
    from cml_bot.app.local import load
    from cml_bot.bot import fork_artifact as untrusted
    from cml_bot.bot import runner as actions

    env = settings.env
    runner = Runner.from_env(env)
    if runner.token:
        actions.add_mask(runner.token, env)
    run = _workflow_run(runner, actions.read_event(env))
    run_sha = str(run.get("head_sha") or "")
    cfg = load(settings)  # the default branch's config, not the fork's
    pr, sha = untrusted.read_claim(artifact)
    result = untrusted.read_result(artifact)
    gh = github_client(runner)
    if gh is None:
        raise ConfigError("publishing needs a token", fix="pass `github-token` to the job")
    _check_claim(gh, pr, sha, run_sha)
    run_url = str(run.get("html_url") or "") or None
    return _publish(settings, gh, cfg, result, pr=pr, sha=sha, run_url=run_url)


def _workflow_run(runner: Runner, payload: Mapping[str, object]) -> Mapping[str, object]:
    """The event's ``workflow_run``; PayloadError when this is not a workflow_run job."""
    run = payload.get("workflow_run")
    if runner.event_name != "workflow_run" or not isinstance(run, dict):
        raise PayloadError(
            "`cml-bot publish` runs in a workflow_run job",
            fix="trigger the publishing workflow with `on: workflow_run`",
        )
    return run


def _check_claim(gh: ScrubbingGitHub, pr: int, sha: str, run_sha: str) -> None:
    """Refuse an artifact whose commit is not both the run's and the PR's head (1 call)."""
    from cml_bot.bot import fork_artifact as untrusted

    pull = gh.pull(pr)
    if not untrusted.claim_matches(sha, run_sha, pull.head_sha):
        raise RefusedError(
            f"the artifact claims PR #{pr} at {sha[:7]}, but the run was for {run_sha[:7]} and "
            f"the PR's head is {pull.head_sha[:7]}: not published",
            fix="re-run the pull request's workflow; only an artifact of the PR's current head "
            "is published",
        )


def _publish(
    settings: Settings,
    gh: ScrubbingGitHub,
    cfg: Config,
    result: dict[str, Any],
    *,
    pr: int,
    sha: str,
    run_url: str | None,
) -> StickyResult:
    """The report rebuilt from the validated numbers as the sticky comment, then the status."""
    from cml_bot.bot import fork_artifact as untrusted
    from cml_bot.bot import publish as publish
    from cml_bot.report import report_marker

    body = untrusted.render(result, model_name=cfg.model.name, sha=sha, run_url=run_url)
    sticky = gh.upsert_sticky(pr, report_marker(cfg.model.name), body)
    # the fork's numbers are claims: shown, never certified (a claimed pass stays pending)
    state, description = publish.fork_status(str(result["verdict"]))
    gh.set_status(sha, publish.status_context(cfg.model.name), state, description, sticky.url)
    settings.progress.say(
        f"cml-bot: published the report of PR #{pr} ({sticky.action}); status {state}"
    )
    return sticky
