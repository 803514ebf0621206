"""Benchmark: what cml-bot itself costs around training, against the GitHub API emulator.

Usage: ``.venv/bin/python benchmarks/bot_overhead.py [--repeats N]``

Training is excluded: one small candidate is trained once (``run_local`` on a copy of the bundled
example) and its ready ``FlowResult`` is reused. Measured, each as the median of ``--repeats``:

* ``cml-bot plan`` on each event type, as a subprocess (``python -m cml_bot plan``: interpreter
  start included) and in-process (the click command, warm);
* a slash-command refusal: a whole ``python -m cml_bot run`` subprocess for an issue_comment
  event from a read-level user, with its API calls, and whether it imported MLflow or
  scikit-learn (``-X importtime``);
* a PR report update where the comment already exists: ``publish.to_pull_request`` with the
  client ``app_github.github_client`` builds (a new one per job, as in Actions);
* a deploy decision: ``plan`` on a push event plus the already-deployed check (the registry's
  champion), in a fresh process.

Everything talks to an in-process emulator on 127.0.0.1. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.emulator

from click.testing import CliRunner  # noqa: E402

from cml_bot.app import github_events as app_github  # noqa: E402
from cml_bot.app import local as app  # noqa: E402
from cml_bot.bot import publish as publish  # noqa: E402
from cml_bot.cli import main  # noqa: E402
from tests.emulator import Emulator  # noqa: E402

WEBHOOKS = ROOT / "tests" / "fixtures" / "webhooks"
REPO = "octo-org/tumor-model"
PR = 3
TOKEN = "ghs_benchmarkTOKEN"  # noqa: S105 - a fake token for the emulator
HEAVY = ("mlflow", "sklearn", "pandas", "scipy", "github", "pydantic")
TARGETS = {"plan": 0.3, "refusal": 0.5, "report_update": 3.0, "report_update_calls": 5}


def machine_speed() -> dict[str, float]:
    """Two reference figures so runs on different days can be compared: a fixed pure-Python
    loop, and an empty interpreter's start-up (a VM under load is often 2-3x slower)."""
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    loop = time.perf_counter() - start
    startup = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    return {"python_loop_5e6_seconds": round(loop, 3), "python_startup_seconds": round(startup, 3)}


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def make_repo(work: Path) -> tuple[Path, str]:
    repo = work / "repo"
    shutil.copytree(
        ROOT / "examples" / "breast-cancer",
        repo,
        ignore=shutil.ignore_patterns(".cml-bot", "__pycache__"),
    )
    data = yaml.safe_load((repo / "cml-bot.yaml").read_text())
    data["train"]["params"]["n_estimators"] = 5
    data["baseline"] = "none"
    (repo / "cml-bot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (repo / ".gitignore").write_text(".cml-bot/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo, git(repo, "rev-parse", "HEAD")


def example(event: str, pick: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    examples = json.loads((WEBHOOKS / f"{event}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(next(e for e in examples if pick(e)))


def events(head: str, comment_id: int) -> dict[str, tuple[str, dict[str, Any], str]]:
    """label -> (event name, payload, the decision it should get)."""
    pull = example("pull_request", lambda e: e.get("action") == "opened")
    pull["pull_request"].update(number=PR, draft=False, state="open")
    pull["pull_request"]["head"]["sha"] = head
    comment = example("issue_comment", lambda e: e.get("action") == "created")
    comment["issue"].update(number=PR, state="open", pull_request={"url": f"/pulls/{PR}"})
    comment["comment"].update(id=comment_id, body="/retrain n_estimators=50")
    for who in (comment["comment"]["user"], comment["sender"]):
        who.update(login="bob", type="User")
    comment["repository"].update(full_name=REPO, default_branch="main")
    push = example("push", lambda e: e.get("ref", "").startswith("refs/heads/"))
    push["after"] = head
    run = example("workflow_run", lambda e: True)
    issue = example("issues", lambda e: True)
    return {
        "pull_request": ("pull_request", pull, "evaluate"),
        "issue_comment": ("issue_comment", comment, "command"),
        "push": ("push", push, "deploy"),
        "workflow_run": ("workflow_run", run, "ignore"),
        "issues": ("issues", issue, "ignore"),
    }


def imported(stderr: str) -> set[str]:
    """Top-level package names from ``-X importtime`` lines."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def slowest_imports(stderr: str, n: int = 3) -> list[str]:
    rows = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if len(name) - len(name.lstrip()) <= 3:  # imported by __main__ or one level down
                rows.append((int(parts[1]), name.strip()))
    return [f"{name} {us / 1e6:.3f} s" for us, name in sorted(rows, reverse=True)[:n]]


def plan_in_process(args: list[str]) -> None:
    CliRunner().invoke(main, args)


def subprocess_time(argv: list[str], env: dict[str, str], repeats: int, cwd: Path) -> float:
    def once() -> None:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{argv[3:5]} failed ({done.returncode}): {done.stderr[-2000:]}")

    once()  # warm the file-system cache
    return median_time(once, repeats)


def import_profile(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[set[str], str]:
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=cwd, capture_output=True, text=True
    )
    return imported(done.stderr), done.stderr


def main_bench(repeats: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cml-bot-bench-"))
    repo, head = make_repo(work)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}
    base_env["MLFLOW_TRACKING_URI"] = ""
    figures: dict[str, Any] = {}

    # the candidate, trained once: everything below reuses it (training excluded)
    settings = app.Settings(
        config_path=repo / "cml-bot.yaml", env=base_env, quiet=True, out_dir=work / "out"
    )
    flow_result = app.run_local(settings)

    with Emulator() as emu:
        st = emu.state
        st.seed_repo(REPO)
        st.seed_collaborator("bob", "read")
        st.seed_pull(PR, head_sha=head, head_ref="feature", base_ref="main", user="alice")
        seeded = st.seed_comment(PR, "/retrain n_estimators=50", user="bob")
        payloads = events(head, seeded.id)
        files = {}
        for label, (_, payload, _) in payloads.items():
            files[label] = work / f"{label}.json"
            files[label].write_text(json.dumps(payload))

        # ---- cml-bot plan, per event type
        plan_env = dict(base_env)
        per_event: dict[str, Any] = {}
        for label, (name, _, expected) in payloads.items():
            argv = [sys.executable, "-m", "cml_bot", "plan", "--event-name", name]
            argv += ["--event-path", str(files[label])]
            decided = json.loads(subprocess.run(argv, capture_output=True, text=True).stdout)
            assert decided["action"] == expected, (label, decided)
            seconds = subprocess_time(argv, plan_env, repeats, work)
            in_process = median_time(functools.partial(plan_in_process, argv[3:]), max(repeats, 5))
            per_event[label] = {
                "action": expected,
                "subprocess_seconds": round(seconds, 4),
                "in_process_seconds": round(in_process, 5),
            }
        plan_argv = [sys.executable, "-m", "cml_bot", "plan", "--event-name", "push"]
        plan_argv += ["--event-path", str(files["push"])]
        plan_modules, plan_profile = import_profile(plan_argv, plan_env, work)
        figures["plan"] = per_event

        # ---- a slash-command refusal: a whole `cml-bot run` process
        run_env = {
            **base_env,
            "GITHUB_EVENT_NAME": "issue_comment",
            "GITHUB_EVENT_PATH": str(files["issue_comment"]),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": emu.url,
            "GITHUB_TOKEN": TOKEN,
        }
        run_argv = [sys.executable, "-m", "cml_bot", "run", "-c", str(repo / "cml-bot.yaml"), "-q"]
        before = len(st.requests)
        subprocess.run(run_argv, env=run_env, cwd=work, check=True, capture_output=True)
        refusal_calls = len(st.requests) - before
        refusal_seconds = subprocess_time(run_argv, run_env, repeats, work)
        refusal_modules, refusal_profile = import_profile(run_argv, run_env, work)
        replies = [c.body for c in st.comments_on(PR) if c.user == "github-actions[bot]"]
        assert replies and all("needs `write` permission" in r for r in replies), replies[:1]

        # ---- the report update when the comment exists (a new client per job, as in Actions)
        pr_env = {**run_env, "GITHUB_EVENT_NAME": "pull_request"}
        runner = app_github.Runner.from_env(pr_env)

        def publish_once(report: str) -> tuple[Any, int]:
            gh = app_github.github_client(runner)
            done = publish.to_pull_request(
                dataclasses.replace(flow_result, report=report),
                gh=gh,
                model_name="tumor-classifier",
                pr=PR,
                sha=head,
                run_url=None,
            )
            return done, gh.api_calls

        publish_once(flow_result.report)  # the first run created the comment
        counter = iter(range(10**6))
        updates: list[tuple[Any, int]] = []
        update_seconds = median_time(
            lambda: updates.append(publish_once(f"{flow_result.report}\nrun {next(counter)}\n")),
            repeats,
        )
        assert {u[0].comment_action for u in updates} == {"updated"}, updates
        final = f"{flow_result.report}\nrun final\n"
        publish_once(final)
        unchanged: list[tuple[Any, int]] = []
        unchanged_seconds = median_time(lambda: unchanged.append(publish_once(final)), repeats)
        assert {u[0].comment_action for u in unchanged} == {"unchanged"}, unchanged
        markers = [c for c in st.comments_on(PR) if c.body.startswith("<!-- cml-bot:report")]
        assert len(markers) == 1
        emu.assert_no_violations()

    # ---- the deploy decision: plan on a push + the already-deployed check, fresh processes
    check = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from cml_bot.app import local as app\n"
        "from cml_bot.deploy import Deployer\n"
        "from cml_bot.core import Progress\n"
        "s = app.Settings(config_path=sys.argv[1], env={'MLFLOW_TRACKING_URI': ''}, quiet=True)\n"
        "cfg = app.load(s)\n"
        "registry = app.make_registry(cfg, s.env)\n"
        "d = Deployer(cfg=cfg, registry=registry, progress=Progress(quiet=True))\n"
        "found = d.already_deployed(sys.argv[2])\n"
        "print(found is not None, time.perf_counter() - t)\n"
    )
    check_argv = [sys.executable, "-c", check, str(repo / "cml-bot.yaml"), head]
    check_seconds = subprocess_time(check_argv, base_env, repeats, work)
    plan_push = per_event["push"]["subprocess_seconds"]

    plan_seconds = max(v["subprocess_seconds"] for v in per_event.values())
    in_process_max = max(v["in_process_seconds"] for v in per_event.values())
    update_calls = max(u[1] for u in updates)
    result = {
        "plan_seconds": round(plan_seconds, 4),
        "plan_in_process_seconds": round(in_process_max, 5),
        "plan_per_event": per_event,
        "plan_imports": {m: m in plan_modules for m in HEAVY},
        "plan_slowest_imports": slowest_imports(plan_profile),
        "refusal_seconds": round(refusal_seconds, 4),
        "refusal_api_calls": refusal_calls,
        "refusal_imports": {m: m in refusal_modules for m in HEAVY},
        "refusal_slowest_imports": slowest_imports(refusal_profile),
        "report_update_seconds": round(update_seconds, 4),
        "report_update_api_calls": update_calls,
        "report_unchanged_seconds": round(unchanged_seconds, 4),
        "report_unchanged_api_calls": max(u[1] for u in unchanged),
        "deploy_decision_seconds": round(plan_push + check_seconds, 4),
        "deploy_already_deployed_check_seconds": round(check_seconds, 4),
        "repeats": repeats,
        "cpus": os.cpu_count(),
        "machine": machine_speed(),
    }
    result["targets_met"] = {
        "plan": plan_seconds < TARGETS["plan"],
        "refusal": refusal_seconds < TARGETS["refusal"]
        and not (result["refusal_imports"]["mlflow"] or result["refusal_imports"]["sklearn"]),
        "report_update": update_seconds < TARGETS["report_update"]
        and update_calls <= TARGETS["report_update_calls"],
    }
    shutil.rmtree(work, ignore_errors=True)
    return result


def print_table(r: dict[str, Any]) -> None:
    rows = [("what", "seconds", "API calls", "target", "heavy imports")]
    for label, fig in r["plan_per_event"].items():
        rows.append(
            (
                f"plan {label} ({fig['action']}): process / in-process",
                f"{fig['subprocess_seconds']:.3f} / {fig['in_process_seconds']:.4f}",
                "0",
                f"< {TARGETS['plan']}",
                ", ".join(m for m, on in r["plan_imports"].items() if on) or "none",
            )
        )
    rows.append(
        (
            "slash-command refusal (whole `cml-bot run` process)",
            f"{r['refusal_seconds']:.3f}",
            str(r["refusal_api_calls"]),
            f"< {TARGETS['refusal']}",
            ", ".join(m for m, on in r["refusal_imports"].items() if on) or "none",
        )
    )
    rows.append(
        (
            "PR report update, comment exists (edit)",
            f"{r['report_update_seconds']:.3f}",
            str(r["report_update_api_calls"]),
            f"< {TARGETS['report_update']}, <= {TARGETS['report_update_calls']} calls",
            "",
        )
    )
    rows.append(
        (
            "PR report update, comment unchanged",
            f"{r['report_unchanged_seconds']:.3f}",
            str(r["report_unchanged_api_calls"]),
            "",
            "",
        )
    )
    rows.append(
        (
            "deploy decision: plan(push) + already-deployed check",
            f"{r['deploy_decision_seconds']:.3f}",
            "0",
            "",
            "mlflow (the registry)",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"slowest imports of plan:    {', '.join(r['plan_slowest_imports'])}")
    print(f"slowest imports of refusal: {', '.join(r['refusal_slowest_imports'])}")
    speed = r["machine"]
    print(
        f"machine: pure-Python loop of 5e6 adds {speed['python_loop_5e6_seconds']:.3f} s, "
        f"empty interpreter start {speed['python_startup_seconds']:.3f} s (for comparing runs)"
    )
    print(f"targets met: {r['targets_met']}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = main_bench(max(1, args.repeats))
    print_table(result)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    cli()
