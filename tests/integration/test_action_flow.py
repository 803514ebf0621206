"""`cml-bot run` in Actions mode against the GitHub API emulator: the pull_request flow, with
GitHub's real pull_request example as the event (the e2e tier runs the same through act)."""

from __future__ import annotations

import contextlib
import copy
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cml_bot.app import github_events as app_github
from cml_bot.cli import main
from tests.emulator import Emulator
from tests.integration.support import copy_example, git

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "breast-cancer"
REPO = "octo-org/tumor-model"
PR = 3
TOKEN = "ghs_secretTOKEN123"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = tmp_path_factory.mktemp("action") / "repo"
    copy_example(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    text = (repo / "cml-bot.yaml").read_text()
    (repo / "cml-bot.yaml").write_text(text.replace("max_depth: 2", "max_depth: 3"))
    git(repo, "commit", "-qam", "deeper")
    return {"repo": repo, "base": base, "head": git(repo, "rev-parse", "HEAD")}


@pytest.fixture()
def emu(project: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        emulator.state.seed_pull(
            PR,
            head_sha=project["head"],
            head_ref="feature",
            base_ref="main",
            base_sha=project["base"],
            user="alice",
        )
        yield emulator
        emulator.assert_no_violations()


def pr_event(project: dict[str, Any], *, fork: bool = False) -> dict[str, Any]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/pull_request.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "opened"))
    pull = payload["pull_request"]
    pull.update(number=PR, draft=False, state="open")
    pull["head"].update(sha=project["head"], ref="feature")
    pull["base"].update(sha=project["base"], ref="main")
    payload.update(number=PR)
    payload["repository"].update(full_name=REPO, default_branch="main")
    pull["base"]["repo"].update(full_name=REPO, id=payload["repository"]["id"])
    head_repo = pull["head"]["repo"]
    head_repo.update(
        full_name="mallory/tumor-model" if fork else REPO,
        id=head_repo["id"] + 1 if fork else payload["repository"]["id"],
        fork=fork,
    )
    return payload


def run(
    project: dict[str, Any],
    emu: Emulator,
    tmp_path: Path,
    payload: dict[str, Any],
    extra: tuple[str, ...] = (),
) -> tuple[Any, dict[str, str], str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
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
        "GITHUB_STEP_SUMMARY": str(summary),
        "MLFLOW_TRACKING_URI": "",
    }
    result = CliRunner().invoke(
        main,
        [
            "run",
            "-c",
            str(project["repo"] / "cml-bot.yaml"),
            "--out",
            str(tmp_path / "out"),
            *extra,
        ],
        env=env,
    )
    outputs = parse_outputs(output.read_text()) if output.exists() else {}
    all_text = result.output + (summary.read_text() if summary.exists() else "")
    return result, outputs, all_text


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's heredoc form: name<<DELIM / value / DELIM."""
    out, lines = {}, iter(text.splitlines())
    for line in lines:
        name, _, delim = line.partition("<<")
        value = []
        for inner in lines:
            if inner == delim:
                break
            value.append(inner)
        out[name] = "\n".join(value)
    return out


def api_calls(emu: Emulator, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.state.requests[since:]]


def test_first_run_posts_one_comment_and_one_status_then_edits_in_place(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    result, outputs, text = run(project, emu, tmp_path, pr_event(project))
    assert result.exit_code == 0, result.output
    (comment,) = emu.state.comments_on(PR)
    assert comment.body.startswith("<!-- cml-bot:report model=tumor-classifier -->")
    (status,) = emu.state.statuses_for(project["head"])
    assert (status.context, status.state) == ("cml-bot/tumor-classifier", "success")
    assert status.target_url == f"https://github.example/{REPO}/actions/runs/42"
    assert len(status.description) < 140
    assert outputs["verdict"] in ("pass", "no-baseline")
    assert outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert Path(outputs["result-path"]).is_file()
    assert comment.body in (tmp_path / "summary.md").read_text()  # the same report
    # the token is masked for the runner, and appears nowhere else
    assert f"::add-mask::{TOKEN}\n" in result.output
    assert TOKEN not in text.replace(f"::add-mask::{TOKEN}\n", "")
    # a second run with nothing changed edits nothing: list comments, status (+ who am I)
    before = len(emu.state.requests)
    again, _, _ = run(project, emu, tmp_path, pr_event(project))
    assert again.exit_code == 0, again.output
    calls = api_calls(emu, before)
    print("API calls of a run whose comment exists:", calls)
    assert len(calls) <= 5
    assert len(emu.state.comments_on(PR)) == 1
    assert not any(c.startswith("POST") and c.endswith("/comments") for c in calls)


@contextlib.contextmanager
def default_branch_gate(repo: Path, gate: str, *, pr_gate: str | None = None) -> Iterator[None]:
    """``main`` moves to a commit whose accuracy gate is ``gate``; the PR's checkout (HEAD,
    detached at the PR head) keeps its own config, or writes ``pr_gate`` into it."""
    cfg = repo / "cml-bot.yaml"
    original, head = cfg.read_text(), git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    cfg.write_text(original.replace("accuracy: {min: 0.85}", f"accuracy: {gate}"))
    git(repo, "commit", "-qam", "the team's gate")
    git(repo, "checkout", "-q", "--detach", head)
    if pr_gate is not None:
        cfg.write_text(original.replace("accuracy: {min: 0.85}", f"accuracy: {pr_gate}"))
    try:
        yield
    finally:
        git(repo, "checkout", "-q", "--", "cml-bot.yaml")
        git(repo, "checkout", "-q", "main")
        git(repo, "reset", "-q", "--hard", head)


def test_failing_gate_sets_failure_status_and_exit_1(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    with default_branch_gate(project["repo"], "{min: 0.999}"):
        result, outputs, _ = run(project, emu, tmp_path, pr_event(project))
    assert result.exit_code == 1
    assert outputs["verdict"] == "fail"
    (status,) = emu.state.statuses_for(project["head"])
    assert status.state == "failure" and "accuracy" in status.description
    assert "(gates of main)" in status.description
    assert "::error title=cml-bot gate failed%3A accuracy::" in result.output
    assert len(emu.state.comments_on(PR)) == 1


def test_a_pr_that_relaxes_its_own_gate_still_fails_on_the_default_branchs(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """The attack: main requires accuracy >= 0.999, which this model misses; the PR's own
    cml-bot.yaml lowers the bar to 0.5. The required status must stay red."""
    with default_branch_gate(project["repo"], "{min: 0.999}", pr_gate="{min: 0.5}"):
        result, outputs, _ = run(project, emu, tmp_path, pr_event(project))
    assert result.exit_code == 1 and outputs["verdict"] == "fail"
    (status,) = emu.state.statuses_for(project["head"])
    assert status.state == "failure" and "(gates of main)" in status.description
    (comment,) = emu.state.comments_on(PR)
    assert "This pull request changes the gates" in comment.body
    assert "With the pull request's own gates the verdict would be: pass" in comment.body
    result_json = json.loads((tmp_path / "out" / "result.json").read_text())
    assert (result_json["gates_from"], result_json["own_gates_verdict"]) == ("main", "pass")


def test_a_pr_cannot_point_the_run_at_its_own_tracking_server(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """registry.tracking_uri is privileged: the PR's value is ignored and named in the report.
    A trap server on 127.0.0.1 records whatever would have been sent to it (the team's MLflow
    credentials, with the old code): nothing arrives."""
    hits: list[str] = []

    class Trap(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(f"{self.command} {self.path} {self.headers.get('Authorization')}")
            self.send_response(500)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trap = f"http://127.0.0.1:{server.server_address[1]}"
    cfg = project["repo"] / "cml-bot.yaml"
    original = cfg.read_text()
    cfg.write_text(original + f"registry:\n  tracking_uri: {trap}\n")
    try:
        result, _, _ = run(project, emu, tmp_path, pr_event(project))
    finally:
        cfg.write_text(original)
        server.shutdown()
    assert hits == []
    assert result.exit_code == 0, result.output
    (comment,) = emu.state.comments_on(PR)
    assert "registry and tracking server" in comment.body


def test_fork_pr_writes_nothing_to_github_and_says_why(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    result, outputs, _ = run(project, emu, tmp_path, pr_event(project, fork=True))
    assert result.exit_code == 0, result.output
    assert emu.state.comments_on(PR) == [] and emu.state.statuses_for(project["head"]) == []
    assert "comes from a fork" in result.output and "docs/workflows.md" in result.output
    assert outputs["comment-url"] == ""
    assert "<!-- cml-bot:report" in (tmp_path / "summary.md").read_text()
    assert all(r.method == "GET" for r in emu.state.requests)


def test_ignored_event_exits_0_with_a_reason(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    payload = pr_event(project)
    payload["action"] = "labeled"
    result, outputs, _ = run(project, emu, tmp_path, payload)
    assert result.exit_code == 0
    assert outputs["verdict"] == "skipped"
    assert "cml-bot: ignore:" in result.output
    assert emu.state.requests == []


def test_plan_never_crashes_on_any_vendored_example(tmp_path: Path) -> None:
    fixtures = ROOT / "tests" / "fixtures" / "webhooks"
    runner = CliRunner()
    seen = 0
    for path in sorted(fixtures.glob("*.json")):
        if path.name == "VENDORED.json":
            continue
        for i, payload in enumerate(json.loads(path.read_text())):
            event = tmp_path / f"{path.stem}-{i}.json"
            event.write_text(json.dumps(payload))
            result = runner.invoke(
                main, ["plan", "--event-name", path.stem, "--event-path", str(event)]
            )
            assert result.exit_code == 0, (path.name, i, result.output)
            decision = json.loads(result.output)
            assert decision["action"] in ("evaluate", "command", "deploy", "ignore")
            assert decision["reason"]
            assert {"pr", "sha", "command", "args"} <= set(decision)
            seen += 1
    assert seen > 100


def test_plan_rejects_a_broken_payload_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["plan", "--event-name", "push", "--event-path", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot read the event payload")
    assert app_github.Runner.from_env({}).api_url == "https://api.github.com"


def publish_env(emu: Emulator, tmp_path: Path, head_sha: str) -> dict[str, str]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/workflow_run.json").read_text())
    payload = copy.deepcopy(examples[0])
    payload["workflow_run"].update(head_sha=head_sha, html_url="https://github.example/run/9")
    event = tmp_path / "workflow_run.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "GITHUB_TOKEN": TOKEN,
    }


def test_fork_artifact_is_published_by_the_trusted_job(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    fork_run, _, _ = run(project, emu, tmp_path, pr_event(project, fork=True))
    assert fork_run.exit_code == 0
    artifact = tmp_path / "out"  # what the fork job uploads: result.json + pr.json
    cfg = str(project["repo"] / "cml-bot.yaml")
    env = publish_env(emu, tmp_path, project["head"])
    done = CliRunner().invoke(main, ["publish", "-c", cfg, "--artifact", str(artifact)], env=env)
    assert done.exit_code == 0, done.output
    (comment,) = emu.state.comments_on(PR)
    assert "(from a fork)" in comment.body and comment.body.startswith("<!-- cml-bot:report")
    (status,) = emu.state.statuses_for(project["head"])
    assert status.context == "cml-bot/tumor-classifier"
    # the fork's run claims a pass; a claim is never a green required check
    assert json.loads((artifact / "result.json").read_text())["verdict"] == "pass"
    assert status.state == "pending" and "unverified" in status.description


def test_a_fork_artifact_claiming_a_pass_never_sets_success(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    """The attack: a fork edits its own result.json to claim every gate passed."""
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "pr.json").write_text(json.dumps({"pr": PR, "sha": project["head"]}))
    claim = {"verdict": "pass", "metrics": [], "failed_gates": []}
    (tmp_path / "art" / "result.json").write_text(json.dumps(claim))
    env = publish_env(emu, tmp_path, project["head"])
    cfg = str(project["repo"] / "cml-bot.yaml")
    done = CliRunner().invoke(
        main, ["publish", "-c", cfg, "--artifact", str(tmp_path / "art")], env=env
    )
    assert done.exit_code == 0, done.output
    states = [s.state for s in emu.state.statuses_for(project["head"])]
    assert states == ["pending"] and "success" not in states


def test_fork_artifact_for_another_commit_is_refused(
    project: dict[str, Any], emu: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "pr.json").write_text(json.dumps({"pr": PR, "sha": "c" * 40}))
    (tmp_path / "art" / "result.json").write_text(json.dumps({"verdict": "pass", "metrics": []}))
    env = publish_env(emu, tmp_path, project["head"])
    done = CliRunner().invoke(
        main,
        [
            "publish",
            "-c",
            str(project["repo"] / "cml-bot.yaml"),
            "--artifact",
            str(tmp_path / "art"),
        ],
        env=env,
    )
    assert done.exit_code == 5
    assert "not published" in done.output
    assert emu.state.comments_on(PR) == [] and emu.state.statuses_for("c" * 40) == []
