"""This repository's own workflow files and `action.yml` keep the security rules users get:
every action pinned to a full commit SHA, least privilege, and no `${{ }}` expression inside a
`run:` script (event text reaches code through the event file and environment only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SHA = re.compile(r"^[0-9a-f]{40}$")


def steps_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:  # action.yml (composite)
        return list(doc["runs"].get("steps", []))
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def documents() -> list[tuple[str, dict[str, Any]]]:
    paths = [ROOT / "action.yml", *WORKFLOWS]
    return [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in paths]


def _ids(value: Any) -> str:
    return value if isinstance(value, str) else ""


def test_the_project_has_its_own_ci_workflow() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml"]
    text = WORKFLOWS[0].read_text(encoding="utf-8")
    assert "make lint" in text and "bash .ci/run" in text


def test_ci_tests_the_lowest_supported_versions_on_the_oldest_python() -> None:
    """The `lowest` job installs every runtime dependency at its floor (constraints/lowest.txt,
    see test_dependency_floors.py) on the Python that requires-python names, and runs the unit
    and integration tiers there."""
    job = yaml.safe_load(WORKFLOWS[0].read_text(encoding="utf-8"))["jobs"]["lowest"]
    oldest = re.search(
        r'^requires-python = ">=(3\.\d+)"$',
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
        re.M,
    )
    assert oldest is not None
    setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert [s["with"]["python-version"] for s in setup] == [oldest[1]]
    runs = [str(s.get("run", "")) for s in job["steps"]]
    assert (ROOT / "constraints" / "lowest.txt").is_file()
    assert any(
        re.search(r"pip install .*-c constraints/lowest\.txt", r) and "[dev]" in r for r in runs
    ), runs
    assert "python scripts/lowest_constraints.py --check" in runs
    test_run = next(r for r in runs if "pytest" in r)
    assert "tests/unit" in test_run and "tests/integration" in test_run
    assert "tests/e2e" not in test_run


def test_every_job_has_a_timeout() -> None:
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, job in doc["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {name}"


@pytest.mark.parametrize(("name", "doc"), documents(), ids=_ids)
def test_every_action_is_pinned_to_a_commit_sha(name: str, doc: dict[str, Any]) -> None:
    for step in steps_of(doc):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert SHA.match(uses.rpartition("@")[2]), f"{name}: {uses} is not pinned to a SHA"


@pytest.mark.parametrize(("name", "doc"), documents(), ids=_ids)
def test_no_expression_inside_a_run_script(name: str, doc: dict[str, Any]) -> None:
    for step in steps_of(doc):
        assert "${{" not in str(step.get("run", "")), f"{name}: {step.get('name') or step['run']}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_grant_nothing_by_default_and_read_only_per_job(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["permissions"] == {}
    for name, job in doc["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, name
        checkout = [
            s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout")
        ]
        assert all(s.get("with", {}).get("persist-credentials") is False for s in checkout), name
