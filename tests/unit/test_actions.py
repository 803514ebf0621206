"""Runner I/O: the GITHUB_OUTPUT file format, the step summary, workflow commands and masks."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from cml_bot.bot import runner as actions
from cml_bot.core.errors import PayloadError

ACTIONS = {"GITHUB_ACTIONS": "true"}
LOCAL: dict[str, str] = {}


def parse_outputs(text: str) -> dict[str, str]:
    """Read a GITHUB_OUTPUT file the way the runner does (heredoc and name=value forms)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


# ----------------------------------------------------------------------------- outputs


def test_outputs_use_heredocs_and_round_trip_multiline_values(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("earlier=1\n", encoding="utf-8")
    env = {**ACTIONS, "GITHUB_OUTPUT": str(out)}
    values = {
        "verdict": "better",
        "report": "line 1\nline 2\n\nEOF\nlast",
        "passed": True,
        "failed": False,
        "missing": None,
        "metrics": {"roc_auc": 0.91, "accuracy": 0.88},
        "count": 3,
    }
    assert actions.set_outputs(values, env) is True
    text = out.read_text(encoding="utf-8")
    parsed = parse_outputs(text)
    assert parsed["earlier"] == "1"
    assert parsed["verdict"] == "better"
    assert parsed["report"] == "line 1\nline 2\n\nEOF\nlast"
    assert (parsed["passed"], parsed["failed"], parsed["missing"]) == ("true", "false", "")
    assert json.loads(parsed["metrics"]) == {"accuracy": 0.88, "roc_auc": 0.91}
    assert parsed["count"] == "3"
    assert re.search(r"^report<<ghadelimiter_[0-9a-f]{32}$", text, re.MULTILINE)
    assert text.endswith("\n")


def test_each_output_gets_its_own_delimiter_absent_from_the_value(tmp_path: Path) -> None:
    out = tmp_path / "output"
    env = {**ACTIONS, "GITHUB_OUTPUT": str(out)}
    actions.set_outputs({"a": "x", "b": "ghadelimiter_ lookalike"}, env)
    delimiters = re.findall(r"^\w+<<(.+)$", out.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(set(delimiters)) == 2
    assert all(d not in "ghadelimiter_ lookalike" for d in delimiters)


def test_delimiter_is_redrawn_when_it_collides(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeUuid:
        def __init__(self, hex_: str) -> None:
            self.hex = hex_

    draws = iter([FakeUuid("a" * 32), FakeUuid("b" * 32)])
    monkeypatch.setattr(actions.uuid, "uuid4", lambda: next(draws))
    text = actions.format_outputs({"v": "ghadelimiter_" + "a" * 32})
    assert text == f"v<<ghadelimiter_{'b' * 32}\nghadelimiter_{'a' * 32}\nghadelimiter_{'b' * 32}\n"


def test_outputs_outside_actions_write_nothing(tmp_path: Path) -> None:
    assert actions.set_outputs({"a": "1"}, LOCAL) is False
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "has space", "a<<b", "x=y", "new\nline", "1st"])
def test_invalid_output_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid step output name"):
        actions.set_outputs({name: "v"}, LOCAL)


# ----------------------------------------------------------------------------- summary


def test_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    env = {**ACTIONS, "GITHUB_STEP_SUMMARY": str(summary)}
    assert actions.append_summary("## cml-bot\n| a | b |", env) is True
    assert actions.append_summary("more\n", env) is True
    assert summary.read_text(encoding="utf-8") == "# earlier step\n## cml-bot\n| a | b |\nmore\n"


def test_summary_outside_actions_is_a_no_op() -> None:
    assert actions.append_summary("# hi", LOCAL) is False


def test_summary_is_truncated_to_one_mebibyte_with_a_note(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 1000 + "\n", encoding="utf-8")
    env = {**ACTIONS, "GITHUB_STEP_SUMMARY": str(summary)}
    big = "| row | é🙂 |\n" * 100_000  # multi-byte characters: the cut must stay valid UTF-8
    actions.append_summary(big, env)
    data = summary.read_bytes()
    assert len(data) <= actions.SUMMARY_LIMIT
    text = data.decode("utf-8")  # raises if a character was cut in half
    assert text.endswith(actions.SUMMARY_TRUNCATED_NOTE)
    assert "| row | é🙂 |\n\n> [!WARNING]" in text  # cut on a line boundary


def test_summary_that_fits_is_not_truncated() -> None:
    assert actions.truncate_summary("short", 100) == "short"
    assert actions.truncate_summary("x" * 50, 10) == ""  # no room even for the note


# ----------------------------------------------------------------------------- commands


def test_escaping_follows_the_runner() -> None:
    assert actions.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert actions.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_error_annotation_with_properties(capsys: pytest.CaptureFixture[str]) -> None:
    actions.error(
        "roc_auc dropped\nby 0.02 (50%)",
        title="Gate: roc_auc, max_drop",
        file="a:b.py",
        env=ACTIONS,
    )
    out = capsys.readouterr().out
    assert out == (
        "::error file=a%3Ab.py,title=Gate%3A roc_auc%2C max_drop::"
        "roc_auc dropped%0Aby 0.02 (50%25)\n"
    )


def test_warning_and_notice_and_line_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    actions.warning("slow", env=ACTIONS)
    actions.notice("hello", file="cml-bot.yaml", line=3, env=ACTIONS)
    assert capsys.readouterr().out == "::warning::slow\n::notice file=cml-bot.yaml,line=3::hello\n"


def test_annotations_outside_actions_are_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    actions.error("bad data", title="Data", file="train.csv", env=LOCAL)
    actions.warning("careful", env=LOCAL)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: train.csv: Data: bad data\nwarning: careful\n"


def test_masks_one_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    pem = "-----BEGIN KEY-----\nabc%def\n\n   \n-----END KEY-----\n"
    actions.add_mask(pem, env=ACTIONS)
    assert capsys.readouterr().out == (
        "::add-mask::-----BEGIN KEY-----\n::add-mask::abc%25def\n::add-mask::-----END KEY-----\n"
    )


def test_masks_are_never_printed_outside_actions(capsys: pytest.CaptureFixture[str]) -> None:
    actions.add_mask("s3cret", env=LOCAL)
    captured = capsys.readouterr()
    assert "s3cret" not in captured.out + captured.err


def test_group_closes_even_on_error() -> None:
    stream = io.StringIO()
    with pytest.raises(RuntimeError), actions.group("Training\nnow", env=ACTIONS, stream=stream):
        print("inside", file=stream)
        raise RuntimeError("boom")
    assert stream.getvalue() == "::group::Training%0Anow\ninside\n::endgroup::\n"


def test_group_outside_actions_is_a_heading() -> None:
    stream = io.StringIO()
    with actions.group("Training", env=LOCAL, stream=stream):
        pass
    assert stream.getvalue() == "== Training ==\n"


def test_debug_only_inside_actions(capsys: pytest.CaptureFixture[str]) -> None:
    actions.debug("x", env=LOCAL)
    actions.debug("y\nz", env=ACTIONS)
    assert capsys.readouterr().out == "::debug::y%0Az\n"


# ----------------------------------------------------------------------------- environment


def test_in_actions() -> None:
    assert actions.in_actions(ACTIONS)
    assert not actions.in_actions({"GITHUB_ACTIONS": "false"})
    assert not actions.in_actions(LOCAL)


def test_read_event(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"action": "opened"}), encoding="utf-8")
    assert actions.read_event({"GITHUB_EVENT_PATH": str(path)}) == {"action": "opened"}
    assert actions.read_event(LOCAL) == {}
    assert actions.read_event({"GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}) == {}
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PayloadError, match="cannot read the event payload"):
        actions.read_event({"GITHUB_EVENT_PATH": str(path)})
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(PayloadError, match="not a JSON object"):
        actions.read_event({"GITHUB_EVENT_PATH": str(path)})
    assert actions.event_name({"GITHUB_EVENT_NAME": "pull_request"}) == "pull_request"
