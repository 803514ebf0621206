"""The team's own interpreter: where a training command runs, and whose packages the worker sees.

In GitHub Actions cml-bot runs from its own environment (the action installs it apart, so its
pins and the team's never meet), and the team installs its own packages into its own Python
before the cml-bot step (`pip install -r requirements.txt`). The action passes that interpreter
as ``CML_BOT_TRAIN_PYTHON``:

* a training command's ``{python}`` is that interpreter: the team's script runs with the team's
  packages and versions only;
* the built-in trainer's worker (which fits the estimator the config names, and loads models)
  is cml-bot's interpreter with the team's import paths **after** its own: a third-party
  estimator (``lightgbm.LGBMClassifier``) imports from the team's packages, while scikit-learn,
  numpy and pandas stay cml-bot's. Only the worker gets them (it holds no secret); the process
  with the token never imports the team's packages.

Without ``CML_BOT_TRAIN_PYTHON`` (a local run, where cml-bot is installed beside the team's
packages) both are simply this interpreter.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Mapping

from cml_bot.core import untrusted_env

TRAIN_PYTHON = "CML_BOT_TRAIN_PYTHON"
TEAM_PATH = "CML_BOT_TEAM_PATH"  # read by the worker: import paths appended to its own

# Printed by the team's interpreter: its version and the import paths that are not its stdlib.
_PROBE = (
    "import json, os, sys, sysconfig\n"
    "std = {os.path.realpath(sysconfig.get_paths()[k]) for k in ('stdlib', 'platstdlib')}\n"
    "paths = [p for p in sys.path if p and os.path.isdir(p) and os.path.realpath(p) not in std"
    " and not p.endswith('lib-dynload')]\n"
    "print(json.dumps({'version': list(sys.version_info[:2]), 'paths': paths}))\n"
)


def train_python(env: Mapping[str, str]) -> str:
    """The interpreter a training command's ``{python}`` names."""
    return env.get(TRAIN_PYTHON) or sys.executable


@functools.lru_cache(maxsize=8)
def _probe(python: str) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """Ask the team's interpreter. Its site-packages may hold a pull request's requirements, and
    a ``.pth`` file there runs at start-up: it runs with no secret (``untrusted_env``)."""
    try:
        done = subprocess.run(
            [python, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=untrusted_env(os.environ),
        )
        found = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(found, dict):
        return None
    return tuple(found["version"]), tuple(str(p) for p in found["paths"])


def team_paths(env: Mapping[str, str]) -> list[str]:
    """The team interpreter's import paths that this interpreter lacks (none when the team's
    Python is this one, another Python version, or cannot be asked)."""
    python = env.get(TRAIN_PYTHON)
    if not python or python == sys.executable:  # (a venv's python resolves to its base's)
        return []
    found = _probe(python)
    if found is None or found[0] != tuple(sys.version_info[:2]):
        return []
    own = {os.path.realpath(p) for p in sys.path if p}
    return [p for p in found[1] if os.path.realpath(p) not in own]


def describe(env: Mapping[str, str]) -> str:
    """One line for `doctor` and the logs: which interpreter trains, and what the worker sees."""
    python = env.get(TRAIN_PYTHON)
    if not python:
        return f"training runs with cml-bot's interpreter ({sys.executable})"
    found = _probe(python)
    if found is None:
        return f"{TRAIN_PYTHON}={python} could not be run: training commands will fail"
    version = ".".join(map(str, found[0]))
    mine = ".".join(map(str, sys.version_info[:2]))
    if found[0] != tuple(sys.version_info[:2]):
        return (
            f"{TRAIN_PYTHON}={python} is Python {version} and cml-bot runs on {mine}: training "
            "commands use it, the built-in trainer sees none of its packages"
        )
    return f"training commands run with {python}; the built-in trainer also sees its packages"
