"""Secrets never leak: a full PR run, a slash-command run and failing runs (a dead MLflow server
whose URI carries user:password@), each with the GitHub token and the MLflow credentials set to
recognisable values. Every output is searched: stdout and stderr, the log records,
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, every file the run wrote (report.md, result.json, run.json,
predictions, the MLflow store itself), every request body and the whole state of the GitHub API
emulator (comments, statuses, reactions), and the exception. The only place a secret may appear is
its own ``::add-mask::`` line, which the runner consumes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cml_bot.app import github_events as app_github
from cml_bot.cli import main
from cml_bot.core.errors import CmlBotError
from cml_bot.registry.mlflow_models import _first_line
from cml_bot.registry.tracking import Tracker
from tests.emulator import Emulator
from tests.integration.support import (
    ROOT,
    copy_example,
    deeper,
    free_port,
    pr_project,
    small_no_baseline,
)

REPO = "octo-org/tumor-model"
PR = 11
TOKEN = "ghs_SECRETtoken4f9a1c77e0"
PASSWORD = "mlflowPASSWORD7e21d9"
URI_PASSWORD = "uriPASSWORD93bd5a"
SECRETS = (TOKEN, PASSWORD, URI_PASSWORD)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return pr_project(tmp_path_factory.mktemp("secrets"), small_no_baseline, deeper)


@pytest.fixture()
def emu(project: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        emulator.state.seed_collaborator("alice", "write")
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


def pr_event(project: dict[str, Any]) -> dict[str, Any]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/pull_request.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "opened"))
    pull = payload["pull_request"]
    pull.update(number=PR, draft=False, state="open")
    pull["head"].update(sha=project["head"], ref="feature")
    pull["base"].update(sha=project["base"], ref="main")
    payload["repository"].update(full_name=REPO, default_branch="main")
    for side in ("head", "base"):
        pull[side]["repo"].update(full_name=REPO, id=payload["repository"]["id"])
    return payload


def comment_event(emu: Emulator, body: str) -> dict[str, Any]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/issue_comment.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "created"))
    comment = emu.state.seed_comment(PR, body, user="alice")
    payload["issue"].update(number=PR, state="open", pull_request={"url": f"/pulls/{PR}"})
    payload["comment"].update(id=comment.id, body=body)
    payload["comment"]["user"].update(login="alice", type="User")
    payload["sender"].update(login="alice", type="User")
    payload["repository"].update(full_name=REPO, default_branch="main")
    return payload


def run(
    project: dict[str, Any],
    emu: Emulator,
    tmp_path: Path,
    event_name: str,
    payload: dict[str, Any],
    tracking_uri: str = "",
) -> Result:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_RUN_ID": "31",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_USERNAME": "ci-user",
        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",  # a dead server fails at once (default: ~4 min)
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "3",
        "CML_BOT_GITHUB_BACKOFF": "0.05",
    }
    args = ["run", "-c", str(project["repo"] / "cml-bot.yaml"), "--out", str(tmp_path / "out")]
    return CliRunner().invoke(main, args, env=env)


def everything(
    result: Result, emu: Emulator, tmp_path: Path, project: dict[str, Any], log: str
) -> dict[str, str]:
    """Every output of a run, by where it was found."""
    found = {
        "stdout+stderr": result.output,
        "stderr": result.stderr,
        "log records": log,
        "exception": f"{result.exception!s} {result.exception!r}",
        "emulator state": json.dumps(emu.dump(), default=str),
        "requests": json.dumps([r.to_dict() for r in emu.state.requests], default=str),
    }
    for folder in (tmp_path, project["repo"] / ".cml-bot"):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return found


def assert_no_secret(found: dict[str, str]) -> None:
    for where, text in found.items():
        for secret in SECRETS:
            unmasked = text.replace(f"::add-mask::{secret}\n", "")
            assert secret not in unmasked, f"{secret[:8]}... leaked in {where}"


def check_masked(result: Result, *secrets: str) -> None:
    for secret in secrets:
        assert f"::add-mask::{secret}\n" in result.output


def test_full_pr_run_leaks_nothing(
    project: dict[str, Any], emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    result = run(project, emu, tmp_path, "pull_request", pr_event(project))
    assert result.exit_code == 0, result.output
    assert len(emu.state.comments_on(PR)) == 1 and emu.state.statuses_for(project["head"])
    found = everything(result, emu, tmp_path, project, caplog.text)
    assert any(name.endswith("report.md") for name in found)
    assert any(name.endswith("result.json") for name in found)
    assert any(name.endswith("run.json") for name in found)
    assert any(name.endswith("mlflow.db") for name in found)
    check_masked(result, TOKEN, PASSWORD)
    assert_no_secret(found)


def test_slash_command_run_leaks_nothing(
    project: dict[str, Any], emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    payload = comment_event(emu, "/retrain n_estimators=6")
    result = run(project, emu, tmp_path, "issue_comment", payload)
    assert result.exit_code == 0, result.output
    assert any(c.body.startswith("<!-- cml-bot:report") for c in emu.state.comments_on(PR))
    check_masked(result, TOKEN, PASSWORD)
    assert_no_secret(everything(result, emu, tmp_path, project, caplog.text))


def test_failing_pr_run_on_a_dead_tracking_server_leaks_nothing(
    project: dict[str, Any], emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    uri = f"http://ci-user:{URI_PASSWORD}@127.0.0.1:{free_port()}"
    result = run(project, emu, tmp_path, "pull_request", pr_event(project), uri)
    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit)
    assert "error: cannot open the MLflow store at http://***@127.0.0.1:" in result.output
    assert "Traceback" not in result.output
    check_masked(result, TOKEN, PASSWORD, URI_PASSWORD)
    assert_no_secret(everything(result, emu, tmp_path, project, caplog.text))


def test_failing_slash_command_posts_no_credentials_to_the_pr(
    project: dict[str, Any], emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The 😕 reply quotes the error; MLflow's error quotes the URI with its password."""
    uri = f"http://ci-user:{URI_PASSWORD}@127.0.0.1:{free_port()}"
    payload = comment_event(emu, "/retrain n_estimators=6")
    result = run(project, emu, tmp_path, "issue_comment", payload, uri)
    assert result.exit_code == 4, result.output
    failed = [c.body for c in emu.state.comments_on(PR) if c.body.startswith("`/retrain` failed")]
    assert len(failed) == 1 and "cannot open the MLflow store at http://***@" in failed[0]
    assert_no_secret(everything(result, emu, tmp_path, project, caplog.text))


def test_secret_values_and_scrubbing() -> None:
    env = {
        "GITHUB_TOKEN": TOKEN,
        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        "MLFLOW_TRACKING_URI": "https://u:p%40ss%2Fword@mlflow.example.com/x",
        "MLFLOW_TRACKING_TOKEN": "abc",  # too short to scrub without mangling text
    }
    secrets = app_github.secret_values(env)
    assert {TOKEN, PASSWORD, "p%40ss%2Fword", "p@ss/word"} <= set(secrets)
    assert app_github.scrub(f"a {TOKEN} b p@ss/word c", secrets) == "a *** b *** c"
    assert app_github.secret_values({"MLFLOW_TRACKING_URI": "http://[::1"}) == ()
    with pytest.raises(CmlBotError) as caught, app_github.scrubbed(secrets):
        raise CmlBotError(f"failed at {TOKEN}", fix=f"use {PASSWORD}")
    assert str(caught.value) == "failed at ***\n  fix: use ***"


def test_evaluate_without_a_candidate_names_the_store_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cml_bot.registry
    from cml_bot.ml import recorded_candidate

    monkeypatch.setattr(cml_bot.registry, "find_candidate", lambda tracker, sha: None)
    tracker = SimpleNamespace(tracking_uri=f"https://ci:{URI_PASSWORD}@mlflow.example.com/x")
    with pytest.raises(CmlBotError) as caught:
        recorded_candidate(None, tracker, "a" * 40, Path("."), None)  # type: ignore[arg-type]
    assert URI_PASSWORD not in str(caught.value)
    assert "https://***@mlflow.example.com/x" in str(caught.value)


def test_run_urls_carry_no_credentials() -> None:
    tracker = Tracker(f"https://ci:{URI_PASSWORD}@mlflow.example.com", "m", Path("."))
    assert tracker.run_url("abc") == "https://mlflow.example.com/#/experiments/None/runs/abc"


def test_mlflow_messages_lose_the_uri_credentials() -> None:
    uri = f"https://ci:{URI_PASSWORD}@mlflow.example.com/api"
    exc = ConnectionError(
        f"Max retries exceeded with url: {uri}/2.0/runs (password {URI_PASSWORD})"
    )
    text = _first_line(exc, uri)
    assert URI_PASSWORD not in text
    assert text == (
        "ConnectionError: Max retries exceeded with url: https://***@mlflow.example.com/api"
        "/2.0/runs (password ***)"
    )


def test_local_commands_print_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cml-bot` outside Actions (here `models`) against a dead server whose URI has a password:
    the error names the server without it, whatever MLflow's own message quoted."""
    port = free_port()
    project = tmp_path / "project"
    copy_example(project, "out")
    monkeypatch.chdir(project)
    env = {
        "MLFLOW_TRACKING_URI": f"http://ci:{URI_PASSWORD}@127.0.0.1:{port}",
        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "2",
    }
    result = CliRunner().invoke(main, ["models"], env=env)
    assert result.exit_code != 0 and result.output.startswith("error: "), result.output
    assert f"http://***@127.0.0.1:{port}" in result.output
    for secret in SECRETS[1:]:
        assert secret not in result.output
