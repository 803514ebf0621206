"""Git facts about a working tree (SHA, branch, merge base), read with the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cml_bot.core.errors import EXIT_CONFIG, CmlBotError


@dataclass(frozen=True)
class GitInfo:
    sha: str | None = None
    branch: str | None = None
    pr: int | None = None
    dirty: bool = False

    def tags(self) -> dict[str, str]:
        out = {}
        if self.sha:
            out["cml_bot.sha"] = self.sha
            out["mlflow.source.git.commit"] = self.sha
        if self.branch:
            out["cml_bot.branch"] = self.branch
        if self.pr is not None:
            out["cml_bot.pr"] = str(self.pr)
        return out


def git(
    args: list[str], cwd: Path, check: bool = True, env: Mapping[str, str] | None = None
) -> str:
    """``git ARGS`` in ``cwd``; ``env``: the whole environment of the git process (the caller
    builds it; None inherits this process's)."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=dict(env) if env is not None else None,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise CmlBotError(
            f"git {' '.join(args)} failed: {exc}", fix="install git", exit_code=EXIT_CONFIG
        ) from None
    if check and done.returncode != 0:
        raise CmlBotError(
            f"git {' '.join(args)} failed: {done.stderr.strip()}",
            fix="run inside a git repository with the refs fetched "
            "(actions/checkout with fetch-depth: 0; docs/troubleshooting.md#shallow-checkout)",
            exit_code=EXIT_CONFIG,
        )
    return done.stdout.strip()


def read(cwd: Path) -> GitInfo:
    """What git says about ``cwd``; empty when it is not a repository."""
    try:
        sha = git(["rev-parse", "HEAD"], cwd)
    except CmlBotError:
        return GitInfo()
    branch = git(["rev-parse", "--abbrev-ref", "HEAD"], cwd, check=False) or None
    dirty = bool(git(["status", "--porcelain", "--untracked-files=no"], cwd, check=False))
    return GitInfo(sha=sha, branch=None if branch == "HEAD" else branch, dirty=dirty)


def untracked(path: Path) -> bool:
    """Whether ``path`` is in a repository's working tree but in none of its commits (nor
    staged): a change ``read``'s ``dirty`` does not count."""
    status = git(["status", "--porcelain", "--", path.name], path.parent, check=False)
    return status.startswith("??")


def file_at(root: Path, ref: str, path: str) -> str | None:
    """The text of ``path`` (relative to the repository root) at commit ``ref``; None when
    that commit has no such file. A ``ref`` git does not know raises (with the fetch fix)."""
    if not git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, check=False):
        raise CmlBotError(
            f"git does not know {ref} in {root}",
            fix="fetch it (actions/checkout with fetch-depth: 0; "
            "docs/troubleshooting.md#shallow-checkout)",
            exit_code=EXIT_CONFIG,
        )
    if not git(["ls-tree", "--name-only", ref, "--", path], root, check=False):
        return None
    done = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout
