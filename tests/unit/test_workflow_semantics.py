"""The workflows `cml-bot init` writes, under GitHub's concurrency rules (which act ignores).

Events are GitHub's own example payloads (tests/fixtures/webhooks), retargeted to one PR; the
rules are modelled in ``github_semantics`` from GitHub's docs. The scenarios are the ones that
lost work on real GitHub: a push during a /retrain, an ordinary comment while a command waits,
a reader's command against a maintainer's, merges and deploys in quick succession.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cml_bot.scaffold.workflows import render_workflows
from tests.unit.github_semantics import Event, Repository, Unsupported, condition, load

WEBHOOKS = Path(__file__).parents[1] / "fixtures" / "webhooks"
PINNED = "octo/cml-bot@" + "a" * 40
PR = 7


def example(name: str) -> dict[str, Any]:
    """The first of GitHub's example payloads for ``name`` (each file holds a list)."""
    return dict(json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))[0])


def push_to_pr(n: int) -> Event:
    payload = copy.deepcopy(example("pull_request"))
    payload["action"] = "synchronize" if n > 1 else "opened"
    payload["number"] = PR
    payload["pull_request"]["number"] = PR
    return Event("pull_request", payload, f"push {n}", sha=f"{n:040d}")


def comment(body: str, login: str = "maintainer") -> Event:
    payload = copy.deepcopy(example("issue_comment"))
    payload["action"] = "created"
    payload["issue"]["number"] = PR
    payload["issue"]["pull_request"] = {"url": f"https://api.github.com/pulls/{PR}"}
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = login
    return Event("issue_comment", payload, f"{login}: {body}", actor=login)


def merge(n: int) -> Event:
    payload = copy.deepcopy(example("push"))
    payload["ref"] = "refs/heads/main"
    return Event("push", payload, f"merge {n}", sha=f"{n:040x}", ref="refs/heads/main")


@pytest.fixture
def repo() -> Repository:
    files = render_workflows(PINNED, branch="main")
    return Repository({path.name: load(text) for path, text in files.items()})


def test_a_push_does_not_cancel_a_running_retrain(repo: Repository) -> None:
    repo.deliver(push_to_pr(1))
    repo.deliver(comment("/retrain n_estimators=300"))
    repo.deliver(push_to_pr(2))  # the stale report of push 1 may go; the command may not
    assert not [r for r in repo.cancelled() if r.event.startswith("maintainer")]


def test_an_ordinary_comment_evicts_nothing(repo: Repository) -> None:
    repo.deliver(comment("/retrain n_estimators=300"))
    repo.deliver(comment("/evaluate"))  # waits its turn behind the retrain
    repo.deliver(comment("LGTM", login="reviewer"))
    repo.deliver(comment("Looks good, but did you check the slices?", login="reviewer"))
    assert repo.cancelled() == []
    reviewer = [r for r in repo.runs if r.event.startswith("reviewer") and r.state != "skipped"]
    assert reviewer == []  # no runner starts, no group is entered


def test_a_readers_command_cannot_evict_a_maintainers(repo: Repository) -> None:
    repo.deliver(comment("/retrain n_estimators=300"))
    repo.deliver(comment("/retrain n_estimators=400"))  # pending behind the first
    repo.deliver(comment("/evaluate", login="drive-by-reader"))
    survivors = [r for r in repo.runs if r.event == "maintainer: /retrain n_estimators=400"]
    assert survivors and all(r.state != "cancelled" for r in survivors)


def test_nothing_that_writes_the_registry_or_a_deployment_is_ever_cancelled(
    repo: Repository,
) -> None:
    """/deploy, /rollback and deploy-on-merge, interleaved with pushes, comments and merges."""
    sequence = [
        push_to_pr(1),
        comment("/deploy"),
        merge(1),
        comment("/rollback v3"),
        push_to_pr(2),
        merge(2),
        comment("LGTM", login="reviewer"),
        merge(3),
        comment("/deploy"),
        merge(4),
    ]
    for event in sequence:
        repo.deliver(event)
    writers = [r for r in repo.runs if r.writes]
    assert writers, "no job of the scenario can write: the scenario tests nothing"
    assert [r for r in writers if r.state == "cancelled"] == []


def test_the_job_that_runs_pull_request_code_cannot_write_contents(repo: Repository) -> None:
    for event in (comment("/retrain"), comment("/evaluate"), push_to_pr(1)):
        for run in repo.deliver(event):
            if run.job is not None:
                assert not run.writes, f"{run.workflow}/{run.job} trains PR code with write scope"


def test_deploy_commands_run_where_no_pull_request_code_runs(repo: Repository) -> None:
    for body in ("/deploy", "/rollback v2"):
        started = [r for r in repo.deliver(comment(body)) if r.job is not None]
        assert started and all(r.writes for r in started), body
        names = {r.job for r in started}
        docs = repo.workflows["cml-bot-commands.yml"]["jobs"]
        for name in names:
            assert docs[name].get("environment"), f"{name} runs outside the environment's review"


# ------------------------------------------------------------------------- the model itself


def test_the_model_cancels_a_pending_run_as_github_does() -> None:
    doc = load(
        "name: w\non: push\nconcurrency: {group: g, cancel-in-progress: false}\n"
        "jobs: {a: {runs-on: x}}\n"
    )
    repo = Repository({"w.yml": doc})
    first, second, third = (repo.deliver(merge(n)) for n in (1, 2, 3))
    assert [r.state for r in first] == ["running"]
    assert second[0].state == "cancelled" and third[0].state == "pending"


def test_the_model_enters_a_workflow_group_before_the_jobs_if() -> None:
    doc = load(
        "name: w\non: {issue_comment: {types: [created]}}\n"
        "concurrency: {group: 'g-${{ github.event.issue.number }}'}\n"
        "jobs: {a: {if: \"startsWith(github.event.comment.body, '/')\", runs-on: x}}\n"
    )
    repo = Repository({"w.yml": doc})
    repo.deliver(comment("/retrain"))
    repo.deliver(comment("/evaluate"))
    repo.deliver(comment("LGTM"))  # its job is skipped, but the run took the pending place
    assert [r.event for r in repo.cancelled() if r.job is None] == ["maintainer: /evaluate"]


def test_the_model_refuses_what_it_does_not_know() -> None:
    with pytest.raises(Unsupported):
        condition("fromJSON(github.event.comment.body)", {"github": {}})
