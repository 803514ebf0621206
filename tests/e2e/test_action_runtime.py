"""The action's runtime as a team meets it (issue 13): its own packages, a cached install, and no
install at all for an event that needs none. The real ``action.yml``, run by ``act``.

Every run here uses act's cache server on 127.0.0.1 (its store in this module's folder, empty at
the start) and no shared install, as on a hosted runner where every job starts empty; the
action keeps its environment with the real ``actions/cache`` (vendored:
``tests/fixtures/actions/cache``). In order:

1. ``/ nice work`` on PR #1 (the commands workflow's ``if:`` lets it through, cml-bot ignores
   it): only what deciding needs is installed, no ML stack, nothing saved to the cache.
2. ``/retrain`` by a reader: refused with one reply, still no ML stack.
3. PR #6 ``team-forest`` (``.github/workflows/cml-bot-team.yml``: the PR workflow with the
   team's own install step before cml-bot): the built-in trainer fits ``teamfeat.TeamForest``,
   from ``teamfeat``, a package cml-bot does not depend on (a wheel built here), installed only
   in the team's Python. Cold: the ML stack is installed, then saved to the cache.
4. PR #7 ``team-script``: a training command whose ``{python}`` must be the team's Python (its
   script imports ``teamfeat`` and prints where from). Warm: the environment comes from the
   cache, nothing is installed.

The team's Python is a venv made in the job, with the wheel installed in it and a ``.pth`` line
pointing at this test run's own site-packages, standing in for ``pip install mlflow scikit-learn
pandas`` (a minute of downloads in every run).
"""

from __future__ import annotations

import base64
import hashlib
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.harness import (
    AUTHOR,
    FULL_NAME,
    MARKER,
    PR_TUNE,
    PR_WORKFLOW_PATH,
    WORKFLOWS,
    ActRun,
    Project,
    Pull,
    api_calls,
    check_contract,
    comment_run,
    git,
    pull_request_event,
    pull_seed,
    repo_state,
    run_act,
    tail,
)
from tests.emulator import EmulatorProcess

pytestmark = pytest.mark.e2e

READER = "octo-reader"
PR_TEAM = Pull(6, "team-forest", "The team's own forest")
PR_SCRIPT = Pull(7, "team-script", "Train with our own script")
TEAM_WORKFLOW = ".github/workflows/cml-bot-team.yml"
LIGHT = "light install (no ML stack)"
FULL = "installing the ML stack"
TEAMFEAT = '''\
"""A team's own package: cml-bot does not depend on it."""

from sklearn.ensemble import RandomForestClassifier

__version__ = "0.1.0"


class TeamForest(RandomForestClassifier):
    """The team's estimator: a random forest under the team's own name."""
'''
SCRIPT = '''\
"""The team's training script: imports the team's package, writes what cml-bot reads."""

import argparse
import json
import sys
from pathlib import Path

import mlflow.sklearn
import pandas as pd
import teamfeat

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
print(f"teamfeat {teamfeat.__version__} from {teamfeat.__file__} under {sys.executable}")
frame = pd.read_csv("data/tumors.csv")
test = pd.read_csv("data/tumors-eval.csv")
train = frame[~frame["patient_id"].isin(test["patient_id"])]
features = [c for c in frame.columns if c not in ("patient_id", "diagnosis", "size_band")]
model = teamfeat.TeamForest(n_estimators=20, max_depth=3, random_state=0)
model.fit(train[features], train["diagnosis"])
args.out.mkdir(parents=True, exist_ok=True)
mlflow.sklearn.save_model(model, str(args.out / "model"), serialization_format="skops",
                          skops_trusted_types=["teamfeat.TeamForest", "sklearn.tree._tree.Tree"])
out = pd.DataFrame({"row_id": test["patient_id"], "label": test["diagnosis"],
                    "prediction": model.predict(test[features])})
for i, cls in enumerate(model.classes_):
    out[f"proba_{cls}"] = model.predict_proba(test[features])[:, i]
out.to_csv(args.out / "predictions.csv", index=False)
(args.out / "params.json").write_text(json.dumps({"n_estimators": 20, "max_depth": 3}))
'''
TEAM_STEP = {
    "name": "Install the team's requirements",
    "run": (
        'python3 -m venv "$RUNNER_TEMP/team"\n'
        '"$RUNNER_TEMP/team/bin/python" -m pip install --quiet --no-index --no-deps '
        '"$TEAM_WHEEL"\n'
        'site=$("$RUNNER_TEMP/team/bin/python" -c '
        "'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])')\n"
        'echo "$TEAM_STACK" > "$site/team-stack.pth"\n'
        'echo "$RUNNER_TEMP/team/bin" >> "$GITHUB_PATH"\n'
    ),
}


@dataclass
class Team:
    wheel: Path
    cache: Path  # act's cache server store
    forest: str  # PR #6's head
    script: str  # PR #7's head


def build_wheel(folder: Path) -> Path:
    """``teamfeat-0.1.0-py3-none-any.whl``, written by hand (a wheel is a zip with a RECORD)."""
    files = {
        "teamfeat/__init__.py": TEAMFEAT.encode(),
        "teamfeat-0.1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: teamfeat\n"
        b"Version: 0.1.0\n",
        "teamfeat-0.1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: cml-bot-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("teamfeat-0.1.0.dist-info/RECORD,,")
    files["teamfeat-0.1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / "teamfeat-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def _team_workflow() -> str:
    doc = yaml.safe_load(WORKFLOWS[PR_WORKFLOW_PATH])
    (job,) = doc["jobs"].values()
    job["steps"].insert(1, TEAM_STEP)  # after checkout, before cml-bot
    return yaml.safe_dump(doc, sort_keys=False, width=1000)


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def team(project: Project, emulator: EmulatorProcess) -> Team:
    repo, work = project.repo, project.work
    git(repo, "checkout", "-q", "-B", PR_TEAM.head_ref, project.base)
    (repo / TEAM_WORKFLOW).write_text(_team_workflow(), encoding="utf-8")
    config = repo / "cml-bot.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("sklearn.ensemble.RandomForestClassifier", "teamfeat.TeamForest"),
        encoding="utf-8",
    )
    forest = _commit(repo, "The team's own forest")
    frame = (repo / "data" / "tumors.csv").read_text(encoding="utf-8").splitlines()
    (repo / "data" / "tumors-eval.csv").write_text("\n".join([frame[0], *frame[-120:]]) + "\n")
    (repo / "train_team.py").write_text(SCRIPT, encoding="utf-8")
    command = '["{python}", "train_team.py", "--out", "{output_dir}"]'
    text = config.read_text(encoding="utf-8")
    text = text.replace("  estimator: teamfeat.TeamForest\n", f"  command: {command}\n")
    text = text.replace("  params:\n    n_estimators: 20\n    max_depth: 2\n", "")
    text = text.replace("  test_size: 0.3 ", "  data: data/tumors-eval.csv\n  # ")
    config.write_text(text, encoding="utf-8")
    script = _commit(repo, "Train with our own script")
    git(repo, "checkout", "-q", "-B", "main", project.base)
    emulator.client.seed(
        {
            "repos": [
                {
                    "full_name": FULL_NAME,
                    "collaborators": {READER: "read"},
                    "commits": [
                        {"sha": forest, "parents": [project.base]},
                        {"sha": script, "parents": [forest]},
                    ],
                    "pulls": [
                        pull_seed(PR_TEAM, forest, project.base),
                        pull_seed(PR_SCRIPT, script, project.base),
                    ],
                }
            ]
        }
    )
    (work / "actcache").mkdir()
    return Team(build_wheel(work), work / "actcache", forest, script)


def _team_env(team: Team) -> dict[str, str]:
    return {"TEAM_WHEEL": str(team.wheel), "TEAM_STACK": sysconfig.get_paths()["purelib"]}


def _comment(
    project: Project, emulator: EmulatorProcess, team: Team, body: str, user: str, label: str
) -> tuple[ActRun, int]:
    return comment_run(project, emulator, PR_TUNE, body, user, label=label, cache_server=team.cache)


def _pr(
    project: Project, emulator: EmulatorProcess, team: Team, pull: Pull, head: str, label: str
) -> ActRun:
    event = pull_request_event("opened", pull, head_sha=head, base_sha=project.base)
    return run_act(
        project,
        emulator,
        event,
        checkout=head,
        branch=pull.head_ref,
        workflow=TEAM_WORKFLOW,
        env=_team_env(team),
        label=label,
        cache_server=team.cache,
    )


def _report(emulator: EmulatorProcess, number: int) -> str:
    comments = repo_state(emulator.client)["comments"].values()
    (report,) = [c for c in comments if c["issue_number"] == number and MARKER in c["body"]]
    return str(report["body"])


def test_an_ignored_comment_installs_no_ml_stack(
    project: Project, emulator: EmulatorProcess, team: Team
) -> None:
    run, _ = _comment(project, emulator, team, "/ nice work", AUTHOR, "runtime 1: `/ nice work`")
    assert run.returncode == 0, tail(run)
    assert "is not a slash command" in run.log, tail(run)
    assert LIGHT in run.log and FULL not in run.log, tail(run)
    assert "Cache saved" not in run.log  # a light environment is never cached
    assert run.outputs.get("verdict") == "skipped", run.outputs
    assert run.requests == [], run.describe()
    check_contract(run, emulator, counted=False)


def test_a_refused_command_installs_no_ml_stack(
    project: Project, emulator: EmulatorProcess, team: Team
) -> None:
    run, _ = _comment(project, emulator, team, "/retrain", READER, "runtime 2: reader `/retrain`")
    assert run.returncode == 0, tail(run)
    assert f"cml-bot: /retrain by @{READER}: refused" in run.log, tail(run)
    assert LIGHT in run.log and FULL not in run.log, tail(run)
    assert api_calls(run) == [
        f"GET /collaborators/{READER}/permission",
        f"GET /pulls/{PR_TUNE.number}",
        "GET /user",
        f"POST /issues/{PR_TUNE.number}/comments",
    ], run.describe()
    check_contract(run, emulator)


def test_the_built_in_trainer_fits_the_teams_estimator_cold(
    project: Project, emulator: EmulatorProcess, team: Team
) -> None:
    run = _pr(project, emulator, team, PR_TEAM, team.forest, "runtime 3: PR #6 teamfeat (cold)")
    assert run.returncode == 0, tail(run)
    assert FULL in run.log and "Cache saved successfully" in run.log, tail(run)
    assert "training teamfeat.TeamForest" in run.log, tail(run)
    assert run.outputs.get("verdict") in ("pass", "fail", "inconclusive"), run.outputs
    assert "teamfeat.TeamForest" in _report(emulator, PR_TEAM.number)
    check_contract(run, emulator)


def test_a_training_command_runs_in_the_teams_python_warm(
    project: Project, emulator: EmulatorProcess, team: Team
) -> None:
    run = _pr(project, emulator, team, PR_SCRIPT, team.script, "runtime 4: PR #7 script (warm)")
    assert run.returncode == 0, tail(run)
    assert "Cache restored from key" in run.log, tail(run)
    assert LIGHT not in run.log and FULL not in run.log, tail(run)  # nothing installed
    line = next(ln for ln in run.log.splitlines() if "teamfeat 0.1.0 from" in ln)
    assert "/team/" in line.split(" under ")[1], line  # {python}: the team's interpreter
    assert run.outputs.get("verdict") in ("pass", "fail", "inconclusive"), run.outputs
    _report(emulator, PR_SCRIPT.number)
    check_contract(run, emulator)
