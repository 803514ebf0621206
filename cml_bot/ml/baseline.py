"""Baseline resolution: the champion from the registry, or the base commit retrained, or none.

Whatever the source, the baseline's predictions are on the candidate's evaluation rows:
a champion scored on another evaluation set is re-scored on the current rows.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cml_bot.config import Config, load_config, parse_config
from cml_bot.core import CmlBotError, Progress
from cml_bot.core import git as gitinfo
from cml_bot.ml import evaluation as ev
from cml_bot.ml.evaluation import Evaluation, load_predictions
from cml_bot.ml.pipeline import Outcome, score_registered, train_candidate, typed_params
from cml_bot.registry import ModelVersion, Registry, Tracker

# Which parts of the base commit's config describe its *model*; everything else (data, split,
# seed, metrics) comes from the candidate's config, so both are scored on the same rows.
MODEL_FIELDS = ("estimator", "params", "command", "features", "timeout")


@dataclass
class Baseline:
    """The resolved baseline: its outcome (None when there is none) and what the report says."""

    mode: str  # "champion" | "base" | "none"
    outcome: Outcome | None
    ref: str | None = None  # the alias or the git ref
    sha: str | None = None
    version: ModelVersion | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.mode == "champion" and self.version is not None:
            return f"champion v{self.version.version}"
        if self.mode == "base":
            return f"base {self.ref}" if self.ref else "base commit"
        return "none"


def resolve(
    cfg: Config,
    candidate: Outcome,
    *,
    mode: str | None,
    registry: Registry,
    tracker: Tracker,
    base_ref: str | None,
    out_dir: Path,
    progress: Progress,
) -> Baseline:
    """The baseline for ``candidate`` per ``mode`` (default: the config's ``baseline``);
    ``champion-only`` is the deploy flow's: the champion or nothing, never a retrained base."""
    mode = mode or cfg.baseline
    if mode == "none":
        return Baseline("none", None, notes=["No baseline: `baseline: none` is configured."])
    if mode in ("champion", "champion-only"):
        chosen = _champion_or_fallback(
            cfg, candidate, mode, registry, tracker, base_ref, out_dir, progress
        )
        chosen.notes[:0] = [
            f"Ignored in the registry: {why}. Only entries cml-bot made count "
            "(`registry.authors`; docs/reliability.md §7)."
            for why in registry.ignored()
        ]
        return chosen
    return base(
        cfg, candidate, base_ref=base_ref, out_dir=out_dir, tracker=tracker, progress=progress
    )


def _champion_or_fallback(
    cfg: Config,
    candidate: Outcome,
    mode: str,
    registry: Registry,
    tracker: Tracker,
    base_ref: str | None,
    out_dir: Path,
    progress: Progress,
) -> Baseline:
    """The champion; without one, nothing (``champion-only``) or the base commit retrained."""
    found = _champion(cfg, candidate, registry, tracker, out_dir, progress)
    if found is not None:
        return found
    if mode == "champion-only":  # deploys compare with what is in production, or nothing
        return Baseline(
            "none",
            None,
            notes=[
                f"No model is '{cfg.deploy.alias}' yet: this is the first deployment, so only "
                "the absolute gates apply."
            ],
        )
    fallback = base(
        cfg, candidate, base_ref=base_ref, out_dir=out_dir, tracker=tracker, progress=progress
    )
    fallback.notes.insert(
        0,
        f"No '{cfg.deploy.alias}' model is registered yet, so the "
        "baseline is the base commit retrained with the same data and "
        "seed.",
    )
    return fallback


def _champion(
    cfg: Config,
    candidate: Outcome,
    registry: Registry,
    tracker: Tracker,
    out_dir: Path,
    progress: Progress,
) -> Baseline | None:
    alias = cfg.deploy.alias
    with progress.step(f"looking up {cfg.model.name}@{alias}"):
        version: ModelVersion | None = registry.champion(alias)
    if version is None:
        return None
    dest = out_dir / "baseline"
    current = candidate.evaluation.fingerprint
    notes: list[str] = []
    evaluation = None
    if version.fingerprint and version.fingerprint == current:
        evaluation = _stored_evaluation(cfg, registry, version, dest)
    if evaluation is None:
        if version.fingerprint != current:
            notes.append(
                f"The evaluation rows changed since v{version.version} was scored "
                f"(fingerprint {version.fingerprint or 'unknown'} → {current}), so v"
                f"{version.version} was re-scored on the current rows."
            )
        evaluation = score_registered(cfg, version, tracker, dest, progress, registry=registry)
    size = version.metrics.get("model_size_bytes")
    evaluation.model_size_bytes = int(size) if size is not None else None
    outcome = Outcome(
        role="baseline",
        out_dir=dest,
        evaluation=evaluation,
        params=typed_params(version.params),
        kind=version.kind,
        source=f"champion v{version.version}",
    )
    outcome.git = gitinfo.GitInfo(sha=version.sha, pr=version.pr)
    outcome.data_summary = {"evaluation": version.data} if version.data else {}
    return Baseline("champion", outcome, ref=alias, sha=version.sha, version=version, notes=notes)


def _stored_evaluation(
    cfg: Config, registry: Registry, version: ModelVersion, dest: Path
) -> Evaluation | None:
    """The champion's own predictions on these very rows, with its recorded latency (no load)."""
    path = registry.download_predictions(version, dest)
    if path is None:
        return None
    preds = load_predictions(path, cfg.model.task)
    return ev.Evaluation(
        predictions=preds,
        metrics=ev.compute_metrics(preds, cfg.evaluate.metrics),
        slices=ev.slice_metrics(preds, cfg.evaluate.metrics),
        fingerprint=version.fingerprint,
        latency_median_ms=version.metrics.get("latency_median_ms"),
        latency_p95_ms=version.metrics.get("latency_p95_ms"),
    )


def default_base_ref(root: Path) -> str:
    """The merge base of HEAD with the default branch (origin's HEAD, else main, else master)."""
    candidates = []
    head = gitinfo.git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root, check=False)
    if head:
        candidates.append(head.removeprefix("refs/remotes/"))
    candidates += ["origin/main", "main", "origin/master", "master"]
    for ref in candidates:
        base = gitinfo.git(["merge-base", "HEAD", ref], root, check=False)
        if base:
            return base
    raise CmlBotError(
        "cannot find the default branch to compare with",
        fix="pass --base REF, or fetch the base branch (actions/checkout with fetch-depth: 0; "
        "docs/troubleshooting.md#shallow-checkout)",
        exit_code=2,
    )


@contextlib.contextmanager
def worktree(root: Path, ref: str) -> Iterator[Path]:
    """A detached git worktree of ``ref``, removed afterwards."""
    top = Path(gitinfo.git(["rev-parse", "--show-toplevel"], root))
    tmp = Path(tempfile.mkdtemp(prefix="cml-bot-base-"))
    path = tmp / "tree"
    gitinfo.git(["worktree", "add", "--detach", "--force", str(path), ref], top)
    try:
        yield path
    finally:
        gitinfo.git(["worktree", "remove", "--force", str(path)], top, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        gitinfo.git(["worktree", "prune"], top, check=False)


def base_config(cfg: Config, base_cfg: Config) -> Config:
    """The candidate's config with the base commit's model (estimator, params, command)."""
    data = cfg.model_dump()
    for key in MODEL_FIELDS:
        data["train"][key] = getattr(base_cfg.train, key)
    for key in ("data",):
        if data["train"][key] and not str(data["train"][key]).startswith("sklearn:"):
            data["train"][key] = str(cfg.resolve(data["train"][key]))
    if data["evaluate"]["data"]:
        data["evaluate"]["data"] = str(cfg.resolve(data["evaluate"]["data"]))
    return parse_config(data, root=base_cfg.root, source="base config")


def base(
    cfg: Config,
    candidate: Outcome,
    *,
    base_ref: str | None,
    out_dir: Path,
    tracker: Tracker,
    progress: Progress,
) -> Baseline:
    """Train the base commit's model in a separate worktree on the candidate's rows."""
    ref = base_ref or default_base_ref(cfg.root)
    sha = gitinfo.git(["rev-parse", ref], cfg.root)
    top = Path(gitinfo.git(["rev-parse", "--show-toplevel"], cfg.root))
    rel_config = cfg.root.resolve().relative_to(top.resolve())
    with progress.step(f"checking out the base {ref} ({sha[:7]})"), worktree(cfg.root, sha) as tree:
        config_file = tree / rel_config / cfg.file_name
        if not config_file.is_file():
            return Baseline(
                "base",
                None,
                ref=ref,
                sha=sha,
                notes=[
                    f"The base commit {sha[:7]} has no {config_file.name}, so there is no baseline "
                    "to compare with."
                ],
            )
        bcfg = base_config(cfg, load_config(config_file))
        try:
            outcome = train_candidate(
                bcfg,
                overrides={},
                out_dir=out_dir / "baseline",
                tracker=tracker,
                git=gitinfo.GitInfo(sha=sha, branch=ref),
                progress=progress,
                role="baseline",
            )
        except CmlBotError as exc:
            return Baseline(
                "base",
                None,
                ref=ref,
                sha=sha,
                notes=[
                    f"The base commit {sha[:7]} could not be trained ({exc.message}), so there is "
                    "no baseline to compare with."
                ],
            )
    outcome.source = f"base {ref}"
    return Baseline("base", outcome, ref=_short_ref(ref, sha), sha=sha)


def _short_ref(ref: str, sha: str) -> str:
    return sha[:7] if ref == sha else ref
