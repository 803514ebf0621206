#!/usr/bin/env bash
# Installs cml-bot from the action's own folder into a virtualenv, reused across runs on the same
# runner when the action's sources are unchanged. Prints the path of the cml-bot executable as the
# step output `python` (run it as `python -m cml_bot`).
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
cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/cml-bot/$key-py$pyver"
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
