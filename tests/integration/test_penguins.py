"""Real data nobody on the project wrote (the Palmer penguins, CC0; tests/fixtures/data/penguins):
a champion trained and promoted on ``main``, then a pull request that changes the data or the
model, each through ``cml-bot run --local``. The comparison must never score the champion on rows
it was trained on, must score each model with its own input columns, and must say what changed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from click.testing import CliRunner, Result

from cml_bot.cli import main
from tests.integration.support import git

PENGUINS = Path(__file__).parents[1] / "fixtures" / "data" / "penguins" / "penguins.csv"
CONFIG: dict[str, Any] = {
    "model": {"name": "penguins", "task": "classification"},
    "train": {
        "data": "data/penguins.csv",
        "target": "species",
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 30},
        "seed": 0,
    },
    "evaluate": {"metrics": ["accuracy", "f1_macro"], "latency_rounds": 0},  # timed elsewhere
    "gates": {"accuracy": {"max_drop": 0.05}},
    "baseline": "champion",
}


def cli(*args: str) -> Result:
    env = {"MLFLOW_TRACKING_URI": "", "GITHUB_TOKEN": "", "GITHUB_REPOSITORY": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def write_config(repo: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    data = json.loads(json.dumps(CONFIG))
    if edit is not None:
        edit(data)
    (repo / "cml-bot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def champion_repo(tmp_path: Path, rows: int | None = None) -> Path:
    """A git repository on ``main`` with the penguins (the first ``rows`` of them), and a champion
    trained on it and promoted; then checked out on the PR's branch ``change``."""
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    if rows is None:
        shutil.copy(PENGUINS, repo / "data" / "penguins.csv")
    else:
        lines = PENGUINS.read_text().splitlines(keepends=True)
        (repo / "data" / "penguins.csv").write_text("".join(lines[: rows + 1]))
    write_config(repo)
    (repo / ".gitignore").write_text(".cml-bot/\nchampion/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "penguins")
    cfg = str(repo / "cml-bot.yaml")
    trained = cli("train", "-c", cfg, "--out", str(repo / "champion"), "-q")
    assert trained.exit_code == 0, trained.output
    promoted = cli("promote", "-c", cfg, "--out", str(repo / "champion"), "-q")
    assert promoted.exit_code == 0, promoted.output
    git(repo, "checkout", "-qb", "change")
    return repo


def run_pr(repo: Path, message: str) -> tuple[dict[str, Any], str]:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    done = cli("run", "--local", "-c", str(repo / "cml-bot.yaml"), "-q", "--no-fail")
    assert done.exit_code == 0, done.output
    out = repo / ".cml-bot" / "out"
    return json.loads((out / "result.json").read_text()), (out / "report.md").read_text()


def champion_training_rows(repo: Path) -> set[str]:
    record = json.loads((repo / "champion" / "model" / "train_rows.json").read_text())
    return set(record["rows"])


def scored_rows(repo: Path, role: str) -> set[str]:
    frame = pd.read_csv(repo / ".cml-bot" / "out" / role / "predictions.csv", dtype={"row_id": str})
    return set(frame["row_id"])


def headline(report: str) -> str:
    """The report above the first collapsed section."""
    return report.split("<details>", 1)[0]


def drop_rows_with_missing_values(repo: Path) -> None:
    pd.read_csv(PENGUINS).dropna().to_csv(repo / "data" / "penguins.csv", index=False)


def test_a_pr_dropping_rows_with_missing_values_sets_the_champions_training_rows_aside(
    tmp_path: Path,
) -> None:
    repo = champion_repo(tmp_path)
    drop_rows_with_missing_values(repo)  # 333 of 344 rows left: the seeded split moves
    result, report = run_pr(repo, "drop rows with missing values")

    assert result["baseline"]["kind"] == "champion"
    assert result["rows"] == {
        "evaluation": 84,
        "compared": 32,
        "set_aside": {"baseline_trained_on": 52, "candidate_trained_on": 0},
        "duplicates": 0,
        "identity": "content hash of 8 column(s)",
        "training_rows": {"added": 51, "removed": 60},
        "unmatched": None,
        "fallback": None,
    }
    assert result["n_rows"] == 32
    assert not scored_rows(repo, "baseline") & champion_training_rows(repo)
    top = headline(report)
    assert "Compared on 32 of 84 evaluation rows; set aside: 52 because champion v1" in top
    assert "Training rows: 51 added, 60 removed." in top
    assert "Paired comparison on the same 32 evaluation rows" in top


def test_too_few_rows_left_fall_back_to_the_base_commit_retrained(tmp_path: Path) -> None:
    repo = champion_repo(tmp_path)
    drop_rows_with_missing_values(repo)
    write_config(repo, lambda d: d["evaluate"].update(min_rows=40))
    result, report = run_pr(repo, "drop rows with missing values, floor 40")

    assert result["baseline"]["kind"] == "base"
    rows = result["rows"]
    assert rows["evaluation"] == rows["compared"] == result["n_rows"] == 84
    assert rows["set_aside"] == {"baseline_trained_on": 0, "candidate_trained_on": 0}
    assert rows["training_rows"] == {"added": 51, "removed": 60}  # against the champion's
    assert "the 32 left are fewer than evaluate.min_rows (40)" in rows["fallback"]
    assert rows["fallback"] in headline(report).replace("\\_", "_")


def test_a_pr_dropping_a_feature_scores_the_champion_with_its_own_inputs(tmp_path: Path) -> None:
    repo = champion_repo(tmp_path)
    features = ["island", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]
    write_config(repo, lambda d: d["train"].update(features=features))
    result, report = run_pr(repo, "drop bill_length_mm")

    assert result["baseline"]["kind"] == "champion"
    rows = result["rows"]
    assert rows == {
        **rows,
        "evaluation": 86,
        "compared": 86,
        "set_aside": {"baseline_trained_on": 0, "candidate_trained_on": 0},
    }
    assert result["n_rows"] == 86
    assert not scored_rows(repo, "baseline") & champion_training_rows(repo)
    assert "bill_length_mm" in result["baseline"]["features"]  # scored with its own inputs
    assert "bill_length_mm" not in result["candidate"]["features"]
    assert "bill\\_length\\_mm" in headline(report)
    assert "Model inputs removed" in headline(report)


def test_a_pr_changing_the_estimator_says_so_above_the_fold(tmp_path: Path) -> None:
    repo = champion_repo(tmp_path)

    def logistic(d: dict[str, Any]) -> None:
        d["train"].update(estimator="sklearn.linear_model.LogisticRegression")
        d["train"]["params"] = {"max_iter": 2000}

    write_config(repo, logistic)
    result, report = run_pr(repo, "logistic regression")

    assert result["baseline"]["kind"] == "champion"
    assert result["rows"]["evaluation"] == 86 and result["rows"]["compared"] == 86
    assert result["rows"]["training_rows"] == {"added": 0, "removed": 0}
    assert "RandomForestClassifier → LogisticRegression" in headline(report)


def test_a_pr_appending_rows_compares_only_rows_neither_model_trained_on(tmp_path: Path) -> None:
    repo = champion_repo(tmp_path, rows=300)
    shutil.copy(PENGUINS, repo / "data" / "penguins.csv")  # the other 44 penguins appended
    result, report = run_pr(repo, "append 44 penguins")

    assert result["baseline"]["kind"] == "champion"
    rows = result["rows"]
    assert rows["evaluation"] == 86
    assert rows["set_aside"] == {"baseline_trained_on": 24, "candidate_trained_on": 0}
    assert rows["compared"] == result["n_rows"] == 62
    assert rows["training_rows"] == {"added": 57, "removed": 24}
    assert not scored_rows(repo, "baseline") & champion_training_rows(repo)
    assert "Training rows: 57 added, 24 removed." in headline(report)


def test_the_champion_records_its_training_rows(tmp_path: Path) -> None:
    repo = champion_repo(tmp_path)
    trained_on = champion_training_rows(repo)
    assert len(trained_on) == 258  # 344 rows, 25 % held out
    assert not trained_on & set(
        pd.read_csv(repo / "champion" / "predictions.csv", dtype={"row_id": str})["row_id"]
    )


def test_a_pr_renaming_a_column_falls_back_to_the_base_commit_with_a_report(
    tmp_path: Path,
) -> None:
    repo = champion_repo(tmp_path)
    renamed = pd.read_csv(PENGUINS).rename(columns={"flipper_length_mm": "flipper_mm"})
    renamed.to_csv(repo / "data" / "penguins.csv", index=False)
    result, report = run_pr(repo, "rename flipper_length_mm")

    assert result["baseline"]["kind"] == "base"  # the champion cannot see its column any more
    rows = result["rows"]
    assert rows["evaluation"] == rows["compared"] == result["n_rows"] == 86
    assert "needs input column(s) flipper_length_mm" in rows["fallback"]
    assert rows["fallback"] in headline(report).replace("\\_", "_")


def test_the_readme_sample_dropping_rows_and_a_feature_is_inconclusive_not_passed(
    tmp_path: Path,
) -> None:
    """The README's penguins sample: 32 rows left cannot tell whether accuracy dropped by more
    than 0.05, so the gate is inconclusive (issue 15), and the report says what 32 rows can
    detect; the champion is scored with its own inputs on rows it never saw (issue 12)."""
    repo = champion_repo(tmp_path)
    drop_rows_with_missing_values(repo)
    features = ["island", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]
    write_config(repo, lambda d: d["train"].update(features=features))
    result, report = run_pr(repo, "drop rows with missing values and bill_length_mm")

    assert (result["verdict"], result["status"]) == ("inconclusive", "failure")
    assert result["rows"]["compared"] == 32
    [gate] = result["inconclusive_gates"]
    assert (gate["metric"], gate["rule"], gate["status"]) == (
        "accuracy",
        "max_drop",
        "inconclusive",
    )
    top = headline(report)
    assert "🟡 **Inconclusive**: 1 of 1 gate cannot be decided on these 32 rows" in top
    assert "Model inputs removed: bill\\_length\\_mm" in top
    assert "With 32 rows, differences smaller than these cannot be told from noise" in top
