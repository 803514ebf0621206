"""Setting a repository up: `cml-bot init` (the config and the workflows) and `cml-bot doctor`
(what is missing or wrong, each with its fix)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cml_bot.core import ConfigError

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
    answers = setup.gather(given, lay, _or_say_yes(ask))
    planned = setup.plan(
        answers, lay, action_ref=action_ref or setup.DEFAULT_ACTION_REF, branch=branch, forks=forks
    )
    return setup.next_steps(planned, setup.write(planned, force=force))


def _or_say_yes(ask: Ask | None) -> Ask | None:
    """``ask``, but when its input ends with no terminal to answer (CI, a pipe, `< /dev/null`),
    the error says to pass --yes instead of click's bare "Aborted!"."""
    if ask is None:
        return None
    from click.exceptions import Abort

    def asking(question: str, default: str | None, choices: Sequence[str] | None) -> str:
        try:
            return ask(question, default, choices)
        except Abort:
            if sys.stdin is not None and sys.stdin.isatty():
                raise  # Ctrl-C or Ctrl-D at a terminal: the person stopped it
            raise ConfigError(
                f"cml-bot init asks questions ({question!r} first) and there is no terminal "
                "to answer them",
                fix="pass --yes to take the defaults from the data, with --data PATH and the "
                "other flags for what you want to set (`cml-bot init --help`)",
            ) from None

    return asking


def doctor(config_path: Path, token_env: str, repository: str | None) -> tuple[str, int]:
    """Every check of the setup, rendered, and the exit code (1 when one failed)."""
    from cml_bot import doctor as checks

    found = checks.run(
        checks.Inputs(config_path=config_path, token_env=token_env, repository=repository)
    )
    return checks.render(found, config_path), checks.exit_code(found)
