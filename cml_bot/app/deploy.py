"""Composition of the deploy flows: on a merge (Actions), `cml-bot deploy`/`rollback`/`models`
locally, and the `/deploy` and `/rollback` commands. The logic is in :mod:`cml_bot.deploy`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cml_bot.app.local import (
    DEFAULT_OUT,
    Settings,
    load,
    make_registry,
    make_tracker,
    now,
    param_overrides,
)
from cml_bot.config import Config
from cml_bot.core import EXIT_GATE_FAILED, CmlBotError, GitHubError
from cml_bot.core import git as gitinfo


@dataclass
class DeployRun:
    outcome: str
    message: str
    flow: Any = None
    result: Any = None
    exit_code: int = 0


def is_ancestor(root: Path) -> Any:
    """``check(older, newer)``: is ``older`` an ancestor of ``newer`` in the repository?"""
    import subprocess

    def check(older: str, newer: str) -> bool:
        done = subprocess.run(
            ["git", "merge-base", "--is-ancestor", older, newer],
            cwd=root,
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    return check


def same_tree(root: Path, a: str, b: str) -> bool:
    ta = gitinfo.git(["rev-parse", "--verify", "--quiet", f"{a}^{{tree}}"], root, check=False)
    tb = gitinfo.git(["rev-parse", "--verify", "--quiet", f"{b}^{{tree}}"], root, check=False)
    return bool(ta) and ta == tb


def deployer_for(settings: Settings, *, gh: Any = None, run_url: str | None = None) -> Any:
    """A Deployer on the config's registry (and its tracker), with the repository for ancestry
    checks."""
    from cml_bot.deploy import Deployer

    cfg = load(settings)
    tracker = make_tracker(cfg, settings.env)
    registry = make_registry(cfg, settings.env, tracker)
    deployer = Deployer(
        cfg=cfg,
        registry=registry,
        progress=settings.progress,
        gh=gh,
        run_url=run_url,
        is_ancestor=is_ancestor(cfg.root),
        hook_env=dict(settings.env),
    )
    return deployer, tracker


def deploy(
    settings: Settings,
    *,
    sha: str,
    pr: int | None,
    gh: Any = None,
    pr_head: str | None = None,
    run_url: str | None = None,
) -> DeployRun:
    """Evaluate the merged commit (the working tree), compare with the champion, promote on pass.

    ``pr_head``: the merged PR's head; when its tree is the merged tree, the candidate trained
    for it is reused instead of training again.
    """
    from cml_bot.app import pr_flow as flow
    from cml_bot.deploy import (
        failed_comment,
        merged_comment,
        model_dir_of,
        rejected_comment,
        version_tags,
    )
    from cml_bot.ml import run_tags
    from cml_bot.registry import TAG_PREFIX

    deployer, tracker = deployer_for(settings, gh=gh, run_url=run_url)
    cfg, registry = deployer.cfg, deployer.registry
    done = deployer.already_deployed(sha)
    if done is not None:
        message = f"{cfg.model.name} {sha[:7]} is already deployed as v{done.version}."
        repaired = deployer.repair_record(sha, done)
        if repaired:
            message += f" Its record was unfinished: {repaired}."
        return DeployRun("already-deployed", message)
    out = settings.out_dir or cfg.root / DEFAULT_OUT
    inputs = flow.FlowInputs(
        overrides=param_overrides(settings),
        baseline_mode="champion-only",
        git=gitinfo.GitInfo(sha=sha, pr=pr),
        run_url=run_url,
    )
    candidate = _reuse_candidate(cfg, tracker, sha, pr_head, out, settings, inputs)
    result = flow.run(
        cfg,
        inputs,
        out_dir=out,
        tracker=tracker,
        registry=registry,
        progress=settings.progress,
        now=now(),
        candidate=candidate,
    )
    if result.verdict == "fail":
        if gh is not None:
            _status(
                gh,
                cfg,
                sha,
                "failure",
                f"Not deployed: {len(result.comparison.failed_gates)} gate(s) failed",
                run_url,
            )
            if pr is not None:
                gh.reply(pr, rejected_comment(result, run_url))
        return DeployRun(
            "rejected",
            "the merged model failed its gates; not deployed",
            result,
            exit_code=EXIT_GATE_FAILED,
        )
    cand = result.candidate
    if cand.run is None:
        raise CmlBotError(
            "the merged model was not logged to MLflow, so it cannot be registered",
            fix="check the tracking store",
        )
    expected = result.baseline.version.version if result.baseline.version else None
    model_uri, tags = cand.run.model_uri, version_tags(cand, pr)
    if not model_uri.startswith(("runs:/", "models:/")) or hasattr(registry, "download_model"):
        # a registry that keeps files (GitHub Releases) takes the model folder and predictions
        model_uri = str(model_dir_of(cand))
        tags = {**run_tags(cfg, cand), **tags}  # it has no run to copy them from
        tags[TAG_PREFIX + "predictions"] = str(cand.out_dir / "predictions.csv")
    try:
        promoted = deployer.promote(
            sha=sha,
            run_id=cand.run.run_id,
            model_uri=model_uri,
            tags=tags,
            expected=expected,
            metrics=cand.evaluation.metrics,
            pr=pr,
        )
    except CmlBotError as exc:  # the champion is where it was: say so where people look
        if gh is not None:
            _status(gh, cfg, sha, "failure", f"Not deployed: {exc.message}", run_url)
            if pr is not None:
                gh.reply(pr, failed_comment(exc, run_url))
        raise
    if gh is not None:
        state = "success" if promoted.outcome == "deployed" else "failure"
        _status(gh, cfg, sha, state, promoted.message, run_url)
        if pr is not None:
            gh.reply(pr, merged_comment(promoted, result, run_url))
    if promoted.unrecorded:
        raise unrecorded_error(promoted)
    return DeployRun(promoted.outcome, promoted.message, result, promoted)


def unrecorded_error(promoted: Any) -> GitHubError:
    """The promotion stands but GitHub's record of it does not say so yet."""
    return GitHubError(
        f"{promoted.message} The model is deployed, but its GitHub Deployment could not be "
        f"marked success: {promoted.unrecorded}",
        fix="re-run this job once GitHub answers again: it finds the model already deployed and "
        "finishes the record (nothing is deployed twice)",
    )


def _reuse_candidate(
    cfg: Config,
    tracker: Any,
    sha: str,
    pr_head: str | None,
    out: Path,
    settings: Settings,
    inputs: Any,
) -> Any:
    if not pr_head or pr_head == sha or not same_tree(cfg.root, sha, pr_head):
        return None
    from cml_bot.ml import recorded_candidate

    try:
        candidate = recorded_candidate(cfg, tracker, pr_head, out, settings.progress)
    except CmlBotError:
        return None  # nothing recorded for the head: train the merged commit instead
    inputs.notes.append(
        f"The merged tree is identical to the pull request's head "
        f"{pr_head[:7]}, so its candidate was reused instead of retrained."
    )
    candidate.git = gitinfo.GitInfo(sha=sha, pr=inputs.git.pr)
    return candidate


def _status(gh: Any, cfg: Config, sha: str, state: str, description: str, url: str | None) -> None:
    from cml_bot.bot.publish import status_context

    gh.set_status(sha, f"{status_context(cfg.model.name)}/deploy", state, description, url)


def rollback(
    settings: Settings, to: str | None, *, gh: Any = None, run_url: str | None = None
) -> Any:
    rolled = deployer_for(settings, gh=gh, run_url=run_url)[0].rollback(to)
    if rolled.unrecorded:
        raise GitHubError(
            f"{rolled.message} The rollback is done, but its GitHub Deployment could not be "
            f"marked success: {rolled.unrecorded}",
            fix="do not roll back again; the Deployment's status is stale until the next deploy",
        )
    return rolled


def models(settings: Settings) -> tuple[list[Any], str | None]:
    """Every registered version, oldest first, and the champion's version."""
    cfg = load(settings)
    registry = make_registry(cfg, settings.env)
    champion = registry.champion(cfg.deploy.alias)
    return registry.versions(), champion.version if champion else None
