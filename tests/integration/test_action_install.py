"""scripts/action-install.sh: a job's install is its own unless the runner opts in to sharing.

A stub interpreter stands in for Python so the script's decisions (where, reuse or not) are
tested in milliseconds; what it installs is the e2e tier's business.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "action-install.sh"
STUB = """#!/usr/bin/env bash
# a stand-in for python3: enough of -c, -m venv and -m pip for action-install.sh
if [ "$1" = "-c" ]; then
  case "$2" in *"import cml_bot"*) [ -f "$(dirname "$0")/../installed" ]; exit $? ;; esac
  case "$2" in *version_info*\\[0\\]*) echo 3.11; exit 0 ;; esac
  exit 0
fi
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0
fi
if [ "$1 $2" = "-m pip" ]; then
  touch "$(dirname "$0")/../installed"; echo pip >> "$LOG"; exit 0
fi
exit 1
"""


def install(tmp_path: Path, job: str, **env: str) -> str:
    stub = tmp_path / "python3"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    (tmp_path / job).mkdir(exist_ok=True)
    output = tmp_path / job / "output"
    full = {
        "PATH": os.environ["PATH"],
        "ACTION_PATH": str(ROOT),
        "CML_BOT_PYTHON": str(stub),
        "RUNNER_TEMP": str(tmp_path / job / "temp"),
        "RUNNER_TOOL_CACHE": str(tmp_path / "toolcache"),
        "GITHUB_OUTPUT": str(output),
        "LOG": str(tmp_path / "pip.log"),
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=full, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return output.read_text().strip().removeprefix("python=")


def pip_runs(tmp_path: Path) -> int:
    log = tmp_path / "pip.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_each_job_installs_its_own_by_default(tmp_path: Path) -> None:
    """A PR job on a persistent runner could patch a shared install that a deploy job then
    imports; by default the second job does not see the first job's install."""
    first = install(tmp_path, "pr-job")
    second = install(tmp_path, "deploy-job")
    assert first != second
    assert first.startswith(str(tmp_path / "pr-job" / "temp"))
    assert pip_runs(tmp_path) == 2
    assert not (tmp_path / "toolcache").exists()


def test_a_trusted_runner_may_share_one_install(tmp_path: Path) -> None:
    first = install(tmp_path, "a", CML_BOT_SHARE_INSTALL="true")
    second = install(tmp_path, "b", CML_BOT_SHARE_INSTALL="true")
    assert first == second and first.startswith(str(tmp_path / "toolcache"))
    assert pip_runs(tmp_path) == 1
