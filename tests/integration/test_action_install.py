"""scripts/action-install.sh: where cml-bot's environment lives, what each step installs.

A stub interpreter stands in for Python's ``-m venv`` and ``-m pip`` (and for the import checks
of the environment it made), and passes everything else to the real interpreter, so the
script's decisions (where, reuse or not, what is installed when) are tested in well under a
second; installing for real is the e2e tier's business (tests/e2e/test_action_runtime.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "action-install.sh"
STUB = f"""#!/usr/bin/env bash
# a stand-in for python3: -m venv and -m pip are faked, the rest goes to the real interpreter
here="$(dirname "$0")"
if [ "$1" = "-c" ]; then
  case "$2" in
    *"import sklearn"*) [ -f "$here/../installed-full" ]; exit $? ;;
    *"import cml_bot"*) [ -f "$here/../installed-light" ]; exit $? ;;
  esac
fi
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0
fi
if [ "$1 $2" = "-m pip" ]; then
  shift 2
  echo "pip $*" >> "$LOG"
  case " $* " in
    *" --target "*) exit 1 ;;  # no uv to be had: the script falls back to pip
    *" --no-deps "*) touch "$here/../installed-light" ;;
    *" click"*) ;;
    *) touch "$here/../installed-full" ;;
  esac
  exit 0
fi
exec {sys.executable} "$@"
"""


def stub_python(tmp_path: Path) -> Path:
    stub = tmp_path / "python3"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return stub


def step(tmp_path: Path, job: str, name: str, **env: str) -> dict[str, str]:
    """Run one step of the script as job ``job`` would; its step outputs."""
    jobdir = tmp_path / job
    (jobdir / "workspace").mkdir(parents=True, exist_ok=True)
    output = jobdir / "output"
    full = {
        "PATH": os.environ["PATH"],
        "ACTION_PATH": str(ROOT),
        "CML_BOT_PYTHON": str(stub_python(tmp_path)),
        "GITHUB_WORKSPACE": str(jobdir / "workspace"),
        "RUNNER_TEMP": str(jobdir / "temp"),
        "RUNNER_TOOL_CACHE": str(tmp_path / "toolcache"),
        "GITHUB_OUTPUT": str(output),
        "LOG": str(tmp_path / "pip.log"),
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), name], env=full, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = output.read_text().splitlines() if output.exists() else []
    return dict(line.split("=", 1) for line in lines)


def job(tmp_path: Path, name: str, *, ml: bool, **env: str) -> dict[str, str]:
    """prepare, light, then full when the event needs the ML stack (as action.yml runs them)."""
    out = step(tmp_path, name, "prepare", **env)
    env = {**env, "CML_BOT_ENV_PYTHON": out["python"]}
    step(tmp_path, name, "light", **env)
    if ml:
        step(tmp_path, name, "full", **env)
    return out


def pip_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


def test_each_job_starts_from_a_fresh_environment(tmp_path: Path) -> None:
    """A PR job on a persistent runner could patch what a deploy job then imports: every job
    starts from nothing (or from the cache) at one fixed path, never from a previous job's."""
    first = job(tmp_path, "pr-job", ml=True, CML_BOT_INSTALLER="pip")
    env_dir = Path(first["python"]).parents[1]
    assert env_dir == tmp_path / "toolcache" / "cml-bot-env"
    # actions/cache keys on the path's text and refuses `..`: absolute, the same in every job
    assert first["path"] == str(env_dir) and first["cache"] == "true"
    (env_dir / "planted.pth").write_text("import os; os.system('steal')\n")
    second = step(tmp_path, "deploy-job", "prepare")
    assert second["key"] == first["key"] and second["path"] == first["path"]
    assert not env_dir.exists()  # removed before anything restores or installs


def test_an_ignored_event_installs_only_what_deciding_needs(tmp_path: Path) -> None:
    job(tmp_path, "comment", ml=False, CML_BOT_INSTALLER="pip")
    calls = pip_calls(tmp_path)
    assert [c for c in calls if "--no-deps" in c]  # cml-bot itself, without its dependencies
    light = next(c for c in calls if " click" in c)
    for name in ("click", "pydantic", "PyYAML", "PyGithub"):
        assert f" {name}>=" in light, light  # with pyproject.toml's lower bounds
    for heavy in ("scikit-learn", "mlflow", "pandas", "numpy"):
        assert heavy not in " ".join(calls)


def test_an_evaluation_then_installs_the_ml_stack_into_the_same_environment(
    tmp_path: Path,
) -> None:
    out = job(tmp_path, "pr", ml=True, CML_BOT_INSTALLER="pip")
    assert (Path(out["python"]).parents[1] / "installed-full").is_file()
    assert pip_calls(tmp_path)[-1].endswith(str(ROOT))  # the package with its dependencies


def test_pip_is_used_when_uv_cannot_be_had(tmp_path: Path) -> None:
    job(tmp_path, "pr", ml=False, PATH="/usr/bin:/bin")  # no uv on PATH, and pip gets none
    calls = pip_calls(tmp_path)
    assert calls[0].startswith("pip install") and "--target" in calls[0] and "uv" in calls[0]
    assert any("--no-deps" in c for c in calls[1:])


def test_a_trusted_runner_may_share_one_install(tmp_path: Path) -> None:
    first = job(tmp_path, "a", ml=True, CML_BOT_SHARE_INSTALL="true", CML_BOT_INSTALLER="pip")
    n = len(pip_calls(tmp_path))
    second = job(tmp_path, "b", ml=True, CML_BOT_SHARE_INSTALL="true", CML_BOT_INSTALLER="pip")
    assert first["python"] == second["python"]
    assert first["python"].startswith(str(tmp_path / "toolcache"))
    assert first["cache"] == "false"  # no actions/cache for a shared install
    assert len(pip_calls(tmp_path)) == n  # the second job installed nothing


def test_the_key_names_the_python_and_the_sources(tmp_path: Path) -> None:
    out = step(tmp_path, "pr", "prepare")
    version = ".".join(map(str, sys.version_info[:3]))
    assert out["key"].startswith("cml-bot-env-v1-")
    assert f"-py{version}-" in out["key"]
    assert out["team-python"] == str(stub_python(tmp_path))
