"""The e2e tier cannot vanish silently: without act it is skipped on a laptop, failed in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_e2e_without_act(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CML_BOT_E2E_ACT"] = str(ROOT / "no-such-act")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_action.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_act_the_tier_fails_in_ci() -> None:
    done = run_e2e_without_act(ci=True)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "the e2e tier cannot run" in done.stdout
    assert " passed" not in done.stdout.splitlines()[-1]


def test_without_act_the_tier_is_skipped_on_a_laptop() -> None:
    done = run_e2e_without_act(ci=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "skipped" in done.stdout.splitlines()[-1]
