#!/usr/bin/env bash
# Installs cml-bot from the action's own folder into a virtualenv and prints its interpreter as
# the step output `python` (run it as `python -m cml_bot`).
#
# By default the virtualenv is the job's own ($RUNNER_TEMP, which the runner empties after every
# job): a job that ran pull-request code on a persistent self-hosted runner could otherwise patch
# a shared install, and the next trusted job (a deploy, with production secrets) would run the
# patched code just by importing cml_bot. A runner whose every job is trusted (it never runs
# pull-request code) may opt in to one shared install per source version with
# CML_BOT_SHARE_INSTALL=true, set by whoever administers the runner.
set -euo pipefail
src="${ACTION_PATH:?ACTION_PATH is not set}"
python="${CML_BOT_PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  echo "::error title=cml-bot needs Python 3.10+::$("$python" --version 2>&1) found; set the action's python-version input"
  exit 2
}
key=$(cd "$src" && find pyproject.toml cml_bot templates -type f ! -name '*.pyc' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [ "${CML_BOT_SHARE_INSTALL:-false}" = "true" ]; then
  cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/cml-bot/$key-py$pyver"
  echo "Shared install (CML_BOT_SHARE_INSTALL=true): only for runners whose every job is trusted"
else
  cache="${RUNNER_TEMP:?RUNNER_TEMP is not set: run inside GitHub Actions}/cml-bot/$key-py$pyver"
fi
if ! "$cache/bin/python" -c 'import cml_bot' 2>/dev/null; then
  echo "Installing cml-bot into $cache"
  tmp="$cache.tmp.$$"
  rm -rf "$tmp"
  "$python" -m venv "$tmp"
  "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check "$src"
  rm -rf "$cache"
  mv "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"  # another job won the race: use theirs
else
  echo "Reusing cml-bot from $cache"
fi
# run as `python -m cml_bot` so the venv works from wherever it was moved to
echo "python=$cache/bin/python" >> "${GITHUB_OUTPUT:-/dev/null}"
