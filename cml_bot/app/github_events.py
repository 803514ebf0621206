"""Composition for GitHub events: `cml-bot run` inside Actions (pull requests, slash commands,
merges), `cml-bot plan` and `cml-bot publish`. Local use cases and the adapter builders are in
:mod:`cml_bot.app.local`; the deploy wiring in :mod:`cml_bot.app.deploy`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot import __version__
from cml_bot.core import (
    CmlBotError,
    ConfigError,
    scrub,
    scrubbed,
    secret_values,
)
from cml_bot.core import git as gitinfo

if TYPE_CHECKING:  # cml_bot.app.local and .config load pydantic: `cml-bot plan` needs neither
    from cml_bot.app.local import Settings

# GitHub client knobs (seconds): env name -> (default, smallest allowed). Tests shorten them.
CLIENT_KNOBS = {
    "CML_BOT_GITHUB_TIMEOUT": (15.0, 1.0),
    "CML_BOT_GITHUB_MAX_WAIT": (60.0, 0.0),
    "CML_BOT_GITHUB_BACKOFF": (1.0, 0.0),
}


@dataclass(frozen=True)
class Runner:
    """The standard GitHub Actions environment, read once."""

    event_name: str
    repository: str
    api_url: str
    server_url: str
    run_id: str | None
    sha: str | None
    token: str | None
    timeout: float = CLIENT_KNOBS["CML_BOT_GITHUB_TIMEOUT"][0]  # per request
    max_wait: float = CLIENT_KNOBS["CML_BOT_GITHUB_MAX_WAIT"][0]  # all waits of one call
    backoff: float = CLIENT_KNOBS["CML_BOT_GITHUB_BACKOFF"][0]  # first retry delay
    secrets: tuple[str, ...] = ()  # never printed or posted: see secret_values

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        timeout, max_wait, backoff = (_seconds(env, name) for name in CLIENT_KNOBS)
        return cls(
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            repository=env.get("GITHUB_REPOSITORY", ""),
            api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
            server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
            run_id=env.get("GITHUB_RUN_ID"),
            sha=env.get("GITHUB_SHA"),
            token=env.get("CML_BOT_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None,
            timeout=timeout,
            max_wait=max_wait,
            backoff=backoff,
            secrets=secret_values(env),
        )

    @property
    def run_url(self) -> str | None:
        if not (self.run_id and self.repository):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"


def _seconds(env: Mapping[str, str], name: str) -> float:
    default, least = CLIENT_KNOBS[name]
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (least <= value < 86400):  # also false for NaN
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds",
            fix=f"set it to a number from {least:g} (default {default:g}), or unset it",
        )
    return value


class ScrubbingGitHub:
    """A GitHub client whose posted texts (replies, the report, statuses, deployments) are
    scrubbed of the secrets: error messages that end up in them may quote credentials."""

    def __init__(self, gh: Any, secrets: tuple[str, ...]) -> None:
        self._gh, self._secrets = gh, secrets

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gh, name)

    def _s(self, text: Any) -> Any:
        return scrub(text, self._secrets) if isinstance(text, str) else text

    def reply(self, pr: int, body: str) -> Any:
        return self._gh.reply(pr, self._s(body))

    def upsert_sticky(self, pr: int, marker: str, body: str) -> Any:
        return self._gh.upsert_sticky(pr, marker, self._s(body))

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str | None = None
    ) -> Any:
        return self._gh.set_status(sha, context, state, self._s(description), target_url)

    def create_deployment(
        self, ref: str, environment: str, payload: Any, description: str, **kw: Any
    ) -> Any:
        return self._gh.create_deployment(ref, environment, payload, self._s(description), **kw)

    def deployment_status(self, deployment_id: int, state: str, description: str, **kw: Any) -> Any:
        return self._gh.deployment_status(deployment_id, state, self._s(description), **kw)


def plan(event_name: str, payload: Any) -> Any:
    """The decision for an event, with no network call and no heavy import."""
    from cml_bot.bot import events as events

    return events.decide(event_name, payload)


def github_client(runner: Runner) -> Any:
    from cml_bot.github import GitHubClient

    if not runner.token:
        return None
    client = GitHubClient(
        runner.token,
        runner.repository,
        api_url=runner.api_url,
        timeout=runner.timeout,
        max_wait=runner.max_wait,
        backoff=runner.backoff,
    )
    return ScrubbingGitHub(client, runner.secrets)


@dataclass
class ActionResult:
    decision: Any
    flow: Any = None
    published: Any = None
    outputs: dict[str, Any] = field(default_factory=dict)


def run_action(settings: Settings) -> ActionResult:
    """`cml-bot run` inside GitHub Actions: decide from the event, run the flow, publish."""
    from cml_bot.bot import events as events
    from cml_bot.bot import runner as actions

    env = settings.env
    runner = Runner.from_env(env)
    for secret in runner.secrets:
        actions.add_mask(secret, env)
    payload = actions.read_event(env)
    decision = events.decide(runner.event_name, payload)
    settings.progress.say(f"cml-bot: {decision.action}: {decision.reason}")
    handlers = {"evaluate": _evaluate_pr, "command": _handle_command, "deploy": _deploy_on_merge}
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


def _evaluate_pr(settings: Settings, runner: Runner, decision: Any) -> ActionResult:
    from cml_bot.app import pr_flow as flow
    from cml_bot.app.local import (
        DEFAULT_OUT,
        load,
        make_registry,
        make_tracker,
        now,
        param_overrides,
    )
    from cml_bot.bot import publish as publish
    from cml_bot.bot import runner as actions

    cfg = load(settings)
    env = settings.env
    tracker = make_tracker(cfg, env)
    registry = make_registry(cfg, env, tracker)
    git = gitinfo.GitInfo(sha=decision.sha, branch=decision.head_ref, pr=decision.pr)
    inputs = flow.FlowInputs(
        overrides=param_overrides(settings),
        git=git,
        base_ref=decision.base_sha,
        run_url=runner.run_url,
        candidate_ref=decision.head_ref or "",
    )
    out = settings.out_dir or cfg.root / DEFAULT_OUT
    result = flow.run(
        cfg,
        inputs,
        out_dir=out,
        tracker=tracker,
        registry=registry,
        progress=settings.progress,
        now=now(),
    )
    publish.to_runner(result, env)
    # what a workflow_run job needs to publish this run's report (docs/workflows.md, forks)
    (out / "pr.json").write_text(json.dumps({"pr": decision.pr, "sha": decision.sha}) + "\n")
    gh = github_client(runner)
    if decision.fork:
        published = publish.skipped(
            "This pull request comes from a fork, so its token is read-only: no comment or "
            "status was posted. The report is in the job summary; see docs/workflows.md (fork "
            "pull requests) to publish it with a workflow_run job."
        )
    elif gh is None:
        published = publish.skipped(
            "No GitHub token: pass `github-token` (or GITHUB_TOKEN) to "
            "post the comment and the status."
        )
    else:
        published = publish.to_pull_request(
            result,
            gh=gh,
            model_name=cfg.model.name,
            pr=decision.pr,
            sha=decision.sha,
            run_url=runner.run_url,
        )
        settings.progress.say(
            f"cml-bot: comment {published.comment_action}: "
            f"{published.comment_url}; status {published.status}; "
            f"{gh.api_calls} GitHub API calls"
        )
    if published.skipped:
        actions.warning(published.skipped, title="cml-bot did not post to the PR", env=env)
    outs = publish.outputs(result, published)
    actions.set_outputs(outs, env)
    return ActionResult(decision=decision, flow=result, published=published, outputs=outs)


@contextlib.contextmanager
def head_tree(root: Path, sha: str, pr: int) -> Iterator[Path]:
    """A worktree of the PR head ``sha``, fetched from ``refs/pull/N/head`` when not present."""
    from cml_bot.ml import worktree

    present = gitinfo.git(["cat-file", "-t", sha], root, check=False) == "commit"
    if not present:
        gitinfo.git(["fetch", "--no-tags", "--quiet", "origin", f"+refs/pull/{pr}/head"], root)
    top = Path(gitinfo.git(["rev-parse", "--show-toplevel"], root))
    rel = root.resolve().relative_to(top.resolve())
    with worktree(root, sha) as tree:
        yield tree / rel


def _handle_command(settings: Settings, runner: Runner, decision: Any) -> ActionResult:
    # flow and publish (pandas, scipy, jinja2) only once a command runs: a refusal stays light
    from cml_bot.app.local import DEFAULT_OUT, Settings, load, make_registry, make_tracker, now
    from cml_bot.bot import commands as commands
    from cml_bot.bot import runner as actions
    from cml_bot.bot import slash as slash
    from cml_bot.config import load_config
    from cml_bot.core import GitHubError

    env = settings.env
    gh = github_client(runner)
    if gh is None:
        raise GitHubError(
            "slash commands need a GitHub token to reply",
            fix="pass `github-token` to the action (or set GITHUB_TOKEN)",
        )
    result = ActionResult(decision=decision, outputs={"verdict": "skipped"})
    if decision.command is None or decision.problem:  # unknown verb, bad arguments: run nothing
        gh.reply(decision.pr, decision.problem or "That command was not understood.")
        actions.set_outputs(result.outputs, env)
        return result
    parsed = commands.ParsedCommand(verb=decision.command, args=dict(decision.args), raw="")
    cfg = load(settings)  # the default branch's config: the PR cannot change who may do what

    def later_command() -> str | None:
        """A later /retrain or /evaluate on the PR (1 call: the comment list)."""
        if not decision.comment_id:
            return None
        after = decision.comment_id
        found = slash.later_command(gh.comments_after(decision.pr, after), after)
        return str(found.url) if found is not None else None

    # Errors raised here reach the PR as slash.py's 😕 reply (through ScrubbingGitHub, which
    # removes the secrets) and the log as the re-raised error (scrubbed by run_action).
    def execute(tree: Path, parsed: Any, pull: Any, notes: list[str]) -> Any:
        from cml_bot.app import pr_flow as flow
        from cml_bot.bot import publish as publish

        head_cfg = load_config(tree / cfg.file_name)
        overrides = commands.retrain_overrides(parsed.args) if parsed.verb == "retrain" else {}
        tracker = make_tracker(head_cfg, env)
        registry = make_registry(head_cfg, env, tracker)
        out = settings.out_dir or cfg.root / DEFAULT_OUT
        inputs = flow.FlowInputs(
            overrides=overrides,
            notes=notes,
            run_url=runner.run_url,
            base_ref=pull.base_sha,
            git=gitinfo.GitInfo(sha=pull.head_sha, branch=pull.head_ref, pr=pull.number),
            candidate_ref=pull.head_ref,
        )
        candidate = None
        if parsed.verb == "evaluate":
            from cml_bot.ml import recorded_candidate

            candidate = recorded_candidate(head_cfg, tracker, pull.head_sha, out, settings.progress)
        done = flow.run(
            head_cfg,
            inputs,
            out_dir=out,
            tracker=tracker,
            registry=registry,
            progress=settings.progress,
            now=now(),
            candidate=candidate,
        )
        head = gh.pull(pull.number).head_sha
        if head != pull.head_sha:  # moved while we ran: say so instead of presenting it as current
            inputs.notes.insert(0, slash.stale_note(pull.head_sha, head))
            done = flow.finish(
                head_cfg,
                done.candidate,
                done.baseline,
                inputs,
                out_dir=out,
                progress=settings.progress,
                now=now(),
            )
        publish.to_runner(done, env)
        published = publish.to_pull_request(
            done,
            gh=gh,
            model_name=head_cfg.model.name,
            pr=pull.number,
            sha=pull.head_sha,
            run_url=runner.run_url,
        )
        return done, published

    def deploy_merged(pull: Any) -> str:
        from cml_bot.app import deploy as app_deploy

        sha = pull.merge_commit_sha or ""
        with head_tree(cfg.root, sha, pull.number) as tree:
            st = Settings(
                config_path=tree / cfg.file_name,
                env=env,
                quiet=settings.quiet,
                out_dir=settings.out_dir,
            )
            done = app_deploy.deploy(
                st, sha=sha, pr=pull.number, gh=gh, pr_head=pull.head_sha, run_url=runner.run_url
            )
        if done.exit_code:
            raise CmlBotError(
                done.message,
                fix="see the gate failures in the comment above",
                exit_code=done.exit_code,
            )
        return str(done.message)

    def roll_back(to: str | None) -> str:
        from cml_bot.app import deploy as app_deploy

        return str(app_deploy.rollback(settings, to, gh=gh, run_url=runner.run_url).message)

    ctx = slash.CommandContext(
        cfg=cfg,
        gh=gh,
        pr=decision.pr,
        actor=decision.actor or "",
        comment_id=decision.comment_id,
        run_url=runner.run_url,
        checkout=lambda sha, pr: head_tree(cfg.root, sha, pr),
        execute=execute,
        deploy=deploy_merged,
        rollback=roll_back,
        later_command=later_command,
    )
    handled = slash.handle(ctx, parsed)
    settings.progress.say(
        f"cml-bot: /{parsed.verb} by @{decision.actor}: {handled.outcome} "
        f"({gh.api_calls} GitHub API calls)"
    )
    if handled.flow is not None:
        from cml_bot.bot import publish as publish

        result.flow, result.published = handled.flow, handled.published
        result.outputs = publish.outputs(handled.flow, handled.published)
    result.outputs["command-outcome"] = handled.outcome
    actions.set_outputs(result.outputs, env)
    if handled.error is not None:
        raise handled.error
    return result


def publish_artifact(settings: Settings, artifact: Path) -> Any:
    """The trusted half of the fork recipe: publish a fork PR's artifact from a workflow_run job.

    Nothing from the artifact is executed or rendered as-is (see :mod:`cml_bot.bot.fork_artifact`).
    """
    from cml_bot.app.local import load
    from cml_bot.bot import fork_artifact as untrusted
    from cml_bot.bot import publish as publish
    from cml_bot.bot import runner as actions
    from cml_bot.core import GitHubError, PayloadError, RefusedError
    from cml_bot.report import report_marker

    env = settings.env
    runner = Runner.from_env(env)
    if runner.token:
        actions.add_mask(runner.token, env)
    payload = actions.read_event(env)
    run = payload.get("workflow_run")
    if runner.event_name != "workflow_run" or not isinstance(run, dict):
        raise PayloadError(
            "`cml-bot publish` runs in a workflow_run job",
            fix="trigger the publishing workflow with `on: workflow_run`",
        )
    run_sha = str(run.get("head_sha") or "")
    cfg = load(settings)  # the default branch's config, not the fork's
    pr, sha = untrusted.read_claim(artifact)
    result = untrusted.read_result(artifact)
    gh = github_client(runner)
    if gh is None:
        raise GitHubError("publishing needs a token", fix="pass `github-token` to the job")
    pull = gh.pull(pr)
    if not untrusted.claim_matches(sha, run_sha, pull.head_sha):
        raise RefusedError(
            f"the artifact claims PR #{pr} at {sha[:7]}, but the run was for {run_sha[:7]} and "
            f"the PR's head is {pull.head_sha[:7]}: not published",
            fix="re-run the pull request's workflow; only an artifact of the PR's current head "
            "is published",
        )
    body = untrusted.render(
        result, model_name=cfg.model.name, sha=sha, run_url=str(run.get("html_url") or "") or None
    )
    sticky = gh.upsert_sticky(pr, report_marker(cfg.model.name), body)
    state = publish.STATUS_STATES[result["verdict"]]
    gh.set_status(
        sha,
        publish.status_context(cfg.model.name),
        state,
        f"{result['verdict']} (published from a fork's artifact)",
        sticky.url,
    )
    settings.progress.say(
        f"cml-bot: published the report of PR #{pr} ({sticky.action}); status {state}"
    )
    return sticky


def _deploy_on_merge(settings: Settings, runner: Runner, decision: Any) -> ActionResult:
    """A push to the default branch (or a merged PR): deploy the merged model if it passes."""
    from cml_bot.app import deploy as app_deploy
    from cml_bot.bot import publish as publish
    from cml_bot.bot import runner as actions

    gh = github_client(runner)
    pr, pr_head = decision.pr, None
    if gh is not None:
        merged = [p for p in gh.pulls_for_commit(decision.sha) if p.merged]
        if pr is None and merged:
            pr = merged[0].number
        match = [p for p in merged if p.number == pr]
        pr_head = match[0].head_sha if match else None
    done = app_deploy.deploy(
        settings, sha=decision.sha, pr=pr, gh=gh, pr_head=pr_head, run_url=runner.run_url
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
