"""Slash commands in pull-request comments: parsing, argument checks and the ``/help`` text.

Pure: no click, no GitHub, no MLflow, no environment.

The rules, in the order they are applied by :func:`parse_command`:

* Only the first line of the comment counts. A leading byte-order mark and blank lines are
  skipped; then the line must start with ``/`` after at most three spaces. A first line that is
  a quote (``>``), a fenced code block (```` ``` ```` or ``~~~``) or an indented code block
  (a tab or four spaces) never fires, and neither does a command on a later line or in the
  middle of a sentence. The result is ``None``: "not a command".
* ``/`` must be followed by a word of ASCII letters, digits, ``_`` or ``-`` that starts with a
  letter, then a space or the end of the line. ``/usr/bin/python``, ``/ 1``, ``/help!`` or
  ``／retrain`` (full-width slash) are not commands.
* Verbs are case-insensitive (``/Retrain`` is ``/retrain``: phone keyboards capitalise, and
  nothing else could be meant); argument names are case-sensitive (they are Python names).
* A first line longer than :data:`MAX_LINE` characters, or one holding control or invisible
  formatting characters (NUL, bidirectional overrides, zero-width spaces, ...), is refused with
  an explanation rather than guessed at. Unicode spaces (no-break space, ...) count as spaces.
* Arguments are split like a shell line (:func:`shlex.split`: quotes work, nothing is ever
  run or expanded): ``key="$(rm -rf /)"`` is the plain string ``$(rm -rf /)``.
* Unknown verbs give :class:`UnknownVerb` (with "did you mean" suggestions); bad arguments give
  :class:`BadArguments`. Both have :meth:`reply`, the Markdown to post back.

Arguments per verb:

``/retrain [key=value ...] [-key ...]``
    parameter overrides (values read as YAML; ``-key`` removes a parameter, ``estimator=``
    switches the estimator); the keys the repository allows are checked later with
    :func:`check_retrain_args` (they come from the config). Another bare word is an error.
``/evaluate``, ``/deploy``
    no arguments but the reserved ``sha=<commit>``.
``/rollback [vN]``
    an optional version: ``v3``, ``3`` or ``version=3``, stored as ``args["version"] = "3"``.
``/help``
    extra words are ignored: help always helps.

``sha=<hex>`` (7 to 64 hex digits, stored lower-case) is reserved on every verb but ``/help``
and ``/rollback``: it pins the command to the head commit the commenter saw, so the app refuses
to run if the pull request moved on since.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cml_bot.bot.comment_line import (
    MAX_LINE,
    code_span,
    first_line,
    hidden_chars,
    is_hidden,
    normalize_spaces,
)

if TYPE_CHECKING:
    from cml_bot.config import CommandsSection

VERBS: tuple[str, ...] = ("retrain", "evaluate", "deploy", "rollback", "help")
RESERVED_ARGS: frozenset[str] = frozenset({"sha", "version"})
MAX_ARGS = 50

SUMMARIES: dict[str, str] = {
    "retrain": "train again with parameter overrides, then compare and update the report",
    "evaluate": "evaluate the PR head again against the baseline and update the report",
    "deploy": "promote and deploy the model of a merged commit",
    "rollback": "move the champion back to an earlier model version (default: the previous one)",
    "help": "show this list",
}
USAGE: dict[str, str] = {
    "retrain": "/retrain [key=value ...] [-key ...] [sha=<commit>]",
    "evaluate": "/evaluate [sha=<commit>]",
    "deploy": "/deploy [sha=<commit>]",
    "rollback": "/rollback [vN]",
    "help": "/help",
}

_VERB_RE = re.compile(r"/([A-Za-z][A-Za-z0-9_-]*)")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_REMOVE_RE = re.compile(r"-[A-Za-z_][A-Za-z0-9_]*")  # /retrain -max_depth: remove the parameter
PYTHON_SPELLINGS = frozenset({"None"})  # YAML reads it as text: say to write `null`
_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_FLOAT_RE = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")
_VERSION_RE = re.compile(r"[vV]?([0-9]{1,9})")


@dataclass(frozen=True)
class ParsedCommand:
    """A well-formed slash command. ``args`` are raw strings; see :func:`parse_value`."""

    verb: str
    args: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def sha(self) -> str | None:
        """The commit the commenter pinned the command to (``sha=``), lower-case."""
        return self.args.get("sha")

    @property
    def overrides(self) -> dict[str, str]:
        """Arguments that are not reserved: the parameter overrides of ``/retrain``."""
        return {k: v for k, v in self.args.items() if k not in RESERVED_ARGS}


@dataclass(frozen=True)
class UnknownVerb:
    """``/word`` where ``word`` is not a cml-bot verb."""

    word: str
    suggestions: tuple[str, ...] = ()
    raw: str = ""

    def reply(self) -> str:
        hint = ""
        if self.suggestions:
            hint = " Did you mean " + " or ".join(f"`/{s}`" for s in self.suggestions) + "?"
        verbs = ", ".join(f"`/{v}`" for v in VERBS)
        return (
            f"{code_span('/' + self.word)} is not a cml-bot command.{hint}\n\n"
            f"Commands: {verbs}. Comment `/help` for what each does and who may use it."
        )


@dataclass(frozen=True)
class BadArguments:
    """A known verb whose arguments (or whole line) cannot be used as written."""

    verb: str
    problems: tuple[str, ...]
    raw: str = ""

    def reply(self) -> str:
        usage = USAGE.get(self.verb, "/help")
        lines = "\n".join(f"- {p}" for p in self.problems)
        return (
            f"I could not run `/{self.verb}`:\n\n{lines}\n\n"
            f"Usage: `{usage}`. Comment `/help` for details."
        )


CommandProblem = UnknownVerb | BadArguments
ParseResult = ParsedCommand | UnknownVerb | BadArguments | None


def parse_command(body: object) -> ParseResult:
    """Parse the first line of a comment body. ``None`` means "not a command" (stay silent)."""
    line = first_line(body)
    if line is None:
        return None
    visible = line.lstrip("".join(c for c in line[:8] if is_hidden(c)))
    match = _VERB_RE.match(visible)
    if match is None:
        return None
    rest = visible[match.end() :]
    if rest and not (rest[0].isspace() or is_hidden(rest[0])):
        return None  # "/usr/bin/x", "/help!": a path or prose, not a command
    word = match.group(1)
    verb = word.lower()
    if verb not in VERBS:
        if visible != line:
            return None  # invisible characters before an unknown word: stay silent
        hints = difflib.get_close_matches(verb, VERBS, n=2, cutoff=0.6)
        return UnknownVerb(word[:40], tuple(hints), line[:MAX_LINE])
    if verb == "help":
        return ParsedCommand("help", {}, line[:MAX_LINE])  # help always helps
    if len(line) > MAX_LINE:
        problem = f"the command line is longer than {MAX_LINE} characters"
        return BadArguments(verb, (problem,), line[:MAX_LINE])
    hidden = hidden_chars(line)
    if hidden:
        problem = (
            f"the line holds invisible or control characters ({hidden}); "
            "retype the command instead of pasting it"
        )
        return BadArguments(verb, (problem,), line)
    return _parse_args(verb, normalize_spaces(rest), line)


def _parse_args(verb: str, rest: str, raw: str) -> ParsedCommand | BadArguments:
    try:
        tokens = shlex.split(rest, comments=False, posix=True)
    except ValueError as exc:
        return BadArguments(verb, (f"cannot split the arguments: {exc} (check the quotes)",), raw)
    if len(tokens) > MAX_ARGS:
        return BadArguments(verb, (f"too many arguments ({len(tokens)}, at most {MAX_ARGS})",), raw)
    args: dict[str, str] = {}
    problems: list[str] = []
    bare: list[str] = []
    for token in tokens:
        problems.extend(_add_token(verb, token, args, bare))
    if bare:
        problems.insert(0, _bare_tokens_problem(verb, bare))
    problems.extend(_check_verb_args(verb, args))
    if problems:
        return BadArguments(verb, tuple(problems), raw)
    return ParsedCommand(verb, args, raw)


def _add_token(verb: str, token: str, args: dict[str, str], bare: list[str]) -> list[str]:
    key, sep, value = token.partition("=")
    if not sep and verb == "retrain" and _REMOVE_RE.fullmatch(token):
        if token in args or token[1:] in args:
            return [f"{code_span(token[1:])} is given more than once"]
        args[token] = ""  # remove the parameter: see retrain_overrides
        return []
    if not sep:
        if verb == "rollback" and "version" not in args:
            args["version"] = token
        else:
            bare.append(token)
        return []
    if not _KEY_RE.fullmatch(key):
        return [
            f"{code_span(key)} is not a valid argument name: use letters, digits, `_` and `.`, "
            "e.g. `n_estimators=300`"
        ]
    if key in args or "-" + key in args:
        return [f"{code_span(key)} is given more than once"]
    if value == "":
        return [f"{code_span(key + '=')} has no value: write `{key}=null` to unset it"]
    args[key] = value
    return []


def _bare_tokens_problem(verb: str, tokens: list[str]) -> str:
    shown = ", ".join(code_span(t) for t in tokens[:5]) + (", ..." if len(tokens) > 5 else "")
    if verb == "retrain":
        return (
            f"{shown}: not `key=value`. Write parameter overrides as `name=value`, e.g. "
            '`/retrain n_estimators=300 max_depth=8`; quote values with spaces: `name="a b"`'
        )
    return f"{shown}: `/{verb}` takes no such argument"


def _check_verb_args(verb: str, args: dict[str, str]) -> list[str]:
    problems: list[str] = []
    if "sha" in args:
        sha = args["sha"]
        if verb == "rollback":
            problems.append("`/rollback` moves the champion to a model version, not a commit")
        elif not _SHA_RE.fullmatch(sha):
            problems.append(
                f"`sha=` wants a commit hash (7 to 64 hex digits), not {code_span(sha)}"
            )
        else:
            args["sha"] = sha.lower()
    if "version" in args:
        if verb != "rollback":
            problems.append(f"`version=` is only for `/rollback`, not `/{verb}`")
        else:
            problems.extend(_normalize_version(args))
    if verb in ("evaluate", "deploy", "rollback"):
        allowed = {"sha"} if verb != "rollback" else {"version"}
        problems.extend(
            f"{code_span(key + '=')}: `/{verb}` takes no such argument"
            for key in args
            if key not in allowed and key not in RESERVED_ARGS
        )
    return problems


def _normalize_version(args: dict[str, str]) -> list[str]:
    match = _VERSION_RE.fullmatch(args["version"])
    if match is None:
        return [f"{code_span(args['version'])} is not a model version: write it as `v3` or `3`"]
    number = int(match.group(1))
    if number < 1:
        return ["model versions start at `v1`"]
    args["version"] = str(number)
    return []


# --------------------------------------------------------------------------- /retrain values

Scalar = str | int | float | bool | None


def parse_value(raw: str) -> Scalar:
    """A ``/retrain`` value as a YAML scalar: ``300`` -> 300, ``0.5``, ``1e-3`` (a float, unlike
    plain YAML 1.1), ``true``, ``null`` -> None, ``gini`` -> "gini". Anything YAML would turn
    into a list, a mapping, a date or bytes, and anything it cannot parse, stays the string as
    written (:func:`check_retrain_args` refuses lists and mappings)."""
    import yaml  # here, not at the top: `cml-bot plan` parses commands but never values

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str) and _FLOAT_RE.fullmatch(raw):
        return float(raw)  # YAML 1.1 reads 1e-3 as a string; a learning rate it is not
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return raw


def check_retrain_args(args: Mapping[str, str], allowed_keys: Iterable[str]) -> list[str]:
    """Problems with ``/retrain`` arguments for a repository that allows ``allowed_keys``
    (``commands.retrain.params`` in the config). Empty when they may be used."""
    allowed = list(allowed_keys)
    problems: list[str] = []
    for key, raw in args.items():
        if key in RESERVED_ARGS:
            continue
        if key.removeprefix("-") not in allowed:
            problems.append(_not_allowed(key.removeprefix("-"), allowed))
            continue
        if raw.strip() in PYTHON_SPELLINGS:
            problems.append(
                f"{code_span(key + '=' + raw)}: YAML reads `{raw}` as the text '{raw}'; write "
                f"`{key}=null` to set it to None, or `-{key}` to remove the parameter"
            )
        elif _is_collection(raw):
            problems.append(
                f"{code_span(key)}: {code_span(raw)} is a list or mapping; give one value "
                "(a number, a string, true/false or null)"
            )
    return problems


def retrain_overrides(args: Mapping[str, str]) -> dict[str, Scalar]:
    """Typed parameter overrides from checked ``/retrain`` arguments (reserved ones left out);
    a removal keeps its key ``-name`` (with None), as ``--set -name`` does (``config.edit_params``
    applies both, and ``estimator=``)."""
    return {
        k: None if k.startswith("-") else parse_value(v)
        for k, v in args.items()
        if k not in RESERVED_ARGS
    }


def _is_collection(raw: str) -> bool:
    import yaml

    try:
        value: object = yaml.safe_load(raw)
    except yaml.YAMLError:
        return False
    return isinstance(value, (list, dict, set))


def _not_allowed(key: str, allowed: list[str]) -> str:
    if not allowed:
        return (
            f"{code_span(key)} may not be changed: this repository allows no `/retrain` "
            "parameters (list them under `commands.retrain.params` in cml-bot.yaml)"
        )
    hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    listed = ", ".join(f"`{a}`" for a in allowed)
    fix = f"did you mean `{hint[0]}`?" if hint else f"allowed: {listed}"
    return f"{code_span(key)} is not a parameter `/retrain` may change; {fix}"


# --------------------------------------------------------------------------- /help


def help_text(commands_cfg: CommandsSection) -> str:
    """Markdown: every verb, its arguments and the least repository permission it needs."""
    rows = []
    for verb in VERBS:
        spec = getattr(commands_cfg, verb)
        usage = USAGE[verb]
        summary = SUMMARIES[verb]
        if verb == "retrain":
            summary += "; parameters: " + (
                ", ".join(f"`{p}`" for p in spec.params) if spec.params else "none allowed"
            )
        rows.append(f"| `{usage}` | {summary} | {_permission(spec.permission)} |")
    return "\n".join(
        [
            "**cml-bot commands** (first line of a comment; text in quotes and code blocks "
            "is ignored)",
            "",
            "| command | what it does | who may use it |",
            "|---|---|---|",
            *rows,
            "",
            "`/retrain` values are YAML: `max_depth=null` sets a parameter to None (not "
            "`None`), `-max_depth` removes it (the estimator's default), "
            "`estimator=sklearn.linear_model.LogisticRegression` switches the estimator and "
            "starts its parameters empty (when `estimator` is an allowed parameter).",
            "",
            "`sha=<commit>` pins a command to the head commit you reviewed: it does not run "
            "if the pull request has moved on since.",
        ]
    )


def _permission(level: str) -> str:
    if level == "none":
        return "anyone"
    return f"`{level}` permission or higher"
