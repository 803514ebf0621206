"""A fork's artifact is hostile input: only validated numbers reach the published report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cml_bot.bot.fork_artifact import claim_matches, read_claim, read_result, render
from cml_bot.core.errors import PayloadError

SHA = "a" * 40


def artifact(tmp_path: Path, result: Any, claim: Any = None) -> Path:
    (tmp_path / "result.json").write_text(json.dumps(result))
    (tmp_path / "pr.json").write_text(json.dumps(claim or {"pr": 4, "sha": SHA}))
    return tmp_path


GOOD = {
    "verdict": "fail",
    "metrics": [
        {
            "metric": "accuracy",
            "baseline": 0.9,
            "candidate": 0.8,
            "delta": -0.1,
            "ci_low": -0.15,
            "ci_high": -0.05,
            "significant": True,
            "gates": [{"message": "accuracy 0.800 is below the minimum 0.850", "passed": False}],
        }
    ],
}


def test_good_artifact_renders_a_compact_report(tmp_path: Path) -> None:
    folder = artifact(tmp_path, GOOD)
    assert read_claim(folder) == (4, SHA)
    text = render(read_result(folder), model_name="m", sha=SHA, run_url="https://x/runs/1")
    assert text.startswith("<!-- cml-bot:report model=m -->\n## 🤖 cml-bot report: m\n")
    assert "❌ **Fail**: 1 gate(s) failed for `aaaaaaa` (from a fork)." in text
    assert "| accuracy | 0.900      | 0.800       | -0.10" in text


@pytest.mark.parametrize(
    "result",
    [
        {"verdict": "pwned", "metrics": []},
        {"verdict": "pass", "metrics": "x"},
        {"verdict": "pass", "metrics": [{"metric": "<img src=x>"}]},
        {"verdict": "pass", "metrics": [{"metric": "a", "delta": "1"}]},
        {"verdict": "pass", "metrics": [{"metric": "a", "delta": True}]},
        {"verdict": "pass", "metrics": [{"metric": "a", "gates": [{}] * 11}]},
        {"verdict": "pass", "metrics": [{"metric": f"m{i}"} for i in range(51)]},
        [1, 2],
    ],
)
def test_malformed_results_are_refused(tmp_path: Path, result: Any) -> None:
    with pytest.raises(PayloadError):
        read_result(artifact(tmp_path, result))


def test_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(
        '{"verdict": "pass", "metrics": [{"metric": "a", "delta": NaN}]}'
    )
    with pytest.raises(PayloadError, match="not a finite number"):
        read_result(tmp_path)


@pytest.mark.parametrize(
    "claim",
    [
        {"pr": "4", "sha": SHA},
        {"pr": 0, "sha": SHA},
        {"pr": True, "sha": SHA},
        {"pr": 4, "sha": "abc"},
        {"pr": 4, "sha": SHA.upper()},
    ],
)
def test_bad_claims_are_refused(tmp_path: Path, claim: Any) -> None:
    with pytest.raises(PayloadError):
        read_claim(artifact(tmp_path, GOOD, claim))


def test_hostile_gate_text_is_escaped(tmp_path: Path) -> None:
    hostile = json.loads(json.dumps(GOOD))
    hostile["metrics"][0]["gates"][0]["message"] = "</details><img src=x> [click](http://e.vil)"
    text = render(read_result(artifact(tmp_path, hostile)), model_name="m", sha=SHA, run_url=None)
    assert "<img" not in text and "</details>" not in text
    # brackets escaped and the URL made inert: shown as text, neither a link nor an autolink
    assert "\\[click\\](http:\u2060//e.vil)" in text


def test_oversized_and_linked_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(" " * (300 * 1024))
    with pytest.raises(PayloadError, match="larger than"):
        read_result(tmp_path)
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps(GOOD))
    (tmp_path / "result.json").unlink()
    (tmp_path / "result.json").symlink_to(other)
    with pytest.raises(PayloadError, match="no regular file"):
        read_result(tmp_path)


def test_claim_must_match_the_run_and_the_pr_head() -> None:
    assert claim_matches(SHA, SHA, SHA)
    assert not claim_matches(SHA, SHA, "b" * 40)
    assert not claim_matches(SHA, "b" * 40, SHA)


def test_other_keys_are_ignored_and_odd_gate_entries_skipped(tmp_path: Path) -> None:
    result = json.loads(json.dumps(GOOD))
    result["task"] = "classification"  # result.json is the whole result: more than is read
    result["metrics"][0].update(label="Accuracy", p_value=0.01)
    result["metrics"][0]["gates"] += ["not an object", {"passed": "yes", "rule": "min"}]
    result["metrics"].append({"metric": "f1", "gates": None, "significant": 1, "delta": 1})
    rows = read_result(artifact(tmp_path, result, {"pr": 4, "sha": SHA, "run": 9}))["metrics"]
    assert rows[0]["gates"] == [("accuracy 0.800 is below the minimum 0.850", False), ("", None)]
    assert rows[0]["significant"] is True
    assert rows[1] == {
        "metric": "f1",
        **dict.fromkeys(["baseline", "candidate", "ci_low", "ci_high"]),
        "delta": 1.0,
        "significant": False,
        "gates": [],
    }
    assert read_claim(tmp_path) == (4, SHA)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"verdict": ["pass"], "metrics": []}, "result.json has no valid verdict"),
        ({"verdict": "pass"}, "result.json has no valid metric list"),
        ({"verdict": "pass", "metrics": [{"metric": 5}]}, "metrics[0] has no valid name"),
        ({"verdict": "pass", "metrics": [{"metric": "a", "gates": ["x"] * 11}]}, "gates"),
        ({"verdict": "pass", "metrics": [{"metric": "a", "ci_low": 10**400}]}, "ci_low"),
        (
            {"verdict": "pass", "metrics": [{"metric": "a"}, {"metric": "b", "candidate": "1"}]},
            "metrics[1].candidate is not a finite number",
        ),
        (
            {
                "verdict": "pass",
                "metrics": [{"metric": "a", "gates": [{"message": 1}], "delta": []}],
            },
            "metrics[0].delta is not a finite number",  # the numbers first, then the gates
        ),
        ({"verdict": "pass", "metrics": [{"metric": "a", "gates": [{"message": 1}]}]}, "gate"),
    ],
)
def test_a_refusal_names_the_field(tmp_path: Path, result: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        read_result(artifact(tmp_path, result))


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ([4, SHA], "pull request number"),
        ({"pr": 4.0, "sha": SHA}, "pull request number"),
        ({"pr": 4}, "head SHA"),
        ({"pr": 4, "sha": 4}, "head SHA"),
    ],
)
def test_a_refused_claim_names_the_field(tmp_path: Path, claim: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        read_claim(artifact(tmp_path, GOOD, claim))
