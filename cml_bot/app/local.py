"""Composition root: builds the adapters from settings and runs the use cases.

The CLI calls these functions; they return data and raise :class:`~cml_bot.core.errors.CmlBotError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot.config import Config, apply_overrides, edit_params, load_config
from cml_bot.core import ConfigError, NotFoundError, Progress, utc_now, without_credentials
from cml_bot.core import git as gitinfo

if TYPE_CHECKING:  # the flow, the models and the registries load pandas, sklearn and MLflow
    from datetime import datetime

    from cml_bot.app.pr_flow import FlowResult
    from cml_bot.ml import Outcome
    from cml_bot.registry import ModelVersion, Registry, Tracker

DEFAULT_OUT = Path(".cml-bot") / "out"
OUTPUT_LOG = Path(".cml-bot") / "output.log"  # library warnings of the worker, next to the config
EVALUATE_DIR = "evaluate"  # `cml-bot evaluate`'s default folder under DEFAULT_OUT: not train's


@dataclass
class Settings:
    config_path: Path = Path("cml-bot.yaml")
    overrides: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    quiet: bool = False

    @property
    def progress(self) -> Progress:
        """Progress lines; library output to OUTPUT_LOG, but in the Actions log inside Actions
        (the job's files are gone when it ends)."""
        actions = self.env.get("GITHUB_ACTIONS") == "true"
        log = None if actions else self.config_path.parent / OUTPUT_LOG
        return Progress(quiet=self.quiet, log=log)


def load(settings: Settings) -> Config:
    """The config with dotted overrides (``evaluate.test_size=0.3``), an estimator switch
    (``estimator=...``) and parameter removals (``-name``) applied and re-validated.

    Other bare keys are estimator parameters (:func:`param_overrides`); they are applied by the
    trainer and recorded, and checked against the estimator's own parameters there.
    """
    cfg = load_config(settings.config_path)
    dotted = {k: v for k, v in settings.overrides.items() if "." in k}
    return edit_params(apply_overrides(cfg, dotted), settings.overrides)[0]


def param_overrides(settings: Settings) -> dict[str, Any]:
    """The parameter values of ``--set`` (not the estimator, a removal or a dotted field)."""
    return {
        k: v
        for k, v in settings.overrides.items()
        if "." not in k and k != "estimator" and not k.startswith("-")
    }


def out_dir(settings: Settings, cfg: Config, role: str = "candidate") -> Path:
    base = settings.out_dir or cfg.root / DEFAULT_OUT
    return base / role if role != "candidate" or settings.out_dir is None else base


def make_tracker(cfg: Config, env: Mapping[str, str]) -> Tracker:
    from cml_bot.registry import Tracker, default_tracking_uri

    uri = default_tracking_uri(cfg.registry.tracking_uri, env, cfg.root)
    return Tracker(uri, cfg.model.name, cfg.root)


def registry_backend(cfg: Config, env: Mapping[str, str]) -> str:
    """``auto``: mlflow when a tracking URI is configured, github inside Actions, else the
    embedded store (mlflow on local SQLite)."""
    if cfg.registry.backend != "auto":
        return cfg.registry.backend
    if cfg.registry.tracking_uri or env.get("MLFLOW_TRACKING_URI"):
        return "mlflow"
    return "github" if env.get("GITHUB_ACTIONS") == "true" else "mlflow"


def make_registry(cfg: Config, env: Mapping[str, str], tracker: Tracker | None = None) -> Registry:
    if registry_backend(cfg, env) == "github":
        from cml_bot.github import GitHubClient
        from cml_bot.registry import GitHubRegistry

        token = env.get("CML_BOT_GITHUB_TOKEN") or env.get("GITHUB_TOKEN")
        repository = env.get("GITHUB_REPOSITORY")
        if not token or not repository:
            raise ConfigError(
                "registry.backend 'github' keeps models in this repository's Releases and needs "
                "GITHUB_REPOSITORY and a token",
                fix="run inside GitHub Actions with `github-token`, or set registry.backend: "
                "mlflow (with registry.tracking_uri for a team server)",
            )
        api = env.get("GITHUB_API_URL") or "https://api.github.com"
        client = GitHubClient(token, repository, api_url=api)
        return GitHubRegistry(client, cfg.model.name, cfg.registry.authors)
    from cml_bot.registry import MlflowRegistry

    return MlflowRegistry(tracker or make_tracker(cfg, env))


def validate(path: Path) -> Config:
    return load_config(path)


def git_info(cfg: Config, env: Mapping[str, str]) -> gitinfo.GitInfo:
    info = gitinfo.read(cfg.root)
    pr = env.get("CML_BOT_PR")
    if pr and pr.isdigit():
        info = gitinfo.GitInfo(sha=info.sha, branch=info.branch, pr=int(pr), dirty=info.dirty)
    return info


def train(settings: Settings, *, log: bool = True) -> Outcome:
    from cml_bot.ml import train_candidate

    cfg = load(settings)
    tracker = make_tracker(cfg, settings.env) if log else None
    return train_candidate(
        cfg,
        overrides=param_overrides(settings),
        out_dir=out_dir(settings, cfg),
        tracker=tracker,
        git=git_info(cfg, settings.env),
        progress=settings.progress,
    )


def evaluate(settings: Settings, version: str | None = None) -> Outcome:
    """Score a registered version (default: the champion) on the current evaluation rows."""
    from cml_bot.ml import Outcome, score_registered, write_outcome

    cfg = load(settings)
    tracker = make_tracker(cfg, settings.env)
    registry = make_registry(cfg, settings.env, tracker)
    found = registry.get(version.lstrip("vV")) if version else registry.champion(cfg.deploy.alias)
    if found is None:
        raise _no_version(cfg, registry, version, without_credentials(tracker.tracking_uri))
    dest = settings.out_dir or cfg.root / DEFAULT_OUT / EVALUATE_DIR
    evaluation = score_registered(cfg, found, tracker, dest, settings.progress, registry=registry)
    outcome = Outcome(
        role="baseline",
        out_dir=dest,
        evaluation=evaluation,
        params=dict(found.params),
        kind=found.kind,
        source=f"{cfg.model.name} v{found.version}",
    )
    write_outcome(outcome)
    return outcome


def _no_version(cfg: Config, registry: Registry, version: str | None, store: str) -> NotFoundError:
    """``evaluate``'s error when the version (or the champion) does not exist: what does."""
    what = f"version {version}" if version else f"version behind the '{cfg.deploy.alias}' alias"
    have = [f"v{v.version}" for v in registry.versions()]
    if not have:
        fix = "train and promote a model first (`cml-bot train` then `cml-bot promote`)"
    elif version:
        fix = f"name one of its versions: {', '.join(have)} (`cml-bot models` lists them)"
    else:
        fix = f"promote one of its versions ({', '.join(have)}), or pass --version vN"
    return NotFoundError(f"{cfg.model.name} has no {what} in {store}", fix=fix)


def promote(settings: Settings, run_id: str | None = None) -> ModelVersion:
    """Register a run's model (default: the last ``cml-bot train`` output) and move the alias."""
    from cml_bot.ml import promote as do_promote
    from cml_bot.ml import read_outcome

    cfg = load(settings)
    tracker = make_tracker(cfg, settings.env)
    registry = make_registry(cfg, settings.env, tracker)
    if run_id is None:
        fix = "run `cml-bot train` (into --out DIR if you pass it), or pass --run-id"
        folder = out_dir(settings, cfg)
        run_id = _trained_run_id(folder, read_outcome(folder, fix))
    current = registry.champion(cfg.deploy.alias)
    return do_promote(
        cfg,
        registry,
        run_id=run_id,
        model_uri=f"runs:/{run_id}/model",
        tags={},
        expected=current.version if current else None,
        progress=settings.progress,
        reason="cml-bot promote",
    )


def _trained_run_id(folder: Path, run: dict[str, Any]) -> str:
    """The run ``cml-bot train`` logged into ``folder``; why not, when it holds none."""
    if run.get("source", "trained") != "trained":
        raise ConfigError(
            f"{folder} holds `cml-bot evaluate`'s scoring of {run['source']}, not a training "
            "run: there is no new model in it to register",
            fix="promote the folder `cml-bot train` wrote (its --out; default "
            f"{DEFAULT_OUT / 'candidate'}), or pass --run-id; `cml-bot evaluate` writes to "
            f"{DEFAULT_OUT / EVALUATE_DIR} unless given --out",
        )
    run_id = run.get("run_id")
    if not run_id:
        raise NotFoundError(
            "the last training run was not logged to MLflow",
            fix="run `cml-bot train` without --no-log, then promote",
        )
    return str(run_id)


def now() -> datetime:
    return utc_now()


def run_local(
    settings: Settings, *, base_ref: str | None = None, baseline_mode: str | None = None
) -> FlowResult:
    """The whole PR flow on a working tree with no GitHub: candidate, baseline, comparison."""
    from cml_bot.app import pr_flow as flow

    cfg = load(settings)
    tracker = make_tracker(cfg, settings.env)
    registry = make_registry(cfg, settings.env, tracker)
    git = git_info(cfg, settings.env)
    _need_git(cfg, registry, git, baseline_mode or cfg.baseline)
    inputs = flow.FlowInputs(
        overrides=param_overrides(settings),
        git=git,
        baseline_mode=baseline_mode,
        base_ref=base_ref,
        candidate_ref=git.branch or "working tree",
    )
    loose = gitinfo.untracked(cfg.root / cfg.file_name) if git.sha else False
    if git.dirty or loose:
        why = f" ({cfg.file_name} is untracked: in no commit)" if loose else ""
        inputs.notes.append(
            f"The candidate was trained from a working tree with uncommitted changes{why}."
        )
    out = settings.out_dir or cfg.root / DEFAULT_OUT
    return flow.run(
        cfg,
        inputs,
        out_dir=out,
        tracker=tracker,
        registry=registry,
        progress=settings.progress,
        now=now(),
    )


def _need_git(cfg: Config, registry: Registry, git: gitinfo.GitInfo, mode: str) -> None:
    """Before training: a baseline from the base commit needs a git repository (checked first,
    as `deploy` does, rather than after the candidate is trained)."""
    if git.sha or mode == "none":
        return
    if mode == "champion" and registry.champion(cfg.deploy.alias) is not None:
        return
    raise ConfigError(
        f"`cml-bot run --local` retrains the base commit as the baseline"
        f"{' (there is no champion yet)' if mode == 'champion' else ''}, and {cfg.root} is not "
        "in a git repository",
        fix="run it inside your repository (`git init` and a first commit), or pass "
        "--baseline none to see the candidate alone",
    )


def compare_dirs(settings: Settings, baseline_dir: Path, candidate_dir: Path) -> FlowResult:
    """Compare two output folders of `cml-bot train`/`evaluate`; write report.md + result.json."""
    from cml_bot.app import pr_flow as flow
    from cml_bot.ml import Baseline, load_outcome

    cfg = load(settings)
    cand = load_outcome(candidate_dir, cfg)
    base = load_outcome(baseline_dir, cfg)
    baseline = Baseline("base", base, ref=base.source or str(baseline_dir), sha=base.git.sha)
    inputs = flow.FlowInputs(git=cand.git, candidate_ref=cand.git.branch or "")
    return flow.finish(
        cfg,
        cand,
        baseline,
        inputs,
        out_dir=settings.out_dir or candidate_dir,
        progress=settings.progress,
        now=now(),
    )
