"""Slash commands: the real action.yml, run by `act` on issue_comment events, against the emulator.

The workflow is docs/workflows.md section 2 (`.github/workflows/cml-bot-commands.yml` in the
repository): `types: [created]` and the cheap `if:` filter (a comment on a pull request whose
body starts with `/`). It runs on the default branch's checkout (`main`), as GitHub runs
issue_comment workflows; cml-bot trains the PR head in a worktree of it.

Every comment is first stored in the emulator (reactions need its id), then delivered as GitHub's
own issue_comment example payload, pointed at that comment and PR. The commenter's level comes
from the emulator's collaborators: the example author (`Codertocat`) has `write`, `octo-reader`
`read`. The payload's `author_association` stays GitHub's example value (`OWNER`) for both:
cml-bot must not trust it.

One emulator serves the module; every test uses its own PR or comment, so the tests do not depend
on their order. The MLflow store is the session's (champion v1, main's model).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.harness import (
    AUTHOR,
    BOT,
    CONTEXT,
    FULL_NAME,
    MARKER,
    PR_STRICT,
    PR_TUNE,
    Project,
    api_calls,
    check_contract,
    comment_run,
    repo_state,
    tail,
    writes,
)
from tests.emulator import EmulatorProcess

pytestmark = pytest.mark.e2e

READER = "octo-reader"  # a collaborator with `read`: may not /retrain (needs `write`)
RETRAIN = "/retrain n_estimators=50"
REPLY_TAG = "<!-- cml-bot:reply:"  # the hidden id that makes a reply safe to retry


@pytest.fixture(scope="module", autouse=True)
def reader(emulator: EmulatorProcess) -> str:
    emulator.client.seed(
        {
            "users": [{"login": READER}],
            "repos": [{"full_name": FULL_NAME, "collaborators": {READER: "read"}}],
        }
    )
    return READER


def _comments(emulator: EmulatorProcess, number: int) -> list[dict[str, Any]]:
    comments = repo_state(emulator.client)["comments"].values()
    return sorted((c for c in comments if c["issue_number"] == number), key=lambda c: c["id"])


def _bot_comments(emulator: EmulatorProcess, number: int) -> list[dict[str, Any]]:
    return [c for c in _comments(emulator, number) if c["user"] == BOT]


def _reactions(emulator: EmulatorProcess, comment_id: int) -> list[tuple[str, str]]:
    comment = repo_state(emulator.client)["comments"][str(comment_id)]
    return [(r["content"], r["user"]) for r in comment["reactions"]]


def _statuses(emulator: EmulatorProcess, sha: str) -> list[dict[str, Any]]:
    return [s for s in repo_state(emulator.client)["statuses"] if s["sha"] == sha]


def test_writer_retrain_runs_on_the_head_and_updates_the_report(
    project: Project, emulator: EmulatorProcess
) -> None:
    run, cid = comment_run(
        project,
        emulator,
        PR_TUNE,
        RETRAIN,
        AUTHOR,
        label=f"commands 1: `{RETRAIN}` by a writer on PR #1",
    )
    assert run.returncode == 0, tail(run)
    assert f"cml-bot: /retrain by @{AUTHOR}: done" in run.log, tail(run)
    assert "▶ training sklearn.ensemble.RandomForestClassifier" in run.log
    short = project.head1[:7]

    # 👀 when accepted, 🚀 when done, both by the bot, in that order
    assert _reactions(emulator, cid) == [("eyes", BOT), ("rocket", BOT)]

    replies = [c for c in _bot_comments(emulator, PR_TUNE.number) if REPLY_TAG in c["body"]]
    assert len(replies) == 1, replies
    assert replies[0]["body"].startswith(f"Running `/retrain` for @{AUTHOR} on `{short}`")

    reports = [c for c in _comments(emulator, PR_TUNE.number) if MARKER in c["body"]]
    assert len(reports) == 1, reports  # the one sticky report, created or updated
    (report,) = reports
    assert report["user"] == BOT and report["body"].startswith(MARKER)
    body = report["body"]
    assert f"Retrained with n\\_estimators=50 at the request of @\u2060{AUTHOR}." in body, body
    assert short in body  # the report is about the PR head, not main
    # trained from the PR head's config (max_depth 3), with the override on top
    assert re.search(r"\| max\\_depth\s*\| 2\s*\| 3\s*\|", body), body
    assert re.search(r"\| n\\_estimators\s*\| 20\s*\| 50\s*\|", body), body
    assert "against champion v1" in body, "the report does not name the champion"
    assert run.outputs.get("comment-url", "").endswith(f"#issuecomment-{report['id']}")
    assert run.outputs.get("verdict") in ("pass", "fail"), run.outputs

    expected = {"pass": "success", "fail": "failure"}[run.outputs["verdict"]]
    statuses = _statuses(emulator, project.head1)
    assert [(s["context"], s["state"], s["creator"]) for s in statuses] == [
        (CONTEXT, expected, BOT)
    ]

    n = PR_TUNE.number
    screening = [  # the action's `run --screen` step, before it installs the ML stack
        f"GET /collaborators/{AUTHOR}/permission",
        f"GET /pulls/{n}",
        f"GET /issues/{n}/comments",
    ]
    assert api_calls(run) == [
        *screening,  # then `run` screens again, in the step that runs it
        f"GET /collaborators/{AUTHOR}/permission",
        f"GET /pulls/{n}",
        f"GET /issues/{n}/comments",  # has a later /retrain or /evaluate superseded this one?
        f"POST /issues/comments/{cid}/reactions",  # 👀
        "GET /user",  # 403 for an installation token: the bot's login is the default
        f"POST /issues/{n}/comments",  # "Running /retrain ... on <sha>"
        f"GET /pulls/{n}",  # did the head move while it trained?
        f"GET /issues/{n}/comments",  # find the sticky report
        f"POST /issues/{n}/comments",  # the report (none existed in this emulator)
        f"POST /statuses/{project.head1}",
        f"POST /issues/comments/{cid}/reactions",  # 🚀
    ], run.describe()
    check_contract(run, emulator)


def test_reader_retrain_gets_one_refusal_and_nothing_runs(
    project: Project, emulator: EmulatorProcess
) -> None:
    run, cid = comment_run(
        project,
        emulator,
        PR_STRICT,
        "/retrain",
        READER,
        label="commands 2: `/retrain` by a reader on PR #2",
    )
    assert run.returncode == 0, tail(run)
    assert f"cml-bot: /retrain by @{READER}: refused" in run.log, tail(run)

    (reply,) = _bot_comments(emulator, PR_STRICT.number)  # exactly one, and no report
    assert reply["body"].startswith(
        f"@{READER}, `/retrain` needs `write` permission on this repository and you have "
        "`read`, so nothing was run."
    ), reply["body"]
    assert MARKER not in reply["body"]
    assert _reactions(emulator, cid) == []
    assert _statuses(emulator, project.strict) == []
    assert "▶ training" not in run.log and "▶ logging the run" not in run.log  # nothing trained
    assert [f"{w['method']} {w['path']}" for w in writes(run)] == [
        f"POST /repos/{FULL_NAME}/issues/{PR_STRICT.number}/comments"
    ]
    assert api_calls(run) == [
        f"GET /collaborators/{READER}/permission",
        f"GET /pulls/{PR_STRICT.number}",
        "GET /user",
        f"POST /issues/{PR_STRICT.number}/comments",
    ], run.describe()
    check_contract(run, emulator)


@pytest.mark.parametrize(
    ("body", "stopped_by"),
    [
        (f"Quoting the docs:\n```\n{RETRAIN}\n```", "the workflow's if:"),
        (f"/usr/bin/python crashes when I run\n```\n{RETRAIN}\n```", "cml-bot"),
    ],
    ids=["prose-first", "path-first"],
)
def test_a_quoted_command_does_nothing(
    body: str, stopped_by: str, project: Project, emulator: EmulatorProcess
) -> None:
    """A comment that only quotes /retrain in a code block: no reply, reaction or training.

    When the body does not start with `/` the job's `if:` skips it; when it does (a path), the
    job runs and cml-bot reads the first line as "not a command" and stays silent.
    """
    before = _comments(emulator, PR_TUNE.number)
    run, cid = comment_run(
        project,
        emulator,
        PR_TUNE,
        body,
        AUTHOR,
        label=f"commands 3: a quoted /retrain ({stopped_by})",
    )
    assert run.returncode == 0, tail(run)
    assert run.requests == [], run.describe()  # not a single API call, let alone a write
    assert _reactions(emulator, cid) == []
    assert _comments(emulator, PR_TUNE.number)[: len(before)] == before
    assert len(_comments(emulator, PR_TUNE.number)) == len(before) + 1  # only the user's comment
    if stopped_by == "cml-bot":
        assert "is not a slash command" in run.log, tail(run)
    else:
        assert "Prepare cml-bot's environment" not in run.log, tail(run)  # the job never started
    check_contract(run, emulator, counted=False)


def test_an_edited_comment_does_nothing(project: Project, emulator: EmulatorProcess) -> None:
    """Editing a comment into a command runs nothing (`types: [created]`, and cml-bot checks the
    action again: "only new comments count")."""
    run, cid = comment_run(
        project,
        emulator,
        PR_STRICT,  # not PR #1: a later /retrain there would supersede test 1's if it ran first
        RETRAIN,
        AUTHOR,
        action="edited",
        previous_body="Looks good to me",
        label="commands 4: a comment on PR #2 edited into `/retrain`",
    )
    assert run.returncode == 0, tail(run)
    assert run.requests == [], run.describe()
    assert _reactions(emulator, cid) == []
    # act 0.2.89 does not filter on `types:`, so the job runs and cml-bot is what says no
    skipped = "Prepare cml-bot's environment" not in run.log
    assert skipped or "only new comments count" in run.log, tail(run)
    check_contract(run, emulator, counted=False)
