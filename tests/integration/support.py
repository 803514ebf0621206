"""Helpers the integration tests share: git in a throwaway repository, a free local port, and
the bundled example as a pull request (main plus a feature branch)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "breast-cancer"

ConfigEdit = Callable[[dict[str, Any]], None]


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` with a fixed identity; its stdout, stripped."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Timing the candidate and the baseline together costs several seconds per run (7 rounds x 2
# models x 50 single-row calls); flows that do not test it turn it off. Latency has its own
# tests: test_pipeline (timed together, the gate), unit/test_latency, the examples' reports.
UNTIMED = "  latency_rounds: 0           # timed in test_pipeline and unit/test_latency\n"


def untime(config: Path) -> None:
    """``evaluate.latency_rounds: 0`` in a config file, its text otherwise untouched."""
    text = config.read_text(encoding="utf-8")
    assert "\nevaluate:\n" in text, f"{config} has no evaluate section"
    config.write_text(text.replace("\nevaluate:\n", "\nevaluate:\n" + UNTIMED, 1), encoding="utf-8")


def copy_example(dest: Path, *ignore: str) -> Path:
    """The bundled example copied to ``dest`` (without its outputs), latency untimed."""
    patterns = shutil.ignore_patterns(".cml-bot", "__pycache__", *ignore)
    shutil.copytree(EXAMPLE, dest, ignore=patterns)
    untime(dest / "cml-bot.yaml")
    return dest


def small_no_baseline(config: dict[str, Any]) -> None:
    """Fast runs that compare with nothing: 5 trees, ``baseline: none``."""
    config["train"]["params"]["n_estimators"] = 5
    config["baseline"] = "none"


def deeper(config: dict[str, Any]) -> None:
    """The PR's change: deeper trees."""
    config["train"]["params"]["max_depth"] = 3


def _edit_config(repo: Path, edit: ConfigEdit, data: dict[str, Any]) -> None:
    edit(data)
    (repo / "cml-bot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def pr_project(where: Path, base: ConfigEdit, head: ConfigEdit) -> dict[str, Any]:
    """The example as a git repository checked out on ``main`` (its config changed by ``base``)
    with a ``feature`` branch one commit ahead (changed further by ``head``): the PR's head.
    Returns ``{"repo", "base", "head"}`` (the path and the two commit SHAs)."""
    repo = copy_example(where / "repo")
    data = yaml.safe_load((repo / "cml-bot.yaml").read_text())
    _edit_config(repo, base, data)
    (repo / ".gitignore").write_text(".cml-bot/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "feature")
    _edit_config(repo, head, data)
    git(repo, "commit", "-qam", "deeper")
    head_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return {"repo": repo, "base": base_sha, "head": head_sha}
