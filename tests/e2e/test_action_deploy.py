"""Deploy on merge: the real action.yml, run by `act` on push events to main, against the emulator.

The workflow is `.github/workflows/cml-bot-deploy.yml` in the repository (on push to main,
`concurrency: cml-bot-deploy`, no `environment:` since act has none). The module has its own
MLflow store (so the PR tests keep comparing with the session's champion v1): champion v1 is
main's model, trained and promoted on the host. Three merges, each a fast-forward of main whose
merged PR (head = that commit) is seeded in the emulator before its push is delivered:

* PR #3 `deploy-hook`: adds the deploy hook (`deploy.command: [python, hook.py, <log>]`, the log
  outside the workspace; the hook appends `$MODEL_VERSION $MODEL_URI` and exits `$HOOK_EXIT`,
  passed with act's `--env`) and deeper trees: passes, deploys; then the same push again.
* PR #4 `strict-deploy-gate`: `gates.accuracy.min: 0.999`, which no model passes: rejected.
* PR #5 `more-trees`: the gate back to 0.85, more trees, and a hook that exits 3: rolled back.

The registry is read in-process with :func:`cml_bot.app.deploy.models` (what `cml-bot models`
prints) on the same store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    BOT,
    DEPLOY_WORKFLOW_PATH,
    MODEL,
    ActRun,
    Project,
    Pull,
    api_calls,
    check_contract,
    clean_env,
    cli,
    git,
    merge_pull,
    push_event,
    repo_state,
    run_act,
    tail,
)
from tests.emulator import EmulatorProcess

pytestmark = pytest.mark.e2e

DEPLOY_CONTEXT = f"cml-bot/{MODEL}/deploy"
PR_DEPLOY = Pull(3, "deploy-hook", "Deploy hook, deeper trees")
PR_GATE = Pull(4, "strict-deploy-gate", "Require 99.9% accuracy to deploy")
PR_HOOK = Pull(5, "more-trees", "Relax the gate, more trees")
HOOK = """\
import os
import sys

with open(sys.argv[1], "a", encoding="utf-8") as log:
    log.write(f"{os.environ['MODEL_VERSION']} {os.environ['MODEL_URI']}\\n")
sys.exit(int(os.environ.get("HOOK_EXIT") or 0))
"""


@dataclass
class Merges:
    tracking_uri: str  # this module's store
    hook_log: Path
    deploy: str  # PR #3's head = main after its merge
    gate: str  # PR #4's
    hook: str  # PR #5's


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def merges(project: Project) -> Iterator[Merges]:
    repo, top = project.repo, project.work.parent
    (top / "mlflow-deploy").mkdir()
    uri = f"sqlite:///{(top / 'mlflow-deploy' / 'mlflow.db').as_posix()}"
    hook_log = project.work / "deploy-hook.log"
    git(repo, "checkout", "-q", "-B", "main", project.base)

    started = time.monotonic()
    env = {**clean_env(), "MLFLOW_TRACKING_URI": uri}
    config, out = repo / "cml-bot.yaml", str(project.work / "deploy-baseline")
    cli("train", "-c", str(config), "--out", out, "-q", env=env, cwd=repo)
    cli("promote", "-c", str(config), "--out", out, "-q", env=env, cwd=repo)
    project.timings["deploy champion v1 (host: cml-bot train + promote)"] = (
        f"{time.monotonic() - started:.1f} s"
    )

    (repo / "hook.py").write_text(HOOK, encoding="utf-8")
    _edit(config, "    max_depth: 2\n", "    max_depth: 3\n")
    command = json.dumps(["python", "hook.py", str(hook_log)])  # a YAML flow sequence
    config.write_text(config.read_text() + f"\ndeploy:\n  command: {command}\n")
    deploy = _commit(repo, "Deploy hook, deeper trees")
    _edit(config, "  accuracy: {min: 0.85}\n", "  accuracy: {min: 0.999}\n")
    # a model change too: a merge that only changes the gates trains nothing ("unchanged")
    _edit(config, "    n_estimators: 20\n", "    n_estimators: 30\n")
    gate = _commit(repo, "Require 99.9% accuracy to deploy, more trees")
    _edit(config, "  accuracy: {min: 0.999}\n", "  accuracy: {min: 0.85}\n")
    _edit(config, "    n_estimators: 30\n", "    n_estimators: 40\n")
    hook = _commit(repo, "Relax the gate, more trees")
    git(repo, "checkout", "-q", "-B", "main", project.base)
    yield Merges(uri, hook_log, deploy, gate, hook)


def _push(
    project: Project,
    emulator: EmulatorProcess,
    merges: Merges,
    *,
    after: str,
    before: str,
    label: str,
    hook_exit: int = 0,
) -> ActRun:
    return run_act(
        project,
        emulator,
        push_event(after=after, before=before),
        checkout=after,
        branch="main",
        event_name="push",
        workflow=DEPLOY_WORKFLOW_PATH,
        tracking_uri=merges.tracking_uri,
        env={"HOOK_EXIT": str(hook_exit)},
        label=label,
    )


def _registry(project: Project, merges: Merges) -> tuple[str | None, list[Any]]:
    """The champion's version and every registered version (what `cml-bot models` lists)."""
    from cml_bot.app import deploy as app_deploy
    from cml_bot.app import local as app

    settings = app.Settings(
        config_path=project.repo / "cml-bot.yaml",
        env={"MLFLOW_TRACKING_URI": merges.tracking_uri},
        quiet=True,
    )
    versions, champion = app_deploy.models(settings)
    return champion, versions


def _hook_lines(merges: Merges) -> list[str]:
    log = merges.hook_log
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def _deployments(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    found = repo_state(emulator.client)["deployments"].values()
    return sorted(found, key=lambda d: d["id"])


def _statuses(emulator: EmulatorProcess, sha: str) -> list[tuple[str, str]]:
    found = repo_state(emulator.client)["statuses"]
    return [(s["context"], s["state"]) for s in found if s["sha"] == sha]


def _comments(emulator: EmulatorProcess, number: int) -> list[dict[str, Any]]:
    found = repo_state(emulator.client)["comments"].values()
    return sorted((c for c in found if c["issue_number"] == number), key=lambda c: c["id"])


@pytest.fixture(scope="module")
def first_deploy(
    project: Project, emulator: EmulatorProcess, merges: Merges
) -> tuple[ActRun, tuple[str | None, list[Any]]]:
    """PR #3 merges: the push of its head to main. Returns the run and the registry before it."""
    before = _registry(project, merges)
    merge_pull(emulator.client, PR_DEPLOY, head_sha=merges.deploy, base_sha=project.base)
    run = _push(
        project,
        emulator,
        merges,
        after=merges.deploy,
        before=project.base,
        label="deploy 1: push of merged PR #3 (passes)",
    )
    return run, before


def test_merge_of_a_passing_model_deploys_it(
    first_deploy: tuple[ActRun, tuple[str | None, list[Any]]],
    project: Project,
    emulator: EmulatorProcess,
    merges: Merges,
) -> None:
    run, (champion_before, versions_before) = first_deploy
    assert run.returncode == 0, tail(run)
    assert champion_before == "1" and [v.version for v in versions_before] == ["1"]

    champion, versions = _registry(project, merges)
    assert [v.version for v in versions] == ["1", "2"]  # one new registered version
    new = versions[-1]
    assert champion == "2", "the champion did not move to the merged model"
    assert (new.sha, new.pr) == (merges.deploy, PR_DEPLOY.number)
    assert f"cml-bot: {MODEL} v2 is now 'champion' (was v1)." in run.log, tail(run)
    assert run.outputs.get("model-uri") == new.model_uri

    (deployment,) = _deployments(emulator)
    assert deployment["sha"] == merges.deploy and deployment["creator"] == BOT
    assert deployment["environment"] == "production"
    assert deployment["payload"]["model_version"] == "2"
    assert [s["state"] for s in deployment["statuses"]] == ["in_progress", "success"]

    assert _hook_lines(merges) == [f"2 {new.model_uri}"]  # the hook ran once, with v2
    assert _statuses(emulator, merges.deploy) == [(DEPLOY_CONTEXT, "success")]
    (comment,) = _comments(emulator, PR_DEPLOY.number)
    assert comment["user"] == BOT
    assert comment["body"].startswith(f"🚀 **Deployed**: {MODEL} v2 is now 'champion' (was v1).")

    dep = deployment["id"]
    assert api_calls(run) == [
        f"GET /commits/{merges.deploy}/pulls",
        "POST /deployments",
        f"POST /deployments/{dep}/statuses",  # in_progress
        f"POST /deployments/{dep}/statuses",  # success
        f"POST /statuses/{merges.deploy}",
        "GET /user",
        f"POST /issues/{PR_DEPLOY.number}/comments",
    ], run.describe()
    check_contract(run, emulator, counted=False)  # the deploy path prints no call count


def test_the_same_push_again_deploys_nothing(
    first_deploy: tuple[ActRun, Any],
    project: Project,
    emulator: EmulatorProcess,
    merges: Merges,
) -> None:
    """A replayed delivery (or a re-run job) of an already deployed push."""
    assert first_deploy[0].returncode == 0, tail(first_deploy[0])
    registry_before, hook_before = _registry(project, merges), _hook_lines(merges)
    run = _push(
        project,
        emulator,
        merges,
        after=merges.deploy,
        before=project.base,
        label="deploy 2: the same push again",
    )
    assert run.returncode == 0, tail(run)
    assert f"cml-bot: {MODEL} {merges.deploy[:7]} is already deployed as v2." in run.log, tail(run)
    champion, versions = _registry(project, merges)
    assert (champion, [v.version for v in versions]) == (
        registry_before[0],
        [v.version for v in registry_before[1]],
    )
    assert len(_deployments(emulator)) == 1
    assert _hook_lines(merges) == hook_before
    assert len(_comments(emulator, PR_DEPLOY.number)) == 1
    (deployment,) = _deployments(emulator)
    assert api_calls(run) == [
        f"GET /commits/{merges.deploy}/pulls",
        "GET /deployments",  # is the record of that deploy finished? (it is: nothing written)
        f"GET /deployments/{deployment['id']}/statuses",
    ], run.describe()
    check_contract(run, emulator, counted=False)


def test_a_merge_that_fails_a_gate_is_not_deployed(
    project: Project, emulator: EmulatorProcess, merges: Merges
) -> None:
    champion_before, versions_before = _registry(project, merges)
    deployments_before, hook_before = _deployments(emulator), _hook_lines(merges)
    merge_pull(emulator.client, PR_GATE, head_sha=merges.gate, base_sha=merges.deploy)
    run = _push(
        project,
        emulator,
        merges,
        after=merges.gate,
        before=merges.deploy,
        label="deploy 3: push of merged PR #4 (accuracy >= 0.999)",
    )
    assert run.returncode != 0, "the job passed although the merged model failed a gate"
    assert "Failure - Main Run cml-bot" in run.log, tail(run)
    assert "cml-bot: the merged model failed its gates; not deployed" in run.log, tail(run)
    assert run.outputs.get("verdict") == "fail", run.outputs

    champion, versions = _registry(project, merges)
    assert champion == champion_before
    assert [v.version for v in versions] == [v.version for v in versions_before]
    assert _deployments(emulator) == deployments_before
    assert _hook_lines(merges) == hook_before
    assert _statuses(emulator, merges.gate) == [(DEPLOY_CONTEXT, "failure")]
    (comment,) = _comments(emulator, PR_GATE.number)
    body = comment["body"]
    assert comment["user"] == BOT
    assert body.startswith("❌ **Not deployed**: the merged model failed 1 gate"), body
    assert "accuracy" in body and "0.999" in body, body  # names the gate
    assert api_calls(run) == [
        f"GET /commits/{merges.gate}/pulls",
        f"POST /statuses/{merges.gate}",
        "GET /user",
        f"POST /issues/{PR_GATE.number}/comments",
    ], run.describe()
    check_contract(run, emulator, counted=False)


def test_a_failing_deploy_hook_leaves_the_champion_where_it_was(
    project: Project, emulator: EmulatorProcess, merges: Merges
) -> None:
    champion_before, versions_before = _registry(project, merges)
    hook_before = _hook_lines(merges)
    merge_pull(emulator.client, PR_HOOK, head_sha=merges.hook, base_sha=merges.gate)
    run = _push(
        project,
        emulator,
        merges,
        after=merges.hook,
        before=merges.gate,
        hook_exit=3,
        label="deploy 4: push of merged PR #5, the hook exits 3",
    )
    assert run.returncode != 0, "the job passed although the deploy hook failed"
    assert "the deploy hook failed" in run.log, tail(run)
    assert f"moved back to v{champion_before}" in run.log, tail(run)

    champion, versions = _registry(project, merges)
    assert champion == champion_before
    # the merged model was registered before the hook ran; it is kept, but not champion
    assert [v.version for v in versions] == [
        *(v.version for v in versions_before),
        str(len(versions_before) + 1),
    ]
    new = versions[-1]
    assert new.sha == merges.hook
    assert _hook_lines(merges) == [*hook_before, f"{new.version} {new.model_uri}"]  # ran once

    deployment = _deployments(emulator)[-1]
    assert deployment["sha"] == merges.hook
    assert [s["state"] for s in deployment["statuses"]] == ["in_progress", "failure"]
    assert "deploy hook failed" in deployment["statuses"][-1]["description"]
    assert (DEPLOY_CONTEXT, "success") not in _statuses(emulator, merges.hook)
    dep = deployment["id"]
    assert api_calls(run)[:4] == [
        f"GET /commits/{merges.hook}/pulls",
        "POST /deployments",
        f"POST /deployments/{dep}/statuses",  # in_progress
        f"POST /deployments/{dep}/statuses",  # failure
    ], run.describe()
    check_contract(run, emulator, counted=False)
