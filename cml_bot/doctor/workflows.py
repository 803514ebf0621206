"""``cml-bot doctor``'s workflow checks: the files under ``.github/workflows``.

At least one workflow runs cml-bot; each job that does has the ``permissions:`` its triggers
need (and, as warnings, those a feature of that workflow needs, and none broader); every action
is pinned to a full commit SHA; checkouts fetch the history (``fetch-depth: 0``). What a job
needs, by the event that starts it, follows ``docs/workflows.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cml_bot.config import read_yaml
from cml_bot.core import ConfigError
from cml_bot.doctor.check import TROUBLE, Check
from cml_bot.doctor.jobs import (
    LEVELS,
    Job,
    check_concurrency,
    check_roles,
    granted,
)

SCOPES = (
    "actions",
    "checks",
    "contents",
    "deployments",
    "id-token",
    "issues",
    "discussions",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
    "attestations",
    "models",
)
_REPORT = {"contents": "read", "pull-requests": "write", "statuses": "write"}
_DEPLOY = {
    "contents": "read",
    "deployments": "write",
    "statuses": "write",
    "pull-requests": "write",
}
# What a job that runs cml-bot needs, by the event that starts it (see docs/workflows.md).
NEEDS: dict[str, dict[str, str]] = {
    "pull_request": _REPORT,
    "pull_request_target": _REPORT,
    "issue_comment": _REPORT,
    "workflow_dispatch": _REPORT,
    "push": _DEPLOY,
    "workflow_run": {**_REPORT, "actions": "read"},
}
# Not needed for every run, but a feature of that workflow fails without it.
# (What the slash-command jobs need depends on the job's role: :func:`check_roles`.)
RECOMMENDED: dict[str, dict[str, tuple[str, str]]] = {
    "push": {
        "contents": (
            "write",
            "the github registry backend (the default inside Actions "
            "without a tracking URI) keeps versions as Releases and tags",
        )
    },
}
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def load_workflows(root: Path) -> tuple[list[Job], list[Check]]:
    folder = root / ".github" / "workflows"
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    jobs: list[Job] = []
    problems: list[Check] = []
    for path in files:
        try:
            doc = read_yaml(path.read_text(encoding="utf-8"), path.name)
        except ConfigError as exc:  # bad syntax, or a key given twice (GitHub refuses both)
            problems.append(Check(f"workflow {path.name}", "fail", exc.message, exc.fix))
            continue
        except UnicodeDecodeError as exc:
            problems.append(
                Check(f"workflow {path.name}", "fail", f"not UTF-8: {exc}", "save it as UTF-8")
            )
            continue
        if not isinstance(doc, dict):
            continue
        triggers = _triggers(doc.get("on", doc.get(True)))
        top = doc.get("permissions")
        for name, job in (doc.get("jobs") or {}).items():
            if not isinstance(job, dict):
                continue
            own = job.get("permissions")
            steps = tuple(s for s in job.get("steps") or [] if isinstance(s, dict))
            jobs.append(
                Job(
                    file=path.name,
                    name=str(name),
                    triggers=triggers,
                    permissions=own if "permissions" in job else top,
                    inherited="permissions" not in job and "permissions" in doc,
                    steps=steps,
                    uses=job.get("uses") if isinstance(job.get("uses"), str) else None,
                    concurrency=job.get("concurrency"),
                    workflow_concurrency=doc.get("concurrency"),
                    environment=job.get("environment"),
                )
            )
    return jobs, problems


def _triggers(on: Any) -> tuple[str, ...]:
    if isinstance(on, str):
        return (on,)
    if isinstance(on, list):
        return tuple(str(t) for t in on)
    if isinstance(on, dict):
        return tuple(str(t) for t in on)
    return ()


def runs_cml_bot(job: Job) -> bool:
    """A step uses the cml-bot action (any owner, or a local copy) or runs the CLI."""
    for step in job.steps:
        uses = str(step.get("uses") or "")
        action = uses.split("@", 1)[0].rstrip("/")
        if action.endswith("/cml-bot") or action in ("cml-bot", "."):
            return True
        if re.search(r"(^|[\s/])cml-bot\s", str(step.get("run") or "")):
            return True
    return False


def needed(triggers: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for trigger in triggers:
        for scope, level in NEEDS.get(trigger, {}).items():
            if LEVELS[level] > LEVELS.get(out.get(scope, "none"), 0):
                out[scope] = level
    return out


def check_job(job: Job) -> list[Check]:
    name = f"workflow {job.file}, job {job.name}"
    need = needed(job.triggers) or dict(_REPORT)
    block = "; ".join(f"{s}: {lvl}" for s, lvl in need.items())
    if job.permissions is None:
        return [
            Check(
                name,
                "fail",
                "no `permissions:` for this job or its workflow: the token gets the "
                "repository's default, which is read-only for repositories created since 2023",
                f"give the job `permissions:` with {block} "
                f"({TROUBLE}#resource-not-accessible-by-integration)",
            )
        ]
    missing = [
        f"{s}: {lvl}" for s, lvl in need.items() if granted(job.permissions, s) < LEVELS[lvl]
    ]
    where = "the workflow's top-level" if job.inherited else "its"
    if missing:
        return [
            Check(
                name,
                "fail",
                f"{where} `permissions:` lack {', '.join(missing)} (triggers: "
                f"{', '.join(job.triggers) or 'none'})",
                f"add {', '.join(missing)} to the job's `permissions:` "
                f"({TROUBLE}#resource-not-accessible-by-integration)",
            )
        ]
    checks = [Check(name, "ok", f"permissions grant {block}")]
    for trigger in job.triggers:
        for scope, (level, why) in RECOMMENDED.get(trigger, {}).items():
            if granted(job.permissions, scope) < LEVELS[level]:
                checks.append(
                    Check(name, "warn", f"no {scope}: {level}: {why}", f"add {scope}: {level}")
                )
    if job.permissions == "write-all" or job.inherited:
        checks.append(
            Check(
                name,
                "warn",
                "permissions are broader than the job needs"
                if job.permissions == "write-all"
                else "permissions are granted at the workflow's top level, to every job",
                f"set `permissions: {{}}` at the top and {block} on this job",
            )
        )
    return checks


def unpinned(jobs: Iterable[Job]) -> list[str]:
    """``file: job: uses`` of every action not pinned to a full commit SHA."""
    out = []
    for job in jobs:
        refs = [job.uses] if job.uses else []
        refs += [str(s["uses"]) for s in job.steps if s.get("uses")]
        for ref in refs:
            if ref.startswith("./"):
                continue  # an action in this repository: pinned by the commit itself
            if ref.startswith("docker://"):
                if "@sha256:" not in ref:
                    out.append(f"{job.file}: {job.name}: {ref}")
                continue
            if not SHA_RE.match(ref.rpartition("@")[2]):
                out.append(f"{job.file}: {job.name}: {ref}")
    return out


def shallow(jobs: Iterable[Job]) -> list[str]:
    """Jobs running cml-bot whose actions/checkout fetches one commit only."""
    out = []
    for job in jobs:
        for step in job.steps:
            uses = str(step.get("uses") or "")
            if uses.split("@", 1)[0] != "actions/checkout":
                continue
            depth = (step.get("with") or {}).get("fetch-depth", 1)
            if str(depth) != "0":
                out.append(f"{job.file}: {job.name}")
    return out


def check_workflows(root: Path, *, github_registry: bool = True) -> list[Check]:
    jobs, checks = load_workflows(root)
    mine = [j for j in jobs if runs_cml_bot(j)]
    if not mine:
        checks.append(
            Check(
                "workflows",
                "fail",
                f"no workflow under {root / '.github' / 'workflows'} runs cml-bot",
                "`cml-bot init` writes the PR, slash-command and deploy workflows "
                "(docs/workflows.md has them to copy)",
            )
        )
        return checks
    files = sorted({j.file for j in mine})
    checks.append(Check("workflows", "ok", f"cml-bot runs in {', '.join(files)}"))
    for job in mine:
        checks.extend(check_job(job))
    checks.extend(check_concurrency(mine))
    checks.extend(check_roles(mine, github_registry))
    loose = unpinned(j for j in jobs if j.file in files)
    if loose:
        checks.append(
            Check(
                "pinned actions",
                "fail",
                "not pinned to a full commit SHA:\n" + "\n".join(loose),
                "replace each tag or branch with the full commit SHA you reviewed (keep the tag "
                "in a comment: `uses: owner/repo@<sha> # v1.2.3`)",
            )
        )
    else:
        checks.append(Check("pinned actions", "ok", "every action is pinned to a full commit SHA"))
    flat = shallow(mine)
    if flat:
        checks.append(
            Check(
                "checkout depth",
                "warn",
                "actions/checkout fetches one commit in " + ", ".join(flat),
                f"add `with: {{fetch-depth: 0}}` so the base branch is there "
                f"({TROUBLE}#shallow-checkout)",
            )
        )
    return checks
