"""Loops and abuse through `cml-bot run` (Actions mode) against the GitHub API emulator, with
GitHub's real issue_comment example as the event:

* the bot never acts on its own comments or other bots' (no reply loops), and nothing it posts
  is itself a command;
* a queued /retrain or /evaluate that was overtaken by a later command comment replies once
  "superseded by <link>" and does nothing else (one extra API call: the comment list), so 20
  /retrain comments in a row train once.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml_bot.app import github_events as app_github
from cml_bot.app import local as app
from cml_bot.bot import commands as commands
from tests.emulator import Emulator
from tests.integration.support import ROOT, deeper, pr_project, small_no_baseline

REPO = "octo-org/tumor-model"
PR = 9
BOT = "github-actions[bot]"
MARKER = "<!-- cml-bot:report model=tumor-classifier -->"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """main and a feature branch (the PR head) of the example: 5 trees, no baseline."""
    return pr_project(tmp_path_factory.mktemp("abuse"), small_no_baseline, deeper)


@pytest.fixture()
def emu(project: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        st = emulator.state
        st.seed_repo(REPO)
        for login, level in (("alice", "write"), ("bob", "read"), ("carol", "maintain")):
            st.seed_collaborator(login, level)
        st.seed_pull(
            PR,
            head_sha=project["head"],
            head_ref="feature",
            base_ref="main",
            base_sha=project["base"],
            user="alice",
        )
        yield emulator
        emulator.assert_no_violations()


def event_for(comment: Any, user_type: str = "User") -> dict[str, Any]:
    """GitHub's real issue_comment 'created' example, for a comment seeded on our PR."""
    examples = json.loads((ROOT / "tests/fixtures/webhooks/issue_comment.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "created"))
    payload["issue"].update(number=PR, state="open", pull_request={"url": f"/pulls/{PR}"})
    payload["comment"].update(id=comment.id, body=comment.body)
    payload["comment"]["user"].update(login=comment.user, type=user_type)
    payload["sender"].update(login=comment.user, type=user_type)
    payload["repository"].update(full_name=REPO, default_branch="main")
    return payload


def run(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, payload: dict[str, Any]
) -> app_github.ActionResult:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "GITHUB_TOKEN": "ghs_abuse",
        "GITHUB_RUN_ID": "77",
        "GITHUB_SERVER_URL": "https://github.example",
        "MLFLOW_TRACKING_URI": "",
    }
    settings = app.Settings(
        config_path=project["repo"] / "cml-bot.yaml", env=env, quiet=True, out_dir=tmp_path / "out"
    )
    return app_github.run_action(settings)


def bot_comments(emu: Emulator) -> list[Any]:
    return [c for c in emu.state.comments_on(PR) if c.user == BOT]


def text_of(comment: Any) -> str:
    return re.sub(r"\n<!-- cml-bot:reply:[0-9a-f]+ -->$", "", comment.body)


def reactions(emu: Emulator, comment: Any) -> list[str]:
    return [r.content for r in emu.state.reactions_on(comment.id)]


def assert_no_loop(emu: Emulator) -> None:
    """Nothing the bot posted would be taken as a command if the bot read it back."""
    for comment in bot_comments(emu):
        assert commands.parse_command(comment.body) is None, comment.body[:80]


# --------------------------------------------------------------------------- bots are ignored


@pytest.mark.parametrize(
    ("login", "user_type"),
    [
        (BOT, "Bot"),  # the bot itself (GITHUB_TOKEN)
        ("dependabot[bot]", "Bot"),
        ("renovate[bot]", "Bot"),
        ("sneaky[bot]", "User"),  # a User-type account whose login ends in [bot]
        ("Some-App[BOT]", "User"),
        ("octo-automation", "Bot"),  # a Bot-type account without the suffix
    ],
)
def test_comments_by_bots_are_ignored_without_any_api_call(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, login: str, user_type: str
) -> None:
    comment = emu.state.seed_comment(PR, "/retrain n_estimators=50", user=login)
    result = run(emu, project, tmp_path, event_for(comment, user_type))
    assert result.decision.action == "ignore" and "is by the bot" in result.decision.reason
    assert emu.state.requests == []


def test_every_reply_the_bot_posts_is_inert(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    """Unknown verbs, bad arguments, refusals, help: each reply, read back, is no command."""
    bodies = [
        ("/retrian n_estimators=5", "alice"),
        ("/retrain bogus", "alice"),
        ("/retrain criterion=entropy", "alice"),
        ("/retrain n_estimators=5", "bob"),
        ("/deploy", "carol"),
        ("/help", "bob"),
        ("/retrain\u202e n=1", "alice"),
    ]
    for body, user in bodies:
        comment = emu.state.seed_comment(PR, body, user=user)
        run(emu, project, tmp_path, event_for(comment))
    assert len(bot_comments(emu)) == len(bodies)  # one reply each: nothing ran
    assert not any(text_of(c).startswith("Running") for c in bot_comments(emu))
    assert emu.state.statuses_for(project["head"]) == []
    assert_no_loop(emu)
    for comment in bot_comments(emu):  # and reading them back as events does nothing
        before = len(emu.state.requests)
        result = run(emu, project, tmp_path, event_for(comment, "Bot"))
        assert result.decision.action == "ignore" and len(emu.state.requests) == before


def test_a_command_event_without_a_comment_id_is_ignored(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    comment = emu.state.seed_comment(PR, "/retrain n_estimators=5", user="alice")
    payload = event_for(comment)
    del payload["comment"]["id"]
    result = run(emu, project, tmp_path, payload)
    assert result.decision.action == "ignore" and "no id" in result.decision.reason
    assert emu.state.requests == []


# --------------------------------------------------------------------------- superseded


def test_a_queued_retrain_overtaken_by_a_later_command_replies_once_and_does_nothing(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    st = emu.state
    first = st.seed_comment(PR, "/retrain n_estimators=5", user="alice")
    st.seed_comment(PR, "nice, but try more trees", user="bob")
    st.seed_comment(PR, "> /retrain n_estimators=5\nquoted, not a command", user="bob")
    st.seed_comment(PR, "/help", user="bob")
    st.seed_comment(PR, "/retrain not-a-pair", user="bob")  # malformed: would be refused
    st.seed_comment(PR, "/retrain n_estimators=99", user=BOT)  # bots never count
    later = st.seed_comment(PR, "/retrain n_estimators=8", user="carol")
    st.seed_comment(PR, "thanks!", user="alice")
    before = len(st.requests)
    result = run(emu, project, tmp_path, event_for(first))
    assert result.outputs["command-outcome"] == "superseded"
    (reply,) = [c for c in bot_comments(emu) if c.body != "/retrain n_estimators=99"]
    assert text_of(reply).startswith("`/retrain` from @alice was superseded by ")
    assert text_of(reply).endswith(f"#issuecomment-{later.id}, so it was not run.")
    assert reactions(emu, first) == [] and st.statuses_for(project["head"]) == []
    assert result.flow is None and not (tmp_path / "out").exists()
    calls = [f"{r.method} {r.path}" for r in st.requests[before:]]
    # permission, pull, the comment list and the later author's permission (the rule's two
    # extra calls), who am I, the reply
    assert len(calls) == 6, calls
    assert commands.parse_command(reply.body) is None


@pytest.mark.parametrize(
    "later",
    [
        "/help",
        "/deploy",
        "/rollback v1",
        "/retrain n_estimators",  # malformed
        "```\n/retrain n_estimators=5\n```",
        "/retrian n_estimators=5",  # unknown verb
    ],
)
def test_later_comments_that_are_no_run_request_do_not_supersede(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, later: str
) -> None:
    first = emu.state.seed_comment(PR, "/evaluate", user="alice")
    emu.state.seed_comment(PR, later, user="carol")
    emu.state.seed_comment(PR, "/evaluate", user="dependabot[bot]")
    emu.state.seed_comment(PR, "/retrain n_estimators=5", user="sneaky[bot]")

    # the first step after the superseded check is the 👀 reaction: stop the run there
    emu.add_fault(r"/reactions$", "POST", status=418, body={"message": "stop here"})
    with pytest.raises(Exception, match="HTTP 418"):
        run(emu, project, tmp_path, event_for(first))
    assert not any("superseded" in c.body for c in bot_comments(emu))


def test_evaluate_is_superseded_by_a_later_retrain(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    first = emu.state.seed_comment(PR, "/evaluate", user="alice")
    later = emu.state.seed_comment(PR, "/retrain max_depth=4", user="alice")
    result = run(emu, project, tmp_path, event_for(first))
    assert result.outputs["command-outcome"] == "superseded"
    (reply,) = bot_comments(emu)
    assert f"#issuecomment-{later.id}" in reply.body


def test_a_readers_later_command_does_not_supersede_a_writers(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    """bob (read) may not /evaluate; his comment after alice's /retrain must not cancel it."""
    first = emu.state.seed_comment(PR, "/retrain max_depth=4", user="alice")
    emu.state.seed_comment(PR, "/evaluate", user="bob")
    result = run(emu, project, tmp_path, event_for(first))
    assert result.outputs["command-outcome"] == "done"
    assert not [c for c in bot_comments(emu) if "superseded" in c.body]


def test_twenty_retrains_from_one_user_train_once(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    """20 /retrain comments posted before the first queued run starts: the runs start one by one
    (the workflow's concurrency group), 19 reply "superseded" and only the last one trains."""
    seeded = [
        emu.state.seed_comment(PR, f"/retrain n_estimators={n}", user="alice") for n in range(2, 22)
    ]
    outcomes = []
    for i, comment in enumerate(seeded):
        before = len(emu.state.requests)
        (tmp_path / str(i)).mkdir()
        result = run(emu, project, tmp_path / str(i), event_for(comment))
        outcomes.append(result.outputs["command-outcome"])
        if i < len(seeded) - 1:
            assert len(emu.state.requests) - before == 6  # cheap: no training, no reaction
    assert outcomes == ["superseded"] * 19 + ["done"]
    superseded = [c for c in bot_comments(emu) if "superseded by" in c.body]
    assert len(superseded) == 19
    assert all(f"#issuecomment-{seeded[-1].id}," in c.body for c in superseded)
    assert [reactions(emu, c) for c in seeded] == [[]] * 19 + [["eyes", "rocket"]]
    assert len([c for c in bot_comments(emu) if c.body.startswith(MARKER)]) == 1
    (status,) = emu.state.statuses_for(project["head"])
    assert status.state == "success"
    assert result.flow.candidate.params["n_estimators"] == 21
    assert_no_loop(emu)
