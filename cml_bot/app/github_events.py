"""Composition for GitHub events: `cml-bot run` inside Actions (pull requests, slash commands,
merges) and `cml-bot plan`.

Slash commands are run by :mod:`cml_bot.app.slash_commands`, `cml-bot publish` (forks) is in
:mod:`cml_bot.app.fork_publish`, and the runner environment and the GitHub client they share
are in :mod:`cml_bot.app.actions_env`. Local use cases and the adapter builders are in
:mod:`cml_bot.app.local`; the deploy wiring in :mod:`cml_bot.app.deploy`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

from cml_bot import __version__
from cml_bot.app.actions_env import ActionResult, Runner, github_client
from cml_bot.core import EXIT_CONFIG, CmlBotError, scrubbed
from cml_bot.core import git as gitinfo
from cml_bot.core import scrub as scrub  # re-exported: the secret tests reach it through here
from cml_bot.core import secret_values as secret_values  # re-exported, as scrub

if TYPE_CHECKING:  # cml_bot.app.local and .config load pydantic: `cml-bot plan` needs neither
    from cml_bot.app.local import Settings
    from cml_bot.app.pr_flow import FlowResult
    from cml_bot.app.trust import Trusted
    from cml_bot.bot.events import Decision
    from cml_bot.bot.publish import Published
    from cml_bot.config import Config


def plan(event_name: str, payload: Mapping[str, object]) -> Decision:
    """The decision for an event, with no network call and no heavy import."""
    from cml_bot.bot import events as events

    return events.decide(event_name, payload)


def run_in_actions(settings: Settings) -> ActionResult:
    """`cml-bot run` without --local: :func:`run_action`, which needs an Actions event."""
    if not settings.env.get("GITHUB_EVENT_PATH"):
        raise CmlBotError(
            "`cml-bot run` without --local runs inside GitHub Actions, and "
            "GITHUB_EVENT_PATH is not set",
            fix="pass --local to run the flow on this working tree",
            exit_code=EXIT_CONFIG,
        )
    return run_action(settings)


def run_action(settings: Settings) -> ActionResult:
    """`cml-bot run` inside GitHub Actions: decide from the event, run the flow, publish."""
    from cml_bot.app.slash_commands import handle_command
    from cml_bot.bot import events as events
    from cml_bot.bot import runner as actions

    env = settings.env
    runner = Runner.from_env(env)
    for secret in runner.secrets:
        actions.add_mask(secret, env)
    payload = actions.read_event(env)
    decision = events.decide(runner.event_name, payload)
    settings.progress.say(f"cml-bot: {decision.action}: {decision.reason}")
    handlers = {"evaluate": _evaluate_pr, "command": handle_command, "deploy": _deploy_on_merge}
    handler = handlers.get(decision.action)
    if handler is not None:
        with scrubbed(runner.secrets):
            return handler(settings, runner, decision)
    result = ActionResult(decision=decision, outputs={"verdict": "skipped"})
    if decision.action != "ignore":
        result.outputs["verdict"] = "not-handled"
        settings.progress.say(
            f"cml-bot {__version__} handles pull request reports; "
            f"'{decision.action}' events are not handled by this version, so "
            "nothing was done."
        )
    actions.set_outputs(result.outputs, env)
    return result


def screen_action(settings: Settings) -> ActionResult:
    """`cml-bot screen`: what `run` would do, stopped before anything that needs the ML stack.

    The action runs it with only cml-bot's light dependencies installed: an ignored event and a
    command that is answered, refused or superseded finish here (the step output ``proceed`` is
    "false"); a pull request, a merge and a command that must run set ``proceed`` to "true" and
    the action installs scikit-learn and MLflow, then runs `cml-bot run`."""
    from cml_bot.app.slash_commands import handle_command
    from cml_bot.bot import events as events
    from cml_bot.bot import runner as actions

    env = settings.env
    runner = Runner.from_env(env)
    for secret in runner.secrets:
        actions.add_mask(secret, env)
    decision = events.decide(runner.event_name, actions.read_event(env))
    if decision.action == "command":
        with scrubbed(runner.secrets):
            return handle_command(settings, runner, decision, screen_only=True)
    proceed = decision.action in ("evaluate", "deploy")
    outputs = {"proceed": "true" if proceed else "false"}
    if not proceed:
        settings.progress.say(f"cml-bot: {decision.action}: {decision.reason}")
        outputs["verdict"] = "skipped" if decision.action == "ignore" else "not-handled"
    actions.set_outputs(outputs, env)
    return ActionResult(decision=decision, outputs=outputs)


def _evaluate_pr(settings: Settings, runner: Runner, decision: Decision) -> ActionResult:
    """A pull request's head: the flow, the job summary, then the comment and the status."""
    from cml_bot.app.local import DEFAULT_OUT, load
    from cml_bot.bot import publish as publish
    from cml_bot.bot import runner as actions

    env = settings.env
    own = load(settings)
    out = settings.out_dir or own.root / DEFAULT_OUT
    trusted = _trusted(own, decision, actions.read_event(env))
    result = _run_flow(settings, runner, decision, trusted, out)
    publish.to_runner(result, env)
    # what a workflow_run job needs to publish this run's report (docs/workflows.md, forks)
    (out / "pr.json").write_text(json.dumps({"pr": decision.pr, "sha": decision.sha}) + "\n")
    published = _publish(settings, runner, decision, result, trusted.cfg.model.name)
    if published.skipped:
        actions.warning(published.skipped, title="cml-bot did not post to the PR", env=env)
    outs = publish.outputs(result, published)
    actions.set_outputs(outs, env)
    return ActionResult(decision=decision, flow=result, published=published, outputs=outs)


def _trusted(own: Config, decision: Decision, payload: Mapping[str, object]) -> Trusted:
    """The PR's config judged by the default branch's privileged settings (app.trust)."""
    from cml_bot.app import trust
    from cml_bot.bot.payload import get_map, get_str

    default = get_str(get_map(payload, "repository"), "default_branch")
    base = (decision.base_ref, decision.base_sha)
    trusted, branch = trust.default_branch_config(own, default, base)
    return trust.apply(own, trusted, branch)


def _run_flow(
    settings: Settings, runner: Runner, decision: Decision, trusted: Trusted, out: Path
) -> FlowResult:
    from cml_bot.app import pr_flow as flow
    from cml_bot.app.local import make_registry, make_tracker, now, param_overrides

    cfg = trusted.cfg  # the tracking server, the registry and the gates of the default branch
    tracker = make_tracker(cfg, settings.env)
    registry = make_registry(cfg, settings.env, tracker)
    git = gitinfo.GitInfo(sha=decision.sha, branch=decision.head_ref, pr=decision.pr)
    inputs = flow.FlowInputs(
        overrides=param_overrides(settings),
        git=git,
        base_ref=decision.base_sha,
        run_url=runner.run_url,
        candidate_ref=decision.head_ref or "",
        notes=list(trusted.notes),
        gates_from=trusted.source,
        own_gates=trusted.own_gates,
    )
    return flow.run(
        cfg,
        inputs,
        out_dir=out,
        tracker=tracker,
        registry=registry,
        progress=settings.progress,
        now=now(),
    )


def _publish(
    settings: Settings, runner: Runner, decision: Decision, result: FlowResult, model_name: str
) -> Published:
    """The sticky comment and the commit status, or why they could not be posted."""
    from cml_bot.bot import publish as publish

    gh = github_client(runner)
    if decision.fork:
        return publish.skipped(
            "This pull request comes from a fork, so its token is read-only: no comment or "
            "status was posted. The report is in the job summary; see docs/workflows.md (fork "
            "pull requests) to publish it with a workflow_run job."
        )
    if gh is None:
        return publish.skipped(
            "No GitHub token: pass `github-token` (or GITHUB_TOKEN) to "
            "post the comment and the status."
        )
    published = publish.to_pull_request(
        result,
        gh=gh,
        model_name=model_name,
        pr=cast(int, decision.pr),  # a pull_request event names both; a dispatch may not
        sha=cast(str, decision.sha),
        run_url=runner.run_url,
    )
    settings.progress.say(
        f"cml-bot: comment {published.comment_action}: "
        f"{published.comment_url}; status {published.status}; "
        f"{gh.api_calls} GitHub API calls"
    )
    return published


def _require_default_branch_commit(settings: Settings, sha: str) -> None:
    """A workflow_run names its branch only by name (a tag called `main` looks the same): deploy
    only a commit in the history of this checkout, the default branch."""
    from cml_bot.app.deploy import is_ancestor

    root = settings.config_path.resolve().parent
    if not is_ancestor(root)(sha, "HEAD"):
        raise CmlBotError(
            f"{sha[:7]} is not in the default branch's history: a workflow_run deploys only "
            "commits pushed to the default branch (a tag or another branch of that name is not)",
            fix="deploy from the default branch: merge the change, or run the deploy workflow "
            "on it",
            exit_code=EXIT_CONFIG,
        )


def _deploy_on_merge(settings: Settings, runner: Runner, decision: Decision) -> ActionResult:
    """A push to the default branch (or a merged PR): deploy the merged model if it passes."""
    from cml_bot.app import deploy as app_deploy
    from cml_bot.bot import publish as publish
    from cml_bot.bot import runner as actions

    sha = cast(str, decision.sha)  # a push or a merge names its commit; a dispatch may not
    if runner.event_name == "workflow_run":
        _require_default_branch_commit(settings, sha)
    gh = github_client(runner)
    pr, pr_head = decision.pr, None
    if gh is not None:
        merged = [p for p in gh.pulls_for_commit(sha) if p.merged]
        if pr is None and merged:
            pr = merged[0].number
        match = [p for p in merged if p.number == pr]
        pr_head = match[0].head_sha if match else None
    done = app_deploy.deploy(
        settings, sha=sha, pr=pr, gh=gh, pr_head=pr_head, run_url=runner.run_url
    )
    print(f"cml-bot: {done.message}")
    outputs = publish.outputs(done.flow, None) if done.flow is not None else {}
    outputs.update(
        {
            "deploy-outcome": done.outcome,
            "verdict": done.flow.verdict if done.flow is not None else "skipped",
        }
    )
    if done.result is not None and done.result.version is not None:
        outputs["model-uri"] = done.result.version.model_uri
    actions.set_outputs(outputs, settings.env)
    return ActionResult(decision=decision, flow=done.flow, outputs=outputs)
