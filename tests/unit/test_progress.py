"""Progress lines and where a subprocess's output goes (`core.progress`)."""

from __future__ import annotations

import io
from pathlib import Path

from cml_bot.core.progress import Progress


def test_library_output_goes_to_the_log_and_a_step_says_where(tmp_path: Path) -> None:
    stream, log = io.StringIO(), tmp_path / "state" / "output.log"
    progress = Progress(stream, log=log)
    with progress.step("training X"):
        progress.output(library=True)("ConvergenceWarning: lbfgs failed to converge")
        progress.output(library=False)("epoch 1/3")  # the team's own command: shown
    lines = stream.getvalue().splitlines()
    assert lines[0] == "▶ training X …"
    assert lines[1] == "epoch 1/3"
    assert lines[2].startswith("✔ training X (")
    assert lines[3] == f"  1 line of library output (warnings) in {log}"
    logged = log.read_text().splitlines()
    assert logged[0].startswith("--- ") and logged[0].endswith(" training X")
    assert logged[1:] == ["ConvergenceWarning: lbfgs failed to converge"]


def test_quiet_prints_nothing_and_keeps_every_line_in_the_log(tmp_path: Path) -> None:
    stream, log = io.StringIO(), tmp_path / "output.log"
    progress = Progress(stream, quiet=True, log=log)
    with progress.step("training X"):
        progress.output(library=True)("[LightGBM] [Warning] No further splits")
        progress.output(library=False)("epoch 1/3")
    assert stream.getvalue() == ""
    assert log.read_text().splitlines()[1:] == [
        "[LightGBM] [Warning] No further splits",
        "epoch 1/3",
    ]


def test_without_a_log_quiet_drops_the_lines_and_loud_shows_them() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    Progress(quiet, quiet=True).output(library=True)("warning")
    Progress(loud).output(library=True)("warning")
    assert (quiet.getvalue(), loud.getvalue()) == ("", "warning\n")


def test_inside_actions_library_output_stays_in_the_job_log(tmp_path: Path) -> None:
    from cml_bot.app.local import OUTPUT_LOG, Settings

    local = Settings(config_path=tmp_path / "cml-bot.yaml", env={})
    assert local.progress.log == tmp_path / OUTPUT_LOG
    actions = Settings(config_path=tmp_path / "cml-bot.yaml", env={"GITHUB_ACTIONS": "true"})
    assert actions.progress.log is None
