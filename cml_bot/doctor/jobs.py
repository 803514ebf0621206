"""A workflow job as ``cml-bot doctor`` sees it, and the rules for the jobs that run cml-bot.

Concurrency (a group spans every workflow, a workflow-level group is entered before any job's
``if:``, a newer queued run cancels the pending one) and job roles (the job that trains
pull-request code holds no write scope; the one that promotes has what the registry needs).
``docs/workflows.md`` explains both; ``docs/troubleshooting.md#concurrency`` the fixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cml_bot.doctor.check import TROUBLE, Check

LEVELS = {"none": 0, "read": 1, "write": 2}


def granted(permissions: Any, scope: str) -> int:
    """The level a job's ``permissions:`` grants a scope (0 none, 1 read, 2 write)."""
    if isinstance(permissions, str):
        return {"read-all": 1, "write-all": 2}.get(permissions, 0)
    if isinstance(permissions, dict):
        return LEVELS.get(str(permissions.get(scope, "none")), 0)
    return 0


@dataclass(frozen=True)
class Job:
    file: str
    name: str
    triggers: tuple[str, ...]
    permissions: Any  # None: not set at all; str (read-all/write-all) or a mapping
    inherited: bool  # the permissions come from the workflow's top level
    steps: tuple[Mapping[str, Any], ...]
    uses: str | None  # a reusable workflow call
    concurrency: Any = None  # the job's own `concurrency:`
    workflow_concurrency: Any = None  # the workflow's top-level `concurrency:`
    environment: Any = None

    def writes(self) -> bool:
        """Holds a token that can write the repository's contents or deployments."""
        return any(granted(self.permissions, s) >= 2 for s in ("contents", "deployments"))


# Expressions that name the same pull request in different events' payloads.
_SAME_PR = re.compile(
    r"\$\{\{\s*github\.event\.(?:pull_request|issue)\.number\s*\}\}|\$\{\{\s*github\.event\.number\s*\}\}"
)


def _group(spec: Any) -> tuple[str, bool] | None:
    """(group expression, cancel-in-progress as written) of a `concurrency:` value; the PR
    number is written the same way whichever event's payload it comes from."""
    if spec is None:
        return None
    if isinstance(spec, str):
        text, cancel = spec, False
    elif isinstance(spec, Mapping):
        text = str(spec.get("group", ""))
        cancel = spec.get("cancel-in-progress") not in (None, False)
    else:
        return None
    return _SAME_PR.sub("<pull request number>", text), cancel


def check_concurrency(jobs: Iterable[Job]) -> list[Check]:
    """GitHub's rules (docs/workflows.md, "Concurrency"): a group spans every workflow of the
    repository, a workflow-level group is entered before any job's `if:`, and a newer queued
    run cancels the pending one. So: no group shared by two workflows, no workflow-level group
    on comments, and nothing that writes the registry or a Deployment in a cancelling group."""
    jobs = list(jobs)
    checks: list[Check] = []
    owners: dict[str, set[str]] = {}
    for job in jobs:
        for spec in (job.workflow_concurrency, job.concurrency):
            found = _group(spec)
            if found:
                owners.setdefault(found[0].strip().lower(), set()).add(job.file)
    for group, files in sorted(owners.items()):
        if len(files) > 1:
            checks.append(_shared(group, sorted(files)))
    for job in jobs:
        checks.extend(_job_concurrency(job))
    return checks


def _shared(group: str, files: list[str]) -> Check:
    return Check(
        "concurrency",
        "fail",
        f"{' and '.join(files)} share the concurrency group `{group}`: a group spans every "
        "workflow, so a push cancels a running command (or the other way round)",
        f"give each workflow its own group ({TROUBLE}#concurrency)",
    )


def _job_concurrency(job: Job) -> list[Check]:
    name = f"workflow {job.file}, job {job.name}"
    out = []
    top = _group(job.workflow_concurrency)
    if top and "issue_comment" in job.triggers:
        out.append(
            Check(
                name,
                "fail",
                "a workflow-level concurrency group on comments is entered before the job's "
                '`if:`: an ordinary comment ("LGTM") cancels a queued command',
                f"move `concurrency:` into the job, after its `if:` ({TROUBLE}#concurrency)",
            )
        )
    for found in (top, _group(job.concurrency)):
        if found and found[1] and job.writes():
            out.append(
                Check(
                    name,
                    "fail",
                    f"the job writes the registry or a Deployment but its group `{found[0]}` "
                    "has cancel-in-progress: a cancelled promotion is half done",
                    f"set `cancel-in-progress: false` for this job ({TROUBLE}#concurrency)",
                )
            )
    return out


def check_roles(jobs: Iterable[Job], github_registry: bool) -> list[Check]:
    """Slash-command jobs: the one that trains pull-request code (no `environment:`) holds no
    write scope on contents or deployments; the one that promotes (`environment:`) has what
    /deploy and /rollback need for the configured registry backend."""
    checks = []
    for job in jobs:
        if "issue_comment" not in job.triggers:
            continue
        name = f"workflow {job.file}, job {job.name}"
        if job.environment is None and job.writes():
            checks.append(
                Check(
                    name,
                    "fail",
                    "this job trains pull-request code (/retrain, /evaluate) with a token that "
                    "can write contents or deployments",
                    "keep contents: read here and run /deploy and /rollback in a separate job "
                    f"with `environment:` ({TROUBLE}#slash-command-jobs)",
                )
            )
        if job.environment is not None:
            need = {"deployments": "write", **({"contents": "write"} if github_registry else {})}
            missing = [f"{s}: {lvl}" for s, lvl in need.items() if granted(job.permissions, s) < 2]
            if missing:
                backend = "the github registry backend" if github_registry else "deployments"
                checks.append(
                    Check(
                        name,
                        "fail",
                        f"/deploy and /rollback need {', '.join(missing)} ({backend})",
                        f"add {', '.join(missing)} to this job's `permissions:`",
                    )
                )
    return checks
