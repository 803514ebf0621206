"""The checked-in `examples/*/expected-report.md` stay true: each is regenerated here, in a
temporary copy of its example in a fresh git repository, and compared after the volatile parts
(SHAs, times, latency and model size, run ids, the bot's version) are normalized.

The recipe is the champion flow: train the config as it is, promote it to champion, then run
the PR flow locally with one changed parameter (`--no-fail`, so a failing gate is reported, not
raised). Regenerate the files after an intended change with

    UPDATE_EXPECTED=1 .venv/bin/python -m pytest tests/integration/test_examples.py
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cml_bot.cli import main
from tests.integration.support import git

EXAMPLES = Path(__file__).parents[2] / "examples"
UPDATE = os.environ.get("UPDATE_EXPECTED") == "1"


@dataclass(frozen=True)
class Recipe:
    example: str
    pr_overrides: tuple[str, ...]  # what "the pull request" changes

    @property
    def header(self) -> str:
        sets = " ".join(f"--set {o}" for o in self.pr_overrides)
        return (
            f"<!-- examples/{self.example}/expected-report.md: the report of `cml-bot train`, "
            f"`cml-bot promote`, then `cml-bot run --local {sets} --no-fail` on a fresh copy of "
            "this example. tests/integration/test_examples.py regenerates it and compares; "
            "UPDATE_EXPECTED=1 rewrites it. -->\n"
        )


RECIPES = [
    # make demo's pull request: more and deeper trees (README shows an excerpt)
    Recipe("breast-cancer", ("n_estimators=200", "max_depth=6")),
    # much stronger regularisation: R² falls below its floor and drops more than allowed
    Recipe("diabetes-command", ("alpha=1000",)),
]

VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"\bcml-bot \d+\.\d+\.\d+\S*"), "cml-bot <version>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<run-id>"),
]
# the "Model size and prediction latency" table: its figures (and so its column widths) depend
# on the machine; only its row labels are compared
PERFORMANCE = re.compile(
    r"(<summary>Model size and prediction latency</summary>\n)(.*?)(</details>)", re.DOTALL
)


def _performance(match: re.Match[str]) -> str:
    labels = [
        line.split("|")[1].strip()
        for line in match.group(2).splitlines()
        if line.startswith("| ") and line.split("|")[1].strip()
    ]
    rows = "".join(f"| {label} | <figures> |\n" for label in labels)
    return f"{match.group(1)}{rows}{match.group(3)}"


def normalize(report: str, shas: list[str]) -> str:
    text = report.split("-->\n", 1)[1] if report.startswith("<!-- examples/") else report
    for sha in shas:
        text = text.replace(sha, "<sha>").replace(sha[:7], "<sha>")
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return PERFORMANCE.sub(_performance, text)


def cli(*args: str) -> str:
    result = CliRunner().invoke(
        main, list(args), env={"MLFLOW_TRACKING_URI": ""}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def regenerate(recipe: Recipe, tmp_path: Path) -> tuple[str, list[str]]:
    """The recipe's report in a fresh copy of the example, and the SHAs it may name."""
    repo = tmp_path / recipe.example
    shutil.copytree(
        EXAMPLES / recipe.example,
        repo,
        ignore=shutil.ignore_patterns(".cml-bot", "__pycache__", "expected-report.md"),
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "the example")
    config = str(repo / "cml-bot.yaml")
    cli("train", "-c", config, "-q")
    cli("promote", "-c", config, "-q")
    sets = [arg for o in recipe.pr_overrides for arg in ("--set", o)]
    cli("run", "--local", "-c", config, *sets, "--no-fail", "-q")
    report = (repo / ".cml-bot" / "out" / "report.md").read_text(encoding="utf-8")
    return report, [git(repo, "rev-parse", "HEAD")]


def test_normalize_hides_what_changes_from_run_to_run() -> None:
    sha = "4efd5b6" + "0" * 33
    report = (
        f"against champion v1 ({sha[:7]}).\n"
        "<summary>Model size and prediction latency</summary>\n\n"
        "|            | baseline  | candidate | Δ                   |\n"
        "|------------|-----------|-----------|---------------------|\n"
        "| model size | 680.1 KiB | 1.3 MiB   | +674.4 KiB (+99.2%) |\n"
        "| prediction latency, p95 (ms/row) | 21.3 | 67.6 | +46.3 (+217.1%) |\n\n"
        "</details>\n"
        f"<sub>baseline {sha} (champion) · cml-bot 0.1.0 · 2026-11-23T01:34:25Z</sub>\n"
        "run 0123456789abcdef0123456789abcdef\n"
    )
    assert normalize(report, [sha]) == (
        "against champion v1 (<sha>).\n"
        "<summary>Model size and prediction latency</summary>\n"
        "| model size | <figures> |\n"
        "| prediction latency, p95 (ms/row) | <figures> |\n"
        "</details>\n"
        "<sub>baseline <sha> (champion) · cml-bot <version> · <time></sub>\n"
        "run <run-id>\n"
    )


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.example for r in RECIPES])
def test_checked_in_report_is_what_the_example_produces(recipe: Recipe, tmp_path: Path) -> None:
    expected_path = EXAMPLES / recipe.example / "expected-report.md"
    report, shas = regenerate(recipe, tmp_path)
    if UPDATE:
        expected_path.write_text(recipe.header + report, encoding="utf-8")
    expected = expected_path.read_text(encoding="utf-8")
    assert expected.startswith(recipe.header), (
        f"{expected_path} does not say how it was made; regenerate it with UPDATE_EXPECTED=1"
    )
    expected_shas = re.findall(r"\b[0-9a-f]{40}\b", expected)
    got, want = normalize(report, shas), normalize(expected, expected_shas)
    assert got == want, (
        f"{expected_path} no longer matches what the example produces; if the change is "
        "intended, regenerate it: UPDATE_EXPECTED=1 .venv/bin/python -m pytest "
        "tests/integration/test_examples.py"
    )
