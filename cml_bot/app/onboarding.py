"""Setting a repository up: `cml-bot init` (the config and the workflows) and `cml-bot doctor`
(what is missing or wrong, each with its fix)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cml_bot.scaffold import Answers

# (question, default, choices or None) -> the answer; what `init` asks through
Ask = Callable[[str, str | None, Sequence[str] | None], str]


def init(
    config_path: Path,
    given: Answers,
    *,
    ask: Ask | None,
    action_ref: str | None,
    branch: str | None,
    force: bool,
    forks: bool = False,
) -> str:
    """Write a commented cml-bot.yaml and the workflows (``forks``: with the fork recipe); the
    next steps to print.

    Refuses to overwrite existing files without ``force`` before asking anything; fills what
    ``given`` lacks by asking (``ask``; None: from the data and the defaults); validates the
    config before writing.
    """
    from cml_bot import scaffold as setup

    lay = setup.layout(config_path)
    setup.refuse_existing(lay, force)
    answers = setup.gather(given, lay, ask)
    planned = setup.plan(
        answers, lay, action_ref=action_ref or setup.DEFAULT_ACTION_REF, branch=branch, forks=forks
    )
    return setup.next_steps(planned, setup.write(planned, force=force))


def doctor(config_path: Path, token_env: str, repository: str | None) -> tuple[str, int]:
    """Every check of the setup, rendered, and the exit code (1 when one failed)."""
    from cml_bot import doctor as checks

    found = checks.run(
        checks.Inputs(config_path=config_path, token_env=token_env, repository=repository)
    )
    return checks.render(found, config_path), checks.exit_code(found)
