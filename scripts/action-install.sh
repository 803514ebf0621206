#!/usr/bin/env bash
# cml-bot's own environment for the action, in three steps (action.yml runs them in order):
#
#   prepare  where the environment lives and its cache key; the team's interpreter
#            (outputs: key, path, python, team-python, cache)
#   light    what deciding needs (`cml-bot screen`): cml-bot and click, pydantic, PyYAML,
#            PyGithub; about 15 MB instead of about 550 MB
#   full     the whole package (scikit-learn, MLflow, ...), only when the event needs it
#
# The environment is cml-bot's alone: the team's packages stay in the team's interpreter (the
# `python3` on PATH when the action starts, after the workflow's own `pip install -r
# requirements.txt`), which trains `{python}` commands; the built-in trainer's worker sees the
# team's packages after cml-bot's own (docs/workflows.md, "Your own packages").
#
# Where: by default `$RUNNER_TOOL_CACHE/cml-bot-env`, removed first by every job, so a job never
# runs what an earlier job on a persistent runner left there; action.yml restores it
# from actions/cache (a hit skips both installs) and saves it right after `full`, before any
# pull-request code runs. A runner whose every job is trusted may instead keep one install per
# source version in its tool cache with CML_BOT_SHARE_INSTALL=true (no actions/cache then).
#
# Installer: uv when it can be had (the runner's, or `pip install uv` into the job's temp
# folder), else pip; CML_BOT_INSTALLER=pip forces pip. Measured in benchmarks/action_overhead.py.
set -euo pipefail
step="${1:?usage: action-install.sh prepare|light|full}"
src="${ACTION_PATH:?ACTION_PATH is not set}"
out="${GITHUB_OUTPUT:-/dev/null}"
LIGHT=(click pydantic PyYAML PyGithub)  # what `cml-bot screen` imports (tests/e2e checks it)
UV_SPEC='uv>=0.5,<1'

say() { echo "cml-bot install: $*"; }

# The pins of the LIGHT packages as pyproject.toml declares them (one source of truth).
light_requirements() {
  "$1" - "$src/pyproject.toml" "${LIGHT[@]}" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
deps = re.findall(r'^\s*"([^"]+)"', block, re.M)
name = lambda d: re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower()
wanted = {w.lower() for w in sys.argv[2:]}
found = [d for d in deps if name(d) in wanted]
assert len(found) == len(wanted), f"pyproject.toml lacks one of {sorted(wanted)}"
print("\n".join(found))
PY
}

# uv when available: on PATH, or pip-installed into the job's temp folder (~5 s); else "".
find_uv() {
  [ "${CML_BOT_INSTALLER:-}" = "pip" ] && return 0
  if command -v uv >/dev/null 2>&1; then command -v uv; return 0; fi
  local where="${RUNNER_TEMP:-/tmp}/cml-bot-uv"
  if [ ! -x "$where/bin/uv" ]; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$where" "$UV_SPEC" \
      >&2 || { rm -rf "$where"; return 0; }
  fi
  [ -x "$where/bin/uv" ] && echo "$where/bin/uv"
  return 0
}

# Make the environment if it is not there, then `install ARGS...` into it with uv or pip.
install_into() {
  local env="$1"; shift
  local uv; uv="$(find_uv)"
  if [ -n "$uv" ]; then
    [ -x "$env/bin/python" ] || "$uv" venv --quiet --python "$PYTHON" "$env"
    say "uv pip install $*"
    "$uv" pip install --quiet --compile-bytecode --python "$env/bin/python" "$@"
  else
    [ -x "$env/bin/python" ] || "$PYTHON" -m venv "$env"
    say "pip install $*"
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  fi
}

prepare() {
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
    echo "::error title=cml-bot needs Python 3.10+::$("$PYTHON" --version 2>&1) found; set the action's python-version input"
    exit 2
  }
  local source interp key env cache=true
  source=$(cd "$src" && find pyproject.toml cml_bot templates scripts -type f ! -name '*.pyc' \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  interp=$("$PYTHON" -c 'import os, platform, sys; print(platform.python_version(), os.path.realpath(sys.executable))')
  key="cml-bot-env-v1-$(uname -s)-$(uname -m)-py${interp%% *}-$(echo "$interp" | sha256sum | cut -c1-8)-$source"
  if [ "${CML_BOT_SHARE_INSTALL:-false}" = "true" ]; then
    env="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/cml-bot/$key"
    cache=false
    say "shared install (CML_BOT_SHARE_INSTALL=true): only for runners whose every job is trusted"
  else
    # the runner's own tool cache: the same absolute path in every job (actions/cache keys on
    # the path and refuses `..`), one per runner; removed first, so never what a job left
    env="${RUNNER_TOOL_CACHE:?RUNNER_TOOL_CACHE is not set: run inside GitHub Actions}/cml-bot-env"
    if [ -e "$env" ]; then  # moved aside at once, deleted in the background (~0.5 GB of files)
      mv "$env" "$env.old.$$"
      (rm -rf "$env".old.* >/dev/null 2>&1 &)
    fi
  fi
  {
    echo "key=$key"
    echo "path=$env"
    echo "python=$env/bin/python"
    echo "team-python=$(command -v "$PYTHON")"
    echo "cache=$cache"
  } >> "$out"
  say "environment $key at $env"
}

has_cml_bot() { [ -x "$1/bin/python" ] && "$1/bin/python" -c 'import cml_bot' 2>/dev/null; }
has_ml_stack() { [ -x "$1/bin/python" ] && "$1/bin/python" -c 'import sklearn, mlflow, pandas' 2>/dev/null; }

env_dir() { local p="${CML_BOT_ENV_PYTHON:?CML_BOT_ENV_PYTHON is not set}"; dirname "$(dirname "$p")"; }

light() {
  local env; env="$(env_dir)"
  if has_cml_bot "$env"; then say "reusing cml-bot from $env"; return 0; fi
  local start=$SECONDS
  local reqs; reqs="$(light_requirements "$PYTHON")"
  install_into "$env" --no-deps "$src"
  set -f; install_into "$env" $reqs; set +f  # one requirement per word, no globbing
  say "light install (no ML stack) in $((SECONDS - start)) s"
}

full() {
  local env; env="$(env_dir)"
  if has_ml_stack "$env"; then say "reusing the ML stack in $env"; return 0; fi
  local start=$SECONDS
  say "installing the ML stack (scikit-learn, MLflow, ...)"
  install_into "$env" "$src"
  say "full install in $((SECONDS - start)) s"
}

PYTHON="${CML_BOT_PYTHON:-python3}"
case "$step" in
  prepare) prepare ;;
  light) light ;;
  full) full ;;
  *) echo "action-install.sh: unknown step '$step' (prepare, light or full)" >&2; exit 2 ;;
esac
