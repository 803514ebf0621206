"""A webhook event (name + payload) -> one :class:`Decision`: what cml-bot should do and why.

Pure: no GitHub calls, no environment. :func:`decide` never raises on a JSON object payload,
whatever keys are missing or mistyped: a payload it cannot use is ``ignore`` with a reason.
Only a payload that is not a mapping at all raises :class:`~cml_bot.core.errors.PayloadError`.

Rules (DESIGN §2):

``pull_request``
    opened / synchronize / reopened / ready_for_review on an open, non-draft PR -> ``evaluate``
    the head SHA. Closed and merged into the default branch -> ``deploy`` the merge commit.
    Drafts, closed-unmerged PRs, merges into other branches and other actions -> ``ignore``.
``issue_comment``
    created (not edited or deleted) on an open pull request by a user that is not a bot, first
    line a slash command -> ``command``. The payload does not carry the PR head SHA, so ``sha``
    stays ``None`` (the app resolves the head, and refuses when a ``sha=`` pin in ``args`` does
    not match it). ``fork`` is unknown here and left ``False``: the app learns it with the head.
    An unknown verb or bad arguments -> ``command`` with ``problem`` (the reply to post).
``push``
    to ``refs/heads/<default branch>`` -> ``deploy`` ``after``. Tags, other branches and
    branch deletions -> ``ignore``.
``workflow_dispatch``
    ``inputs.action`` evaluate | deploy | retrain | rollback, with optional ``inputs.pr``,
    ``inputs.sha`` and ``inputs.args`` (the command's arguments, e.g. ``n_estimators=300`` or
    ``v3``). Anything invalid -> ``ignore`` saying which input to fix.
``workflow_run``
    completed successfully for a ``push`` to the default branch of this same repository ->
    ``deploy`` its head SHA ("deploy after CI passed"). Runs for pull requests are ignored: a
    privileged ``workflow_run`` must never build code from a pull request.
``pull_request_target``
    ``ignore``, saying why: it would run pull-request code with the base repository's secrets.
anything else
    ``ignore``: "cml-bot does not handle <event> events".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from cml_bot.bot import commands as commands
from cml_bot.bot.payload import (
    dispatch_pr,
    dispatch_sha,
    full_sha,
    get_flag,
    get_input,
    get_int,
    get_map,
    get_str,
    is_bot,
    is_fork,
    login_of,
    same_repo,
    show,
)
from cml_bot.core import PayloadError

Action = Literal["evaluate", "command", "deploy", "ignore"]
ACTIONS: tuple[str, ...] = ("evaluate", "command", "deploy", "ignore")
_EVALUATE_WHY = {
    "opened": "was opened",
    "synchronize": "got new commits",
    "reopened": "was reopened",
    "ready_for_review": "is ready for review",
}
EVALUATE_ACTIONS = frozenset(_EVALUATE_WHY)
DISPATCH_ACTIONS: tuple[str, ...] = ("evaluate", "deploy", "retrain", "rollback")


@dataclass(frozen=True)
class Decision:
    """What to do about one event. ``reason`` is one sentence for the log, always set."""

    action: Action
    reason: str
    pr: int | None = None
    sha: str | None = None
    base_ref: str | None = None
    base_sha: str | None = None
    head_ref: str | None = None
    command: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    actor: str | None = None
    comment_id: int | None = None
    fork: bool = False
    problem: str | None = None

    def to_json(self) -> dict[str, object]:
        """A JSON-serialisable dict of every field (for step outputs and logs)."""
        out = asdict(self)
        out["args"] = dict(self.args)
        return out


def ignore(reason: str) -> Decision:
    return Decision(action="ignore", reason=reason)


def decide(
    event_name: str,
    payload: Mapping[str, object],
    *,
    default_branch: str | None = None,
    bot_login: str | None = None,
) -> Decision:
    """Decide what cml-bot does about ``event_name`` with ``payload`` (the webhook body).

    ``default_branch`` is used when the payload does not name the repository's default branch;
    ``bot_login`` is cml-bot's own login, whose comments are never commands.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"the {show(event_name)} event payload is a {type(payload).__name__}, "
            "not a JSON object",
            fix="pass the webhook body (GITHUB_EVENT_PATH) unchanged",
        )
    handler = _HANDLERS.get(event_name) if isinstance(event_name, str) else None
    if handler is None:
        return ignore(f"cml-bot does not handle {show(event_name)} events.")
    return handler(payload, _Context(default_branch, bot_login))


@dataclass(frozen=True)
class _Context:
    default_branch: str | None
    bot_login: str | None


def _default_branch(payload: Mapping[str, object], ctx: _Context) -> str | None:
    return get_str(get_map(payload, "repository"), "default_branch") or ctx.default_branch


# --------------------------------------------------------------------------- pull_request


def _pull_request(payload: Mapping[str, object], ctx: _Context) -> Decision:
    action = get_str(payload, "action")
    pr = get_map(payload, "pull_request")
    number = get_int(pr, "number")
    if action is None or pr is None or number is None:
        return ignore("The pull_request payload has no action, pull_request or number.")
    if action == "closed":
        return _closed_pr(payload, pr, number, ctx)
    if action not in EVALUATE_ACTIONS:
        return ignore(f"Pull request #{number}, action {show(action)}: nothing for cml-bot to do.")
    if get_flag(pr, "draft"):
        return ignore(f"Pull request #{number} is a draft: it is evaluated once marked ready.")
    state = get_str(pr, "state")
    if state is not None and state != "open":
        return ignore(f"Pull request #{number} is {show(state)}, not open.")
    head, base = get_map(pr, "head"), get_map(pr, "base")
    sha = full_sha(get_str(head, "sha"))
    if sha is None:
        return ignore(f"Pull request #{number}: the payload has no valid head SHA.")
    return Decision(
        action="evaluate",
        reason=f"Pull request #{number} {_EVALUATE_WHY[action]}: evaluate its head {sha[:7]}.",
        pr=number,
        sha=sha,
        base_ref=get_str(base, "ref"),
        base_sha=full_sha(get_str(base, "sha")),
        head_ref=get_str(head, "ref"),
        actor=login_of(get_map(payload, "sender")),
        fork=is_fork(head, base),
    )


def _closed_pr(
    payload: Mapping[str, object], pr: Mapping[str, object], number: int, ctx: _Context
) -> Decision:
    if not get_flag(pr, "merged"):
        return ignore(f"Pull request #{number} was closed without merging.")
    head, base = get_map(pr, "head"), get_map(pr, "base")
    base_ref = get_str(base, "ref")
    default = _default_branch(payload, ctx)
    if default is None:
        return ignore(f"Pull request #{number} merged, but the default branch is unknown.")
    if base_ref != default:
        return ignore(
            f"Pull request #{number} merged into {show(base_ref)}, "
            f"not the default branch {show(default)}."
        )
    sha = full_sha(pr.get("merge_commit_sha"))
    if sha is None:
        return ignore(f"Pull request #{number} merged, but the payload has no merge commit SHA.")
    return Decision(
        action="deploy",
        reason=f"Pull request #{number} merged into {show(default)}: deploy {sha[:7]}.",
        pr=number,
        sha=sha,
        base_ref=base_ref,
        base_sha=full_sha(get_str(base, "sha")),
        head_ref=get_str(head, "ref"),
        actor=login_of(get_map(pr, "merged_by")) or login_of(get_map(payload, "sender")),
        fork=is_fork(head, base),
    )


# --------------------------------------------------------------------------- issue_comment


def _issue_comment(payload: Mapping[str, object], ctx: _Context) -> Decision:
    action = get_str(payload, "action")
    issue, comment = get_map(payload, "issue"), get_map(payload, "comment")
    number = get_int(issue, "number")
    if action is None or issue is None or comment is None or number is None:
        return ignore("The issue_comment payload has no action, issue, number or comment.")
    if action != "created":
        return ignore(f"A comment on #{number} was {show(action)}: only new comments count.")
    if get_map(issue, "pull_request") is None:
        return ignore(f"#{number} is an issue, not a pull request.")
    state = get_str(issue, "state")
    if state is not None and state != "open":
        return ignore(f"Pull request #{number} is {show(state)}: commands need an open one.")
    user = get_map(comment, "user") or get_map(payload, "sender")
    login = login_of(user)
    if login is None:
        return ignore(f"The comment on #{number} has no author.")
    if is_bot(user, login, ctx.bot_login):
        return ignore(f"The comment on #{number} is by the bot {show(login)}.")
    parsed = commands.parse_command(comment.get("body"))
    if parsed is None:
        return ignore(f"The comment on #{number} is not a slash command.")
    comment_id = get_int(comment, "id")
    if comment_id is None:  # nothing to react to or to order commands by
        return ignore(f"The command comment on #{number} has no id.")
    base = Decision(
        action="command",
        reason="",
        pr=number,
        actor=login,
        comment_id=comment_id,
    )
    return _command_decision(base, parsed, f"{show(login)} on #{number}")


def _command_decision(
    base: Decision,
    parsed: commands.ParsedCommand | commands.UnknownVerb | commands.BadArguments,
    who: str,
) -> Decision:
    if isinstance(parsed, commands.UnknownVerb):
        return replace(
            base,
            reason=f"{who}: /{show(parsed.word, 40)} is not a cml-bot command.",
            problem=parsed.reply(),
        )
    if isinstance(parsed, commands.BadArguments):
        return replace(
            base,
            reason=f"{who}: /{parsed.verb} has arguments cml-bot cannot use.",
            command=parsed.verb,
            problem=parsed.reply(),
        )
    return replace(
        base,
        reason=f"{who}: /{parsed.verb}" + (" with arguments." if parsed.args else "."),
        command=parsed.verb,
        args=dict(parsed.args),
    )


# --------------------------------------------------------------------------- push


def _push(payload: Mapping[str, object], ctx: _Context) -> Decision:
    ref = get_str(payload, "ref")
    if ref is None:
        return ignore("The push payload has no ref.")
    if ref.startswith("refs/tags/"):
        return ignore(f"Push of tag {show(ref.removeprefix('refs/tags/'))}: nothing to deploy.")
    if not ref.startswith("refs/heads/"):
        return ignore(f"Push to {show(ref)}, which is not a branch.")
    branch = ref.removeprefix("refs/heads/")
    after = get_str(payload, "after")
    if get_flag(payload, "deleted") or (after is not None and set(after) == {"0"}):
        return ignore(f"Branch {show(branch)} was deleted: nothing to deploy.")
    default = _default_branch(payload, ctx)
    if default is None:
        return ignore(f"Push to {show(branch)}, but the default branch is unknown.")
    if branch != default:
        return ignore(f"Push to {show(branch)}, not the default branch {show(default)}.")
    sha = full_sha(after)
    if sha is None:
        return ignore(f"Push to {show(branch)} without a valid `after` SHA.")
    return Decision(
        action="deploy",
        reason=f"Push to the default branch {show(branch)}: deploy {sha[:7]}.",
        sha=sha,
        base_ref=branch,
        base_sha=full_sha(get_str(payload, "before")),
        head_ref=branch,
        actor=login_of(get_map(payload, "sender")) or get_str(get_map(payload, "pusher"), "name"),
    )


# --------------------------------------------------------------------------- workflow_dispatch


def _workflow_dispatch(payload: Mapping[str, object], ctx: _Context) -> Decision:
    inputs = get_map(payload, "inputs") or {}
    verb = get_input(inputs, "action")
    choices = ", ".join(DISPATCH_ACTIONS)
    if not verb:
        return ignore(f"workflow_dispatch without an `action` input: set it to {choices}.")
    verb = verb.lower()
    if verb not in DISPATCH_ACTIONS:
        return ignore(f"workflow_dispatch input action={show(verb)} is not one of {choices}.")
    pr, pr_problem = dispatch_pr(inputs)
    sha, sha_problem = dispatch_sha(inputs)
    problem = pr_problem or sha_problem
    if problem:
        return ignore(problem)
    ref = get_str(payload, "ref")
    base = Decision(
        action="ignore",
        reason="",
        pr=pr,
        sha=sha,
        head_ref=ref.removeprefix("refs/heads/") if ref else None,
        actor=login_of(get_map(payload, "sender")),
    )
    target = f"#{pr}" if pr else (base.sha[:7] if base.sha else show(base.head_ref or "the ref"))
    if verb == "evaluate":
        return replace(base, action="evaluate", reason=f"Dispatched by hand: evaluate {target}.")
    if verb == "deploy":
        return replace(base, action="deploy", reason=f"Dispatched by hand: deploy {target}.")
    return _dispatch_command(base, verb, get_input(inputs, "args") or "", target)


def _dispatch_command(base: Decision, verb: str, args: str, target: str) -> Decision:
    if "\n" in args or "\r" in args:
        return ignore("workflow_dispatch input args must be one line.")
    parsed = commands.parse_command(f"/{verb} {args}".rstrip())
    if not isinstance(parsed, commands.ParsedCommand):
        problems = parsed.problems if isinstance(parsed, commands.BadArguments) else ()
        detail = "; ".join(problems) or "cannot parse it"
        return ignore(f"workflow_dispatch input args={show(args)}: {show(detail, 200)}")
    if verb == "retrain" and base.pr is None:
        return ignore("workflow_dispatch action=retrain needs the `pr` input.")
    return replace(
        base,
        action="command",
        reason=f"Dispatched by hand: /{verb} {target}.",
        command=verb,
        args=dict(parsed.args),
    )


# --------------------------------------------------------------------------- workflow_run


def _workflow_run(payload: Mapping[str, object], ctx: _Context) -> Decision:
    run = get_map(payload, "workflow_run")
    if run is None:
        return ignore("The workflow_run payload has no workflow_run.")
    name = show(get_str(run, "name") or "a workflow")
    if get_str(payload, "action") != "completed" or get_str(run, "conclusion") != "success":
        return ignore(f"Workflow run {name} has not completed successfully.")
    trigger = get_str(run, "event")
    if trigger != "push":
        return ignore(f"Workflow run {name} was triggered by {show(trigger)}, not a push.")
    if not same_repo(get_map(run, "head_repository"), get_map(payload, "repository")):
        return ignore(f"Workflow run {name} ran on another repository's code.")
    branch, default = get_str(run, "head_branch"), _default_branch(payload, ctx)
    if default is None or branch != default:
        return ignore(f"Workflow run {name} ran on {show(branch)}, not the default branch.")
    sha = full_sha(get_str(run, "head_sha"))
    if sha is None:
        return ignore(f"Workflow run {name} has no valid head SHA.")
    return Decision(
        action="deploy",
        reason=f"Workflow run {name} passed on {show(branch)}: deploy {sha[:7]}.",
        sha=sha,
        base_ref=branch,
        head_ref=branch,
        actor=login_of(get_map(payload, "sender")),
    )


def _pull_request_target(payload: Mapping[str, object], ctx: _Context) -> Decision:
    return ignore(
        "cml-bot does not handle pull_request_target events: they would run pull-request code "
        "with the base repository's secrets; trigger it on pull_request instead."
    )


_HANDLERS = {
    "pull_request": _pull_request,
    "pull_request_target": _pull_request_target,
    "issue_comment": _issue_comment,
    "push": _push,
    "workflow_dispatch": _workflow_dispatch,
    "workflow_run": _workflow_run,
}
