"""Fault injection: a whole PR run (`cml-bot run` in Actions mode) and a whole deploy on merge,
against the GitHub API emulator while it fails in GitHub's ways (5xx bursts, timeouts, primary
and secondary rate limits, 422, 401, dropped connections, a reset after a write was applied).

What must hold after every fault (``check_pr_run`` / ``check_deploy``):

* the run retries within a bounded time, or fails with exit code 4 and one clear ``error:`` line
  (never a traceback);
* never two sticky report comments;
* the commit status never claims a success that did not happen (a ``success`` status implies the
  report comment is there);
* never a half-done promotion: the champion is this commit's model exactly when this commit's
  GitHub Deployment says ``success``.

The GitHub client's knobs are shortened through the environment (CML_BOT_GITHUB_TIMEOUT=1 s,
CML_BOT_GITHUB_MAX_WAIT=5 s, CML_BOT_GITHUB_BACKOFF=0.05 s) so that the waits stay short; the rate
limits and the timeouts are real waits against the emulator's clock. Training is real and small
(5 trees); the MLflow store (SQLite) is shared within the module, so only the first run pays for
creating it.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from cml_bot.app import local as app
from cml_bot.cli import main
from cml_bot.core.errors import RegistryError
from cml_bot.registry.mlflow_backend import MlflowRegistry
from tests.emulator import Emulator
from tests.integration.support import copy_example, git

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "breast-cancer"
REPO = "octo-org/tumor-model"
PR = 5
TOKEN = "ghs_faultTOKEN0123456789"
MARKER = "<!-- cml-bot:report model=tumor-classifier -->"
CONTEXT = "cml-bot/tumor-classifier"
KNOBS = {
    "CML_BOT_GITHUB_TIMEOUT": "1",
    "CML_BOT_GITHUB_MAX_WAIT": "5",
    "CML_BOT_GITHUB_BACKOFF": "0.05",
}
# A hang guard, not a speed target (those live in benchmarks/): with max_wait 5 s per call a
# run that retried without end would blow far past it; a loaded CI machine (the unit and
# integration tiers run on every core) must not. A run here takes ~5-20 s.
BOUND = 120.0
COMMENTS = rf"/repos/{REPO}/issues/{PR}/comments$"
EDIT = rf"/repos/{REPO}/issues/comments/\d+$"
STATUSES = rf"/repos/{REPO}/statuses/[0-9a-f]+$"
DEPLOYMENTS = rf"/repos/{REPO}/deployments$"
DEPLOYMENT_STATUSES = rf"/repos/{REPO}/deployments/\d+/statuses$"
TOO_LONG = {
    "message": "Validation Failed",
    "errors": [
        {
            "resource": "IssueComment",
            "code": "custom",
            "field": "body",
            "message": "body is too long (maximum is 65536 characters)",
        }
    ],
    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
}
HOOK = """import json, os, sys, urllib.request
from pathlib import Path
log = Path(sys.argv[1])
log.write_text((log.read_text() if log.exists() else "") + os.environ["MODEL_VERSION"] + "\\n")
fault = os.environ.get("HOOK_ADD_FAULT")  # a fault that starts only after the alias moved
if fault:
    request = urllib.request.Request(
        os.environ["EMULATOR_URL"] + "/_emulator/faults", data=fault.encode(), method="POST",
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()
"""


def make_repo(where: Path, change: Any) -> Path:
    repo = where / "repo"
    copy_example(repo)
    data = yaml.safe_load((repo / "cml-bot.yaml").read_text())
    data["train"]["params"]["n_estimators"] = 5
    change(data)
    (repo / "cml-bot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (repo / ".gitignore").write_text(".cml-bot/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's heredoc form: name<<DELIM / value / DELIM."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delim = line.partition("<<")
        value = []
        for inner in lines:
            if inner == delim:
                break
            value.append(inner)
        out[name] = "\n".join(value)
    return out


def invoke(repo: Path, env: dict[str, str], out: Path | None) -> tuple[Result, float]:
    args = ["run", "-c", str(repo / "cml-bot.yaml"), "-q"]
    if out is not None:
        args += ["--out", str(out)]
    start = time.monotonic()
    result = CliRunner().invoke(main, args, env=env)
    return result, time.monotonic() - start


# The in-process emulator's server threads report a client that hung up on a slow answer on the
# (captured) stderr; that is the emulator's log, not cml-bot's output.
EMULATOR_NOISE = re.compile(
    r"-{40}\nException occurred during processing of request from .*?\n-{40}\n", re.DOTALL
)


def own_output(result: Result) -> str:
    return EMULATOR_NOISE.sub("", result.output)


def check_exit(result: Result, elapsed: float, expected: int) -> None:
    """Exit code as expected, in bounded time, and a failure is one clear line, no traceback."""
    assert elapsed < BOUND, f"took {elapsed:.1f} s"
    assert result.exit_code == expected, (result.output, result.exception)
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    assert "Traceback" not in own_output(result)
    if expected == 4:
        errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, result.output
        assert "fix:" in result.output


# ------------------------------------------------------------------------------ the PR run


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("faults-pr"), lambda d: d.update(baseline="none"))
    return {"repo": repo, "head": git(repo, "rev-parse", "HEAD")}


@pytest.fixture()
def emu(pr_repo: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        emulator.state.seed_pull(
            PR,
            head_sha=pr_repo["head"],
            head_ref="feature",
            base_ref="main",
            base_sha=pr_repo["head"],
            user="alice",
        )
        yield emulator
        emulator.assert_no_violations()


def pr_event(head: str) -> dict[str, Any]:
    """GitHub's real pull_request 'opened' example, aimed at our PR and head."""
    examples = json.loads((ROOT / "tests/fixtures/webhooks/pull_request.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "opened"))
    pull = payload["pull_request"]
    pull.update(number=PR, draft=False, state="open")
    pull["head"].update(sha=head, ref="feature")
    pull["base"].update(sha=head, ref="main")
    payload.update(number=PR)
    payload["repository"].update(full_name=REPO, default_branch="main")
    for side in ("head", "base"):
        pull[side]["repo"].update(full_name=REPO, id=payload["repository"]["id"])
    return payload


def run_pr(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path, **extra: str
) -> tuple[Result, dict[str, str], float]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pr_event(pr_repo["head"])))
    output = tmp_path / "output.txt"
    output.unlink(missing_ok=True)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "CML_BOT_GITHUB_TOKEN": TOKEN,
        "GITHUB_RUN_ID": "42",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "MLFLOW_TRACKING_URI": "",
        **KNOBS,
        **extra,
    }
    result, elapsed = invoke(pr_repo["repo"], env, tmp_path / "out")
    outputs = parse_outputs(output.read_text()) if output.exists() else {}
    return result, outputs, elapsed


def sticky(emu: Emulator) -> list[Any]:
    return [c for c in emu.state.comments_on(PR) if MARKER in c.body]


def check_pr_run(emu: Emulator, head: str, result: Result, elapsed: float, expected: int) -> None:
    check_exit(result, elapsed, expected)
    assert len(sticky(emu)) <= 1, "two sticky comments"
    ours = [s for s in emu.state.statuses_for(head) if s.context == CONTEXT]
    if any(s.state == "success" for s in ours):
        (comment,) = sticky(emu)  # a success status only when the report is there
        assert comment.body.startswith(MARKER)
    assert TOKEN not in result.output.replace(f"::add-mask::{TOKEN}", "")


def posted_ok(emu: Emulator, head: str) -> None:
    """The happy end: one report comment and one success status (maybe repeated, identical)."""
    assert len(sticky(emu)) == 1
    states = {(s.context, s.state) for s in emu.state.statuses_for(head)}
    assert states == {(CONTEXT, "success")}


def test_5xx_burst_on_the_comment_create_is_retried(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", status=502, times=2)
    emu.add_fault(COMMENTS, "GET", status=500, times=1)  # the first lookup fails too
    result, outputs, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    assert emu.faults.pending() == []
    assert outputs["comment-url"].endswith(f"#issuecomment-{sticky(emu)[0].id}")


def test_5xx_on_the_comment_edit_is_retried_in_place(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    old = emu.state.seed_comment(PR, f"{MARKER}\nan old report", user="github-actions[bot]")
    emu.add_fault(EDIT, "PATCH", status=503, times=2)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    assert sticky(emu)[0].id == old.id and "an old report" not in sticky(emu)[0].body


def test_status_that_keeps_failing_exits_4_and_claims_nothing(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(STATUSES, "POST", status=500, times=None)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "after 4 attempts; last error: HTTP 500" in result.output
    assert "githubstatus.com" in result.output  # the fix says what to do
    assert emu.state.statuses_for(pr_repo["head"]) == []
    assert emu.state.count("POST", STATUSES) == 4  # bounded: max_attempts, no more
    assert len(sticky(emu)) == 1


def test_comment_list_that_keeps_failing_writes_nothing(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "GET", status=502, times=None)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "list the comments of PR #5" in result.output
    assert sticky(emu) == [] and emu.state.statuses_for(pr_repo["head"]) == []
    assert all(r.method == "GET" for r in emu.state.requests)


def test_dropped_comment_create_is_retried(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", "drop")
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])


def test_reset_after_the_comment_create_was_applied_adopts_it(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", "apply_then_drop")
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    assert emu.state.count("POST", COMMENTS) == 1  # adopted, never posted twice


def test_reset_after_the_status_was_applied_repeats_the_same_status(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(STATUSES, "POST", "apply_then_drop")
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    # a status POST is idempotent in effect: the retry repeats the same state and context
    assert len(emu.state.statuses_for(pr_repo["head"])) == 2
    assert emu.state.combined_state(pr_repo["head"]) == "success"


def wait_for_late_writes(emu: Emulator, n: int = 1) -> None:
    """Until ``n`` delayed requests have been served (each is recorded once it took effect)."""
    deadline = time.monotonic() + 10
    while sum(r.fault == "delay" for r in emu.state.requests) < n:
        assert time.monotonic() < deadline, "a delayed request never landed"
        time.sleep(0.05)


def test_timeout_whose_write_lands_before_the_recheck_is_adopted(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """The create takes 1.2 s (client timeout 1 s); the re-list after the backoff finds it."""
    emu.add_fault(COMMENTS, "POST", "delay", seconds=1.2)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path, CML_BOT_GITHUB_BACKOFF="1.2")
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    assert emu.state.count("POST", COMMENTS) == 1


def test_timeouts_on_reads_and_statuses_are_retried(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "GET", "delay", seconds=1.5)
    emu.add_fault(STATUSES, "POST", "delay", seconds=1.5)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    wait_for_late_writes(emu, 2)  # let the slow status land too
    posted_ok(emu, pr_repo["head"])


def test_timeout_whose_write_lands_late_is_awaited_not_written_twice(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """The create takes 2.5 s (client timeout 1 s): the first re-list misses it, so the client
    keeps looking (within max_wait) instead of creating a second comment, and adopts it."""
    emu.add_fault(COMMENTS, "POST", "delay", seconds=2.5)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    wait_for_late_writes(emu)
    assert len(emu.state.comments_on(PR)) == 1
    assert emu.state.count("POST", COMMENTS) == 1  # never written twice
    posted_ok(emu, pr_repo["head"])


def test_timeout_whose_write_lands_after_max_wait_is_collapsed_by_the_next_run(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """Beyond the budget (write lands after 1 s timeout + 1 s max_wait), the client writes again;
    the late write leaves a second comment that the next run deletes."""
    emu.add_fault(COMMENTS, "POST", "delay", seconds=3)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path, CML_BOT_GITHUB_MAX_WAIT="1")
    check_exit(result, elapsed, 0)
    wait_for_late_writes(emu)
    assert len(emu.state.comments_on(PR)) == 2  # the late write landed after the run
    again, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], again, elapsed, 0)
    assert len(emu.state.comments_on(PR)) == 1


def test_primary_rate_limit_within_the_budget_is_waited_out(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", "rate_limit", seconds=1)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    posts = emu.state.requests_matching("POST", COMMENTS)
    assert [r.fault for r in posts] == ["rate_limit", None]
    assert posts[1].time - posts[0].time >= 0.9  # waited for the reset, did not hammer


def test_primary_rate_limit_beyond_the_budget_fails_at_once(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "GET", "rate_limit", seconds=3600, times=None)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "GitHub rate limit: resets at" in result.output and "(in 3601 s)" in result.output
    assert "cml-bot waits at most 5 s" in result.output
    assert emu.state.count("GET", COMMENTS) == 1  # no retry, no sleep
    assert sticky(emu) == [] and emu.state.statuses_for(pr_repo["head"]) == []


def test_secondary_rate_limit_with_retry_after_is_waited_out(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(STATUSES, "POST", "secondary_rate_limit", seconds=1)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 0)
    posted_ok(emu, pr_repo["head"])
    posts = emu.state.requests_matching("POST", STATUSES)
    assert [r.fault for r in posts] == ["secondary_rate_limit", None]
    assert posts[1].time - posts[0].time >= 0.9


def test_secondary_rate_limit_beyond_the_budget_fails_at_once(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", "secondary_rate_limit", seconds=120, times=None)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "GitHub rate limit" in result.output and "(in 120 s)" in result.output
    assert emu.state.count("POST", COMMENTS) == 1
    assert emu.state.statuses_for(pr_repo["head"]) == []


def test_422_comment_too_long_exits_4_without_a_status(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "POST", status=422, body=TOO_LONG)
    result, outputs, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "HTTP 422" in result.output and "body is too long" in result.output
    assert emu.state.count("POST", COMMENTS) == 1  # a 422 is not retried
    assert sticky(emu) == [] and emu.state.statuses_for(pr_repo["head"]) == []
    assert outputs == {}  # no outputs claim a comment


def test_422_on_the_edit_leaves_the_old_comment_and_sets_no_status(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    old = emu.state.seed_comment(PR, f"{MARKER}\nan old report", user="github-actions[bot]")
    emu.add_fault(EDIT, "PATCH", status=422, body=TOO_LONG)
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert [c.body for c in sticky(emu)] == [old.body]
    assert emu.state.statuses_for(pr_repo["head"]) == []


def test_rejected_token_exits_4_with_the_fix(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(COMMENTS, "GET", status=401, body={"message": "Bad credentials"})
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path)
    check_pr_run(emu, pr_repo["head"], result, elapsed, 4)
    assert "GitHub token rejected (HTTP 401, Bad credentials)" in result.output
    assert "github-token" in result.output


def test_a_bad_client_knob_is_a_config_error(
    pr_repo: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    result, _, elapsed = run_pr(pr_repo, emu, tmp_path, CML_BOT_GITHUB_MAX_WAIT="soon")
    check_exit(result, elapsed, 2)
    assert "CML_BOT_GITHUB_MAX_WAIT='soon' is not a number of seconds" in result.output
    assert emu.state.requests == []


# ------------------------------------------------------------------------------ the deploy


@pytest.fixture(scope="module")
def deploy_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("faults-deploy")

    def change(data: dict[str, Any]) -> None:
        data["deploy"] = {"command": [sys.executable, "hook.py", str(where / "hook.log")]}

    repo = make_repo(where, change)
    (repo / "hook.py").write_text(HOOK)
    git(repo, "add", "hook.py")
    git(repo, "commit", "-qm", "hook")
    return repo


@pytest.fixture()
def demu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        yield emulator
        emulator.assert_no_violations()


def new_merge(repo: Path, name: str) -> str:
    """A new commit on main that changes a training input (the dependency pins, so the deploy
    trains it rather than calling it "unchanged") but nothing the model sees (so it passes its
    gates)."""
    (repo / "requirements.txt").write_text(f"# {name}\n")
    git(repo, "add", "requirements.txt")
    git(repo, "commit", "-qm", name)
    return git(repo, "rev-parse", "HEAD")


def push(repo: Path, emu: Emulator, tmp_path: Path, **extra: str) -> tuple[Result, float]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/push.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if not e.get("deleted")))
    payload.update(
        ref="refs/heads/main", after=git(repo, "rev-parse", "HEAD"), deleted=False, created=False
    )
    payload["repository"].update(full_name=REPO, default_branch="main", master_branch="main")
    event = tmp_path / "push.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "CML_BOT_GITHUB_TOKEN": TOKEN,
        "GITHUB_RUN_ID": "5",
        "MLFLOW_TRACKING_URI": "",
        "EMULATOR_URL": emu.url,
        **KNOBS,
        **extra,
    }
    return invoke(repo, env, None)


def champion_sha(repo: Path) -> str | None:
    settings = app.Settings(config_path=repo / "cml-bot.yaml", env={}, quiet=True)
    registry = app.make_registry(app.load(settings), {"MLFLOW_TRACKING_URI": ""})
    champ = registry.champion("champion")
    return champ.sha if champ is not None else None


def deployment_states(emu: Emulator, sha: str) -> list[list[str]]:
    return [[s.state for s in d.statuses] for d in emu.state.deployments() if d.sha == sha]


def check_deploy(
    repo: Path, emu: Emulator, sha: str, result: Result, elapsed: float, expected: int
) -> bool:
    """No half-done promotion; True when ``sha`` became the champion."""
    check_exit(result, elapsed, expected)
    promoted = champion_sha(repo) == sha
    finished = [states[-1] for states in deployment_states(emu, sha) if states]
    assert promoted == ("success" in finished), (promoted, deployment_states(emu, sha))
    assert len(deployment_states(emu, sha)) <= 1, "two deployments of one commit"
    deploy_status = [s.state for s in emu.state.statuses_for(sha)]
    if "success" in deploy_status:
        assert promoted
    return promoted


def test_deploy_5xx_burst_on_the_deployment_create_deploys_once(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    sha = new_merge(deploy_repo, "burst")
    demu.add_fault(DEPLOYMENTS, "POST", status=502, times=2)
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert check_deploy(deploy_repo, demu, sha, result, elapsed, 0)
    assert deployment_states(demu, sha) == [["in_progress", "success"]]
    assert [s.state for s in demu.state.statuses_for(sha)] == ["success"]


def test_deploy_reset_after_the_deployment_was_created_adopts_it(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    sha = new_merge(deploy_repo, "reset")
    demu.add_fault(DEPLOYMENTS, "POST", "apply_then_drop")
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert check_deploy(deploy_repo, demu, sha, result, elapsed, 0)
    assert deployment_states(demu, sha) == [["in_progress", "success"]]
    assert demu.state.count("POST", DEPLOYMENTS) == 1


def test_deploy_reset_after_a_deployment_status_was_applied_repeats_it(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    sha = new_merge(deploy_repo, "status reset")
    demu.add_fault(DEPLOYMENT_STATUSES, "POST", "apply_then_drop")
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert check_deploy(deploy_repo, demu, sha, result, elapsed, 0)
    assert deployment_states(demu, sha) == [["in_progress", "in_progress", "success"]]


def test_deploy_deployment_statuses_failing_stop_before_the_alias_moves(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    before = champion_sha(deploy_repo)
    log = deploy_repo.parent / "hook.log"
    hooks = log.read_text() if log.exists() else ""
    sha = new_merge(deploy_repo, "statuses down")
    demu.add_fault(DEPLOYMENT_STATUSES, "POST", status=500, times=None)
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert not check_deploy(deploy_repo, demu, sha, result, elapsed, 4)
    assert champion_sha(deploy_repo) == before
    assert (log.read_text() if log.exists() else "") == hooks  # the hook never ran
    assert all(s.state == "failure" for s in demu.state.statuses_for(sha))


def test_deploy_rate_limit_beyond_the_budget_fails_before_promoting(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    before = champion_sha(deploy_repo)
    sha = new_merge(deploy_repo, "rate limited")
    demu.add_fault(DEPLOYMENTS, "POST", "rate_limit", seconds=3600, times=None)
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert not check_deploy(deploy_repo, demu, sha, result, elapsed, 4)
    assert "GitHub rate limit: resets at" in result.output
    assert champion_sha(deploy_repo) == before and demu.state.deployments() == []


def test_deploy_alias_move_failure_marks_the_deployment_failed(
    deploy_repo: Path, demu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = champion_sha(deploy_repo)
    sha = new_merge(deploy_repo, "registry down")

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RegistryError("the MLflow registry is unavailable", fix="re-run the job")

    monkeypatch.setattr(MlflowRegistry, "move_alias", broken)
    result, elapsed = push(deploy_repo, demu, tmp_path)
    monkeypatch.undo()
    assert not check_deploy(deploy_repo, demu, sha, result, elapsed, 4)
    assert "the MLflow registry is unavailable" in result.output
    assert champion_sha(deploy_repo) == before
    assert deployment_states(demu, sha) == [["in_progress", "failure"]]


def test_deploy_commit_status_failing_after_promotion_exits_4_consistently(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    sha = new_merge(deploy_repo, "status down")
    demu.add_fault(STATUSES, "POST", status=502, times=None)
    result, elapsed = push(deploy_repo, demu, tmp_path)
    assert check_deploy(deploy_repo, demu, sha, result, elapsed, 4)
    assert deployment_states(demu, sha) == [["in_progress", "success"]]
    assert demu.state.statuses_for(sha) == []  # nothing claimed on the commit


def test_deploy_success_status_failing_after_the_alias_moved_stays_consistent(
    deploy_repo: Path, demu: Emulator, tmp_path: Path
) -> None:
    sha = new_merge(deploy_repo, "late fault")
    rule = json.dumps({"method": "POST", "path": DEPLOYMENT_STATUSES, "times": None})
    result, elapsed = push(deploy_repo, demu, tmp_path, HOOK_ADD_FAULT=rule)
    check_exit(result, elapsed, 4)
    # the promotion stands (the hook deployed it) and nothing says otherwise
    assert champion_sha(deploy_repo) == sha
    assert [s.state for s in demu.state.statuses_for(sha)] == ["success"]
    assert "The model is deployed, but its GitHub Deployment could not be" in result.output
    assert "re-run this job" in result.output
    assert deployment_states(demu, sha) == [["in_progress"]]
    demu.faults.clear()
    again, elapsed = push(deploy_repo, demu, tmp_path)  # the re-run a user would start
    assert check_deploy(deploy_repo, demu, sha, again, elapsed, 0)
    assert deployment_states(demu, sha) == [["in_progress", "success"]]
    assert "already deployed" in again.output and "now success" in again.output
