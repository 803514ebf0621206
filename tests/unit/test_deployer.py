"""Deployer decisions with an in-memory registry and GitHub: what happens when GitHub fails to
record the final `success` after the alias moved and the hook ran (the promotion stands, the
record is reported unfinished, and a re-run finishes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cml_bot.config import load_config
from cml_bot.core.errors import GitHubError
from cml_bot.core.progress import Progress
from cml_bot.deploy.deployer import Deployer
from cml_bot.github import DeploymentInfo
from cml_bot.registry.base import AliasConflict, ModelVersion

EXAMPLE = Path(__file__).parents[2] / "examples" / "breast-cancer" / "cml-bot.yaml"
SHA = "a" * 40


@dataclass
class Registry:
    versions: dict[str, ModelVersion] = field(default_factory=dict)
    alias: str | None = None

    def add(self, version: str, sha: str) -> ModelVersion:
        self.versions[version] = ModelVersion("m", version, f"models:/m/{version}", sha=sha)
        return self.versions[version]

    def champion(self, alias: str) -> ModelVersion | None:
        return self.versions.get(self.alias or "")

    def get(self, version: str) -> ModelVersion | None:
        return self.versions.get(version)

    def register(self, *, run_id: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
        return self.add(str(len(self.versions) + 1), tags["sha"])

    def move_alias(self, alias: str, version: str, *, expected: str | None, reason: str) -> None:
        if expected != self.alias:
            raise AliasConflict(self.alias)
        self.alias = version

    def remove_alias(self, alias: str, *, expected: str | None, reason: str) -> None:
        self.alias = None


@dataclass
class GitHub:
    """Deployments in memory; ``fail_success`` makes writing a `success` status fail."""

    fail_success: bool = False
    statuses: dict[int, list[str]] = field(default_factory=dict)
    shas: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def create_deployment(self, sha: str, env: str, payload: dict[str, Any], desc: str) -> int:
        deployment = 100 + len(self.shas)
        self.shas[deployment] = (sha, payload)
        self.statuses[deployment] = []
        return deployment

    def deployment_status(self, deployment: int, state: str, desc: str, **_: Any) -> None:
        if state == "success" and self.fail_success:
            raise GitHubError("HTTP 502 after 4 attempts", fix="re-run")
        self.statuses[deployment].append(state)

    def list_deployments(self, sha: str, environment: str, limit: int) -> list[DeploymentInfo]:
        return [
            DeploymentInfo(d, s, s, environment, "", "", None, p, (self.statuses[d] or [None])[-1])
            for d, (s, p) in sorted(self.shas.items(), reverse=True)
            if s == sha
        ]


def deployer(registry: Registry, gh: GitHub) -> Deployer:
    cfg = load_config(EXAMPLE)  # no hook: the question is the record, not the hook
    cfg = cfg.model_copy(update={"deploy": cfg.deploy.model_copy(update={"command": []})})
    return Deployer(cfg=cfg, registry=registry, progress=Progress(quiet=True), gh=gh)


def promote(d: Deployer, expected: str | None) -> Any:
    return d.promote(
        sha=SHA, run_id="r", model_uri="runs:/r/model", tags={"sha": SHA},
        expected=expected, metrics={"roc_auc": 0.9}, pr=3,
    )  # fmt: skip


def test_success_that_cannot_be_recorded_keeps_the_promotion_and_says_so() -> None:
    registry, gh = Registry(), GitHub(fail_success=True)
    result = promote(deployer(registry, gh), None)
    assert result.outcome == "deployed" and registry.alias == "1"
    assert result.unrecorded == "HTTP 502 after 4 attempts"
    assert gh.statuses == {100: ["in_progress"]}


def test_the_rerun_finishes_the_unfinished_record_once() -> None:
    registry, gh = Registry(), GitHub(fail_success=True)
    d = deployer(registry, gh)
    promote(d, None)
    gh.fail_success = False
    done = d.already_deployed(SHA)
    assert done is not None
    assert d.repair_record(SHA, done) == "deployment 100 was left in_progress; now success"
    assert gh.statuses == {100: ["in_progress", "success"]}
    assert d.repair_record(SHA, done) is None  # finished: nothing more to write


def test_a_recorded_deploy_needs_no_repair() -> None:
    registry, gh = Registry(), GitHub()
    d = deployer(registry, gh)
    result = promote(d, None)
    assert result.unrecorded is None
    assert d.repair_record(SHA, registry.versions["1"]) is None
    assert gh.statuses == {100: ["in_progress", "success"]}


def test_a_rollback_whose_success_cannot_be_recorded_still_rolled_back() -> None:
    registry, gh = Registry(), GitHub()
    registry.add("1", "b" * 40)
    registry.add("2", SHA)
    registry.alias = "2"
    gh.fail_success = True
    result = deployer(registry, gh).rollback("v1")
    assert result.outcome == "rolled-back" and registry.alias == "1"
    assert result.unrecorded == "HTTP 502 after 4 attempts"


def test_without_github_there_is_nothing_to_repair() -> None:
    registry = Registry()
    d = Deployer(cfg=load_config(EXAMPLE), registry=registry, progress=Progress(quiet=True))
    assert d.repair_record(SHA, registry.add("1", SHA)) is None


@pytest.mark.parametrize("state", ["success", "failure", "inactive", "error"])
def test_finished_records_are_left_alone(state: str) -> None:
    registry, gh = Registry(), GitHub()
    d = deployer(registry, gh)
    promote(d, None)
    gh.statuses[100] = ["in_progress", state]
    assert d.repair_record(SHA, registry.versions["1"]) is None
    assert gh.statuses[100] == ["in_progress", state]


# ---------------------------------------------------------------- promotion only moves forward

OLD, NEW = "0" * 40, "f" * 40  # NEW's history contains OLD, not the other way round


def history(older: str, newer: str) -> bool:
    return (older, newer) in {(OLD, NEW), (OLD, OLD), (NEW, NEW)}


def test_rerunning_an_older_merge_never_replaces_a_newer_champion() -> None:
    registry, gh = Registry(), GitHub()
    registry.add("1", OLD)
    registry.add("2", NEW)
    registry.alias = "2"  # the later merge is deployed; now the older merge's job is re-run
    d = deployer(registry, gh)
    d.is_ancestor = history
    result = d.promote(
        sha=OLD, run_id="r", model_uri="runs:/r/model", tags={"sha": OLD},
        expected="2", metrics={"roc_auc": 0.9}, pr=3,
    )  # fmt: skip
    assert result.outcome == "superseded"
    assert registry.alias == "2" and len(registry.versions) == 2  # nothing registered or moved
    assert gh.statuses == {}  # no Deployment was opened
    assert "rollback" in result.message


def test_a_newer_merge_moves_past_an_older_champion() -> None:
    registry, gh = Registry(), GitHub()
    registry.add("1", OLD)
    registry.alias = "1"
    d = deployer(registry, gh)
    d.is_ancestor = history
    result = d.promote(
        sha=NEW, run_id="r", model_uri="runs:/r/model", tags={"sha": NEW},
        expected="1", metrics={"roc_auc": 0.9}, pr=3,
    )  # fmt: skip
    assert result.outcome == "deployed" and registry.alias == "2"


def test_an_explicit_rollback_may_go_back() -> None:
    registry, gh = Registry(), GitHub()
    registry.add("1", OLD)
    registry.add("2", NEW)
    registry.alias = "2"
    d = deployer(registry, gh)
    d.is_ancestor = history
    assert d.rollback("v1").outcome == "rolled-back" and registry.alias == "1"


@dataclass
class StuckRegistry(Registry):
    """A registry whose alias cannot be moved (someone else holds it, or the store is down)."""

    def move_alias(self, alias: str, version: str, *, expected: str | None, reason: str) -> None:
        raise AliasConflict("the alias moved under us")


def test_a_rollback_whose_alias_move_fails_ends_its_deployment_failed() -> None:
    registry, gh = StuckRegistry(), GitHub()
    registry.add("1", OLD)
    registry.add("2", NEW)
    registry.alias = "2"
    with pytest.raises(AliasConflict):
        deployer(registry, gh).rollback("v1")
    assert [states[-1] for states in gh.statuses.values()] == ["failure"]
