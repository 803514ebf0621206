"""bot.slash: which later command supersedes a queued one."""

from __future__ import annotations

from dataclasses import dataclass

from cml_bot.bot.slash import later_command


@dataclass(frozen=True)
class Comment:
    id: int
    login: str
    body: str


THREAD = [
    Comment(10, "maintainer", "/retrain n_estimators=300"),
    Comment(11, "maintainer", "/retrain n_estimators=400"),
    Comment(12, "drive-by", "/evaluate"),
    Comment(13, "cml-bot[bot]", "/retrain"),
    Comment(14, "reviewer", "LGTM"),
]
LEVELS = {"maintainer": "maintain", "drive-by": "read", "reviewer": "write"}


def may_run(login: str, verb: str) -> bool:
    return LEVELS.get(login) in ("write", "maintain", "admin")


def test_a_command_its_author_may_not_run_supersedes_nothing() -> None:
    found = later_command(THREAD, 10, may_run)
    assert found is not None and found.id == 11  # not the reader's later /evaluate (12)
    assert later_command(THREAD, 11, may_run) is None


def test_without_a_rule_every_person_counts_but_no_bot() -> None:
    found = later_command(THREAD, 10)
    assert found is not None and found.id == 12
