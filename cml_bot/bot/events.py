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

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from cml_bot.bot import commands as commands
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

_FULL_SHA_RE = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
_SHORT_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_PRINTABLE_RE = re.compile(r"[^\x20-\x7e]")


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

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field (for step outputs and logs)."""
        out = asdict(self)
        out["args"] = dict(self.args)
        return out


def ignore(reason: str) -> Decision:
    return Decision(action="ignore", reason=reason)


def decide(
    event_name: str,
    payload: Mapping[str, Any],
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
            f"the {_show(event_name)} event payload is a {type(payload).__name__}, "
            "not a JSON object",
            fix="pass the webhook body (GITHUB_EVENT_PATH) unchanged",
        )
    handler = _HANDLERS.get(event_name) if isinstance(event_name, str) else None
    if handler is None:
        return ignore(f"cml-bot does not handle {_show(event_name)} events.")
    return handler(payload, _Context(default_branch, bot_login))


@dataclass(frozen=True)
class _Context:
    default_branch: str | None
    bot_login: str | None


# --------------------------------------------------------------------------- safe access


def _map(obj: Any, key: str) -> Mapping[str, Any] | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, Mapping) else None


def _str(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else None


def _int(obj: Any, key: str) -> int | None:
    """A positive integer (PR numbers and ids); anything else is ``None``."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else None


def _flag(obj: Any, key: str) -> bool:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value is True


def _sha(value: Any) -> str | None:
    """A full commit SHA (SHA-1 or SHA-256), lower-case; all zeros or anything else is ``None``."""
    if isinstance(value, str) and _FULL_SHA_RE.fullmatch(value) and value.strip("0"):
        return value.lower()
    return None


def _show(value: Any, limit: int = 60) -> str:
    """A user-controlled value safe for a one-line log message."""
    text = _PRINTABLE_RE.sub("?", str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_branch(payload: Mapping[str, Any], ctx: _Context) -> str | None:
    return _str(_map(payload, "repository"), "default_branch") or ctx.default_branch


def _login(user: Mapping[str, Any] | None) -> str | None:
    return _str(user, "login")


# --------------------------------------------------------------------------- pull_request


def _pull_request(payload: Mapping[str, Any], ctx: _Context) -> Decision:
    action = _str(payload, "action")
    pr = _map(payload, "pull_request")
    number = _int(pr, "number")
    if action is None or pr is None or number is None:
        return ignore("The pull_request payload has no action, pull_request or number.")
    if action == "closed":
        return _closed_pr(payload, pr, number, ctx)
    if action not in EVALUATE_ACTIONS:
        return ignore(f"Pull request #{number}, action {_show(action)}: nothing for cml-bot to do.")
    if _flag(pr, "draft"):
        return ignore(f"Pull request #{number} is a draft: it is evaluated once marked ready.")
    state = _str(pr, "state")
    if state is not None and state != "open":
        return ignore(f"Pull request #{number} is {_show(state)}, not open.")
    head, base = _map(pr, "head"), _map(pr, "base")
    sha = _sha(_str(head, "sha"))
    if sha is None:
        return ignore(f"Pull request #{number}: the payload has no valid head SHA.")
    return Decision(
        action="evaluate",
        reason=f"Pull request #{number} {_EVALUATE_WHY[action]}: evaluate its head {sha[:7]}.",
        pr=number,
        sha=sha,
        base_ref=_str(base, "ref"),
        base_sha=_sha(_str(base, "sha")),
        head_ref=_str(head, "ref"),
        actor=_login(_map(payload, "sender")),
        fork=_is_fork(head, base),
    )


def _closed_pr(
    payload: Mapping[str, Any], pr: Mapping[str, Any], number: int, ctx: _Context
) -> Decision:
    if not _flag(pr, "merged"):
        return ignore(f"Pull request #{number} was closed without merging.")
    head, base = _map(pr, "head"), _map(pr, "base")
    base_ref = _str(base, "ref")
    default = _default_branch(payload, ctx)
    if default is None:
        return ignore(f"Pull request #{number} merged, but the default branch is unknown.")
    if base_ref != default:
        return ignore(
            f"Pull request #{number} merged into {_show(base_ref)}, "
            f"not the default branch {_show(default)}."
        )
    sha = _sha(pr.get("merge_commit_sha"))
    if sha is None:
        return ignore(f"Pull request #{number} merged, but the payload has no merge commit SHA.")
    return Decision(
        action="deploy",
        reason=f"Pull request #{number} merged into {_show(default)}: deploy {sha[:7]}.",
        pr=number,
        sha=sha,
        base_ref=base_ref,
        base_sha=_sha(_str(base, "sha")),
        head_ref=_str(head, "ref"),
        actor=_login(_map(pr, "merged_by")) or _login(_map(payload, "sender")),
        fork=_is_fork(head, base),
    )


def _is_fork(head: Mapping[str, Any] | None, base: Mapping[str, Any] | None) -> bool:
    """True unless the head repository is known to be the base repository."""
    return not _same_repo(_map(head, "repo"), _map(base, "repo"))


def _same_repo(head_repo: Mapping[str, Any] | None, base_repo: Mapping[str, Any] | None) -> bool:
    if head_repo is None or base_repo is None:
        return False  # a deleted fork has "repo": null
    head_id, base_id = _int(head_repo, "id"), _int(base_repo, "id")
    if head_id is not None and base_id is not None:
        return head_id == base_id
    head_name, base_name = _str(head_repo, "full_name"), _str(base_repo, "full_name")
    return head_name is not None and head_name == base_name


# --------------------------------------------------------------------------- issue_comment


def _issue_comment(payload: Mapping[str, Any], ctx: _Context) -> Decision:
    action = _str(payload, "action")
    issue, comment = _map(payload, "issue"), _map(payload, "comment")
    number = _int(issue, "number")
    if action is None or issue is None or comment is None or number is None:
        return ignore("The issue_comment payload has no action, issue, number or comment.")
    if action != "created":
        return ignore(f"A comment on #{number} was {_show(action)}: only new comments count.")
    if _map(issue, "pull_request") is None:
        return ignore(f"#{number} is an issue, not a pull request.")
    state = _str(issue, "state")
    if state is not None and state != "open":
        return ignore(f"Pull request #{number} is {_show(state)}: commands need an open one.")
    user = _map(comment, "user") or _map(payload, "sender")
    login = _login(user)
    if login is None:
        return ignore(f"The comment on #{number} has no author.")
    if _is_bot(user, login, ctx.bot_login):
        return ignore(f"The comment on #{number} is by the bot {_show(login)}.")
    parsed = commands.parse_command(comment.get("body"))
    if parsed is None:
        return ignore(f"The comment on #{number} is not a slash command.")
    comment_id = _int(comment, "id")
    if comment_id is None:  # nothing to react to or to order commands by
        return ignore(f"The command comment on #{number} has no id.")
    base = Decision(
        action="command",
        reason="",
        pr=number,
        actor=login,
        comment_id=comment_id,
    )
    return _command_decision(base, parsed, f"{_show(login)} on #{number}")


def _is_bot(user: Mapping[str, Any] | None, login: str, bot_login: str | None) -> bool:
    if _str(user, "type") == "Bot" or login.lower().endswith("[bot]"):
        return True
    if not bot_login:
        return False
    return login.lower().removesuffix("[bot]") == bot_login.lower().removesuffix("[bot]")


def _command_decision(
    base: Decision,
    parsed: commands.ParsedCommand | commands.UnknownVerb | commands.BadArguments,
    who: str,
) -> Decision:
    if isinstance(parsed, commands.UnknownVerb):
        return replace(
            base,
            reason=f"{who}: /{_show(parsed.word, 40)} is not a cml-bot command.",
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


def _push(payload: Mapping[str, Any], ctx: _Context) -> Decision:
    ref = _str(payload, "ref")
    if ref is None:
        return ignore("The push payload has no ref.")
    if ref.startswith("refs/tags/"):
        return ignore(f"Push of tag {_show(ref.removeprefix('refs/tags/'))}: nothing to deploy.")
    if not ref.startswith("refs/heads/"):
        return ignore(f"Push to {_show(ref)}, which is not a branch.")
    branch = ref.removeprefix("refs/heads/")
    after = _str(payload, "after")
    if _flag(payload, "deleted") or (after is not None and set(after) == {"0"}):
        return ignore(f"Branch {_show(branch)} was deleted: nothing to deploy.")
    default = _default_branch(payload, ctx)
    if default is None:
        return ignore(f"Push to {_show(branch)}, but the default branch is unknown.")
    if branch != default:
        return ignore(f"Push to {_show(branch)}, not the default branch {_show(default)}.")
    sha = _sha(after)
    if sha is None:
        return ignore(f"Push to {_show(branch)} without a valid `after` SHA.")
    return Decision(
        action="deploy",
        reason=f"Push to the default branch {_show(branch)}: deploy {sha[:7]}.",
        sha=sha,
        base_ref=branch,
        base_sha=_sha(_str(payload, "before")),
        head_ref=branch,
        actor=_login(_map(payload, "sender")) or _str(_map(payload, "pusher"), "name"),
    )


# --------------------------------------------------------------------------- workflow_dispatch


def _workflow_dispatch(payload: Mapping[str, Any], ctx: _Context) -> Decision:
    inputs = _map(payload, "inputs") or {}
    verb = _input(inputs, "action")
    if not verb:
        return ignore(
            "workflow_dispatch without an `action` input: set it to "
            + ", ".join(DISPATCH_ACTIONS)
            + "."
        )
    verb = verb.lower()
    if verb not in DISPATCH_ACTIONS:
        return ignore(
            f"workflow_dispatch input action={_show(verb)} is not one of "
            + ", ".join(DISPATCH_ACTIONS)
            + "."
        )
    pr, pr_problem = _dispatch_pr(inputs)
    sha_text = _input(inputs, "sha")
    if pr_problem:
        return ignore(pr_problem)
    if sha_text and not _SHORT_SHA_RE.fullmatch(sha_text):
        return ignore(f"workflow_dispatch input sha={_show(sha_text)} is not a commit hash.")
    ref = _str(payload, "ref")
    base = Decision(
        action="ignore",
        reason="",
        pr=pr,
        sha=sha_text.lower() if sha_text else None,
        head_ref=ref.removeprefix("refs/heads/") if ref else None,
        actor=_login(_map(payload, "sender")),
    )
    target = f"#{pr}" if pr else (base.sha[:7] if base.sha else _show(base.head_ref or "the ref"))
    if verb == "evaluate":
        return replace(base, action="evaluate", reason=f"Dispatched by hand: evaluate {target}.")
    if verb == "deploy":
        return replace(base, action="deploy", reason=f"Dispatched by hand: deploy {target}.")
    return _dispatch_command(base, verb, _input(inputs, "args") or "", target)


def _input(inputs: Mapping[str, Any], key: str) -> str | None:
    value = inputs.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        return str(value).strip()
    return None


def _dispatch_pr(inputs: Mapping[str, Any]) -> tuple[int | None, str | None]:
    text = _input(inputs, "pr")
    if not text:
        return None, None
    digits = text.removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9 or int(digits) < 1:
        return None, f"workflow_dispatch input pr={_show(text)} is not a pull request number."
    return int(digits), None


def _dispatch_command(base: Decision, verb: str, args: str, target: str) -> Decision:
    if "\n" in args or "\r" in args:
        return ignore("workflow_dispatch input args must be one line.")
    parsed = commands.parse_command(f"/{verb} {args}".rstrip())
    if not isinstance(parsed, commands.ParsedCommand):
        problems = parsed.problems if isinstance(parsed, commands.BadArguments) else ()
        detail = "; ".join(problems) or "cannot parse it"
        return ignore(f"workflow_dispatch input args={_show(args)}: {_show(detail, 200)}")
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


def _workflow_run(payload: Mapping[str, Any], ctx: _Context) -> Decision:
    run = _map(payload, "workflow_run")
    if run is None:
        return ignore("The workflow_run payload has no workflow_run.")
    name = _show(_str(run, "name") or "a workflow")
    if _str(payload, "action") != "completed" or _str(run, "conclusion") != "success":
        return ignore(f"Workflow run {name} has not completed successfully.")
    trigger = _str(run, "event")
    if trigger != "push":
        return ignore(f"Workflow run {name} was triggered by {_show(trigger)}, not a push.")
    if not _same_repo(_map(run, "head_repository"), _map(payload, "repository")):
        return ignore(f"Workflow run {name} ran on another repository's code.")
    branch, default = _str(run, "head_branch"), _default_branch(payload, ctx)
    if default is None or branch != default:
        return ignore(f"Workflow run {name} ran on {_show(branch)}, not the default branch.")
    sha = _sha(_str(run, "head_sha"))
    if sha is None:
        return ignore(f"Workflow run {name} has no valid head SHA.")
    return Decision(
        action="deploy",
        reason=f"Workflow run {name} passed on {_show(branch)}: deploy {sha[:7]}.",
        sha=sha,
        base_ref=branch,
        head_ref=branch,
        actor=_login(_map(payload, "sender")),
    )


def _pull_request_target(payload: Mapping[str, Any], ctx: _Context) -> Decision:
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
