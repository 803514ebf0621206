"""Promotion and deployment on merge, against the GitHub API emulator and a real SQLite MLflow
store: pass, fail, replay, a failing hook, racing merges, rollback, and `cml-bot models`."""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cml_bot.app import deploy as app_deploy
from cml_bot.app import local as app
from cml_bot.cli import main
from cml_bot.core.errors import CmlBotError
from cml_bot.core.progress import Progress
from cml_bot.deploy.deployer import Deployer
from tests.emulator import Emulator
from tests.integration.support import copy_example, git

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "breast-cancer"
REPO = "octo-org/tumor-model"
TOKEN = "ghs_deployTOKEN"
HOOK = """import os, sys
from pathlib import Path
log = Path(sys.argv[1])
line = os.environ["MODEL_VERSION"] + " " + os.environ["MODEL_URI"] + "\\n"
log.write_text((log.read_text() if log.exists() else "") + line)
sys.exit(int(os.environ.get("HOOK_EXIT", "0")))
"""


def edit(repo: Path, change: Any, message: str) -> str:
    cfg = repo / "cml-bot.yaml"
    data = yaml.safe_load(cfg.read_text())
    change(data)
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    git(repo, "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    copy_example(repo)
    (repo / "hook.py").write_text(HOOK)
    data = yaml.safe_load((repo / "cml-bot.yaml").read_text())
    data["deploy"] = {"command": ["python", "hook.py", str(tmp_path / "hook.log")]}
    (repo / "cml-bot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (repo / ".gitignore").write_text(".cml-bot/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first model")
    return repo


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        yield emulator
        emulator.assert_no_violations()


def merge(emu: Emulator, repo: Path, number: int, sha: str) -> None:
    """A merged PR whose head is ``sha`` (the emulator lists it for GET /commits/{sha}/pulls)."""
    emu.state.seed_pull(
        number,
        head_sha=sha,
        head_ref=f"pr{number}",
        base_ref="main",
        state="closed",
        merged=True,
        user="alice",
    )


def push(
    emu: Emulator, repo: Path, tmp_path: Path, *, env: dict[str, str] | None = None
) -> tuple[Any, int]:
    examples = json.loads((ROOT / "tests/fixtures/webhooks/push.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if not e.get("deleted")))
    sha = git(repo, "rev-parse", "HEAD")
    payload.update(ref="refs/heads/main", after=sha, deleted=False, created=False)
    payload["repository"].update(full_name=REPO, default_branch="main", master_branch="main")
    event = tmp_path / "push.json"
    event.write_text(json.dumps(payload))
    full_env = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "CML_BOT_GITHUB_TOKEN": TOKEN,
        "GITHUB_RUN_ID": "5",
        "MLFLOW_TRACKING_URI": "",
        "PATH": "/usr/bin:/bin",
        **(env or {}),
    }
    full_env["PATH"] = f"{Path(sys.executable).parent}:{full_env['PATH']}"
    result = CliRunner().invoke(main, ["run", "-c", str(repo / "cml-bot.yaml"), "-q"], env=full_env)
    return result, result.exit_code


def champion(repo: Path) -> Any:
    settings = app.Settings(config_path=repo / "cml-bot.yaml", env={}, quiet=True)
    versions, champ = app_deploy.models(settings)
    return champ, [v.version for v in versions]


def deployments(emu: Emulator) -> list[tuple[str, list[str]]]:
    return [(d.sha, [s.state for s in d.statuses]) for d in emu.state.deployments()]


def test_merge_of_a_passing_model_deploys_once(repo: Path, emu: Emulator, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    merge(emu, repo, 11, sha)
    result, code = push(emu, repo, tmp_path)
    assert code == 0, result.output
    assert champion(repo) == ("1", ["1"])
    assert deployments(emu) == [(sha, ["in_progress", "success"])]
    assert (tmp_path / "hook.log").read_text() == "1 models:/tumor-classifier/1\n"
    statuses = emu.state.statuses_for(sha)
    assert [(s.context, s.state) for s in statuses] == [
        ("cml-bot/tumor-classifier/deploy", "success")
    ]
    (comment,) = emu.state.comments_on(11)
    assert comment.body.startswith("🚀 **Deployed**: tumor-classifier v1 is now 'champion'.")
    assert re.search(r"^\| roc\\_auc +\|", comment.body, re.M)  # the metrics table, escaped
    # the same push delivered again: nothing new
    again, code = push(emu, repo, tmp_path)
    assert code == 0 and "already deployed as v1" in again.output, (again.output, again.exception)
    assert champion(repo) == ("1", ["1"]) and len(deployments(emu)) == 1
    assert (tmp_path / "hook.log").read_text().count("\n") == 1


def test_a_merge_that_trains_the_champions_inputs_registers_nothing(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    """Gates, comments and docs change, the model's inputs do not: "unchanged", nothing trained
    or registered, the champion and its deployment stay; the status and the PR say so."""
    merge(emu, repo, 11, git(repo, "rev-parse", "HEAD"))
    assert push(emu, repo, tmp_path)[1] == 0
    (repo / "NOTES.md").write_text("not a training input\n")
    git(repo, "add", "NOTES.md")
    sha = edit(repo, lambda d: d["gates"].update(accuracy={"min": 0.5}), "a stricter review")
    merge(emu, repo, 12, sha)
    result, code = push(emu, repo, tmp_path)
    assert code == 0, result.output
    assert "cml-bot: Unchanged: " in result.output
    assert "as v1 (inputs " in result.output
    assert "nothing was trained or registered" in result.output
    assert champion(repo) == ("1", ["1"]) and len(deployments(emu)) == 1
    assert (tmp_path / "hook.log").read_text().count("\n") == 1
    assert [s.state for s in emu.state.statuses_for(sha)] == ["success"]
    (comment,) = emu.state.comments_on(12)
    assert comment.body.startswith("ℹ️ Unchanged: ")
    # new data is a new model: trained, compared and deployed
    data = repo / "data" / "tumors.csv"
    data.write_text("\n".join(data.read_text().splitlines()[:-1]) + "\n")
    git(repo, "commit", "-qam", "one row less")
    result, code = push(emu, repo, tmp_path)
    assert code == 0 and "is now 'champion'" in result.output, result.output
    assert champion(repo) == ("2", ["1", "2"])


def test_each_version_records_the_library_versions_it_was_trained_with(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    assert push(emu, repo, tmp_path)[1] == 0
    settings = app.Settings(config_path=repo / "cml-bot.yaml", env={}, quiet=True)
    (version,) = app_deploy.models(settings)[0]
    assert version.libraries["scikit-learn"] == metadata.version("scikit-learn")
    assert set(version.libraries) == {"python", "scikit-learn", "numpy", "pandas"}
    assert version.inputs and len(version.inputs) == 16


def test_merge_that_fails_a_gate_is_not_deployed(repo: Path, emu: Emulator, tmp_path: Path) -> None:
    push(emu, repo, tmp_path)
    sha = edit(
        repo,
        lambda d: d["train"]["params"].update(n_estimators=1, max_depth=1),
        "a much weaker model",
    )
    edit(repo, lambda d: d["gates"].update(accuracy={"min": 0.99}), "strict gate")
    sha = git(repo, "rev-parse", "HEAD")
    result, code = push(emu, repo, tmp_path)
    assert code == 1, result.output
    assert champion(repo) == ("1", ["1"])  # no new version, champion unchanged
    assert [s.state for s in emu.state.statuses_for(sha)] == ["failure"]
    assert len(deployments(emu)) == 1
    assert "cml-bot: the merged model failed its gates" in result.output


def test_a_failing_hook_leaves_the_champion_where_it_was(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    push(emu, repo, tmp_path)
    sha = edit(repo, lambda d: d["train"]["params"].update(max_depth=4), "deeper")
    result, code = push(emu, repo, tmp_path, env={"HOOK_EXIT": "3"})
    assert code == 4, result.output
    assert "the deploy hook failed" in result.output and "moved back to v1" in result.output
    champ, versions = champion(repo)
    assert champ == "1" and versions == ["1", "2"]  # v2 registered, never left as champion
    assert deployments(emu)[-1] == (sha, ["in_progress", "failure"])
    failed = [st for st in emu.state.statuses_for(sha)]
    assert [(st.context, st.state) for st in failed] == [
        ("cml-bot/tumor-classifier/deploy", "failure")
    ]


def test_first_deployment_with_a_failing_hook_leaves_no_champion(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    result, code = push(emu, repo, tmp_path, env={"HOOK_EXIT": "1"})
    assert code == 4, result.output
    assert champion(repo) == (None, ["1"])


def test_racing_merges_end_at_the_later_model(repo: Path, tmp_path: Path) -> None:
    """Two runs resolved the same champion; the later merge wins whichever moves first."""
    settings = app.Settings(config_path=repo / "cml-bot.yaml", env={}, quiet=True)
    cfg = app.load(settings)
    first = git(repo, "rev-parse", "HEAD")
    second = edit(repo, lambda d: d["train"]["params"].update(max_depth=3), "later")
    registry = app.make_registry(cfg, {})
    tracker = registry.tracker
    deployer = Deployer(
        cfg=cfg,
        registry=registry,
        progress=Progress(quiet=True),
        is_ancestor=app_deploy.is_ancestor(repo),
        hook_env={"PATH": "/usr/bin"},
    )
    cfg_no_hook = cfg.model_copy(update={"deploy": cfg.deploy.model_copy(update={"command": None})})
    deployer.cfg = cfg_no_hook
    runs = {}
    for sha in (first, second):
        runs[sha] = tracker.log_run(
            run_name=sha[:7], params={}, metrics={}, tags={"cml_bot.sha": sha}, model=None
        )
    # the later merge moves first; the earlier one then finds a newer champion and stands back
    late = deployer.promote(
        sha=second,
        run_id=runs[second].run_id,
        model_uri="x",
        tags={},
        expected=None,
        metrics={},
        pr=None,
    )
    early = deployer.promote(
        sha=first,
        run_id=runs[first].run_id,
        model_uri="x",
        tags={},
        expected=None,
        metrics={},
        pr=None,
    )
    assert (late.outcome, early.outcome) == ("deployed", "superseded")
    assert registry.champion().sha == second
    # and the other order: the earlier moves first, the later one moves past it
    third = edit(repo, lambda d: d["train"]["params"].update(max_depth=5), "latest")
    runs[third] = tracker.log_run(
        run_name="c", params={}, metrics={}, tags={"cml_bot.sha": third}, model=None
    )
    stale = registry.champion().version
    ok = deployer.promote(
        sha=third,
        run_id=runs[third].run_id,
        model_uri="x",
        tags={},
        expected=str(int(stale) - 1),
        metrics={},
        pr=None,
    )
    assert ok.outcome == "deployed" and registry.champion().sha == third
    # promotion only moves forward: the earlier merge that found a newer champion registered
    # nothing (its run stays in MLflow); the two promoted models are versions 1 and 2
    assert [(v.version, v.sha) for v in registry.versions()] == [("1", second), ("2", third)]


def test_rollback_and_models_from_the_cli(repo: Path, emu: Emulator, tmp_path: Path) -> None:
    push(emu, repo, tmp_path)
    edit(repo, lambda d: d["train"]["params"].update(max_depth=4), "deeper")
    _, code = push(emu, repo, tmp_path)
    assert code == 0 and champion(repo)[0] == "2"
    runner = CliRunner()
    env = {"MLFLOW_TRACKING_URI": ""}
    table = runner.invoke(main, ["models", "-c", str(repo / "cml-bot.yaml")], env=env).output
    assert "*   v2" in table and "roc_auc" in table
    done = runner.invoke(main, ["rollback", "-c", str(repo / "cml-bot.yaml"), "-q"], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "'champion' rolled back to tumor-classifier v1 (was v2)."
    assert champion(repo)[0] == "1"
    listed = json.loads(
        runner.invoke(main, ["models", "-c", str(repo / "cml-bot.yaml"), "--json"], env=env).output
    )
    assert [(v["version"], v["champion"]) for v in listed] == [("1", True), ("2", False)]
    with pytest.raises(CmlBotError, match="already is 'champion'"):
        app_deploy.rollback(
            app.Settings(config_path=repo / "cml-bot.yaml", env={}, quiet=True), "v1"
        )


def test_github_backend_in_actions_deploys_to_releases_and_serves_the_baseline(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    """No tracking URI inside Actions: versions live in GitHub Releases (the zero-infra default),
    and a later PR run reads the champion from there with a read-only token."""
    sha = git(repo, "rev-parse", "HEAD")
    merge(emu, repo, 21, sha)
    result, code = push(
        emu,
        repo,
        tmp_path,
        env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out.txt")},
    )
    assert code == 0, result.output
    tags = [r.tag_name for r in emu.state.releases()]
    assert "cml-bot/tumor-classifier/v1" in tags
    (body,) = [r.body for r in emu.state.releases() if r.tag_name.endswith("/v1")]
    sklearn = f'"scikit-learn": "{metadata.version("scikit-learn")}"'
    assert sklearn in body and '"inputs": "' in body  # the versions, with the release
    assert deployments(emu) == [(sha, ["in_progress", "success"])]
    assert "models" not in (tmp_path / "hook.log").read_text()  # the release's model, not MLflow
    # a PR run (fork: read-only token) compares against that champion, read from the releases
    result_json, summary = fork_pr_run(emu, repo, tmp_path, sha)
    assert result_json["baseline"]["kind"] == "champion"
    assert result_json["baseline"]["version"] == "1"
    assert "against champion v1" in summary


def fork_pr_run(emu: Emulator, repo: Path, tmp_path: Path, base: str) -> tuple[Any, str]:
    """A fork's PR (read-only token) run in Actions: its result.json and step summary."""
    emu.state.add_token("ghs_readonly", read_only=True)
    head = edit(repo, lambda d: d["train"]["params"].update(max_depth=3), "pr change")
    emu.state.seed_pull(
        22,
        head_sha=head,
        head_ref="feature",
        base_ref="main",
        base_sha=base,
        user="mallory",
        head_repo="mallory/tumor-model",
    )
    examples = json.loads((ROOT / "tests/fixtures/webhooks/pull_request.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "opened"))
    payload.update(number=22)
    payload["pull_request"].update(number=22, draft=False, state="open")
    payload["pull_request"]["head"].update(sha=head, ref="feature")
    payload["pull_request"]["head"]["repo"].update(full_name="mallory/tumor-model", id=999)
    payload["pull_request"]["base"].update(sha=base, ref="main")
    payload["repository"].update(full_name=REPO, default_branch="main")
    payload["pull_request"]["base"]["repo"].update(full_name=REPO, id=payload["repository"]["id"])
    event = tmp_path / "pr.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "GITHUB_TOKEN": "ghs_readonly",
        "MLFLOW_TRACKING_URI": "",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    pr_run = CliRunner().invoke(
        main,
        ["run", "-c", str(repo / "cml-bot.yaml"), "-q", "--out", str(tmp_path / "pr-out")],
        env=env,
    )
    assert pr_run.exit_code == 0, pr_run.output
    result_json = json.loads((tmp_path / "pr-out" / "result.json").read_text())
    return result_json, (tmp_path / "summary.md").read_text()


def test_a_champion_step_planted_by_a_writer_is_ignored_and_reported(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    """Security issue 16 item 1: a writer, with their own token, points the GitHub registry's
    champion at a version of theirs (a release with a valid-looking record). The PR run still
    compares with the bot's champion and its report says what was ignored."""
    from cml_bot.github import GitHubClient
    from cml_bot.registry import GitHubRegistry

    sha = git(repo, "rev-parse", "HEAD")
    merge(emu, repo, 21, sha)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    _, code = push(emu, repo, tmp_path, env=env)
    assert code == 0
    emu.state.add_token("ghp_mallory", login="mallory")
    client = GitHubClient("ghp_mallory", REPO, api_url=emu.url)
    planted = GitHubRegistry(client, "tumor-classifier", ["mallory", "github-actions[bot]"])
    model = planted.download_model("1", tmp_path / "hers")  # any model: hers now
    mine = planted.register_local(model, None, {"sha": sha})
    planted.move_alias("champion", mine.version, expected="1", reason="mine now")
    assert planted.champion().version == "2"  # as she sees it

    result_json, _ = fork_pr_run(emu, repo, tmp_path, sha)
    assert (result_json["baseline"]["kind"], result_json["baseline"]["version"]) == (
        "champion",
        "1",
    )
    report = (tmp_path / "pr-out" / "report.md").read_text()
    assert (
        "Ignored in the registry: cml-bot/tumor-classifier/alias/champion/2 was published by "
        "mallory, not github-actions\\[bot\\]. Only entries cml-bot made count" in report
    )


def test_a_workflow_run_for_a_tag_named_like_the_default_branch_deploys_nothing(
    repo: Path, emu: Emulator, tmp_path: Path
) -> None:
    """workflow_run names its branch only by name: a tag `main` on a side commit looks like a
    run on the default branch. Only a commit in the default branch's history is deployed."""
    git(repo, "checkout", "-q", "-b", "side")
    edit(repo, lambda d: d["train"]["params"].update(max_depth=7), "not on main")
    side = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    examples = json.loads((ROOT / "tests/fixtures/webhooks/workflow_run.json").read_text())
    payload = copy.deepcopy(examples[0])
    payload["action"] = "completed"
    run = payload["workflow_run"]
    run.update(conclusion="success", event="push", head_branch="main", head_sha=side)
    payload["repository"].update(full_name=REPO, default_branch="main")
    run["head_repository"].update(full_name=REPO, id=payload["repository"]["id"])
    event = tmp_path / "workflow_run.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "CML_BOT_GITHUB_TOKEN": TOKEN,
        "MLFLOW_TRACKING_URI": "",
    }
    result = CliRunner().invoke(main, ["run", "-c", str(repo / "cml-bot.yaml"), "-q"], env=env)
    assert result.exit_code == 2, result.output
    assert "not in the default branch's history" in result.output
    assert champion(repo)[1] == [] and not emu.state.requests
