"""Slash commands in Actions: :func:`cml_bot.bot.slash.handle` (authorize, acknowledge, pin the
head, finish with 🚀 or 😕) wired to the flow on the PR head, the deploy of a merged PR and the
rollback.

The flow and the report (pandas, scipy, jinja2) are imported only once a command runs, so a
refusal stays light.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

from cml_bot.app.actions_env import ActionResult, Runner, ScrubbingGitHub, github_client
from cml_bot.core import CmlBotError, GitHubError
from cml_bot.core import git as gitinfo

if TYPE_CHECKING:
    from cml_bot.app.local import Settings
    from cml_bot.app.pr_flow import FlowInputs, FlowResult
    from cml_bot.app.trust import Trusted
    from cml_bot.bot.commands import ParsedCommand
    from cml_bot.bot.events import Decision
    from cml_bot.bot.publish import Published
    from cml_bot.bot.slash import CommandContext
    from cml_bot.config import Config
    from cml_bot.github import PullInfo


@contextlib.contextmanager
def head_tree(root: Path, sha: str, pr: int, token: str | None = None) -> Iterator[Path]:
    """A worktree of the PR head ``sha``, fetched from ``refs/pull/N/head`` when not present.

    The workflows check out with ``persist-credentials: false`` (nothing the PR's code could
    read later), so the fetch authenticates itself, as actions/checkout does: the token goes to
    this one git process as an ``http.extraheader`` in its environment, never in its arguments
    or in ``.git/config``."""
    from cml_bot.ml import worktree

    present = gitinfo.git(["cat-file", "-t", sha], root, check=False) == "commit"
    if not present:
        fetch = ["fetch", "--no-tags", "--quiet", "origin", f"+refs/pull/{pr}/head"]
        gitinfo.git(fetch, root, env=_fetch_env(token))
    top = Path(gitinfo.git(["rev-parse", "--show-toplevel"], root))
    rel = root.resolve().relative_to(top.resolve())
    with worktree(root, sha) as tree:
        yield tree / rel


def _fetch_env(token: str | None) -> dict[str, str] | None:
    if not token:
        return None
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraheader",  # this one process only talks to origin
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def handle_command(
    settings: Settings, runner: Runner, decision: Decision, *, screen_only: bool = False
) -> ActionResult:
    """A command decision: reply to one that cannot run (unknown verb, bad arguments), else run
    it with :class:`CommandRunner` (``screen_only``: only screen it, see `cml-bot screen`)."""
    from cml_bot.bot import commands as commands
    from cml_bot.bot import runner as actions

    gh = github_client(runner)
    if gh is None:
        raise GitHubError(
            "slash commands need a GitHub token to reply",
            fix="pass `github-token` to the action (or set GITHUB_TOKEN)",
        )
    if decision.command is None or decision.problem:  # unknown verb, bad arguments: run nothing
        result = ActionResult(decision=decision, outputs={"verdict": "skipped"})
        if screen_only:
            result.outputs["proceed"] = "false"
        gh.reply(_pr(decision), decision.problem or "That command was not understood.")
        actions.set_outputs(result.outputs, settings.env)
        return result
    parsed = commands.ParsedCommand(verb=decision.command, args=dict(decision.args), raw="")
    command_runner = CommandRunner(settings, runner, decision, gh)
    return command_runner.screen(parsed) if screen_only else command_runner.run(parsed)


def _pr(decision: Decision) -> int:
    # A comment's decision always names its PR; a dispatched /rollback may not (pr is None then).
    return cast(int, decision.pr)


class CommandRunner:
    """One command on one pull request, with the callbacks :func:`cml_bot.bot.slash.handle`
    calls: the flow on the PR head (``/retrain``, ``/evaluate``), the deploy of the merged PR
    (``/deploy``) and the rollback (``/rollback``).

    Errors raised by the callbacks reach the PR as slash.py's 😕 reply (through
    :class:`~cml_bot.app.actions_env.ScrubbingGitHub`, which removes the secrets) and the log as
    the re-raised error (scrubbed by :func:`~cml_bot.app.github_events.run_action`).
    """

    def __init__(
        self, settings: Settings, runner: Runner, decision: Decision, gh: ScrubbingGitHub
    ) -> None:
        from cml_bot.app.local import load

        self.settings, self.runner, self.decision, self.gh = settings, runner, decision, gh
        self.env = settings.env
        # the default branch's config: the PR cannot change who may do what
        self.cfg: Config = load(settings)
        self._trusted: Trusted | None = None

    def run(self, parsed: ParsedCommand) -> ActionResult:
        """Hand the command to :func:`cml_bot.bot.slash.handle`; set the outputs; re-raise the
        error it reported, if any."""
        from cml_bot.bot import runner as actions
        from cml_bot.bot import slash as slash

        result = ActionResult(decision=self.decision, outputs={"verdict": "skipped"})
        handled = slash.handle(self._context(), parsed)
        self.settings.progress.say(
            f"cml-bot: /{parsed.verb} by @{self.decision.actor}: {handled.outcome} "
            f"({self.gh.api_calls} GitHub API calls)"
        )
        if handled.flow is not None:
            from cml_bot.bot import publish as publish

            result.flow, result.published = handled.flow, handled.published
            result.outputs = publish.outputs(handled.flow, handled.published)
        result.outputs["command-outcome"] = handled.outcome
        actions.set_outputs(result.outputs, self.env)
        if handled.error is not None:
            raise handled.error
        return result

    def screen(self, parsed: ParsedCommand) -> ActionResult:
        """:func:`cml_bot.bot.slash.screen` only: answer ``/help``, refuse, or find a later
        command, with no ML stack installed. ``proceed`` is "true" when the command must run
        (then `cml-bot run` screens it again and runs it)."""
        from cml_bot.bot import runner as actions
        from cml_bot.bot import slash as slash

        screened = slash.screen(self._context(), parsed)
        proceed = screened.pull is not None
        outputs = {"proceed": "true" if proceed else "false"}
        if not proceed:
            outputs |= {"verdict": "skipped", "command-outcome": screened.run.outcome}
        outcome = "may run: the next step runs it" if proceed else screened.run.outcome
        self.settings.progress.say(
            f"cml-bot: /{parsed.verb} by @{self.decision.actor}: {outcome} "
            f"({self.gh.api_calls} GitHub API calls)"
        )
        actions.set_outputs(outputs, self.env)
        return ActionResult(decision=self.decision, outputs=outputs)

    def _context(self) -> CommandContext:
        from cml_bot.bot import slash as slash

        decision, root = self.decision, self.cfg.root
        return slash.CommandContext(
            cfg=self.cfg,
            gh=self.gh,
            pr=_pr(decision),
            actor=decision.actor or "",
            comment_id=cast(int, decision.comment_id),  # None only for dispatched commands
            run_url=self.runner.run_url,
            checkout=lambda sha, pr: head_tree(root, sha, pr, self.runner.token),
            execute=self._execute,
            deploy=self._deploy_merged,
            rollback=self._roll_back,
            later_command=self._later_command,
        )

    def _later_command(self) -> str | None:
        """A later /retrain or /evaluate on the PR (1 call: the comment list)."""
        from cml_bot.bot import slash as slash

        after = self.decision.comment_id
        if not after:
            return None
        comments = self.gh.comments_after(_pr(self.decision), after)
        found = slash.later_command(comments, after, self._may_run)
        return str(found.url) if found is not None else None

    def _may_run(self, login: str, verb: str) -> bool:
        """The rule the command itself applies (1 permission call per later command asked):
        only a command its author may run can supersede, so nobody cancels someone else's."""
        from cml_bot.bot import slash as slash

        level = self.gh.permission(login)
        return slash.authorize(self.cfg, verb, login, level, fork=self.decision.fork) is None

    def _execute(
        self, tree: Path, parsed: ParsedCommand, pull: PullInfo, notes: list[str]
    ) -> tuple[FlowResult, Published]:
        """``/retrain`` or ``/evaluate`` on the checked-out head: the flow, then the report."""
        from cml_bot.app import trust
        from cml_bot.bot import publish as publish
        from cml_bot.config import load_config

        # the head's own config, judged by the default branch's (this checkout's) privileged
        # settings: gates, baseline, tracking server and registry, deploy, train.env
        trusted = trust.apply(load_config(tree / self.cfg.file_name), self.cfg, self._branch())
        head_cfg = trusted.cfg
        notes = [*notes, *trusted.notes]
        self._trusted = trusted
        done = self._run_flow(head_cfg, parsed, pull, notes)
        publish.to_runner(done, self.env)
        published = publish.to_pull_request(
            done,
            gh=self.gh,
            model_name=head_cfg.model.name,
            pr=pull.number,
            sha=pull.head_sha,
            run_url=self.runner.run_url,
        )
        return done, published

    def _run_flow(
        self, head_cfg: Config, parsed: ParsedCommand, pull: PullInfo, notes: list[str]
    ) -> FlowResult:
        """Train the head with the overrides (``/retrain``) or score its recorded candidate
        again (``/evaluate``), and compare with the baseline."""
        from cml_bot.app import pr_flow as flow
        from cml_bot.app.local import DEFAULT_OUT, make_registry, make_tracker, now
        from cml_bot.bot import commands as commands
        from cml_bot.config import edit_params

        overrides = commands.retrain_overrides(parsed.args) if parsed.verb == "retrain" else {}
        head_cfg, overrides = edit_params(head_cfg, overrides)  # estimator=, -name
        tracker = make_tracker(head_cfg, self.env)
        registry = make_registry(head_cfg, self.env, tracker)
        out = self.settings.out_dir or self.cfg.root / DEFAULT_OUT
        trusted = self._trusted
        inputs = flow.FlowInputs(
            overrides=overrides,
            notes=notes,
            gates_from=trusted.source if trusted else "",
            own_gates=trusted.own_gates if trusted else None,
            run_url=self.runner.run_url,
            base_ref=pull.base_sha,
            git=gitinfo.GitInfo(sha=pull.head_sha, branch=pull.head_ref, pr=pull.number),
            candidate_ref=pull.head_ref,
        )
        candidate = None
        if parsed.verb == "evaluate":
            from cml_bot.ml import recorded_candidate

            progress = self.settings.progress
            candidate = recorded_candidate(head_cfg, tracker, pull.head_sha, out, progress)
        done = flow.run(
            head_cfg,
            inputs,
            out_dir=out,
            tracker=tracker,
            registry=registry,
            progress=self.settings.progress,
            now=now(),
            candidate=candidate,
        )
        return self._current(head_cfg, done, inputs, pull, out)

    def _current(
        self, head_cfg: Config, done: FlowResult, inputs: FlowInputs, pull: PullInfo, out: Path
    ) -> FlowResult:
        """``done``, or, when the head moved while it ran (1 call), its report again with a note
        saying so instead of presenting it as current."""
        from cml_bot.app import pr_flow as flow
        from cml_bot.app.local import now
        from cml_bot.bot import slash as slash

        head = self.gh.pull(pull.number).head_sha
        if head == pull.head_sha:
            return done
        inputs.notes.insert(0, slash.stale_note(pull.head_sha, head))
        return flow.finish(
            head_cfg,
            done.candidate,
            done.baseline,
            inputs,
            out_dir=out,
            progress=self.settings.progress,
            now=now(),
        )

    def _branch(self) -> str:
        """The repository's default branch, as the event names it (this job runs on it)."""
        from cml_bot.bot import runner as actions
        from cml_bot.bot.payload import get_map, get_str

        repo = get_map(actions.read_event(self.env), "repository")
        return get_str(repo, "default_branch") or "the default branch"

    def _deploy_merged(self, pull: PullInfo) -> str:
        """``/deploy``: the merge commit of a pull request merged into the default branch (this
        job's checkout), checked out, through the deploy flow with that commit's config."""
        from cml_bot.app import deploy as app_deploy
        from cml_bot.app.local import Settings

        sha = pull.merge_commit_sha or ""
        _require_on_default_branch(self.cfg.root, pull, sha, self._branch())
        with head_tree(self.cfg.root, sha, pull.number, self.runner.token) as tree:
            st = Settings(
                config_path=tree / self.cfg.file_name,
                env=self.env,
                quiet=self.settings.quiet,
                out_dir=self.settings.out_dir,
            )
            done = app_deploy.deploy(
                st,
                sha=sha,
                pr=pull.number,
                gh=self.gh,
                pr_head=pull.head_sha,
                run_url=self.runner.run_url,
            )
        if done.exit_code:
            raise CmlBotError(
                done.message,
                fix="see the gate failures in the comment above",
                exit_code=done.exit_code,
            )
        return str(done.message)

    def _roll_back(self, to: str | None) -> str:
        """``/rollback [vN]``, with the default branch's config."""
        from cml_bot.app import deploy as app_deploy

        rolled = app_deploy.rollback(self.settings, to, gh=self.gh, run_url=self.runner.run_url)
        return str(rolled.message)


def _require_on_default_branch(root: Path, pull: PullInfo, sha: str, branch: str) -> None:
    """A pull request merged into another branch is not deployed from a comment: only a merge
    commit in the default branch's history (this checkout's HEAD) is."""
    from cml_bot.app.deploy import is_ancestor

    if pull.base_ref != branch or not sha or not is_ancestor(root)(sha, "HEAD"):
        raise CmlBotError(
            f"pull request #{pull.number} was merged into {pull.base_ref}, not into {branch}: "
            "only merge commits on the default branch are deployed",
            fix=f"merge the change into {branch}; its deploy workflow (or /deploy on that "
            "pull request) deploys it",
        )
