"""The CLI end to end on the bundled example: train, promote, evaluate, compare, and every
baseline mode of `run --local`, on a real SQLite MLflow store and real git worktrees."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

from cml_bot.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "breast-cancer"


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"MLFLOW_TRACKING_URI": "", **(env or {})}, catch_exceptions=False
    )


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def edit(config: Path, change: Any) -> None:
    data = yaml.safe_load(config.read_text())
    change(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the bundled example in its own git repository (branch main, one commit)."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".cml-bot", "__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


def versions(repo: Path) -> list[str]:
    from cml_bot.registry.mlflow_backend import MlflowRegistry
    from cml_bot.registry.tracking import Tracker, default_tracking_uri

    tracker = Tracker(default_tracking_uri(None, {}, repo), "tumor-classifier", repo)
    return [v.version for v in MlflowRegistry(tracker).versions()]


def test_train_metrics_match_scikit_learn_on_the_saved_predictions(project: Path) -> None:
    cfg = str(project / "cml-bot.yaml")
    out = project / "out"
    result = cli("train", "-c", cfg, "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    for name in ("predictions.csv", "metrics.json", "run.json", "model/MLmodel"):
        assert (out / name).is_file(), name
    preds = pd.read_csv(out / "predictions.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    y = preds["label"]
    proba = preds[["proba_benign", "proba_malignant"]].to_numpy()
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y, preds["prediction"]))
    assert metrics["f1_macro"] == pytest.approx(f1_score(y, preds["prediction"], average="macro"))
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y == "malignant", proba[:, 1]))
    assert metrics["neg_log_loss"] == pytest.approx(
        log_loss(y, proba, labels=["benign", "malignant"])
    )
    run = json.loads((out / "run.json").read_text())
    assert run["run_id"] and run["git"]["sha"] == git(project, "rev-parse", "HEAD")
    assert run["latency_median_ms"] > 0 and run["model_size_bytes"] > 10_000
    assert set(preds.columns) >= {"row_id", "label", "prediction", "slice:size_band"}


def test_overrides_are_applied_and_recorded(project: Path) -> None:
    out = project / "out"
    result = cli(
        "train",
        "-c",
        str(project / "cml-bot.yaml"),
        "--out",
        str(out),
        "-q",
        "--no-log",
        "--set",
        "n_estimators=7",
        "--set",
        "evaluate.test_size=0.5",
    )
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["params"]["n_estimators"] == 7 and run["overrides"] == {"n_estimators": 7}
    assert run["run_id"] is None
    assert len(pd.read_csv(out / "predictions.csv")) == 285  # half of 569 rows


def test_bad_input_exits_with_one_message_and_leaves_the_registry(project: Path) -> None:
    cfg = project / "cml-bot.yaml"
    assert cli("train", "-c", str(cfg), "--out", str(project / "b"), "-q").exit_code == 0
    assert cli("promote", "-c", str(cfg), "--out", str(project / "b"), "-q").exit_code == 0
    assert versions(project) == ["1"]
    cases: list[tuple[Any, int, str]] = [
        (lambda d: d["train"].update(target="nope"), 3, "target column 'nope'"),
        (lambda d: d["train"].update(data="missing.csv"), 3, "training file not found"),
        (lambda d: d["train"].update(estimator="sklearn.nope.Model"), 2, "cannot import module"),
        (lambda d: d["train"]["params"].update(n_estimatorz=3), 2, "has no parameter"),
        (lambda d: d["evaluate"].update(metrics=["acc"]), 2, "evaluate.metrics[0]"),
    ]
    original = cfg.read_text()
    for change, code, message in cases:
        cfg.write_text(original)
        edit(cfg, change)
        result = cli("train", "-c", str(cfg), "--out", str(project / "c"), "-q")
        assert result.exit_code == code, (message, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
        assert result.output.startswith("error: ")
    assert versions(project) == ["1"]  # nothing was registered by the failures


def test_evaluate_and_promote(project: Path) -> None:
    cfg = str(project / "cml-bot.yaml")
    none = cli("evaluate", "-c", cfg, "-q")
    assert none.exit_code == 6  # nothing to act on (issue 17: it was 4, "MLflow failed")
    assert "tumor-classifier has no version behind the 'champion' alias" in none.output
    assert "train and promote a model first" in none.output
    listed = cli("models", "-c", cfg)
    assert (listed.exit_code, listed.output) == (0, "no versions registered yet\n")
    assert not (project / ".cml-bot").exists()  # reading an empty store does not create one
    assert cli("train", "-c", cfg, "--out", str(project / "b"), "-q").exit_code == 0
    promoted = cli("promote", "-c", cfg, "--out", str(project / "b"), "-q")
    assert promoted.output.strip() == "registered tumor-classifier v1; champion -> v1"
    scored = cli("evaluate", "-c", cfg, "--out", str(project / "e"), "-q")
    assert scored.exit_code == 0, scored.output
    trained = json.loads((project / "b" / "metrics.json").read_text())
    again = json.loads((project / "e" / "metrics.json").read_text())
    assert again == pytest.approx(trained)  # the registered model, loaded back, scores the same


def test_evaluate_does_not_clobber_what_promote_registers(project: Path) -> None:
    """`train`, `evaluate`, `promote` with no --out: evaluate writes to its own folder, so
    promote registers the trained run; a folder evaluate wrote is refused, saying why."""
    cfg = str(project / "cml-bot.yaml")
    out = project / ".cml-bot" / "out"
    assert cli("train", "-c", cfg, "-q").exit_code == 0
    assert cli("promote", "-c", cfg, "-q").exit_code == 0
    assert cli("train", "-c", cfg, "-q", "--set", "n_estimators=7").exit_code == 0
    trained = json.loads((out / "candidate" / "run.json").read_text())
    scored = cli("evaluate", "-c", cfg, "-q")
    assert scored.exit_code == 0, scored.output
    assert json.loads((out / "evaluate" / "run.json").read_text())["source"] == (
        "tumor-classifier v1"
    )
    assert json.loads((out / "candidate" / "run.json").read_text()) == trained
    promoted = cli("promote", "-c", cfg, "-q")
    assert promoted.output.strip() == "registered tumor-classifier v2; champion -> v2"
    assert cli("evaluate", "-c", cfg, "--out", str(project / "e"), "-q").exit_code == 0
    refused = cli("promote", "-c", cfg, "--out", str(project / "e"), "-q")
    assert refused.exit_code == 2
    assert "holds `cml-bot evaluate`'s scoring of tumor-classifier v2, not a training run" in (
        refused.output
    )
    assert versions(project) == ["1", "2"]


def test_library_warnings_go_to_the_log_and_quiet_means_quiet(project: Path) -> None:
    """scikit-learn's ConvergenceWarning, printed by the worker, is written to
    .cml-bot/output.log; a progress line says where, and -q prints nothing but the result."""
    cfg = project / "cml-bot.yaml"
    edit(
        cfg,
        lambda d: d["train"].update(
            estimator="sklearn.linear_model.LogisticRegression", params={"max_iter": 5}
        ),
    )
    log = project / ".cml-bot" / "output.log"
    loud = cli("train", "-c", str(cfg), "--no-log")
    assert loud.exit_code == 0, loud.output
    assert "ConvergenceWarning" not in loud.output
    assert re.search(
        r"^  \d+ lines of library output \(warnings\) in .*output\.log$", loud.output, re.M
    )
    assert "ConvergenceWarning" in log.read_text()
    quiet = cli("train", "-c", str(cfg), "--no-log", "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output.startswith("candidate (trained) metrics on ")  # no line before it
    assert "Warning" not in quiet.output
    assert log.read_text().count("ConvergenceWarning") == 2


def test_run_local_against_the_champion_reuses_its_predictions(project: Path) -> None:
    cfg = str(project / "cml-bot.yaml")
    cli("train", "-c", cfg, "--out", str(project / "b"), "-q")
    cli("promote", "-c", cfg, "--out", str(project / "b"), "-q")
    result = cli("run", "--local", "-c", cfg, "-q", "--set", "n_estimators=60")
    assert result.exit_code == 0, result.output
    out = project / ".cml-bot" / "out"
    data = json.loads((out / "result.json").read_text())
    assert data["verdict"] == "pass"
    assert data["baseline"]["kind"] == "champion" and data["baseline"]["version"] == "1"
    assert not (out / "baseline" / "model").exists()  # same rows: stored predictions reused
    report = (out / "report.md").read_text()
    assert report.startswith("<!-- cml-bot:report model=tumor-classifier -->")
    assert result.output.startswith(report)
    assert "re-scored" not in report
    assert "other library versions" not in report


def test_a_champion_trained_on_other_library_versions_is_noted_in_the_report(
    project: Path,
) -> None:
    from importlib import metadata

    from mlflow import MlflowClient

    from cml_bot.registry.tracking import default_tracking_uri

    cfg = str(project / "cml-bot.yaml")
    cli("train", "-c", cfg, "--out", str(project / "b"), "-q")
    cli("promote", "-c", cfg, "--out", str(project / "b"), "-q")
    client = MlflowClient(default_tracking_uri(None, {}, project))
    assert client.get_model_version("tumor-classifier", "1").tags["cml_bot.lib.numpy"] == (
        metadata.version("numpy")
    )
    client.set_model_version_tag("tumor-classifier", "1", "cml_bot.lib.numpy", "1.0.0")
    result = cli("run", "--local", "-c", cfg, "-q", "--no-fail")
    assert result.exit_code == 0, result.output
    report = (project / ".cml-bot" / "out" / "report.md").read_text()
    assert (
        "v1 was trained with other library versions than this run uses: "
        f"numpy 1.0.0 → {metadata.version('numpy')}. Its scores here may differ"
    ) in report


def test_run_local_times_the_champion_and_the_candidate_together(project: Path) -> None:
    """The same model against itself: one worker times both, interleaved; result.json carries
    the ratio, its interval and the rounds, and `gates.latency` is judged on that interval."""
    cfg = project / "cml-bot.yaml"
    cli("train", "-c", str(cfg), "--out", str(project / "b"), "-q")
    cli("promote", "-c", str(cfg), "--out", str(project / "b"), "-q")
    edit(
        cfg,
        lambda d: (d["evaluate"].update(latency_rounds=5), d["gates"].update(latency={"max": 50})),
    )
    result = cli("run", "--local", "-c", str(cfg), "-q")
    assert result.exit_code == 0, result.output
    out = project / ".cml-bot" / "out"
    data = json.loads((out / "result.json").read_text())
    lat = data["latency"]
    assert lat["rounds"] == 5 and len(lat["round_ratios"]) == 5 and lat["rows"] == 50
    assert 0 < lat["ci_low"] <= lat["ratio"] <= lat["ci_high"]
    assert lat["candidate_ms"] > 0 and lat["baseline_ms"] > 0
    assert data["latency_note"] is None
    (gate,) = data["latency_gates"]
    assert gate["metric"] == "latency" and gate["rule"] == "max" and gate["threshold"] == 50
    assert gate["status"] == "pass" and data["verdict"] == "pass"
    report = (out / "report.md").read_text()
    assert "Latency ratio candidate / baseline: **×" in report
    assert "5 interleaved rounds on 50 rows in one process" in report


def test_a_recorded_candidate_can_be_timed_with_the_baseline(project: Path) -> None:
    """`/evaluate` and deploys score the candidate recorded for a commit: it brings its model
    directory and rows, so it is timed together with the baseline like a fresh one."""
    from cml_bot.config import load_config
    from cml_bot.core import Progress
    from cml_bot.ml import Baseline, recorded_candidate, time_together
    from cml_bot.registry.tracking import Tracker, default_tracking_uri

    cfg_path = project / "cml-bot.yaml"
    assert cli("run", "--local", "-c", str(cfg_path), "-q", "--no-fail").exit_code == 0
    cfg = load_config(cfg_path)
    tracker = Tracker(default_tracking_uri(None, {}, project), "tumor-classifier", project)
    quiet = Progress(quiet=True)
    sha = git(project, "rev-parse", "HEAD")
    first = recorded_candidate(cfg, tracker, sha, project / "r1", quiet)
    again = recorded_candidate(cfg, tracker, sha, project / "r2", quiet)
    assert first.model_dir is not None and (first.model_dir / "MLmodel").is_file()
    assert first.dataset is not None
    timing = time_together(cfg, first, Baseline("champion", again), quiet)
    assert timing.note is None and timing.ratio is not None and timing.ratio.rounds == 7


def test_champion_is_rescored_when_the_evaluation_rows_change(project: Path) -> None:
    cfg = project / "cml-bot.yaml"
    cli("train", "-c", str(cfg), "--out", str(project / "b"), "-q")
    cli("promote", "-c", str(cfg), "--out", str(project / "b"), "-q")
    edit(cfg, lambda d: d["evaluate"].update(test_size=0.4))
    result = cli("run", "--local", "-c", str(cfg), "-q", "--no-fail")
    assert result.exit_code == 0, result.output
    out = project / ".cml-bot" / "out"
    data = json.loads((out / "result.json").read_text())
    # 228 evaluation rows now; the 57 the champion was trained on (it held out 30 %) are set aside
    assert data["rows"]["evaluation"] == 228
    assert data["rows"]["set_aside"] == {"baseline_trained_on": 57, "candidate_trained_on": 0}
    assert data["n_rows"] == data["rows"]["compared"] == 171
    assert "was re-scored on the current rows" in (out / "report.md").read_text()


def test_a_column_edit_is_reported_as_such_not_as_changed_rows(project: Path) -> None:
    """The same rows (ids and labels) with other values in a column: the champion is re-scored
    and the note says the values changed, not the rows."""
    cfg = project / "cml-bot.yaml"
    cli("train", "-c", str(cfg), "--out", str(project / "b"), "-q")
    cli("promote", "-c", str(cfg), "--out", str(project / "b"), "-q")
    data = project / "data" / "tumors.csv"
    table = pd.read_csv(data)
    table["mean_texture"] = table["mean_texture"] * 1.01  # recalibrated sensor, same patients
    table.to_csv(data, index=False)
    result = cli("run", "--local", "-c", str(cfg), "-q", "--no-fail")
    assert result.exit_code == 0, result.output
    report = (project / ".cml-bot" / "out" / "report.md").read_text()
    assert "The evaluation rows are those v1 was scored on, but their column values changed" in (
        report
    )
    assert "The evaluation rows changed since" not in report


def test_an_untracked_config_is_noted_like_a_modified_one(project: Path) -> None:
    git(project, "rm", "-q", "--cached", "cml-bot.yaml")
    commit(project, "the config is not committed any more")
    cfg = str(project / "cml-bot.yaml")
    result = cli("run", "--local", "-c", cfg, "-q", "--baseline", "none", "--no-fail")
    assert result.exit_code == 0, result.output
    assert (
        "The candidate was trained from a working tree with uncommitted changes "
        "(cml-bot.yaml is untracked: in no commit)."
    ) in (project / ".cml-bot" / "out" / "report.md").read_text()


def test_no_champion_falls_back_to_the_base_commit(project: Path) -> None:
    base_sha = git(project, "rev-parse", "HEAD")
    git(project, "checkout", "-qb", "feature")
    edit(project / "cml-bot.yaml", lambda d: d["train"]["params"].update(n_estimators=80))
    commit(project, "more trees")
    result = cli("run", "--local", "-c", str(project / "cml-bot.yaml"), "-q")
    assert result.exit_code == 0, result.output
    out = project / ".cml-bot" / "out"
    data = json.loads((out / "result.json").read_text())
    assert data["baseline"]["kind"] == "base" and data["baseline"]["sha"] == base_sha
    assert data["baseline"]["params"]["n_estimators"] == 20
    assert data["candidate"]["params"]["n_estimators"] == 80
    assert data["latency"]["rounds"] == 7  # the base commit's trained model, timed together
    assert data["latency"]["ci_low"] <= data["latency"]["ratio"] <= data["latency"]["ci_high"]
    report = (out / "report.md").read_text()
    assert "No 'champion' model is registered yet" in report
    assert git(project, "worktree", "list").count("\n") == 0  # the worktree was removed


def test_baseline_none_and_failing_gates(project: Path) -> None:
    cfg = project / "cml-bot.yaml"
    edit(cfg, lambda d: d["gates"].update(accuracy={"min": 0.999}))
    result = cli("run", "--local", "-c", str(cfg), "-q", "--baseline", "none")
    assert result.exit_code == 1
    data = json.loads((project / ".cml-bot" / "out" / "result.json").read_text())
    assert data["verdict"] == "fail" and data["baseline"] is None
    assert [g["metric"] for g in data["failed_gates"]] == ["accuracy"]
    assert "below the minimum" in data["failed_gates"][0]["message"]
    ok = cli("run", "--local", "-c", str(cfg), "-q", "--baseline", "none", "--no-fail")
    assert ok.exit_code == 0


def test_compare_two_output_folders(project: Path) -> None:
    cfg = str(project / "cml-bot.yaml")
    cli("train", "-c", cfg, "--out", str(project / "a"), "-q", "--no-log")
    cli("train", "-c", cfg, "--out", str(project / "b"), "-q", "--no-log", "--set", "max_depth=4")
    result = cli("compare", "-c", cfg, str(project / "a"), str(project / "b"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {m["metric"] for m in data["metrics"]} == {
        "roc_auc",
        "accuracy",
        "f1_macro",
        "neg_log_loss",
    }
    assert all(m["ci_low"] <= m["delta"] <= m["ci_high"] for m in data["metrics"])
    report = cli("report", "-c", cfg, str(project / "a"), str(project / "b"))
    assert report.output.startswith("<!-- cml-bot:report model=tumor-classifier -->")
    assert (project / "b" / "report.md").is_file() and (project / "b" / "result.json").is_file()
