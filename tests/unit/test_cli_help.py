"""The README's command table names every option each command has (the help is the source)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from cml_bot.cli import main

README = Path(__file__).parents[2] / "README.md"
SHARED = {"--help", "--config", "--quiet"}  # said once under the table


def readme_rows() -> dict[str, str]:
    """Each command's rows of the command table (``run`` has two), joined."""
    rows: dict[str, str] = {}
    for line in README.read_text().splitlines():
        found = re.match(r"\| `cml-bot ([a-z]+)([^`]*)` \|", line)
        if found:
            rows[found.group(1)] = rows.get(found.group(1), "") + found.group(2)
    return rows


def test_the_readme_command_table_names_every_option() -> None:
    rows = readme_rows()
    assert set(rows) == set(main.commands)
    missing = []
    for name, command in sorted(main.commands.items()):
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            long = max(param.opts, key=len)
            if long not in SHARED and long not in rows[name]:
                missing.append(f"{name} {long}")
    assert missing == []
