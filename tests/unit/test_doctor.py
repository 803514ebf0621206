"""`cml-bot doctor`: each check on a setup that passes it and one that does not. The token
check runs against the GitHub API emulator (in-process, 127.0.0.1); the tracking-server check
against a small HTTP stub on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import platform
import re
import subprocess
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cml_bot.cli import main
from cml_bot.config import load_config
from cml_bot.doctor import diagnose as doctor
from cml_bot.doctor.libraries import check_libraries
from tests.emulator import Emulator

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
REPO = "octo/demo"
TROUBLESHOOTING = Path(__file__).parents[2] / "docs" / "troubleshooting.md"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def write_workflow(root: Path, name: str, doc: dict[str, Any]) -> None:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False))


def pr_workflow(permissions: Any = None, top: Any = None, checkout_with: Any = None) -> dict:
    job: dict[str, Any] = {
        "runs-on": "ubuntu-latest",
        "steps": [
            {
                "uses": f"actions/checkout@{SHA}",
                "with": checkout_with if checkout_with is not None else {"fetch-depth": 0},
            },
            {"uses": f"cml-bot/cml-bot@{SHA}"},
        ],
    }
    if permissions is not None:
        job["permissions"] = permissions
    doc: dict[str, Any] = {"name": "cml-bot", "on": {"pull_request": {}}, "jobs": {"report": job}}
    if top is not None:
        doc["permissions"] = top
    return doc


def statuses(checks: list[doctor.Check], prefix: str = "") -> list[str]:
    return [c.status for c in checks if c.name.startswith(prefix)]


# --------------------------------------------------------------------------- workflows

GOOD = {"contents": "read", "pull-requests": "write", "statuses": "write"}


def test_a_job_with_the_permissions_it_needs_passes(tmp_path: Path) -> None:
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow(GOOD, top={}))
    checks = doctor.check_workflows(tmp_path)
    assert [(c.name, c.status) for c in checks] == [
        ("workflows", "ok"),
        ("workflow cml-bot.yml, job report", "ok"),
        ("pinned actions", "ok"),
    ]


def test_a_missing_write_permission_is_named_with_the_fix(tmp_path: Path) -> None:
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow({"contents": "read", "statuses": "read"}))
    bad = [c for c in doctor.check_workflows(tmp_path) if c.status == "fail"]
    assert len(bad) == 1
    assert "pull-requests: write, statuses: write" in bad[0].detail
    assert bad[0].fix and "#resource-not-accessible-by-integration" in bad[0].fix


def test_no_permissions_block_fails_because_the_default_may_be_read_only(tmp_path: Path) -> None:
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow())
    bad = [c for c in doctor.check_workflows(tmp_path) if c.status == "fail"]
    assert "repository's default" in bad[0].detail
    assert bad[0].fix and "pull-requests: write" in bad[0].fix


def test_top_level_permissions_count_but_are_flagged_as_too_broad(tmp_path: Path) -> None:
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow(top=GOOD))
    checks = doctor.check_workflows(tmp_path)
    assert statuses(checks, "workflow ") == ["ok", "warn"]
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow(permissions="write-all"))
    assert statuses(doctor.check_workflows(tmp_path), "workflow ") == ["ok", "warn"]
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow(permissions="read-all"))
    assert statuses(doctor.check_workflows(tmp_path), "workflow ") == ["fail"]


def test_the_deploy_job_needs_deployments_write(tmp_path: Path) -> None:
    doc = pr_workflow(GOOD)
    doc["on"] = {"push": {"branches": ["main"]}}
    write_workflow(tmp_path, "cml-bot-deploy.yml", doc)
    bad = [c for c in doctor.check_workflows(tmp_path) if c.status == "fail"]
    assert len(bad) == 1 and "deployments: write" in bad[0].detail


def test_unpinned_actions_and_shallow_checkouts_are_reported(tmp_path: Path) -> None:
    doc = pr_workflow(GOOD, checkout_with={})
    doc["jobs"]["report"]["steps"][1]["uses"] = "cml-bot/cml-bot@v1"
    doc["jobs"]["lint"] = {
        "runs-on": "ubuntu-latest",
        "steps": [{"uses": "actions/setup-python@v5"}, {"uses": "./local-action"}],
    }
    write_workflow(tmp_path, "cml-bot.yml", doc)
    checks = {c.name: c for c in doctor.check_workflows(tmp_path)}
    pinned = checks["pinned actions"]
    assert pinned.status == "fail"
    assert pinned.detail.splitlines()[1:] == [
        "cml-bot.yml: report: cml-bot/cml-bot@v1",
        "cml-bot.yml: lint: actions/setup-python@v5",
    ]
    assert checks["checkout depth"].status == "warn"
    assert checks["checkout depth"].fix and "#shallow-checkout" in checks["checkout depth"].fix


def test_no_workflow_running_cml_bot_fails(tmp_path: Path) -> None:
    checks = doctor.check_workflows(tmp_path)
    assert [c.status for c in checks] == ["fail"]
    assert checks[0].fix and "cml-bot init" in checks[0].fix


def test_a_publishing_job_that_runs_the_cli_needs_actions_read(tmp_path: Path) -> None:
    doc = {
        "on": {"workflow_run": {"workflows": ["cml-bot"], "types": ["completed"]}},
        "permissions": {},
        "jobs": {
            "publish": {
                "runs-on": "ubuntu-latest",
                "permissions": GOOD,
                "steps": [{"run": 'cml-bot publish --artifact "$ARTIFACT"'}],
            }
        },
    }
    write_workflow(tmp_path, "cml-bot-publish.yml", doc)
    bad = [c for c in doctor.check_workflows(tmp_path) if c.status == "fail"]
    assert "actions: read" in bad[0].detail


def test_invalid_workflow_yaml_is_a_failure(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "broken.yml").write_text("jobs: [\n")
    checks = doctor.check_workflows(tmp_path)
    assert ("workflow broken.yml", "fail") in [(c.name, c.status) for c in checks]


# --------------------------------------------------------------------------- config and data


def write_config(root: Path, **train: Any) -> Path:
    path = root / "cml-bot.yaml"
    path.write_text(
        yaml.safe_dump(
            {"model": {"name": "wine"}, "train": {"data": "sklearn:wine", **train}},
            sort_keys=False,
        )
    )
    return path


def test_an_invalid_config_fails_with_its_fix(tmp_path: Path) -> None:
    path = tmp_path / "cml-bot.yaml"
    path.write_text("model: {name: m}\ntrian: {}\n")
    cfg, check = doctor.check_config(path)
    assert cfg is None and check.status == "fail"
    assert "trian" in check.detail


def test_data_with_a_missing_target_fails_with_the_columns(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n2,3,1\n3,4,0\n4,5,1\n")
    cfg, _ = doctor.check_config(write_config(tmp_path, data="d.csv", target="label"))
    assert cfg is not None
    check = doctor.check_data(cfg)
    assert check.status == "fail" and "'label'" in check.detail
    assert check.fix and "a, b, y" in check.fix


def test_readable_data_passes_with_its_shape(tmp_path: Path) -> None:
    cfg, _ = doctor.check_config(write_config(tmp_path))
    assert cfg is not None
    check = doctor.check_data(cfg)
    assert check.status == "ok" and "3 classes" in check.detail


def test_a_training_command_whose_program_is_missing_fails(tmp_path: Path) -> None:
    path = tmp_path / "cml-bot.yaml"
    path.write_text("model: {name: m}\ntrain: {command: [no-such-program-xyz, train.py]}\n")
    cfg, _ = doctor.check_config(path)
    assert cfg is not None and doctor.check_data(cfg).status == "fail"
    path.write_text("model: {name: m}\ntrain: {command: ['{python}', train.py]}\n")
    cfg, _ = doctor.check_config(path)
    assert cfg is not None and doctor.check_data(cfg).status == "ok"


# --------------------------------------------------------------------------- tracking


def test_sqlite_store_passes_when_its_folder_can_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, _ = doctor.check_config(write_config(tmp_path))
    assert cfg is not None
    ok = doctor.check_tracking(cfg, {})
    assert ok.status == "ok" and "will be created" in ok.detail
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert doctor.check_tracking(cfg, {}).status == "fail"


class _Stub(http.server.BaseHTTPRequestHandler):
    """/health, and MLflow's REST API (the client's experiment search is a POST) behind basic
    auth that refuses like MLflow's auth app: HTTP 401 with a plain-text body."""

    want: str | None = None  # the Authorization header the API accepts; None: any
    seen: list[str | None] = []  # noqa: RUF012 - test-only, reset per server

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, b"OK")
            return
        self._api()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._api()

    def _api(self) -> None:
        auth = self.headers.get("Authorization")
        type(self).seen.append(auth)
        if self.want is None or auth == self.want:
            self._send(200, b"{}")
        else:
            self._send(401, b"You are not authenticated.")

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def mlflow_stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {"want": "Basic dTpw", "seen": []})  # u:p
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_tracking_server_that_refuses_the_credentials_fails_with_the_entry(
    tmp_path: Path, mlflow_stub: tuple[str, type[_Stub]]
) -> None:
    url, handler = mlflow_stub
    cfg, _ = doctor.check_config(write_config(tmp_path))
    assert cfg is not None
    refused = doctor.check_tracking(cfg, {"MLFLOW_TRACKING_URI": url}, timeout=5)
    assert refused.status == "fail" and "HTTP 401" in refused.detail
    assert "without credentials" in refused.detail
    assert refused.fix and "#cannot-open-the-mlflow-store" in refused.fix
    env = {
        "MLFLOW_TRACKING_URI": url,
        "MLFLOW_TRACKING_USERNAME": "u",
        "MLFLOW_TRACKING_PASSWORD": "p",
    }
    accepted = doctor.check_tracking(cfg, env, timeout=5)
    assert accepted.status == "ok", accepted
    assert handler.seen == [None, "Basic dTpw"]


def test_tracking_server_that_does_not_answer_fails(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    cfg, _ = doctor.check_config(write_config(tmp_path))
    assert cfg is not None
    check = doctor.check_tracking(cfg, {"MLFLOW_TRACKING_URI": f"http://u:secret@127.0.0.1:{port}"})
    assert check.status == "fail" and "does not answer" in check.detail
    assert "secret" not in check.detail


# --------------------------------------------------------------------------- the GitHub token


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO)
        yield emulator


def token_inputs(emu: Emulator, token: str, tmp_path: Path) -> doctor.Inputs:
    env = {"GITHUB_TOKEN": token, "GITHUB_API_URL": emu.url, "GITHUB_REPOSITORY": REPO}
    return doctor.Inputs(config_path=tmp_path / "cml-bot.yaml", env=env)


def test_an_actions_token_is_accepted_and_said_to_be_an_installation_token(
    emu: Emulator, tmp_path: Path
) -> None:
    checks = doctor.check_token(token_inputs(emu, "ghs_actions", tmp_path), tmp_path)
    assert checks[0].status == "ok" and "installation token" in checks[0].detail
    assert "#the-comment-never-updates" in checks[0].detail
    assert [c.name for c in checks] == ["github token", "repository access"]
    # GET /repos/{owner}/{repo} through the bot's own client, for real (it used to be skipped:
    # doctor probed for method names the client did not have)
    assert checks[1].status == "ok" and REPO in checks[1].detail
    emu.assert_no_violations()


def test_a_personal_token_is_checked_for_its_role(emu: Emulator, tmp_path: Path) -> None:
    emu.state.add_token("pat-writer", login="alice")
    emu.state.seed_collaborator("alice", "write")
    emu.state.add_token("pat-reader", login="bob")
    emu.state.seed_collaborator("bob", "read")
    emu.state.accept_any_token = False
    good = doctor.check_token(token_inputs(emu, "pat-writer", tmp_path), tmp_path)
    assert "@alice" in good[0].detail
    assert ("repository role", "ok") in [(c.name, c.status) for c in good]
    bad = doctor.check_token(token_inputs(emu, "pat-reader", tmp_path), tmp_path)
    role = next(c for c in bad if c.name == "repository role")
    assert role.status == "fail" and "@bob has read" in role.detail
    emu.assert_no_violations()


def test_a_rejected_token_fails_with_the_entry(emu: Emulator, tmp_path: Path) -> None:
    emu.state.accept_any_token = False
    checks = doctor.check_token(token_inputs(emu, "expired", tmp_path), tmp_path)
    assert [c.status for c in checks] == ["fail"]
    assert "HTTP 401" in checks[0].detail and "expired" not in checks[0].detail
    assert checks[0].fix and "#github-token-rejected" in checks[0].fix


def test_a_read_only_token_fails_the_repository_check(emu: Emulator, tmp_path: Path) -> None:
    emu.state.add_token("ro", read_only=True)
    emu.state.add_token("rw")
    emu.state.accept_any_token = False
    ro = doctor.check_token(token_inputs(emu, "ro", tmp_path), tmp_path)  # the real client
    access = next(c for c in ro if c.name == "repository access")
    assert access.status == "fail" and "not write" in access.detail
    assert access.fix and "#fork-pull-requests" in access.fix
    rw = doctor.check_token(token_inputs(emu, "rw", tmp_path), tmp_path)
    assert next(c for c in rw if c.name == "repository access").status == "ok"
    emu.assert_no_violations()


def test_no_token_or_no_repository_is_a_skip(tmp_path: Path) -> None:
    inp = doctor.Inputs(config_path=tmp_path / "c.yaml", env={})
    assert statuses(doctor.check_token(inp, tmp_path)) == ["skip"]
    inp = doctor.Inputs(config_path=tmp_path / "c.yaml", env={"GH": "t"}, token_env="GH")
    (only,) = doctor.check_token(inp, tmp_path)
    assert only.status == "skip" and "--repository" in only.detail


def test_the_repository_comes_from_the_origin_remote(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "remote", "add", "origin", "git@github.com:octo/demo.git"], cwd=tmp_path, check=True
    )
    inp = doctor.Inputs(config_path=tmp_path / "c.yaml", env={})
    assert doctor.repository_name(inp, tmp_path) == "octo/demo"


# --------------------------------------------------------------------------- the command


def test_cli_exits_1_on_a_problem_and_0_when_everything_passes(tmp_path: Path) -> None:
    import subprocess

    config = write_config(tmp_path)
    runner = CliRunner()
    env = {"MLFLOW_TRACKING_URI": "", "GITHUB_TOKEN": "", "GITHUB_REPOSITORY": ""}
    failed = runner.invoke(main, ["doctor", "-c", str(config)], env=env)
    assert failed.exit_code == 1, failed.output
    assert "[FAIL] workflows" in failed.output and "fix: `cml-bot init`" in failed.output
    write_workflow(tmp_path, "cml-bot.yml", pr_workflow(GOOD, top={}))
    (tmp_path / "constraints.txt").write_text(PINNED_HERE)
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "x"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True
        )
    passed = runner.invoke(main, ["doctor", "-c", str(config)], env=env)
    assert passed.exit_code == 0, passed.output
    assert passed.output.rstrip().endswith("all checks passed.")
    assert "[skip] github token" in passed.output


PINNED_HERE = "".join(f"{n}=={metadata.version(n)}\n" for n in ("scikit-learn", "numpy", "pandas"))


def test_doctor_shows_the_library_versions_and_what_is_not_pinned(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.0.0\npandas>=2\n")
    check = check_libraries(cfg, tmp_path)
    here = ", ".join(f"{n} {metadata.version(n)}" for n in ("scikit-learn", "numpy", "pandas"))
    assert check.status == "warn"
    assert check.detail.startswith(f"running python {platform.python_version()}, {here}; ")
    assert "not pinned: numpy, pandas; scikit-learn==1.0.0 pinned, " in check.detail
    assert check.fix is not None and "constraints.txt" in check.fix
    (tmp_path / "requirements.txt").unlink()
    (tmp_path / "uv.lock").write_text(
        "".join(
            f'[[package]]\nname = "{n}"\nversion = "{metadata.version(n)}"\n\n'
            for n in ("scikit-learn", "numpy", "pandas")
        )
    )
    check = check_libraries(cfg, tmp_path)
    assert (check.status, check.detail) == (
        "ok",
        f"pinned (uv.lock): python {platform.python_version()}, {here}",
    )


# --------------------------------------------------------------------------- docs links


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_troubleshooting_link_in_the_code_has_its_entry() -> None:
    anchors = {
        _slug(line[3:]) for line in TROUBLESHOOTING.read_text().splitlines() if line[:3] == "## "
    }
    package = Path(doctor.__file__).parents[1]
    linked = set()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        # a link may be split over two string literals: join adjacent literals first
        joined = re.sub(r'"\s*\n\s*f?"', "", text)
        linked |= set(re.findall(r"troubleshooting\.md#([a-z0-9-]+)", joined))
        linked |= {m for m in re.findall(r"\{TROUBLE\}#([a-z0-9-]+)", joined)}
    assert linked, "no links found"
    assert linked <= anchors, f"links without an entry: {sorted(linked - anchors)}"
    expected = {
        "resource-not-accessible-by-integration",
        "github-token-rejected",
        "rate-limits",
        "github-api-failed-after-retries",
        "shallow-checkout",
        "cannot-open-the-mlflow-store",
        "model-loading-refused",
        "the-comment-never-updates",
        "fork-pull-requests",
    }
    assert expected <= linked


# --------------------------------------------------------------- concurrency and job roles

WRITES = {"contents": "write", "deployments": "write", "pull-requests": "write"}


def comments_workflow(**job: Any) -> dict[str, Any]:
    doc = pr_workflow(GOOD)
    doc["on"] = {"issue_comment": {"types": ["created"]}}
    doc["jobs"]["report"].update(job)
    return doc


def failures(tmp_path: Path) -> list[str]:
    return [c.detail for c in doctor.check_workflows(tmp_path) if c.status == "fail"]


def test_a_group_shared_by_two_workflows_is_flagged(tmp_path: Path) -> None:
    pr = pr_workflow(GOOD)
    pr["concurrency"] = {"group": "cml-bot-pr-${{ github.event.pull_request.number }}"}
    commands = comments_workflow()
    commands["jobs"]["report"]["concurrency"] = "cml-bot-pr-${{ github.event.issue.number }}"
    write_workflow(tmp_path, "cml-bot.yml", pr)
    write_workflow(tmp_path, "cml-bot-commands.yml", commands)
    assert any("share the concurrency group" in d for d in failures(tmp_path))


def test_a_workflow_level_group_on_comments_is_flagged(tmp_path: Path) -> None:
    commands = comments_workflow()
    commands["concurrency"] = {"group": "commands-${{ github.event.issue.number }}"}
    write_workflow(tmp_path, "cml-bot-commands.yml", commands)
    assert any("before the job's `if:`" in d for d in failures(tmp_path))


def test_a_promoting_job_in_a_cancelling_group_is_flagged(tmp_path: Path) -> None:
    deploy = pr_workflow({**WRITES, "statuses": "write"})
    deploy["on"] = {"push": {"branches": ["main"]}}
    deploy["concurrency"] = {"group": "deploy", "cancel-in-progress": True}
    write_workflow(tmp_path, "cml-bot-deploy.yml", deploy)
    assert any("cancel-in-progress" in d for d in failures(tmp_path))


def test_the_job_that_trains_pr_code_may_not_write(tmp_path: Path) -> None:
    write_workflow(tmp_path, "cml-bot-commands.yml", comments_workflow(permissions=WRITES))
    assert any("trains pull-request code" in d for d in failures(tmp_path))


def test_the_promote_job_needs_contents_write_for_the_github_registry(tmp_path: Path) -> None:
    promote = comments_workflow(
        environment="production", permissions={**GOOD, "deployments": "write"}
    )
    write_workflow(tmp_path, "cml-bot-commands.yml", promote)
    assert any("contents: write" in d for d in failures(tmp_path))
    mlflow = doctor.check_workflows(tmp_path, github_registry=False)
    assert not [c for c in mlflow if c.status == "fail"]


def test_what_init_writes_passes_the_concurrency_and_role_checks(tmp_path: Path) -> None:
    from cml_bot.scaffold.workflows import render_workflows

    for rel, text in render_workflows("octo/cml-bot@" + "a" * 40).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert failures(tmp_path) == []


def test_a_workflow_with_a_key_given_twice_fails_with_both_lines(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "cml-bot.yml").write_text(
        "name: cml-bot\non: pull_request\npermissions: {}\npermissions: write-all\njobs: {}\n"
    )
    bad = [c for c in doctor.check_workflows(tmp_path) if c.status == "fail"]
    assert any("'permissions' is given twice, at line 3 and line 4" in c.detail for c in bad)


# ------------------------------------------------------------- what breaks on the first PR


def penguins_repo(tmp_path: Path, **config: Any) -> tuple[Path, Any]:
    """A git repository with the penguins (3 species) and a config; the parsed config."""
    source = Path(__file__).parents[1] / "fixtures" / "data" / "penguins" / "penguins.csv"
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "penguins.csv").write_bytes(source.read_bytes())
    doc = {
        "model": {"name": "penguins", "task": "classification"},
        "train": {"data": "data/penguins.csv", "target": "species", **config.pop("train", {})},
        **config,
    }
    (tmp_path / "cml-bot.yaml").write_text(yaml.safe_dump(doc))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    cfg, check = doctor.check_config(tmp_path / "cml-bot.yaml")
    assert cfg is not None, check.detail
    return tmp_path, cfg


def later(root: Path, cfg: Any) -> dict[str, Any]:
    from cml_bot.doctor.later import check_later

    return {c.name: c for c in check_later(cfg, root)}


def test_a_binary_metric_on_three_classes_fails(tmp_path: Path) -> None:
    root, cfg = penguins_repo(tmp_path, evaluate={"metrics": ["roc_auc", "accuracy"]})
    check = later(root, cfg)["metrics"]
    assert (
        check.status == "fail" and check.detail == "roc_auc need(s) two classes; the target has 3"
    )
    assert "roc_auc_ovr" in check.fix


def test_a_probability_metric_for_a_model_without_probabilities_fails(tmp_path: Path) -> None:
    root, cfg = penguins_repo(
        tmp_path,
        train={"estimator": "sklearn.svm.LinearSVC"},
        evaluate={"metrics": ["accuracy", "neg_log_loss"]},
    )
    check = later(root, cfg)["metrics"]
    assert check.status == "fail" and "LinearSVC has no predict_proba" in check.detail


def test_data_ignored_by_git_or_outside_the_repository_is_flagged(tmp_path: Path) -> None:
    root, cfg = penguins_repo(tmp_path / "repo")
    assert later(root, cfg)["data paths"].status == "ok"
    (root / ".gitignore").write_text("data/\n")
    check = later(root, cfg)["data paths"]
    assert (
        check.status == "warn" and "train.data data/penguins.csv is ignored by git" in check.detail
    )
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes((root / "data" / "penguins.csv").read_bytes())
    _, cfg = penguins_repo(tmp_path / "repo2", train={"data": str(outside)})
    check = later(tmp_path / "repo2", cfg)["data paths"]
    assert check.status == "warn" and "is outside the repository" in check.detail


def test_an_evaluation_set_below_the_floor_warns(tmp_path: Path) -> None:
    root, cfg = penguins_repo(tmp_path, evaluate={"min_rows": 100})
    check = later(root, cfg)["evaluation rows"]
    assert check.status == "warn" and check.detail.startswith("86 evaluation rows, fewer than")
    assert later(*penguins_repo(tmp_path / "ok"))["evaluation rows"].status == "ok"
