"""Heavy libraries stay off the paths that do not need them (DESIGN non-negotiable 4).

`cml-bot plan` runs on every event before anything else; it must not load MLflow,
scikit-learn, pandas, scipy, PyGithub or pydantic. Checked in a fresh interpreter by which
modules are loaded, not by timing (timings live in benchmarks/bot_overhead.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WEBHOOKS = Path(__file__).parents[1] / "fixtures" / "webhooks"
HEAVY = ("mlflow", "sklearn", "pandas", "scipy", "github", "pydantic", "numpy")
PROBE = """
import json, sys
from cml_bot.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
    print("HEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


def loaded_heavy(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, done.stderr
    return list(json.loads(line[-1].removeprefix("HEAVY=")))


def test_plan_loads_no_heavy_library() -> None:
    event = WEBHOOKS / "pull_request.json"
    assert event.exists()
    assert loaded_heavy("plan", "--event-name", "pull_request", "--event-path", str(event)) == []


def test_help_and_version_load_no_heavy_library() -> None:
    assert loaded_heavy("--version") == []
