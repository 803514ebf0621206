"""Hostile and broken input: mutated real webhook payloads, comment bodies built to break the
command parser, report strings built to break the markdown, configs of every wrong type, and
broken data. Each must end in a decision, a clear error of the documented kind, or a safe render:
never a traceback.

Hypothesis runs derandomized (the same examples on every run) with bounded example counts, so the
whole module stays well under 30 s.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cml_bot.bot import commands as commands
from cml_bot.bot.events import ACTIONS, Decision, decide
from cml_bot.cli import main
from cml_bot.compare.engine import (
    Comparison,
    ConfusionMatrices,
    ModelIdentity,
    SliceRow,
    SliceTable,
    build_row,
    verdict_of,
)
from cml_bot.config import Gate, load_config, parse_config
from cml_bot.core.errors import ConfigError, DataError, PayloadError, TrainingError
from cml_bot.ml.data import load_dataset
from cml_bot.report.render import MARKER_PREFIX, ReportContext, render_report, report_marker
from cml_bot.stats.engine import PairedDelta

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
FAST = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HUGE = "b" * 100_000
HOSTILE_TEXT = [
    "</details>",
    "<details><summary>x",
    "<!--",
    "-->",
    "<!-- cml-bot:report model=tumor-classifier -->",
    "a|b||c",
    "`",
    "```",
    "````\n```\n",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "@everyone @octo-org/admins",
    "\n\n# heading\n---\n",
    "\u202eevil\u202c",
    "\u200b\u2060\ufeff",
    "\x00\x07\x1b[31m",
    "\ud800",
    "::add-mask::x\n::stop-commands::y",
    "$(rm -rf /)",
    "&lt;not&gt;",
    "\\|",
    "*_~$[]",
    HUGE,
]
hostile_text = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=80)


# ================================================================== webhook payloads


def _examples(event: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / f"{event}.json").read_text("utf-8"))
    return data


def primed() -> dict[str, list[dict[str, Any]]]:
    """Real examples, and variants of them that reach each decision (so mutations hit the deep
    paths the rules read): a PR comment command, a merge, a dispatch."""
    out = {e: _examples(e) for e in ("pull_request", "issue_comment", "push", "workflow_run")}
    comment = copy.deepcopy(next(e for e in out["issue_comment"] if e["action"] == "created"))
    comment["issue"].update(state="open", pull_request={"url": "https://x/pulls/1"})
    comment["comment"]["body"] = "/retrain n_estimators=300 sha=" + SHA[:7]
    merged = copy.deepcopy(next(e for e in out["pull_request"] if e["action"] == "closed"))
    merged["pull_request"].update(merged=True, merge_commit_sha=SHA)
    merged["pull_request"]["base"]["ref"] = merged["repository"]["default_branch"]
    dispatch = copy.deepcopy(_examples("workflow_dispatch")[0])
    dispatch["inputs"] = {"action": "retrain", "pr": "7", "sha": SHA, "args": "n_estimators=3"}
    assert decide("issue_comment", comment).action == "command"
    assert decide("pull_request", merged).action == "deploy"
    out["issue_comment"].append(comment)
    out["pull_request"].append(merged)
    out["workflow_dispatch"] = [dispatch]
    return out


PRIMED = primed()
EVENT_NAMES = sorted(PRIMED)


def paths_of(value: Any, prefix: tuple[Any, ...] = (), depth: int = 5) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if depth == 0 or not isinstance(value, (dict, list)):
        return found
    items: Any = value.items() if isinstance(value, dict) else enumerate(value[:2])
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths_of(child, (*prefix, key), depth - 1))
    return found


PATHS = {e: sorted({p for x in PRIMED[e] for p in paths_of(x)}, key=str) for e in EVENT_NAMES}
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=6,
)


@st.composite
def mutated(draw: Any) -> tuple[str, dict[str, Any]]:
    """A primed example with 1-4 mutations: a key removed, or set to a value of any type."""
    event = draw(st.sampled_from(EVENT_NAMES))
    payload = copy.deepcopy(draw(st.sampled_from(PRIMED[event])))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS[event]))
        node: Any = payload
        for key in path[:-1]:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(node, dict) and draw(st.booleans()):
                node.pop(path[-1], None)
            elif isinstance(node, (dict, list)):
                with contextlib.suppress(IndexError):
                    node[path[-1]] = draw(json_values)
    return event, payload


def check_sound(decision: Decision) -> None:
    assert decision.action in ACTIONS
    assert decision.reason.strip() and "\n" not in decision.reason
    assert len(decision.reason) < 600  # user values are cut to a few dozen characters
    json.dumps(decision.to_json(), allow_nan=False)
    if decision.sha is not None:
        assert re.fullmatch(r"[0-9a-f]{7,64}", decision.sha)
    if decision.pr is not None:
        assert isinstance(decision.pr, int) and decision.pr > 0
    for key, value in decision.args.items():
        assert isinstance(key, str) and isinstance(value, str)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\u202a-\u202e\u2066-\u2069]", key + value)


@FAST
@given(mutated())
def test_mutated_real_payloads_always_get_a_sound_decision(case: tuple[str, Any]) -> None:
    event, payload = case
    check_sound(decide(event, payload))


@FAST
@given(st.sampled_from(EVENT_NAMES), st.sampled_from(["pull_request", "issue", "comment"]))
def test_null_or_missing_objects_are_ignored(event: str, key: str) -> None:
    for payload in PRIMED[event]:
        for value in (None, [], "x", 3, {}):
            decision = decide(event, {**payload, key: value})
            check_sound(decision)
            if key in payload and event in ("pull_request", "issue_comment"):
                assert decision.action == "ignore"


@FAST
@given(hostile_text | st.integers() | st.none())
def test_any_event_name_is_handled(name: Any) -> None:
    check_sound(decide(name, PRIMED["push"][0]))


@pytest.mark.parametrize("payload", [None, [], "text", 3, 1.5, b"{}"])
def test_a_payload_that_is_no_object_is_a_payload_error(payload: Any) -> None:
    with pytest.raises(PayloadError):
        decide("issue_comment", payload)


def plan(tmp_path: Path, event: str, text: str | bytes) -> Any:
    path = tmp_path / "event.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return CliRunner().invoke(main, ["plan", "--event-name", event, "--event-path", str(path)])


def check_plan(result: Any) -> None:
    """A decision as JSON (exit 0) or one clear error line (exit 2); never a traceback."""
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    if result.exit_code == 0:
        check_sound(Decision(**json.loads(result.output)))
    else:
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and "fix: " in result.output


@settings(FAST, max_examples=40)
@given(mutated())
def test_plan_on_mutated_payload_files(tmp_path_factory: Any, case: tuple[str, Any]) -> None:
    event, payload = case
    tmp = tmp_path_factory.mktemp("plan")
    check_plan(plan(tmp, event, json.dumps(payload)))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[]",
        "null",
        '"a string"',
        b"\xff\xfe\x00{",
        b"\xef\xbb\xbf{}",
        '{"action": NaN, "pull_request": {"number": Infinity}}',
        '{"action": "\\ud800", "pull_request": null}',
        '{"action": "opened", "pull_request": {"number": 1e400}}',
        json.dumps({"action": "opened", "pull_request": {"number": 1, "head": {"ref": HUGE * 50}}}),
    ],
    ids=lambda t: repr(t)[:30],
)
def test_plan_on_broken_files_says_why(tmp_path: Path, text: str | bytes) -> None:
    start = time.monotonic()
    check_plan(plan(tmp_path, "pull_request", text))
    assert time.monotonic() - start < 5


def test_plan_on_deeply_nested_json_says_why(tmp_path: Path) -> None:
    result = plan(tmp_path, "push", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    check_plan(result)
    assert result.exit_code == 2 and "nests too deeply" in result.output


# ================================================================== comment bodies

RETRAIN_ALLOWED = ["n_estimators", "max_depth"]


def check_parse(body: Any) -> Any:
    """Any body parses to a result of the documented kinds, fast, and its reply is safe."""
    start = time.monotonic()
    parsed = commands.parse_command(body)
    assert time.monotonic() - start < 0.5
    assert parsed is None or isinstance(
        parsed, (commands.ParsedCommand, commands.UnknownVerb, commands.BadArguments)
    )
    if isinstance(parsed, commands.ParsedCommand):
        assert parsed.verb in commands.VERBS
        for key, value in parsed.args.items():
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e]", value)
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key)
        for problem in commands.check_retrain_args(parsed.args, RETRAIN_ALLOWED):
            assert problem and "\n" not in problem
    else:
        reply = parsed.reply() if parsed is not None else ""
        assert commands.parse_command(reply) is None  # a bot reply is never a command (no loop)
        assert len(reply) < 6000
        assert "\x00" not in reply and "\u202e" not in reply
    return parsed


def comment_event(body: str) -> dict[str, Any]:
    payload = copy.deepcopy(PRIMED["issue_comment"][-1])
    payload["comment"]["body"] = body
    return payload


LONG = "\n".join(f"line {i}" for i in range(10_000))
BODIES: dict[str, tuple[str, str | None]] = {
    # name: (body, expected: "none" | verb of a ParsedCommand | "bad" | "unknown")
    "10k lines, command later": (LONG + "\n/retrain n_estimators=5", "none"),
    "10k lines, command first": ("/retrain n_estimators=5\n" + LONG, "retrain"),
    "one 100k line": ("/retrain " + "n=1 " * 25_000, "bad"),
    "NUL in the arguments": ("/retrain\x00 n_estimators=5", "bad"),
    "NUL before the verb": ("\x00/retrain n_estimators=5", "bad"),
    "NUL in a value": ("/retrain n_estimators=5\x00", "bad"),
    "code fence": ("```\n/retrain n_estimators=5\n```", "none"),
    "nested code fences": ("````\n```\n/retrain\n```\n````", "none"),
    "indented code": ("    /retrain n_estimators=5", "none"),
    "quote": ("> /retrain n_estimators=5", "none"),
    "double quotes": ('"/retrain n_estimators=5"', "none"),
    "inline code": ("`/retrain n_estimators=5`", "none"),
    "prose": ("please /retrain n_estimators=5", "none"),
    "RTL override before": ("\u202e/retrain n_estimators=5", "bad"),
    "RTL override in args": ("/retrain n_estimators=\u202e5", "bad"),
    "RTL mark in args": ("/retrain \u200fmax_depth=3", "bad"),
    "zero-width space verb": ("/re\u200btrain", "unknown"),  # "/re is not a command"
    "full-width slash": ("\uff0fretrain", "none"),
    "shell substitution": ("/retrain key=$(rm -rf /)", "bad"),  # split into bare words
    "shell substitution, quoted": ('/retrain key="$(rm -rf /)"', "retrain"),
    "shell substitution quoted": ("/retrain n_estimators='$(rm -rf /)'", "retrain"),
    "backticks": ("/retrain n_estimators=`id`", "retrain"),
    "semicolon": ("/retrain n_estimators=5;reboot", "retrain"),
    "unbalanced quote": ('/retrain n_estimators="5', "bad"),
    "mention in an unknown verb": ("/@everyone", "none"),
    "unknown verb with markdown": ("/retrian **x** @octocat", "unknown"),
    "path, not a command": ("/usr/bin/python", "none"),
    "CRLF": ("/evaluate\r\n/deploy", "evaluate"),
    "only blank lines": ("\n\n\r\n   \n", "none"),
    "BOM": ("\ufeff/help", "help"),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_comment_bodies_built_to_break_the_parser(name: str) -> None:
    body, expected = BODIES[name]
    parsed = check_parse(body)
    kind = {
        type(None): "none",
        commands.BadArguments: "bad",
        commands.UnknownVerb: "unknown",
    }.get(type(parsed))
    assert (kind or parsed.verb) == expected, parsed
    decision = decide("issue_comment", comment_event(body))
    check_sound(decision)
    assert decision.action == ("ignore" if expected == "none" else "command")


def test_shell_text_stays_a_plain_string_and_is_refused_as_a_key() -> None:
    parsed = commands.parse_command("/retrain key=\"$(rm -rf /)\" n_estimators='$(reboot)'")
    assert isinstance(parsed, commands.ParsedCommand)
    assert parsed.args == {"key": "$(rm -rf /)", "n_estimators": "$(reboot)"}
    assert commands.retrain_overrides(parsed.args) == {
        "key": "$(rm -rf /)",
        "n_estimators": "$(reboot)",
    }
    (problem,) = commands.check_retrain_args(parsed.args, RETRAIN_ALLOWED)
    assert problem.startswith("`key` is not a parameter")


@FAST
@given(
    st.sampled_from(["/retrain ", "/evaluate ", "/rollback ", "/", "/help ", "/deploy ", ""]),
    st.text(max_size=200) | hostile_text,
)
def test_any_comment_body_is_parsed_safely(prefix: str, rest: str) -> None:
    body = prefix + rest
    check_parse(body)
    check_sound(decide("issue_comment", comment_event(body)))


# ================================================================== report strings

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
ALLOWED_TAGS = re.compile(r"</?(details|summary|sub)>|<br>")


def delta(b: float, c: float) -> PairedDelta:
    return PairedDelta("accuracy", b, c, c - b, -0.01, 0.03, False, "paired mean", 100)


def hostile_report(strings: list[str], budget: int, url: str | None = None) -> tuple[str, str]:
    s = itertools.cycle(strings)
    rows = [build_row("accuracy", 0.86, delta(0.85, 0.86), Gate(min=0.5, max_drop=0.1))]
    slice_rows = [SliceRow(next(s), 10 + i, {"accuracy": 0.9}, {"accuracy": 0.8}) for i in range(3)]
    cmp = Comparison(
        verdict=verdict_of(rows, True),
        rows=rows,
        failed_gates=[],
        notes=[next(s), next(s)],
        slices=[SliceTable(next(s), ["accuracy"], slice_rows)],
        confusion=ConfusionMatrices([next(s), next(s)], [[1, 2], [3, 4]], [[2, 1], [4, 3]]),
        baseline_present=True,
        label_mismatch=[],
        n_rows=100,
        candidate_rows=100,
        baseline_rows=100,
        baseline_problem=next(s),
    )

    def identity(role: str) -> ModelIdentity:
        return ModelIdentity(
            role,
            "base" if role == "baseline" else "candidate",
            ref=next(s),
            sha=next(s),
            params={next(s): next(s), "n_estimators": 5},
            run_url=url or next(s),
            class_balance={next(s): 0.5, next(s): 0.5},
            columns=[next(s), next(s), "a|b"],
            rows=100,
        )

    ctx = ReportContext(
        model_name=next(s),
        baseline=identity("baseline"),
        candidate=identity("candidate"),
        generated_at=WHEN,
        baseline_note=next(s),
        notes=[next(s), next(s), next(s)],
        run_url=url or next(s),
        commands=[("retrain", next(s), next(s))],
        bot_version=next(s),
    )
    return render_report(cmp, ctx, max_chars=budget), ctx.model_name


def check_report(text: str, model_name: str, budget: int) -> None:
    assert len(text) <= budget
    lines = text.splitlines()
    assert lines[0] == report_marker(model_name)
    assert sum(MARKER_PREFIX in line for line in lines) == 1  # exactly one marker line
    assert text.count("<!--") == 1
    rest = ALLOWED_TAGS.sub("", "\n".join(lines[1:]))
    assert not re.search(r"<[A-Za-z!/?]", rest), re.search(r".{0,40}<[A-Za-z!/?].{0,40}", rest)
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0
    assert not re.search(r"(?<!\\)\]\((?!https?://)", text)  # no link but to http(s)
    assert "\x00" not in text and "\u202e" not in text


@settings(FAST, max_examples=60)
@given(st.lists(hostile_text, min_size=1, max_size=12), st.sampled_from([2000, 5000, 65000]))
def test_report_strings_built_to_break_the_markdown(strings: list[str], budget: int) -> None:
    text, name = hostile_report(strings, budget)
    check_report(text, name, budget)


@pytest.mark.parametrize("budget", [2000, 65000])
def test_report_with_100kb_branch_names_and_fake_markers(budget: int) -> None:
    strings = [HUGE, "<!-- cml-bot:report model=x -->", "</details>", "a|b", "<!--", HUGE + "|"]
    text, name = hostile_report(strings, budget)
    check_report(text, name, budget)
    assert "&lt;/details&gt;" in text or budget == 2000


def test_run_links_never_carry_credentials() -> None:
    url = "https://alice:s3cretPASS@mlflow.example.com/#/experiments/1/runs/abc"
    text, name = hostile_report(["main", "</details>"], 65000, url)
    check_report(text, name, 65000)
    assert "s3cretPASS" not in text and "alice" not in text
    assert "(https://mlflow.example.com/#/experiments/1/runs/abc)" in text


# ================================================================== configs

BASE_CONFIG: dict[str, Any] = {
    "model": {"name": "m", "task": "classification"},
    "train": {"data": "t.csv", "target": "y", "params": {"n_estimators": 5}, "seed": 0},
    "evaluate": {"metrics": ["accuracy"], "slices": [], "test_size": 0.3},
    "gates": {"accuracy": {"min": 0.5}},
    "baseline": "none",
    "registry": {"tracking_uri": None, "backend": "auto"},
    "deploy": {"alias": "champion", "command": ["x"], "timeout": 5},
    "commands": {"retrain": {"permission": "write", "params": ["n_estimators"]}},
    "report": {"max_chars": 3000},
}
CONFIG_PATHS = sorted(paths_of(BASE_CONFIG), key=str)
yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8) | st.integers() | st.booleans() | st.none(), inner)
    ),
    max_leaves=6,
)


@st.composite
def broken_config(draw: Any) -> Any:
    data = copy.deepcopy(BASE_CONFIG)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(CONFIG_PATHS))
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        op = draw(st.sampled_from(["set", "delete", "unknown key"]))
        if op == "set":
            node[path[-1]] = draw(yaml_values)
        elif op == "delete":
            node.pop(path[-1], None)
        else:
            node[draw(st.text(max_size=12) | st.integers())] = draw(yaml_values)
    return data


@settings(FAST, max_examples=300)
@given(broken_config() | yaml_values)
def test_configs_of_every_wrong_type_raise_config_error_only(data: Any) -> None:
    try:
        parse_config(data)
    except ConfigError as exc:
        assert exc.exit_code == 2 and str(exc).strip()


@pytest.mark.parametrize(
    "text",
    [
        "model: [",
        "\tmodel: {name: m}",
        "- a\n- b",
        "model: !!python/object/apply:os.system ['id']",
        "&a [*a]",
        "model: {name: 'has space'}\ntrain: {data: d.csv, target: y}",
        "model: {name: m}\ntrain: {data: d.csv, target: y}\ntrian: {}",
        "model: {name: m}\ntrain: {command: 'python \"unbalanced'}",
    ],
    ids=lambda t: repr(t)[:25],
)
def test_config_files_built_to_break_loading(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cml-bot.yaml"
    path.write_text(text)
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).strip()


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("model: {name: m}\nmodel: {name: n}\ntrain: {data: x, target: y}", "model", (1, 2)),
        (  # a relaxed gate written after the real one would silently win
            "model: {name: m}\ntrain: {data: x, target: y}\ngates:\n  accuracy: {min: 0.9}\n"
            "  accuracy: {min: 0.1}\n",
            "accuracy",
            (4, 5),
        ),
        ("model:\n  name: m\n  name: n\ntrain: {data: x, target: y}\n", "name", (2, 3)),
    ],
)
def test_a_key_given_twice_is_an_error_naming_both_lines(
    tmp_path: Path, text: str, key: str, lines: tuple[int, int]
) -> None:
    path = tmp_path / "cml-bot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"'{key}' is given twice, at line {lines[0]} and line {lines[1]}" in str(caught.value)


def test_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "cml-bot.yaml").write_bytes(b"\xff\xfe\x00m")
    with pytest.raises(ConfigError, match=r"not UTF-8|not valid YAML"):
        load_config(tmp_path / "cml-bot.yaml")


# ================================================================== data

ROWS = [(i, "ab"[i % 2]) for i in range(20)]


def table(rows: list[tuple[Any, ...]], header: str = "x,y") -> str:
    return header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows)


DATA_CASES: dict[str, tuple[str | bytes, str | None, str]] = {
    # name: (training file, evaluation file or None, expected: "trains" | DataError text)
    "NaN features": (
        table([("" if i % 3 == 0 else i, i, y) for i, y in ROWS], "x,z,y"),
        None,
        "trains",
    ),
    "NaN in a categorical feature": (
        table([(i, "" if i % 4 == 0 else "pq"[i % 2], y) for i, y in ROWS], "x,c,y"),
        None,
        "trains",
    ),
    "infinity in training": (
        table([("inf" if i == 3 else i, y) for i, y in ROWS]),
        None,
        "the training data has infinite values in column(s) ['x']",
    ),
    "-infinity in evaluation": (
        table(ROWS),
        table([("-inf" if i == 1 else i, y) for i, y in ROWS[:6]]),
        "the evaluation data has infinite values in column(s) ['x']",
    ),
    "empty file": ("", None, "training file is empty"),
    "header only": ("x,y\n", None, "the training data has no rows"),
    "binary garbage": (b"\x00\xff\xfe" * 50, None, "training"),
    "one class only": (table([(i, "a") for i in range(20)]), None, "only one class ('a')"),
    "mismatched label sets": (
        table(ROWS),
        table([(i, "abc"[i % 3]) for i in range(9)]),
        "class(es) ['c'] appear in the evaluation data but not in training",
    ),
    "missing labels": (table([(i, "" if i == 2 else y) for i, y in ROWS]), None, "no label"),
    "no target column": (table([(i,) for i in range(20)], "x"), None, "target column 'y'"),
    "one row": (table(ROWS[:1]), None, "cannot split the 1 training row(s)"),
    "four rows": (table(ROWS[:4]), None, "cannot split the 4 training row(s)"),
}


def data_config(tmp_path: Path, train: str | bytes, evaluation: str | None) -> Any:
    path = tmp_path / "t.csv"
    if isinstance(train, bytes):
        path.write_bytes(train)
    else:
        path.write_text(train)
    raw: dict[str, Any] = {
        "model": {"name": "m"},
        "train": {"data": "t.csv", "target": "y", "params": {"n_estimators": 3}},
        "evaluate": {"metrics": ["accuracy"]},
    }
    if evaluation is not None:
        (tmp_path / "e.csv").write_text(evaluation)
        raw["evaluate"]["data"] = "e.csv"
    return parse_config(raw, root=tmp_path)


@pytest.mark.parametrize("name", sorted(DATA_CASES))
def test_broken_data_raises_data_error_or_trains(tmp_path: Path, name: str) -> None:
    from cml_bot.ml.training import train_builtin

    train, evaluation, expected = DATA_CASES[name]
    cfg = data_config(tmp_path, train, evaluation)
    if expected != "trains":
        with pytest.raises(DataError) as caught:
            load_dataset(cfg)
        assert expected in caught.value.message and caught.value.fix
        return
    dataset = load_dataset(cfg)  # missing values are imputed by the pipeline
    model = train_builtin(cfg, dataset, {"n_estimators": 3}, tmp_path / "out")
    assert model.scored is not None  # the worker's predictions of the evaluation rows
    assert len(model.scored.pred) == len(dataset.evaluation)


def test_an_all_missing_only_feature_loads_then_fails_training_clearly(tmp_path: Path) -> None:
    """Documented: the imputer drops a column with no values; if it was the only feature the
    estimator refuses (a TrainingError, exit 3), not a DataError."""
    from cml_bot.ml.training import train_builtin

    cfg = data_config(tmp_path, table([("", y) for _, y in ROWS]), None)
    dataset = load_dataset(cfg)
    lines: list[str] = []  # the worker's output: scikit-learn's warning names the column
    with pytest.raises(TrainingError, match="0 feature"):
        train_builtin(cfg, dataset, {"n_estimators": 3}, tmp_path / "out", echo=lines.append)
    assert any("Skipping features without any observed values: ['x']" in x for x in lines)


def test_cli_train_on_broken_data_exits_3_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(table(ROWS[:4]))
    (tmp_path / "cml-bot.yaml").write_text(
        yaml.safe_dump({"model": {"name": "m"}, "train": {"data": "t.csv", "target": "y"}})
    )
    result = CliRunner().invoke(
        main, ["train", "--no-log", "-q", "-c", str(tmp_path / "cml-bot.yaml")]
    )
    assert result.exit_code == 3 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("error: cannot split the 4 training row(s)")
