"""Composition of the deploy flows: on a merge (Actions), `cml-bot deploy`/`rollback`/`models`
locally, and the `/deploy` and `/rollback` commands. The logic is in :mod:`cml_bot.deploy`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cml_bot.app.local import (
    DEFAULT_OUT,
    Settings,
    git_info,
    load,
    make_registry,
    make_tracker,
    now,
    param_overrides,
)
from cml_bot.config import Config
from cml_bot.core import EXIT_CONFIG, EXIT_GATE_FAILED, CmlBotError, GitHubError
from cml_bot.core import git as gitinfo

if TYPE_CHECKING:
    from cml_bot.app.actions_env import ScrubbingGitHub
    from cml_bot.app.pr_flow import FlowInputs, FlowResult
    from cml_bot.compare import Comparison
    from cml_bot.deploy import Deployer, DeployResult
    from cml_bot.ml import Outcome
    from cml_bot.registry import ModelVersion, Tracker


@dataclass
class DeployRun:
    outcome: str
    message: str
    flow: FlowResult | None = None
    result: DeployResult | None = None
    exit_code: int = 0


def is_ancestor(root: Path) -> Callable[[str, str], bool]:
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


def deployer_for(
    settings: Settings, *, gh: ScrubbingGitHub | None = None, run_url: str | None = None
) -> tuple[Deployer, Tracker]:
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


def deploy_head(settings: Settings) -> DeployRun:
    """`cml-bot deploy`: the checked-out commit (its PR from ``CML_BOT_PR``), with no GitHub."""
    cfg = load(settings)
    git = git_info(cfg, settings.env)
    if not git.sha:
        raise CmlBotError(
            "`cml-bot deploy` deploys a commit, and this is not a git repository",
            fix="run it inside the repository",
            exit_code=EXIT_CONFIG,
        )
    return deploy(settings, sha=git.sha, pr=git.pr)


def deploy(
    settings: Settings,
    *,
    sha: str,
    pr: int | None,
    gh: ScrubbingGitHub | None = None,
    pr_head: str | None = None,
    run_url: str | None = None,
) -> DeployRun:
    """Evaluate the merged commit (the working tree), compare with the champion, promote on pass.

    ``pr_head``: the merged PR's head; when its tree is the merged tree, the candidate trained
    for it is reused instead of training again.
    """
    from cml_bot.deploy import merged_comment, rejected_comment

    deployer, tracker = deployer_for(settings, gh=gh, run_url=run_url)
    done = _already_deployed(deployer, sha)
    if done is not None:
        return done
    same = _unchanged(deployer, settings, sha)
    if same is not None:
        _Notice(gh, deployer.cfg, sha, pr, run_url).post(
            "success", same.message, lambda: merged_comment(same, None, run_url)
        )
        return DeployRun(same.outcome, same.message, result=same)
    result = _evaluate(
        settings, deployer, tracker, sha=sha, pr=pr, pr_head=pr_head, run_url=run_url
    )
    notice = _Notice(gh, deployer.cfg, sha, pr, run_url)
    if result.comparison.blocks:
        notice.post(
            "failure",
            f"Not deployed: {_why_not(result.comparison)}",
            lambda: rejected_comment(result, run_url),
        )
        return DeployRun(
            "rejected",
            "the merged model failed its gates; not deployed"
            if result.comparison.failed_gates
            else "the merged model's gates are inconclusive on these rows "
            "(verdict.inconclusive); not deployed",
            result,
            exit_code=EXIT_GATE_FAILED,
        )
    promoted = _promote(deployer, result, sha=sha, pr=pr, notice=notice)
    state = "success" if promoted.outcome == "deployed" else "failure"
    notice.post(state, promoted.message, lambda: merged_comment(promoted, result, run_url))
    if promoted.unrecorded:
        raise unrecorded_error(promoted)
    return DeployRun(promoted.outcome, promoted.message, result, promoted)


def _already_deployed(deployer: Deployer, sha: str) -> DeployRun | None:
    """Nothing to do when ``sha`` is deployed already, but finish its record if it was not."""
    done = deployer.already_deployed(sha)
    if done is None:
        return None
    message = f"{deployer.cfg.model.name} {sha[:7]} is already deployed as v{done.version}."
    repaired = deployer.repair_record(sha, done)
    if repaired:
        message += f" Its record was unfinished: {repaired}."
    return DeployRun("already-deployed", message)


def _unchanged(deployer: Deployer, settings: Settings, sha: str) -> DeployResult | None:
    """Nothing to train when ``sha``'s training inputs (config settings, data, code, pins,
    overrides) and library versions are the champion's: the same model again."""
    from cml_bot.deploy import DeployResult
    from cml_bot.ml import inputs_fingerprint, version_changes

    cfg = deployer.cfg
    champion = deployer.registry.champion(cfg.deploy.alias)
    if champion is None or not champion.inputs or not champion.libraries:
        return None  # registered before cml-bot recorded its inputs: train and compare
    current = inputs_fingerprint(cfg, param_overrides(settings))
    if current != champion.inputs or version_changes(champion.libraries):
        return None
    message = (
        f"Unchanged: {sha[:7]} trains {cfg.model.name} from the same config settings, data, "
        f"code and library versions as v{champion.version} (inputs {current}), so nothing was "
        f"trained or registered; v{champion.version} stays '{cfg.deploy.alias}'."
    )
    return DeployResult("unchanged", message, version=champion, previous=champion.version)


def _evaluate(
    settings: Settings,
    deployer: Deployer,
    tracker: Tracker,
    *,
    sha: str,
    pr: int | None,
    pr_head: str | None,
    run_url: str | None,
) -> FlowResult:
    """The merged commit's candidate (trained, or the PR head's reused) against the champion."""
    from cml_bot.app import pr_flow as flow

    cfg = deployer.cfg
    out = settings.out_dir or cfg.root / DEFAULT_OUT
    inputs = flow.FlowInputs(
        overrides=param_overrides(settings),
        baseline_mode="champion-only",
        git=gitinfo.GitInfo(sha=sha, pr=pr),
        run_url=run_url,
    )
    candidate = _reuse_candidate(cfg, tracker, sha, pr_head, out, settings, inputs)
    return flow.run(
        cfg,
        inputs,
        out_dir=out,
        tracker=tracker,
        registry=deployer.registry,
        progress=settings.progress,
        now=now(),
        candidate=candidate,
    )


def _promote(
    deployer: Deployer, result: FlowResult, *, sha: str, pr: int | None, notice: _Notice
) -> DeployResult:
    """Register the candidate and move the champion to it; on failure, say so where people
    look (the champion is where it was) and re-raise."""
    cand = result.candidate
    if cand.run is None:
        raise CmlBotError(
            "the merged model was not logged to MLflow, so it cannot be registered",
            fix="check the tracking store",
        )
    expected = result.baseline.version.version if result.baseline.version else None
    model_uri, tags = _registration(deployer, cand, cand.run.model_uri, pr)
    try:
        return deployer.promote(
            sha=sha,
            run_id=cand.run.run_id,
            model_uri=model_uri,
            tags=tags,
            expected=expected,
            metrics=cand.evaluation.metrics,
            pr=pr,
        )
    except CmlBotError as exc:
        notice.not_deployed(exc)
        raise


def _registration(
    deployer: Deployer, cand: Outcome, model_uri: str, pr: int | None
) -> tuple[str, dict[str, str]]:
    """The model URI and the tags to register ``cand`` with."""
    from cml_bot.deploy import model_dir_of, version_tags
    from cml_bot.ml import run_tags
    from cml_bot.registry import TAG_PREFIX

    tags = version_tags(cand, pr)
    keeps_files = hasattr(deployer.registry, "download_model")
    if not model_uri.startswith(("runs:/", "models:/")) or keeps_files:
        # a registry that keeps files (GitHub Releases) takes the model folder and predictions
        model_uri = str(model_dir_of(cand))
        tags = {**run_tags(deployer.cfg, cand), **tags}  # it has no run to copy them from
        tags[TAG_PREFIX + "predictions"] = str(cand.out_dir / "predictions.csv")
    return model_uri, tags


@dataclass(frozen=True)
class _Notice:
    """Where a merge's outcome is told on GitHub: the deploy status of the merged commit and a
    reply on its pull request. Nothing without a client (local `cml-bot deploy`)."""

    gh: ScrubbingGitHub | None
    cfg: Config
    sha: str
    pr: int | None
    run_url: str | None

    def post(self, state: str, description: str, comment: Callable[[], str]) -> None:
        """The status, then (on a PR) the reply ``comment()``."""
        if self.gh is None:
            return
        _status(self.gh, self.cfg, self.sha, state, description, self.run_url)
        if self.pr is not None:
            self.gh.reply(self.pr, comment())

    def not_deployed(self, exc: CmlBotError) -> None:
        """The promotion failed and the champion is where it was."""
        from cml_bot.deploy import failed_comment

        self.post(
            "failure", f"Not deployed: {exc.message}", lambda: failed_comment(exc, self.run_url)
        )


def unrecorded_error(promoted: DeployResult) -> GitHubError:
    """The promotion stands but GitHub's record of it does not say so yet."""
    return GitHubError(
        f"{promoted.message} The model is deployed, but its GitHub Deployment could not be "
        f"marked success: {promoted.unrecorded}",
        fix="re-run this job once GitHub answers again: it finds the model already deployed and "
        "finishes the record (nothing is deployed twice)",
    )


def _reuse_candidate(
    cfg: Config,
    tracker: Tracker,
    sha: str,
    pr_head: str | None,
    out: Path,
    settings: Settings,
    inputs: FlowInputs,
) -> Outcome | None:
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


def _status(
    gh: ScrubbingGitHub, cfg: Config, sha: str, state: str, description: str, url: str | None
) -> None:
    from cml_bot.bot.publish import status_context

    gh.set_status(sha, f"{status_context(cfg.model.name)}/deploy", state, description, url)


def rollback(
    settings: Settings,
    to: str | None,
    *,
    gh: ScrubbingGitHub | None = None,
    run_url: str | None = None,
) -> DeployResult:
    """Move the champion back (default: to the version before it) and run the deploy hook."""
    rolled = deployer_for(settings, gh=gh, run_url=run_url)[0].rollback(to)
    if rolled.unrecorded:
        raise GitHubError(
            f"{rolled.message} The rollback is done, but its GitHub Deployment could not be "
            f"marked success: {rolled.unrecorded}",
            fix="do not roll back again; the Deployment's status is stale until the next deploy",
        )
    return rolled


def _why_not(cmp: Comparison) -> str:
    if cmp.failed_gates:
        return f"{len(cmp.failed_gates)} gate(s) failed"
    return f"{len(cmp.inconclusive_gates)} gate(s) inconclusive (verdict.inconclusive)"


def models(settings: Settings) -> tuple[list[ModelVersion], str | None]:
    """Every registered version, oldest first, and the champion's version."""
    versions, champion, _ = models_listing(settings)
    return versions, champion


def models_listing(settings: Settings) -> tuple[list[ModelVersion], str | None, list[str]]:
    """:func:`models`, and why each registry entry that is not the bot's was ignored."""
    cfg = load(settings)
    registry = make_registry(cfg, settings.env)
    champion = registry.champion(cfg.deploy.alias)
    versions = registry.versions()
    return versions, champion.version if champion else None, registry.ignored()
