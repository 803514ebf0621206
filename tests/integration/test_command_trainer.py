"""The user-command trainer end to end: the bundled regression example's own train.py."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from click.testing import CliRunner

from cml_bot.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "diabetes-command"


def test_command_trainer_train_promote_and_compare(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".cml-bot", "__pycache__"))
    cfg = str(repo / "cml-bot.yaml")
    runner = CliRunner()
    env = {"MLFLOW_TRACKING_URI": ""}

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("train", "-c", cfg, "--out", str(repo / "b"))
    assert "trained Ridge(alpha=1.0) on 309 rows" in out  # the command's own output, streamed
    ran = f"{sys.executable} train.py --out {repo / 'b' / 'command-output'} --params "
    assert f"▶ training {ran}'{{\"alpha\": 1.0}}' --seed 0 …" in out  # the command it ran
    saved = json.loads((repo / "b" / "run.json").read_text())
    assert saved["kind"] == "command" and saved["params"] == {"alpha": 1.0}
    assert 0.3 < saved["metrics"]["r2"] < 0.5
    run("promote", "-c", cfg, "--out", str(repo / "b"), "-q")
    report = run("run", "--local", "-c", cfg, "-q", "--set", "alpha=30")
    assert "trained Ridge" not in report  # -q: the command's output went to the log
    assert "trained Ridge(alpha=30)" in (repo / ".cml-bot" / "output.log").read_text()
    result = json.loads((repo / ".cml-bot" / "out" / "result.json").read_text())
    assert result["baseline"]["kind"] == "champion"
    assert result["candidate"]["params"]["alpha"] == 30
    assert {m["metric"] for m in result["metrics"]} == {
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
        "r2",
    }
    assert "| alpha" in report  # the changed parameter is shown
    # a command-trained champion cannot be re-scored without evaluation data: said, not crashed
    refused = runner.invoke(main, ["evaluate", "-c", cfg, "-q"], env=env)
    assert refused.exit_code == 3
    assert "set evaluate.data" in refused.output
