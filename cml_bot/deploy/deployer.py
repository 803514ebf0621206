"""Promotion and deployment: register a model that passed its gates, move the champion alias,
record a GitHub Deployment, run the deploy hook; roll back the same way.

No half-done promotion: the alias moves by compare-and-set, and if the hook fails after the
alias moved, it moves back and the deployment is marked failed. The same commit delivered twice
deploys once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.config import Config
from cml_bot.core import (
    EXIT_SERVICE,
    CmlBotError,
    ConfigError,
    NotFoundError,
    Progress,
    TrainingError,
)
from cml_bot.registry import TAG_PREFIX, AliasConflict, ModelVersion, Registry

MAX_CAS_ATTEMPTS = 3


class DeployError(CmlBotError):
    """The deploy hook or the promotion failed; the champion is where it was."""

    exit_code = EXIT_SERVICE


@dataclass
class DeployResult:
    outcome: str  # deployed | rejected | already-deployed | superseded | rolled-back
    message: str
    version: ModelVersion | None = None
    previous: str | None = None
    deployment_id: int | None = None
    failed_gates: list[str] = field(default_factory=list)
    # The promotion happened but its Deployment could not be marked success (why); a re-run
    # repairs the record (:meth:`Deployer.repair_record`).
    unrecorded: str | None = None


@dataclass
class Deployer:
    """Everything a promotion touches. ``gh`` is None outside GitHub (local `cml-bot deploy`)."""

    cfg: Config
    registry: Registry
    progress: Progress
    gh: Any = None
    run_url: str | None = None
    is_ancestor: Callable[[str, str], bool] = lambda older, newer: False
    hook_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    echo: Callable[[str], None] = print

    # ------------------------------------------------------------------ the merge flow

    def already_deployed(self, sha: str) -> ModelVersion | None:
        """The champion, when it already is the model of ``sha`` (a replayed delivery)."""
        champion = self.registry.champion(self.cfg.deploy.alias)
        return champion if champion is not None and champion.sha == sha else None

    def promote(
        self,
        *,
        sha: str,
        run_id: str,
        model_uri: str,
        tags: dict[str, str],
        expected: str | None,
        metrics: dict[str, float],
        pr: int | None,
    ) -> DeployResult:
        """Register, record a deployment, move the alias (CAS), run the hook; undo on failure.

        Only forward: a commit older than the champion's is not promoted (nothing is registered
        and no Deployment is opened); going back takes an explicit rollback."""
        alias, name = self.cfg.deploy.alias, self.cfg.model.name
        newer = self.newer_champion(sha)
        if newer is not None:
            return _stands_back(sha, alias, newer)
        with self.progress.step(f"registering {name}"):
            version = self.registry.register(run_id=run_id, model_uri=model_uri, tags=tags)
        deployment = self._start_deployment(sha, version, metrics, f"{name} v{version.version}")
        try:
            previous, moved = self._move(version, sha, expected)
        except CmlBotError as exc:
            self._finish_deployment(deployment, "failure", f"not promoted: {exc.message}")
            raise
        if not moved:
            self._finish_deployment(deployment, "inactive", "a later merge was promoted first")
            return DeployResult(
                "superseded",
                f"{name} v{version.version} was registered but a "
                f"later model is already '{alias}' (v{previous}); left as is.",
                version=version,
                previous=previous,
                deployment_id=deployment,
            )
        self._hook_or_undo(version, previous, deployment)
        unrecorded = self._record_success(deployment, f"{name} v{version.version} is {alias}")
        return DeployResult(
            "deployed",
            f"{name} v{version.version} is now '{alias}'"
            + (f" (was v{previous})" if previous else "")
            + ".",
            version=version,
            previous=previous,
            deployment_id=deployment,
            unrecorded=unrecorded,
        )

    def _hook_or_undo(
        self, version: ModelVersion, previous: str | None, deployment: int | None
    ) -> None:
        """Run the deploy hook; if it fails, move the alias back and end the Deployment."""
        alias, name = self.cfg.deploy.alias, self.cfg.model.name
        try:
            self._run_hook(version)
        except CmlBotError as exc:
            self._undo(version, previous)
            self._finish_deployment(deployment, "failure", f"deploy hook failed: {exc.message}")
            raise DeployError(
                f"the deploy hook failed for {name} v{version.version}, so "
                f"'{alias}' was moved back to "
                f"{'v' + previous if previous else 'no version'}: {exc.message}",
                fix="fix the deploy command and re-run the job",
            ) from None

    def newer_champion(self, sha: str) -> ModelVersion | None:
        """The champion, when its commit is not in ``sha``'s history (a later merge, or another
        line of history): promoting ``sha`` over it would move backwards."""
        current = self.registry.champion(self.cfg.deploy.alias)
        if current is None or not current.sha or current.sha == sha:
            return None
        return None if self.is_ancestor(current.sha, sha) else current

    def repair_record(self, sha: str, version: ModelVersion) -> str | None:
        """Mark ``success`` on a Deployment of ``sha`` left unfinished by an earlier run.

        An earlier run may have moved the alias and run the hook, then failed to record the
        Deployment's final status (GitHub down at that moment). The promotion stands, so the
        record is what is wrong: a re-run finds it and finishes it. Returns what was repaired.
        Calls: 1 list + 1 per deployment of this commit (usually 1) + 1 write when repairing.
        """
        if self.gh is None:
            return None
        env, name = self.cfg.deploy.environment, self.cfg.model.name
        for item in self.gh.list_deployments(sha=sha, environment=env, limit=5):
            if str(item.payload.get("model_version")) != version.version:
                continue
            if item.state in (None, "queued", "pending", "in_progress"):
                description = f"{name} v{version.version} is {self.cfg.deploy.alias}"
                self._finish_deployment(item.id, "success", description)
                return (
                    f"deployment {item.id} was left {item.state or 'without a status'}; now success"
                )
        return None

    def _move(
        self, version: ModelVersion, sha: str, expected: str | None
    ) -> tuple[str | None, bool]:
        """Compare-and-set the alias; on a conflict move only past an *older* champion."""
        alias = self.cfg.deploy.alias
        for _ in range(MAX_CAS_ATTEMPTS):
            try:
                with self.progress.step(f"moving '{alias}' to v{version.version}"):
                    self.registry.move_alias(
                        alias, version.version, expected=expected, reason=f"deploy {sha[:7]}"
                    )
                return expected, True
            except AliasConflict:
                current = self.registry.champion(alias)
                if current is None or not current.sha or not self.is_ancestor(current.sha, sha):
                    return (current.version if current else None), False
                expected = current.version  # a race with an older merge: ours is later, go on
        raise DeployError(
            f"'{alias}' kept moving under this run ({MAX_CAS_ATTEMPTS} tries)",
            fix="re-run the job when other deployments have finished",
        )

    def _undo(self, version: ModelVersion, previous: str | None) -> None:
        alias, reason = self.cfg.deploy.alias, "deploy hook failed: moved back"
        try:
            if previous is None:  # the first deployment: no champion again, version kept
                self.registry.remove_alias(alias, expected=version.version, reason=reason)
            else:
                self.registry.move_alias(alias, previous, expected=version.version, reason=reason)
        except AliasConflict:
            pass  # someone promoted something else meanwhile: theirs stands

    def _run_hook(self, version: ModelVersion) -> None:
        argv = self.cfg.deploy.command
        if not argv:
            return
        from cml_bot.ml import run_command

        env = {
            **self.hook_env,
            "MODEL_URI": version.model_uri,
            "MODEL_VERSION": version.version,
            "MODEL_NAME": self.cfg.model.name,
        }
        with self.progress.step(f"running the deploy hook {argv[0]}"):
            try:
                run_command(
                    list(argv),
                    cwd=self.cfg.root,
                    env=env,
                    timeout=self.cfg.deploy.timeout,
                    echo=self.echo,
                )
            except TrainingError as exc:  # run_command's errors say "the command ... failed"
                raise DeployError(exc.message, fix=exc.fix) from None

    # ------------------------------------------------------------------ GitHub Deployments

    def _start_deployment(
        self, sha: str, version: ModelVersion, metrics: dict[str, float], description: str
    ) -> int | None:
        if self.gh is None:
            return None
        payload = {
            "model_name": self.cfg.model.name,
            "model_uri": version.model_uri,
            "model_version": version.version,
            "metrics": {k: v for k, v in metrics.items() if v == v},
        }
        deployment: int = self.gh.create_deployment(
            sha, self.cfg.deploy.environment, payload, description
        )
        self.gh.deployment_status(
            deployment, "in_progress", f"promoting {description}", log_url=self.run_url
        )
        return deployment

    def _record_success(self, deployment: int | None, description: str) -> str | None:
        """Mark the deployment ``success``; after the alias moved and the hook ran, a failure
        here must not undo or deny the promotion: it is returned for the caller to report."""
        try:
            self._finish_deployment(deployment, "success", description)
        except CmlBotError as exc:
            return exc.message
        return None

    def _finish_deployment(self, deployment: int | None, state: str, description: str) -> None:
        if self.gh is not None and deployment is not None:
            self.gh.deployment_status(deployment, state, description, log_url=self.run_url)

    # ------------------------------------------------------------------ rollback

    def rollback(self, to: str | None = None) -> DeployResult:
        """Move the champion to ``to`` (or the one before the current), record it, run the hook."""
        alias, name = self.cfg.deploy.alias, self.cfg.model.name
        current = self.registry.champion(alias)
        target = self._rollback_target(current, to)
        deployment = (
            self._start_deployment(
                target.sha or "", target, target.metrics, f"rollback to {name} v{target.version}"
            )
            if target.sha
            else None
        )
        try:
            self.registry.move_alias(
                alias,
                target.version,
                expected=current.version if current else None,
                reason=f"rollback to v{target.version}",
            )
        except CmlBotError as exc:
            self._finish_deployment(deployment, "failure", f"not rolled back: {exc.message}")
            raise
        try:
            self._run_hook(target)
        except CmlBotError as exc:
            if current is not None:
                self._undo(target, current.version)
            self._finish_deployment(deployment, "failure", f"deploy hook failed: {exc.message}")
            raise DeployError(
                f"the deploy hook failed for the rollback to v{target.version}, "
                f"so '{alias}' stays at v{current.version if current else '?'}: "
                f"{exc.message}",
                fix="fix the deploy command and retry",
            ) from None
        unrecorded = self._record_success(deployment, f"rolled back to v{target.version}")
        return DeployResult(
            "rolled-back",
            f"'{alias}' rolled back to {name} v{target.version}"
            + (f" (was v{current.version})" if current else "")
            + ".",
            version=target,
            previous=current.version if current else None,
            deployment_id=deployment,
            unrecorded=unrecorded,
        )

    def _rollback_target(self, current: ModelVersion | None, to: str | None) -> ModelVersion:
        name = self.cfg.model.name
        if to is not None:
            target = self.registry.get(to.lstrip("vV"))
            if target is None:
                raise NotFoundError(
                    f"{name} has no version v{to.lstrip('vV')}",
                    fix="list the versions with `cml-bot models`",
                )
            if current is not None and target.version == current.version:
                raise ConfigError(
                    f"v{target.version} already is '{self.cfg.deploy.alias}'",
                    fix="name another version",
                )
            return target
        if current is None:
            raise NotFoundError(
                f"{name} has no '{self.cfg.deploy.alias}' to roll back from",
                fix="deploy a model first",
            )
        for move in reversed(self.registry.alias_history(self.cfg.deploy.alias)):
            if move.version == current.version and move.previous:
                found = self.registry.get(move.previous)
                if found is not None:
                    return found
        older = [v for v in self.registry.versions() if int(v.version) < int(current.version)]
        if not older:
            raise NotFoundError(
                f"v{current.version} is the first version of {name}: there is "
                "nothing to roll back to",
                fix="deploy a fixed model instead",
            )
        return older[-1]


def version_tags(candidate: Any, pr: int | None) -> dict[str, str]:
    """Tags to add to a version on top of the run's own (the PR it merged from)."""
    tags = {}
    if pr is not None:
        tags[TAG_PREFIX + "pr"] = str(pr)
    if candidate.git.sha:
        tags[TAG_PREFIX + "sha"] = candidate.git.sha
    return tags


def model_dir_of(outcome: Any) -> Path:
    kind_dir = outcome.out_dir / "model"
    return kind_dir if kind_dir.is_dir() else outcome.out_dir / "command-output" / "model"


def _stands_back(sha: str, alias: str, newer: ModelVersion) -> DeployResult:
    """Promotion only moves forward: ``sha`` is not promoted over a champion it does not
    descend from."""
    return DeployResult(
        "superseded",
        f"{sha[:7]} is not a descendant of {newer.sha[:7] if newer.sha else '?'}, the "
        f"commit of '{alias}' v{newer.version}, so it is not promoted over it (promotion "
        "only moves forward). To go back to an older model, use /rollback or "
        "`cml-bot rollback`.",
        previous=newer.version,
    )
