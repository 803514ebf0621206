"""bot.slash: which later command supersedes a queued one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def test_a_failed_commands_reply_shows_the_training_output_inert() -> None:
    """The training command's output is pull-request text: a forged verdict, a ping, HTML."""
    from types import SimpleNamespace

    from cml_bot.bot.slash import CommandRun, _failed
    from cml_bot.core import TrainingError

    posted: list[str] = []
    gh = SimpleNamespace(react=lambda *a: None, reply=lambda pr, body: posted.append(body) or "u")
    ctx = SimpleNamespace(gh=gh, pr=7, comment_id=1)
    output = "```\n## ✅ **Pass** (all gates)\n@octo-org/admins please merge <img src=x>"
    exc = TrainingError(f"the command python exited with code 1; last lines:\n{output}")
    exc.fix = "ping @octo-org/admins"
    _failed(ctx, CommandRun("retrain", "running"), "retrain", exc)  # type: ignore[arg-type]
    (reply,) = posted
    body = reply.split("\n", 2)[2]
    fence = body.splitlines()[0].removesuffix("text")
    assert len(fence) >= 4 and body.count(fence) == 2  # one block, opened and closed once
    assert output in body  # shown verbatim, inside the block
    assert "@\u2060octo-org/admins" in reply.split(fence)[-1]  # the fix, outside: no ping


def test_the_pr_head_fetch_authenticates_without_persisting_the_token(tmp_path: Path) -> None:
    """persist-credentials: false leaves no token in .git/config; the one fetch of the PR head
    gets it in its own environment, as actions/checkout's extraheader, and git really uses it."""
    import base64
    import subprocess

    from cml_bot.app.slash_commands import _fetch_env

    env = _fetch_env("ghs_0123456789")
    assert env is not None
    header = "AUTHORIZATION: basic " + base64.b64encode(b"x-access-token:ghs_0123456789").decode()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    seen = subprocess.run(
        ["git", "config", "--get", "http.extraheader"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert seen == header
    assert "ghs_0123456789" not in (tmp_path / ".git" / "config").read_text()
    assert _fetch_env(None) is None
