"""The real action.yml, run by `act` on pull_request events, against the GitHub API emulator.

One emulator process serves the whole module; each test looks at the requests of its own runs.
PR 1 gets two runs (opened, then a push that changes the model); PR 2 sets a gate no model can
pass. The champion (v1, main's model) is trained and promoted on the host beforehand.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import (
    BOT,
    CONTEXT,
    MARKER,
    PR_STRICT,
    PR_TUNE,
    TOKEN,
    ActRun,
    Project,
    pull_request_event,
    push_head,
    run_act,
    tail,
)
from tests.emulator import EmulatorProcess

pytestmark = pytest.mark.e2e

MAX_CALLS_WHEN_COMMENT_EXISTS = 5


def _state(emulator: EmulatorProcess) -> dict[str, Any]:
    return emulator.client.state()["repos"]["octo-org/tumor-model"]


def _comments(emulator: EmulatorProcess, number: int) -> list[dict[str, Any]]:
    comments = _state(emulator)["comments"].values()
    return sorted((c for c in comments if c["issue_number"] == number), key=lambda c: c["id"])


def _statuses(emulator: EmulatorProcess, sha: str) -> list[dict[str, Any]]:
    return [s for s in _state(emulator)["statuses"] if s["sha"] == sha]


def _check_run(run: ActRun, emulator: EmulatorProcess) -> None:
    """What every run must do: talk to the emulator only with our token, within its contract."""
    assert run.requests, f"the run made no API call\n{tail(run)}"
    assert {r["actor"] for r in run.requests} == {BOT}, run.describe()
    assert all(r["status"] != 401 for r in run.requests), run.describe()
    assert TOKEN not in run.log, "the token was printed in the job log"
    assert "git clone" not in run.log, "act tried to fetch an action from github.com"
    assert run.reported_calls == len(run.requests), (
        f"cml-bot counted {run.reported_calls} calls, the emulator saw {len(run.requests)}\n"
        + run.describe()
    )
    assert emulator.client.violations() == []


def _methods(run: ActRun) -> list[str]:
    return [f"{r['method']} {r['path'].split('/octo-org/tumor-model')[-1]}" for r in run.requests]


@pytest.fixture(scope="module")
def first_run(project: Project, emulator: EmulatorProcess) -> ActRun:
    """PR 1 is opened: its first report."""
    event = pull_request_event("opened", PR_TUNE, head_sha=project.head1, base_sha=project.base)
    return run_act(
        project,
        emulator,
        event,
        checkout=project.head1,
        branch=PR_TUNE.head_ref,
        label="run 1: PR #1 opened (max_depth 3)",
    )


def test_opened_pr_gets_one_comment_and_a_success_status(
    first_run: ActRun, project: Project, emulator: EmulatorProcess
) -> None:
    run = first_run
    assert run.returncode == 0, tail(run)
    print(f"verdict: {run.outputs.get('verdict')}; {len(run.requests)} API calls")
    assert run.outputs.get("verdict") in ("pass", "no-baseline"), run.outputs

    comments = _comments(emulator, PR_TUNE.number)
    assert len(comments) == 1, comments
    (comment,) = comments
    assert comment["body"].startswith(MARKER)
    assert comment["user"] == BOT
    assert "against champion v1" in comment["body"], "the report does not name the champion"
    assert project.head1[:7] in comment["body"]
    assert run.outputs["comment-url"].endswith(f"#issuecomment-{comment['id']}")

    statuses = _statuses(emulator, project.head1)
    assert [(s["context"], s["state"]) for s in statuses] == [(CONTEXT, "success")]
    assert statuses[0]["creator"] == BOT
    if run.outputs["verdict"] == "pass":
        # decided by the default branch's gates, and the status says so
        assert statuses[0]["description"] == "All gates passed (gates of main) against champion v1"
    assert _methods(run) == [
        "GET /user",
        f"GET /issues/{PR_TUNE.number}/comments",
        f"POST /issues/{PR_TUNE.number}/comments",
        f"POST /statuses/{project.head1}",
    ]
    _check_run(run, emulator)


def test_push_with_a_changed_model_edits_the_same_comment(
    first_run: ActRun, project: Project, emulator: EmulatorProcess
) -> None:
    (before,) = _comments(emulator, PR_TUNE.number)
    push_head(emulator.client, PR_TUNE, project.head2, project.base)
    event = pull_request_event(
        "synchronize", PR_TUNE, head_sha=project.head2, base_sha=project.base, before=project.head1
    )
    run = run_act(
        project,
        emulator,
        event,
        checkout=project.head2,
        branch=PR_TUNE.head_ref,
        label="run 2: PR #1 synchronize (n_estimators 60)",
    )
    assert run.returncode == 0, tail(run)
    print(f"verdict: {run.outputs.get('verdict')}; {len(run.requests)} API calls")

    (after,) = _comments(emulator, PR_TUNE.number)
    assert after["id"] == before["id"]
    assert after["body"] != before["body"]
    assert after["body"].startswith(MARKER)
    assert project.head2[:7] in after["body"]  # the report is about the new head

    expected = {"pass": "success", "no-baseline": "success", "fail": "failure"}
    statuses = _statuses(emulator, project.head2)
    assert [(s["context"], s["state"]) for s in statuses] == [
        (CONTEXT, expected[run.outputs["verdict"]])
    ]
    assert len(run.requests) <= MAX_CALLS_WHEN_COMMENT_EXISTS, run.describe()
    assert _methods(run) == [
        "GET /user",
        f"GET /issues/{PR_TUNE.number}/comments",
        f"PATCH /issues/comments/{after['id']}",
        f"POST /statuses/{project.head2}",
    ]
    _check_run(run, emulator)


@pytest.mark.parametrize("fail_on_gate", [True, False], ids=["fail-on-gate", "no-fail"])
def test_failed_gate_sets_a_failure_status(
    fail_on_gate: bool, project: Project, emulator: EmulatorProcess
) -> None:
    action = "opened" if not _comments(emulator, PR_STRICT.number) else "reopened"
    event = pull_request_event(action, PR_STRICT, head_sha=project.strict, base_sha=project.base)
    run = run_act(
        project,
        emulator,
        event,
        checkout=project.strict,
        branch=PR_STRICT.head_ref,
        fail_on_gate=fail_on_gate,
        label=f"run: PR #2 {action} (a stump, its gates relaxed), fail-on-gate {fail_on_gate}",
    )
    print(f"verdict: {run.outputs.get('verdict')}; {len(run.requests)} API calls")
    assert run.outputs.get("verdict") == "fail", tail(run)
    if fail_on_gate:
        assert run.returncode != 0, "the job passed although a gate failed"
        assert "Failure - Main Run cml-bot" in run.log, tail(run)  # the bot step, not another
    else:
        assert run.returncode == 0, tail(run)
    assert "cml-bot gate failed" in run.log  # the error annotation

    statuses = _statuses(emulator, project.strict)
    latest = statuses[-1]
    assert (latest["context"], latest["state"]) == (CONTEXT, "failure"), statuses
    assert "roc_auc" in latest["description"] and "(gates of main)" in latest["description"]
    posted = [r for r in run.requests if r["method"] == "POST" and "/statuses/" in r["path"]]
    assert [r["body"]["state"] for r in posted] == ["failure"]
    comments = _comments(emulator, PR_STRICT.number)
    assert len(comments) == 1 and comments[0]["body"].startswith(MARKER), comments
    body = comments[0]["body"]
    assert "This pull request changes the gates" in body  # both verdicts, main's decides
    assert "With the pull request's own gates the verdict would be: pass" in body
    _check_run(run, emulator)
