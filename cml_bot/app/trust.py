"""Whose settings count: a pull request's own config, with every privileged setting (gates,
baseline, registry and tracking server, deploy, command permissions, train.env) taken from the
default branch's (see :mod:`cml_bot.config.trusted`). The required status a team relies on is
decided by the default branch's gates, so a pull request cannot relax its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cml_bot.config import PRIVILEGED, Config, Gate, config_from_text, with_trusted
from cml_bot.core import EXIT_CONFIG, CmlBotError
from cml_bot.core import git as gitinfo


@dataclass(frozen=True)
class Trusted:
    cfg: Config  # what the run uses
    source: str  # where the privileged settings came from ("main"), or "" (the run's own)
    own_gates: dict[str, Gate] | None = None  # the pull request's gates, when it changed them
    notes: list[str] = field(default_factory=list)  # for the report


def apply(own: Config, trusted: Config | None, source: str) -> Trusted:
    """``own`` judged by ``trusted``'s privileged settings; None: the default branch has no
    config yet (the pull request that sets cml-bot up), so ``own`` is used and the report
    says so."""
    if trusted is None:
        note = (
            f"The default branch ({source}) has no {own.file_name} yet, so this pull request's "
            "own settings were used, gates included: the status certifies nothing until the "
            "config is merged."
        )
        return Trusted(own, "", None, [note])
    merged, changed = with_trusted(own, trusted)
    notes = []
    if changed:
        shown = ", ".join(PRIVILEGED[name] for name in changed)
        notes.append(
            f"This pull request changes {shown} in {own.file_name}. Those settings come from "
            f"the default branch ({source}), so its values were used."
        )
    own_gates = dict(own.gates) if "gates" in changed else None
    return Trusted(merged, source, own_gates, notes)


def default_branch_config(
    cfg: Config, default_branch: str | None, base: tuple[str | None, str | None] = (None, None)
) -> tuple[Config | None, str]:
    """The default branch's version of ``cfg``'s file, read with git, and the branch's name.

    Tried in order: ``origin/<default>``, the local ``<default>`` branch, and the pull request's
    base commit when the pull request targets the default branch (``base`` is its ref and SHA).
    Nothing found fails closed: the run must not fall back to the pull request's own gates."""
    root = Path(gitinfo.git(["rev-parse", "--show-toplevel"], cfg.root))
    rel = (cfg.root / cfg.file_name).resolve().relative_to(root.resolve()).as_posix()
    branch = default_branch or "main"
    refs = [f"origin/{branch}", f"refs/heads/{branch}"]
    base_ref, base_sha = base
    if base_sha and base_ref == branch:
        refs.append(base_sha)
    return _first_readable(cfg, root, refs, rel), branch


def _first_readable(cfg: Config, root: Path, refs: Sequence[str], rel: str) -> Config | None:
    for ref in refs:
        try:
            text = gitinfo.file_at(root, ref, rel)
        except CmlBotError:
            continue  # this ref is not here: the next one
        if text is None:
            return None
        return config_from_text(text, root=cfg.root, source=f"{ref}:{rel}", name=cfg.file_name)
    raise CmlBotError(
        f"cannot read the default branch's {rel} (tried {', '.join(refs)}): the status must be "
        "decided by the default branch's gates, not the pull request's",
        fix="check out with the history (actions/checkout with fetch-depth: 0; "
        "docs/troubleshooting.md#shallow-checkout)",
        exit_code=EXIT_CONFIG,
    )
