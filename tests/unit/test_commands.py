"""Slash-command parsing: a table of comment bodies and what each must (not) do."""

from __future__ import annotations

import time

import pytest

from cml_bot.bot.commands import (
    VERBS,
    BadArguments,
    ParsedCommand,
    UnknownVerb,
    check_retrain_args,
    help_text,
    parse_command,
    parse_value,
    retrain_overrides,
)
from cml_bot.bot.comment_line import MAX_LINE, first_line
from cml_bot.config.sections import CommandSpec, CommandsSection

# body -> (verb, args) of the command it must run
ACCEPTED: list[tuple[str, str, dict[str, str]]] = [
    ("/retrain", "retrain", {}),
    ("/retrain n_estimators=300", "retrain", {"n_estimators": "300"}),
    (
        "/retrain n_estimators=300 max_depth=null",
        "retrain",
        {"n_estimators": "300", "max_depth": "null"},
    ),
    (
        "/retrain   n_estimators=300\t max_depth=8  ",
        "retrain",
        {"n_estimators": "300", "max_depth": "8"},
    ),
    ('/retrain criterion="log loss"', "retrain", {"criterion": "log loss"}),
    ("/retrain criterion='entropy'", "retrain", {"criterion": "entropy"}),
    ('/retrain key="$(rm -rf /)"', "retrain", {"key": "$(rm -rf /)"}),
    ("/retrain key=$(id)", "retrain", {"key": "$(id)"}),
    ("/retrain key=`id`;ls|cat>x", "retrain", {"key": "`id`;ls|cat>x"}),
    ("/retrain a=b=c", "retrain", {"a": "b=c"}),
    ("/retrain x=#notacomment", "retrain", {"x": "#notacomment"}),
    ("/retrain evaluate.test_size=0.3", "retrain", {"evaluate.test_size": "0.3"}),
    ("/retrain note=héllo→ünïcode", "retrain", {"note": "héllo→ünïcode"}),
    ("/retrain n_estimators=50\nthanks!\n/deploy", "retrain", {"n_estimators": "50"}),
    ("/retrain n_estimators=50\r\nsecond line", "retrain", {"n_estimators": "50"}),
    ("/retrain sha=ABCDEF1234567", "retrain", {"sha": "abcdef1234567"}),
    ("/Retrain", "retrain", {}),  # verbs are case-insensitive
    ("/RETRAIN N_Estimators=3", "retrain", {"N_Estimators": "3"}),  # argument names are not
    ("/retrain\u00a0n_estimators=5", "retrain", {"n_estimators": "5"}),  # no-break space
    ("\ufeff/evaluate", "evaluate", {}),  # byte-order mark
    ("\n\n  \n/evaluate", "evaluate", {}),  # blank lines first
    ("   /evaluate", "evaluate", {}),  # up to three spaces is still a paragraph
    ("/evaluate sha=" + "a" * 40, "evaluate", {"sha": "a" * 40}),
    ("/deploy", "deploy", {}),
    ("/deploy sha=0123abc", "deploy", {"sha": "0123abc"}),
    ("/rollback", "rollback", {}),
    ("/rollback v3", "rollback", {"version": "3"}),
    ("/rollback V12", "rollback", {"version": "12"}),
    ("/rollback 7", "rollback", {"version": "7"}),
    ("/rollback version=v2", "rollback", {"version": "2"}),
    ("/help", "help", {}),
    ("/help me please!", "help", {}),  # help ignores its arguments
    ("/help\u202e", "help", {}),  # ... and never refuses
]

# bodies that are not commands at all: cml-bot stays silent
NOT_COMMANDS = [
    "",
    "   ",
    "\n\n",
    "LGTM",
    "please /retrain n_estimators=300",
    "Could you /retrain?",
    "thanks\n/retrain n_estimators=300",  # a command on the second line
    "> /retrain n_estimators=300",  # a quote
    ">/retrain",
    "```\n/retrain\n```",  # a fenced code block
    "~~~\n/retrain\n~~~",
    "    /retrain",  # an indented code block
    "\t/retrain",
    "  \t/retrain",
    "`/retrain`",
    "/",
    "/ retrain",
    "//retrain",
    "/usr/bin/python crashed",  # a path
    "/retrain/now",
    "/help!",
    "/retrain,",
    "/123",
    "/_x",
    "／retrain",  # full-width slash
    "\u200f/zzz",  # invisible character before an unknown word
    "- /retrain",
    "* /retrain",
    "1. /retrain",
    "# /retrain",
    "<!-- /retrain -->",
    "\n" * 10_000 + "text\n/retrain",
]


@pytest.mark.parametrize(("body", "verb", "args"), ACCEPTED)
def test_accepted(body: str, verb: str, args: dict[str, str]) -> None:
    result = parse_command(body)
    assert isinstance(result, ParsedCommand), result
    assert result.verb == verb
    assert result.args == args


@pytest.mark.parametrize("body", NOT_COMMANDS)
def test_not_a_command(body: str) -> None:
    assert parse_command(body) is None


@pytest.mark.parametrize("body", [None, 42, b"/retrain", ["/retrain"], {"body": "/help"}])
def test_non_strings_are_not_commands(body: object) -> None:
    assert parse_command(body) is None


# bodies that name a verb but cannot run: a reply says why
@pytest.mark.parametrize(
    ("body", "verb", "needle"),
    [
        ("/retrain n_estimators", "retrain", "not `key=value`"),
        ("/retrain 300", "retrain", "n_estimators=300"),
        ("/retrain key=$(rm -rf /)", "retrain", "`/)`: not `key=value`"),  # unquoted: -rf removes
        ("/retrain a=1 a=2", "retrain", "more than once"),
        ("/retrain a=", "retrain", "`a=null`"),
        ("/retrain 1x=2", "retrain", "not a valid argument name"),
        ("/retrain =2", "retrain", "not a valid argument name"),
        ('/retrain a="unclosed', "retrain", "quotes"),
        ("/retrain sha=xyz", "retrain", "commit hash"),
        ("/retrain sha=abc", "retrain", "commit hash"),  # too short
        ("/retrain version=3", "retrain", "only for `/rollback`"),
        ("/retrain a=1\x00", "retrain", "U+0000"),  # NUL byte
        ("/retrain a=1\x1b[31m", "retrain", "U+001B"),  # terminal escape
        ("/retrain\u200b n=1", "retrain", "U+200B"),  # zero-width space
        ("/retrain n=1 \u202eevil", "retrain", "U+202E"),  # right-to-left override
        ("\u200f/retrain n=1", "retrain", "U+200F"),  # right-to-left mark
        ("/retrain n=1\u2028x", "retrain", "U+2028"),  # line separator
        ("/retrain " + "a=1 " * 300, "retrain", f"longer than {MAX_LINE}"),
        ("/retrain " + " ".join(f"k{i}=1" for i in range(60)), "retrain", "too many"),
        ("/evaluate now", "evaluate", "takes no such argument"),
        ("/evaluate n_estimators=3", "evaluate", "takes no such argument"),
        ("/deploy v3", "deploy", "takes no such argument"),
        ("/rollback v3 v4", "rollback", "`v4`"),
        ("/rollback latest", "rollback", "not a model version"),
        ("/rollback v0", "rollback", "start at `v1`"),
        ("/rollback sha=abcdef1", "rollback", "model version, not a commit"),
        ("/rollback v3 force=1", "rollback", "`force=`"),
    ],
)
def test_bad_arguments(body: str, verb: str, needle: str) -> None:
    result = parse_command(body)
    assert isinstance(result, BadArguments), result
    assert result.verb == verb
    reply = result.reply()
    assert needle in reply, reply
    assert f"`/{verb}`" in reply and "/help" in reply


@pytest.mark.parametrize(
    ("body", "suggestion"),
    [
        ("/retrian", "retrain"),
        ("/Retrian n_estimators=3", "retrain"),
        ("/evalute", "evaluate"),
        ("/deplyo", "deploy"),
        ("/rolback v2", "rollback"),
        ("/hlep", "help"),
    ],
)
def test_misspelled_verbs_get_a_suggestion(body: str, suggestion: str) -> None:
    result = parse_command(body)
    assert isinstance(result, UnknownVerb), result
    assert result.suggestions[0] == suggestion
    reply = result.reply()
    assert f"Did you mean `/{suggestion}`?" in reply
    assert all(f"`/{v}`" in reply for v in VERBS)


def test_unknown_verb_without_a_close_match_lists_the_verbs() -> None:
    result = parse_command("/lgtm")
    assert isinstance(result, UnknownVerb)
    assert result.suggestions == ()
    assert "Did you mean" not in result.reply()
    assert "`/retrain`" in result.reply()


def test_a_long_unknown_word_is_cut_in_the_reply() -> None:
    result = parse_command("/" + "x" * 5000)
    assert isinstance(result, UnknownVerb)
    assert len(result.word) <= 40
    assert len(result.reply()) < 400


def test_user_text_in_a_reply_cannot_break_out_of_its_code_span() -> None:
    result = parse_command("/retrain `@everyone` <img src=x onerror=alert(1)>")
    assert isinstance(result, BadArguments)
    reply = result.reply()
    assert "`'@everyone'`" in reply  # backticks replaced: the mention stays inside code
    assert "\n" not in result.problems[0]


def test_ten_thousand_line_body_is_cheap() -> None:
    body = "/retrain n_estimators=10\n" + "filler line of text\n" * 10_000
    start = time.perf_counter()
    for _ in range(100):
        result = parse_command(body)
    assert time.perf_counter() - start < 0.5
    assert isinstance(result, ParsedCommand) and result.args == {"n_estimators": "10"}


def test_huge_first_line_is_refused_not_parsed() -> None:
    result = parse_command("/retrain " + "x" * 1_000_000)
    assert isinstance(result, BadArguments)
    assert len(result.raw) <= MAX_LINE


def test_first_line_helper() -> None:
    assert first_line("\ufeff\n  /help  \nmore") == "/help"
    assert first_line("    code") is None
    assert first_line("") is None
    assert first_line(3) is None


def test_parsed_command_properties() -> None:
    result = parse_command("/retrain n_estimators=5 sha=ABCDEF0")
    assert isinstance(result, ParsedCommand)
    assert result.sha == "abcdef0"
    assert result.overrides == {"n_estimators": "5"}
    assert result.raw == "/retrain n_estimators=5 sha=ABCDEF0"


# --------------------------------------------------------------------------- /retrain values


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("300", 300),
        ("0.5", 0.5),
        ("1e-3", 0.001),  # a string in YAML 1.1; a learning rate here
        ("1E5", 100000.0),
        ("-2.5e+2", -250.0),
        ("1e", "1e"),
        ("e5", "e5"),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("gini", "gini"),
        ("'300'", "300"),
        ("log loss", "log loss"),
        ("2024-01-01", "2024-01-01"),  # a date stays a string
        ("!!binary aGk=", "!!binary aGk="),  # so do bytes
        ("[1, 2]", "[1, 2]"),  # check_retrain_args refuses collections
        ("{a: 1}", "{a: 1}"),
        ("*alias", "*alias"),  # not valid YAML: the string as written
        ("!!python/object:os.system", "!!python/object:os.system"),  # safe_load refuses tags
        ("$(rm -rf /)", "$(rm -rf /)"),
    ],
)
def test_parse_value(raw: str, value: object) -> None:
    parsed = parse_value(raw)
    assert parsed == value and type(parsed) is type(value)


def test_check_retrain_args() -> None:
    allowed = ["n_estimators", "max_depth"]
    assert check_retrain_args({"n_estimators": "300", "sha": "abcdef1"}, allowed) == []
    problems = check_retrain_args({"n_estimator": "3", "criterion": "gini"}, allowed)
    assert len(problems) == 2
    assert "did you mean `n_estimators`?" in problems[0]
    assert "allowed: `n_estimators`, `max_depth`" in problems[1]
    assert "list or mapping" in check_retrain_args({"max_depth": "[1, 2]"}, allowed)[0]
    assert "allows no `/retrain` parameters" in check_retrain_args({"a": "1"}, [])[0]


def test_retrain_overrides_are_typed_and_skip_reserved_keys() -> None:
    args = {"n_estimators": "300", "max_depth": "null", "sha": "abcdef1"}
    assert retrain_overrides(args) == {"n_estimators": 300, "max_depth": None}


def test_end_to_end_retrain_comment() -> None:
    result = parse_command("/retrain n_estimators=300 max_depth=null\nplease")
    assert isinstance(result, ParsedCommand)
    assert check_retrain_args(result.args, ["n_estimators", "max_depth"]) == []
    assert retrain_overrides(result.args) == {"n_estimators": 300, "max_depth": None}


# --------------------------------------------------------------------------- /help


def test_help_text_lists_verbs_arguments_and_permissions() -> None:
    cfg = CommandsSection(
        retrain=CommandSpec(permission="triage", params=["n_estimators", "max_depth"]),
        deploy=CommandSpec(permission="admin"),
    )
    text = help_text(cfg)
    for verb in VERBS:
        assert f"`/{verb}" in text
    assert "`n_estimators`, `max_depth`" in text
    lines = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")
    }
    assert "`triage` permission" in lines["`/retrain [key=value ...] [-key ...] [sha=<commit>]`"]
    assert "`admin` permission" in lines["`/deploy [sha=<commit>]`"]
    assert "`maintain` permission" in lines["`/rollback [vN]`"]
    assert "anyone" in lines["`/help`"]


def test_help_text_with_defaults_says_no_parameters_are_allowed() -> None:
    assert "none allowed" in help_text(CommandsSection())
