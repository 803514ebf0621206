"""A user's first run, end to end: `cml-bot init --yes` in a fresh git repository holding nothing
but a small CSV, `cml-bot doctor`, a commit, then a pull request's branch and `cml-bot run
--local` on it, which prints the report (real SQLite MLflow store, real git worktree)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner, Result

from cml_bot.cli import main
from tests.integration.support import git

PINNED = "cml-bot/cml-bot@0123456789abcdef0123456789abcdef01234567"


def cli(*args: str) -> Result:
    env = {"MLFLOW_TRACKING_URI": "", "GITHUB_TOKEN": "", "GITHUB_REPOSITORY": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def write_customers(path: Path, rows: int = 240) -> None:
    """A small churn table: an id, numeric and categorical features, a yes/no label."""
    rng = np.random.default_rng(7)
    tenure = rng.integers(1, 72, rows)
    spend = rng.normal(60, 20, rows).round(2)
    plan = rng.choice(["basic", "pro", "team"], rows)
    risk = -0.05 * tenure + 0.03 * spend + (plan == "basic") * 0.8 + rng.normal(0, 0.7, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(rows)],
            "tenure_months": tenure,
            "monthly_spend": spend,
            "plan": plan,
            "churned": np.where(risk > np.median(risk), "yes", "no"),
        }
    ).to_csv(path, index=False)


def test_init_then_doctor_then_run_local_prints_the_report(tmp_path: Path) -> None:
    repo = tmp_path / "churn"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_customers(repo / "data" / "customers.csv")
    config = repo / "cml-bot.yaml"

    init = cli("init", "-c", str(config), "--yes", "--action-ref", PINNED)
    assert init.exit_code == 0, init.output
    assert "Next steps" in init.output
    written = yaml.safe_load(config.read_text())
    assert written["train"]["target"] == "churned"  # the last column, from the CSV's header
    assert written["train"]["id_column"] == "customer_id"
    assert written["model"] == {"name": "churn", "task": "classification"}
    assert written["evaluate"]["metrics"] == ["roc_auc", "accuracy", "f1_macro"]
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add cml-bot")

    doctor = cli("doctor", "-c", str(config))
    assert doctor.exit_code == 0, doctor.output
    assert "[FAIL]" not in doctor.output

    # the pull request: another parameter, on a branch
    git(repo, "checkout", "-qb", "more-trees")
    config.write_text(config.read_text().replace("n_estimators: 100", "n_estimators: 30"))
    git(repo, "commit", "-qam", "Fewer trees")
    run = cli("run", "--local", "-c", str(config), "-q")
    assert run.exit_code in (0, 1), run.output  # 1: a gate failed, and the report says which
    report = run.stdout
    assert report.startswith("<!-- cml-bot:report model=churn -->")
    assert "## 🤖 cml-bot report: churn" in report
    assert "| roc\\_auc" in report and "forbid significant regression" in report
    assert "No 'champion' model is registered yet" in report  # the first PR: base retrained
    assert "| n\\_estimators | 100" in report  # the changed parameter
    assert (repo / ".cml-bot" / "out" / "report.md").read_text().strip() == report.strip()
    assert git(repo, "status", "--porcelain") == ""  # .cml-bot/ is ignored
