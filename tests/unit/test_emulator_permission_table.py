"""The emulator's permission table covers every route it serves; workflow permissions parse as
GitHub computes them (tests/emulator/permissions.py)."""

from __future__ import annotations

import pytest

from tests.emulator import Spec
from tests.emulator.github import GitHubAPI
from tests.emulator.permissions import (
    OPERATION_PERMISSIONS,
    RESTRICTED_DEFAULT,
    SCOPES,
    job_permissions,
    normalize_permissions,
    requirement,
)
from tests.emulator.server import WRITE_METHODS
from tests.emulator.state import EmulatorState

# Routes the emulator serves outside the vendored OpenAPI subset (server.py).
EXTRA_ROUTES = {("GET", "web/release-download")}


def served_routes() -> set[tuple[str, str]]:
    spec = Spec.load()
    api = GitHubAPI(EmulatorState())
    routes = {(op.method, op.operation_id) for op in spec.operations}
    assert all(api.has_handler(op_id) for _, op_id in routes)
    return routes | EXTRA_ROUTES


def test_every_served_route_has_a_permission_entry_and_no_entry_is_stale() -> None:
    routes = served_routes()
    assert len(routes) == len(Spec.load().operations) + len(EXTRA_ROUTES)
    missing = sorted(routes - OPERATION_PERMISSIONS.keys())
    assert missing == [], f"routes without an entry in OPERATION_PERMISSIONS: {missing}"
    stale = sorted(OPERATION_PERMISSIONS.keys() - routes)
    assert stale == [], f"entries for routes the emulator does not serve: {stale}"
    with pytest.raises(KeyError, match="OPERATION_PERMISSIONS"):
        requirement("POST", "repos/create-a-thing")


def test_writes_need_write_and_only_reads_are_public() -> None:
    for (method, op_id), needed in OPERATION_PERMISSIONS.items():
        assert needed.docs.startswith("https://docs.github.com/"), op_id
        for scope, level in needed.any_of:
            assert scope in SCOPES and level in SCOPES[scope], (op_id, scope, level)
        if method in WRITE_METHODS:
            assert needed.any_of and not needed.public_read, op_id
            assert all(level == "write" for _, level in needed.any_of), op_id


def test_the_facts_from_githubs_docs() -> None:
    def sets(method: str, op_id: str) -> set[tuple[str, str]]:
        return set(requirement(method, op_id).any_of)

    assert sets("POST", "repos/create-commit-status") == {("statuses", "write")}
    assert sets("POST", "issues/create-comment") == {
        ("issues", "write"),
        ("pull-requests", "write"),
    }
    assert sets("PATCH", "issues/update-comment") == sets("POST", "issues/create-comment")
    assert sets("POST", "reactions/create-for-issue-comment") == {("issues", "write")}
    assert sets("POST", "repos/create-deployment") == {("deployments", "write")}
    assert sets("POST", "repos/create-deployment-status") == {("deployments", "write")}
    for op_id in ("repos/create-release", "repos/upload-release-asset", "git/create-ref"):
        assert sets("POST", op_id) == {("contents", "write")}, op_id
    assert sets("PATCH", "git/update-ref") == {("contents", "write")}
    assert sets("GET", "pulls/list") == {("pull-requests", "read")}
    assert sets("GET", "repos/get-collaborator-permission-level") == {("metadata", "read")}
    assert requirement("POST", "issues/create-comment").header() == (
        "issues=write; pull_requests=write"
    )


def test_normalize_permissions() -> None:
    none = normalize_permissions({})
    assert none["metadata"] == "read"  # always granted
    assert {s: lv for s, lv in none.items() if s != "metadata"} == dict.fromkeys(
        (s for s in SCOPES if s != "metadata"), "none"
    )
    some = normalize_permissions({"contents": "read", "pull_requests": "write"})
    assert some["contents"] == "read" and some["pull-requests"] == "write"
    assert some["issues"] == "none" and some["statuses"] == "none"
    read_all = normalize_permissions("read-all")
    assert read_all["issues"] == "read" and read_all["id-token"] == "none"
    write_all = normalize_permissions("write-all")
    assert write_all["statuses"] == "write" and write_all["models"] == "read"
    for bad in ({"contents": "admin"}, {"pull-request": "write"}, "all", None, ["contents"]):
        with pytest.raises(ValueError):
            normalize_permissions(bad)


WORKFLOW = """\
name: two jobs
on:
  pull_request:
permissions:
  contents: read
  statuses: write
jobs:
  report:
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
  comment:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps: [{run: "true"}]
"""


def test_job_permissions_job_level_replaces_the_workflows() -> None:
    job, perms = job_permissions(WORKFLOW, "report")
    assert job == "report"
    assert perms["contents"] == "read" and perms["statuses"] == "write"
    job, perms = job_permissions(WORKFLOW, "comment")
    assert perms["pull-requests"] == "write"
    assert perms["contents"] == "none" and perms["statuses"] == "none"  # not merged
    with pytest.raises(ValueError, match="name the one to run"):
        job_permissions(WORKFLOW)
    with pytest.raises(ValueError, match="no job 'deploy'"):
        job_permissions(WORKFLOW, "deploy")


def test_job_permissions_single_job_and_defaults() -> None:
    bare = "on: push\njobs:\n  only:\n    runs-on: ubuntu-latest\n    steps: []\n"
    job, perms = job_permissions(bare)
    assert job == "only"
    assert perms == normalize_permissions(RESTRICTED_DEFAULT)
    assert perms["contents"] == "read" and perms["packages"] == "read"
    assert perms["pull-requests"] == "none"
    empty = "on: push\npermissions: {}\njobs:\n  only:\n    steps: []\n"
    assert job_permissions(empty)[1] == normalize_permissions({})
    write_all = "on: push\npermissions: write-all\njobs:\n  only:\n    steps: []\n"
    assert job_permissions(write_all)[1]["deployments"] == "write"
    null = "on: push\njobs:\n  only:\n    permissions:\n    steps: []\n"
    with pytest.raises(ValueError, match="empty"):
        job_permissions(null)
