"""Privileged settings: the ones a pull request must not choose for itself.

A pull request's code and its ``cml-bot.yaml`` are the pull request's to change; these settings
are not. They decide what the required status means (the gates and the baseline), where the
team's credentials go (the tracking server and registry), what runs in production (the deploy
hook and environment), who may run which command, and which secrets reach training code. Every
path takes them from the default branch (docs/reliability.md, security).
"""

from __future__ import annotations

from cml_bot.config.models import Config

# config section -> what it controls, for the report's note
PRIVILEGED: dict[str, str] = {
    "gates": "the gates",
    "verdict": "what an inconclusive gate does to the status",
    "baseline": "the baseline",
    "registry": "the registry and tracking server",
    "deploy": "the deploy settings",
    "commands": "the command permissions",
    "train.env": "the variables passed to training (train.env)",
}


def with_trusted(own: Config, trusted: Config) -> tuple[Config, list[str]]:
    """``own`` (a pull request's config) with every privileged setting taken from ``trusted``
    (the default branch's), and the names of the privileged settings ``own`` had changed."""
    changed = [name for name in PRIVILEGED if _get(own, name) != _get(trusted, name)]
    train = own.train.model_copy(update={"env": list(trusted.train.env)})
    merged = own.model_copy(
        update={
            "gates": dict(trusted.gates),
            "verdict": trusted.verdict,
            "baseline": trusted.baseline,
            "registry": trusted.registry,
            "deploy": trusted.deploy,
            "commands": trusted.commands,
            "train": train,
        }
    )
    merged._root, merged._file_name = own._root, own._file_name
    return merged, changed


def _get(cfg: Config, dotted: str) -> object:
    value: object = cfg
    for part in dotted.split("."):
        value = getattr(value, part)
    return value
