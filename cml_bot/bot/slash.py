"""Slash commands in PR comments: authorize, acknowledge, pin the head SHA, run, finish.

Trust model: the permission rules come from the config of the checked-out default branch (the
workspace ``issue_comment`` workflows run on), never from the PR, so a PR cannot lower them. The
commenter's level comes from the collaborator-permission endpoint, never ``author_association``.
A fork's code is trained only when a ``maintain``-level user asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.bot import commands as cmd
from cml_bot.config import Config, permission_at_least
from cml_bot.core import CmlBotError, fenced, md_escape

FORK_PERMISSION = "maintain"
SUPERSEDABLE = frozenset({"retrain", "evaluate"})  # later ones make a queued earlier one moot


@dataclass
class CommandRun:
    """What handling one command did, for the log, the outputs and the tests."""

    verb: str | None
    outcome: str  # refused | replied | superseded | done | failed | stale
    replies: list[str] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    flow: Any = None
    published: Any = None
    error: CmlBotError | None = None


def refusal(verb: str, actor: str, have: str, need: str) -> str:
    return (
        f"@{actor}, `/{verb}` needs `{need}` permission on this repository and you have "
        f"`{have}`, so nothing was run. A maintainer can run it for you."
    )


def authorize(cfg: Config, verb: str, actor: str, permission: str, *, fork: bool) -> str | None:
    """None when ``actor`` (at ``permission``) may run ``verb``; else the refusal to post."""
    need = getattr(cfg.commands, verb).permission
    if not permission_at_least(permission, need):
        return refusal(verb, actor, permission, need)
    if (
        fork
        and verb in ("retrain", "evaluate")
        and not permission_at_least(permission, FORK_PERMISSION)
    ):
        return (
            f"@{actor}, this pull request comes from a fork: `/{verb}` would run its code, so "
            f"it needs `{FORK_PERMISSION}` permission (you have `{permission}`). Nothing was "
            "run."
        )
    return None


def check_args(cfg: Config, parsed: cmd.ParsedCommand, head_sha: str) -> str | None:
    """None when the arguments may be used; else the reply saying what is wrong."""
    if parsed.sha and not head_sha.lower().startswith(parsed.sha):
        return (
            f"`sha={parsed.sha}` does not match the head of this pull request "
            f"(`{head_sha[:7]}`): it has moved on since. Nothing was run; comment again with "
            "the current head."
        )
    if parsed.verb == "retrain":
        problems = cmd.check_retrain_args(parsed.args, cfg.commands.retrain.params)
        if problems:
            allowed = ", ".join(f"`{p}`" for p in cfg.commands.retrain.params) or "none"
            return (
                "`/retrain` was not run:\n"
                + "\n".join(f"- {p}" for p in problems)
                + f"\n\nParameters this repository allows: {allowed}."
            )
    return None


def later_command(
    comments: Iterable[Any],
    after_id: int,
    may_run: Callable[[str, str], bool] = lambda login, verb: True,
) -> Any | None:
    """The newest comment after ``after_id`` whose first line is a well-formed ``/retrain`` or
    ``/evaluate`` by a person (not a ``[bot]`` login) who may run it, or None.

    ``may_run(login, verb)`` asks the same permission rule as the command itself, so a reader's
    ``/evaluate`` cannot supersede (and so cancel) a maintainer's ``/retrain``; it is asked
    newest first and only until one comment qualifies. ``comments`` need ``id``, ``login`` and
    ``body``. Comment ids grow with time on GitHub.
    """
    later = sorted(
        (
            (c, parsed.verb)
            for c in comments
            if c.id > after_id
            and not str(c.login).lower().endswith("[bot]")
            and isinstance(parsed := cmd.parse_command(c.body), cmd.ParsedCommand)
            and parsed.verb in SUPERSEDABLE
        ),
        key=lambda pair: pair[0].id,
        reverse=True,
    )
    return next((c for c, verb in later if may_run(str(c.login), verb)), None)


def superseded_reply(verb: str, actor: str, url: str) -> str:
    return f"`/{verb}` from @{actor} was superseded by {url}, so it was not run."


def requested_note(parsed: cmd.ParsedCommand, actor: str) -> str:
    overrides = parsed.overrides
    if parsed.verb == "retrain" and overrides:
        shown = " ".join(k if k.startswith("-") else f"{k}={v}" for k, v in overrides.items())
        return f"Retrained with {shown} at the request of @{actor}."
    if parsed.verb == "retrain":
        return f"Retrained at the request of @{actor}."
    return f"Re-evaluated at the request of @{actor}."


@dataclass
class CommandContext:
    """The adapters and facts a command needs; built by app.py."""

    cfg: Config  # the trusted (default-branch) config
    gh: Any
    pr: int
    actor: str
    comment_id: int
    run_url: str | None
    checkout: Callable[[str, int], Any]  # (head sha, pr) -> context manager yielding a tree Path
    execute: Callable[[Path, cmd.ParsedCommand, Any, list[str]], Any]  # -> (flow, published)
    deploy: Callable[[Any], str] | None = None  # (merged pull) -> what happened
    rollback: Callable[[str | None], str] | None = None  # (version or None) -> what happened
    # the URL of a later /retrain or /evaluate comment on the PR, or None (1 comment-list call)
    later_command: Callable[[], str | None] | None = None


@dataclass
class Screened:
    """What :func:`screen` decided: ``pull`` to run the command on, or ``None`` when ``run``
    is already finished (help answered, refused, superseded)."""

    run: CommandRun
    pull: Any = None


def screen(ctx: CommandContext, parsed: cmd.ParsedCommand) -> Screened:
    """Everything before a command runs, and nothing that needs the ML stack: ``/help``, the
    permission check, the pull request's state, the arguments, a later command. A command that
    stops here gets its one reply; `cml-bot screen` runs this before the action installs
    scikit-learn and MLflow, and :func:`handle` runs it again."""
    gh, verb = ctx.gh, parsed.verb
    run = CommandRun(verb=verb, outcome="replied")
    if verb == "help":
        run.replies.append(gh.reply(ctx.pr, cmd.help_text(ctx.cfg.commands)))
        return Screened(run)
    permission = gh.permission(ctx.actor)
    pull = gh.pull(ctx.pr)
    refused = authorize(ctx.cfg, verb, ctx.actor, permission, fork=pull.fork)
    if refused is None and verb in ("retrain", "evaluate") and pull.state != "open":
        refused = f"`/{verb}` works on open pull requests; #{ctx.pr} is {pull.state}."
    if refused is None and verb == "deploy" and not pull.merged:
        refused = (
            f"`/deploy` deploys the merged model of a pull request, and #{ctx.pr} is not "
            "merged. Nothing was deployed; it deploys by itself when it merges and "
            "passes its gates."
        )
    if refused is None:
        refused = check_args(ctx.cfg, parsed, pull.head_sha)
    if refused is not None:
        run.outcome = "refused"
        run.replies.append(gh.reply(ctx.pr, refused))
        return Screened(run)
    later = ctx.later_command() if verb in SUPERSEDABLE and ctx.later_command else None
    if later:  # a queued run whose request was overtaken: say by what, run nothing
        run.outcome = "superseded"
        run.replies.append(gh.reply(ctx.pr, superseded_reply(verb, ctx.actor, later)))
        return Screened(run)
    return Screened(run, pull)


def handle(ctx: CommandContext, parsed: cmd.ParsedCommand) -> CommandRun:
    """Screen (:func:`screen`), acknowledge, run on the pinned head, finish with 🚀 or 😕."""
    gh, verb = ctx.gh, parsed.verb
    screened = screen(ctx, parsed)
    run, pull = screened.run, screened.pull
    if pull is None:
        return run
    gh.react(ctx.comment_id, "eyes")
    run.reactions.append("eyes")
    if verb in ("deploy", "rollback"):
        return _deployment(ctx, parsed, pull, run)
    run.replies.append(
        gh.reply(
            ctx.pr,
            (
                f"Running `/{verb}` for @{ctx.actor} on `{pull.head_sha[:7]}`"
                + (f" ([log]({ctx.run_url}))" if ctx.run_url else "")
                + "."
            ),
        )
    )
    try:
        with ctx.checkout(pull.head_sha, ctx.pr) as tree:
            notes = [requested_note(parsed, ctx.actor)]
            run.flow, run.published = ctx.execute(tree, parsed, pull, notes)
    except CmlBotError as exc:
        return _failed(ctx, run, verb, exc)
    gh.react(ctx.comment_id, "rocket")
    run.reactions.append("rocket")
    run.outcome = "stale" if getattr(run.published, "stale", False) else "done"
    return run


def _deployment(
    ctx: CommandContext, parsed: cmd.ParsedCommand, pull: Any, run: CommandRun
) -> CommandRun:
    """``/deploy`` (the merged commit) and ``/rollback [vN]``: run, then 🚀 or 😕 and a reply."""
    gh, verb = ctx.gh, parsed.verb
    action = ctx.deploy if verb == "deploy" else ctx.rollback
    if action is None:
        run.replies.append(gh.reply(ctx.pr, f"`/{verb}` is not available here. Nothing changed."))
        return run
    try:
        message = action(pull if verb == "deploy" else parsed.args.get("version"))
    except CmlBotError as exc:
        return _failed(ctx, run, verb, exc)
    gh.react(ctx.comment_id, "rocket")
    run.reactions.append("rocket")
    run.outcome = "done"
    run.replies.append(gh.reply(ctx.pr, f"`/{verb}` by @{ctx.actor}: {md_escape(message, None)}"))
    return run


def _failed(ctx: CommandContext, run: CommandRun, verb: str, exc: CmlBotError) -> CommandRun:
    """😕 and one reply saying why."""
    ctx.gh.react(ctx.comment_id, "confused")
    run.reactions.append("confused")
    run.outcome, run.error = "failed", exc
    # the message may carry the training command's output: pull-request text, shown verbatim
    # in a block it cannot close; the fix is escaped like any other user-derived text
    fix = f"\n\nFix: {md_escape(exc.fix, None)}" if exc.fix else ""
    run.replies.append(ctx.gh.reply(ctx.pr, f"`/{verb}` failed:\n\n{fenced(exc.message)}{fix}"))
    return run


def stale_note(evaluated: str, head: str) -> str:
    return (
        f"⚠️ Stale: this report is for `{evaluated[:7]}`, but the pull request's head moved "
        f"to `{head[:7]}` while it ran. Push again or comment `/evaluate` for a current one."
    )
