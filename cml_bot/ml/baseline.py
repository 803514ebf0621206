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
from cml_bot.ml import overlap
from cml_bot.ml.data import Dataset, load_dataset
from cml_bot.ml.evaluation import Evaluation, load_predictions
from cml_bot.ml.inputs import libraries_note
from cml_bot.ml.pipeline import Outcome, train_candidate, typed_params
from cml_bot.ml.rows import RowAccount, TrainingRecord, read_record
from cml_bot.ml.scoring import fetch_registered, score_registered
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
    rows: RowAccount | None = None  # the evaluation rows compared and set aside
    fallback: str | None = None  # why the champion gave way to the base commit

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
    ``champion-only`` is the deploy flow's: the champion or nothing, never a retrained base.
    Registry entries the bot did not make, ignored on the way, lead the notes."""
    found = _resolve(cfg, candidate, mode, registry, tracker, base_ref, out_dir, progress)
    why = "Only entries cml-bot made count (`registry.authors`; docs/reliability.md §7)."
    found.notes[:0] = [f"Ignored in the registry: {it}. {why}" for it in registry.ignored()]
    return found


def _resolve(
    cfg: Config,
    candidate: Outcome,
    mode: str | None,
    registry: Registry,
    tracker: Tracker,
    base_ref: str | None,
    out_dir: Path,
    progress: Progress,
) -> Baseline:
    mode = mode or cfg.baseline
    dataset = _dataset(cfg, candidate)

    def retrained() -> Baseline:
        found = base(
            cfg, candidate, base_ref=base_ref, out_dir=out_dir, tracker=tracker, progress=progress
        )
        return _accounted(found, dataset)

    if mode == "none":
        found = Baseline("none", None, notes=["No baseline: `baseline: none` is configured."])
        return _accounted(found, dataset)
    if mode not in ("champion", "champion-only"):
        return retrained()
    champ = _champion(cfg, candidate, dataset, registry, tracker, out_dir, progress, mode)
    if champ is not None and (champ.fallback is None or champ.outcome is not None):
        return champ
    if mode == "champion-only":  # deploys compare with what is in production, or nothing
        return _no_champion(cfg, champ)
    if champ is None:
        fallback = retrained()
        fallback.notes.insert(
            0,
            f"No '{cfg.deploy.alias}' model is registered yet, so the baseline is the base "
            "commit retrained with the same data and seed.",
        )
        return fallback
    return _instead_of(champ, retrained())


def _no_champion(cfg: Config, champ: Baseline | None) -> Baseline:
    """A deploy's baseline when the champion is missing or cannot score these rows: none."""
    why = (
        f"No model is '{cfg.deploy.alias}' yet: this is the first deployment, so only the "
        "absolute gates apply."
        if champ is None
        else f"{champ.label} cannot score these rows ({champ.fallback}); only the absolute gates "
        "apply."
    )
    return Baseline("none", None, notes=[why])


def _instead_of(champ: Baseline, fallback: Baseline) -> Baseline:
    """The retrained base commit standing in for ``champ``, saying why; the training rows that
    changed are still counted against the champion's (what the main branch runs)."""
    reason = str(champ.fallback)
    fallback.fallback = (
        f"{reason[0].upper()}{reason[1:]}, so the baseline is the base commit retrained on the "
        "candidate's split instead."
    )
    fallback.notes.insert(0, fallback.fallback)
    if fallback.rows is not None and champ.rows is not None:
        fallback.rows.training_added = champ.rows.training_added
        fallback.rows.training_removed = champ.rows.training_removed
    return fallback


def _dataset(cfg: Config, candidate: Outcome) -> Dataset | None:
    """The candidate's rows (the built-in trainer's; a training command brings its own)."""
    if candidate.dataset is not None:
        return candidate.dataset
    if cfg.train.command is not None or cfg.train.data is None:
        return None
    return load_dataset(cfg)


def _accounted(found: Baseline, dataset: Dataset | None) -> Baseline:
    """``found`` with its row account: a retrained base uses the candidate's own split."""
    if dataset is not None and found.rows is None:
        record = read_record(found.outcome.out_dir) if found.outcome is not None else None
        found.rows = overlap.account(dataset, record, "the base commit")
        note = overlap.set_aside_note(found.rows, "the base commit")
        if note:
            found.notes.append(note)
    return found


def _champion(
    cfg: Config,
    candidate: Outcome,
    dataset: Dataset | None,
    registry: Registry,
    tracker: Tracker,
    out_dir: Path,
    progress: Progress,
    mode: str,
) -> Baseline | None:
    alias = cfg.deploy.alias
    with progress.step(f"looking up {cfg.model.name}@{alias}"):
        version: ModelVersion | None = registry.champion(alias)
    if version is None:
        return None
    dest = out_dir / "baseline"
    who = f"champion v{version.version}"
    fetched = fetch_registered(cfg, version, tracker, dest, progress, registry)
    record = read_record(fetched[0])
    notes: list[str] = []
    acc = overlap.account(dataset, record, who) if dataset is not None else None
    found = Baseline("champion", None, ref=alias, sha=version.sha, version=version, rows=acc)
    if record is None and acc is not None:  # a training command's rows are its own business
        notes.append(
            f"{who} has no record of its training rows (registered before cml-bot kept one, or "
            "trained by a command), so rows it was trained on could not be set aside."
        )
    missing = [] if record is None or dataset is None else _missing(record, dataset)
    found.fallback = _why_not(cfg, who, acc, missing)
    unscorable = bool(missing) or (acc is not None and acc.compared == 0)
    if found.fallback is not None and (mode == "champion" or unscorable):
        return found  # the caller retrains the base commit (champion-only: no baseline)
    if found.fallback is not None:  # champion-only: compare on what is left, and say so
        notes.append(f"{found.fallback[0].upper()}{found.fallback[1:]}.")
    if acc is not None:
        note = overlap.set_aside_note(acc, who)
        notes += [note] if note else []
    where = (tracker, registry, fetched, dest)
    found.outcome = _champion_outcome(
        cfg, candidate, version, record, dataset, acc, where, progress, notes
    )
    found.notes = notes + libraries_note(version)  # scored on other versions: say so
    return found


def _missing(record: TrainingRecord, dataset: Dataset) -> list[str]:
    """The recorded input columns the current evaluation rows lack."""
    return [c for c in record.features if c not in dataset.evaluation.columns]


def _why_not(cfg: Config, who: str, acc: RowAccount | None, missing: list[str]) -> str | None:
    """Why the champion cannot be the baseline here (None: it can)."""
    if missing:
        return f"{who} needs input column(s) {', '.join(missing)}, which the data no longer has"
    if acc is not None and acc.unmatched:
        return acc.unmatched
    if acc is not None and acc.baseline_trained_on and acc.compared < cfg.evaluate.min_rows:
        return (
            f"{acc.baseline_trained_on} of the {acc.evaluation} evaluation rows were set aside "
            f"because {who} was trained on them; the {acc.compared} left are fewer than "
            f"evaluate.min_rows ({cfg.evaluate.min_rows})"
        )
    return None


def _champion_outcome(
    cfg: Config,
    candidate: Outcome,
    version: ModelVersion,
    record: TrainingRecord | None,
    dataset: Dataset | None,
    acc: RowAccount | None,
    where: tuple[Tracker, Registry, tuple[Path, str], Path],
    progress: Progress,
    notes: list[str],
) -> Outcome:
    """The champion scored on the rows it was not trained on (its stored predictions when it was
    scored on these very rows), with its own input columns."""
    tracker, registry, fetched, dest = where
    current = candidate.evaluation.fingerprint
    evaluation = None
    if ev.same_rows(version.fingerprint, current):
        evaluation = _stored_evaluation(cfg, registry, version, dest)
    if evaluation is None:
        if current and not ev.same_rows(version.fingerprint, current):
            notes.append(ev.rows_changed(f"v{version.version}", version.fingerprint, current))
        rows = overlap.without_rows(dataset, acc.excluded) if dataset and acc else dataset
        evaluation = score_registered(
            cfg, version, tracker, dest, progress, dataset=rows, registry=registry, fetched=fetched
        )
    size = version.metrics.get("model_size_bytes")
    evaluation.model_size_bytes = int(size) if size is not None else None
    outcome = Outcome(
        role="baseline",
        out_dir=dest,
        evaluation=evaluation,
        params=typed_params(version.params),
        kind=version.kind,
        source=f"champion v{version.version}",
        features=list(record.features) if record else [],
        estimator=record.estimator if record else None,
        model_dir=fetched[0],
    )
    outcome.git = gitinfo.GitInfo(sha=version.sha, pr=version.pr)
    outcome.data_summary = {"evaluation": version.data} if version.data else {}
    return outcome


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
        slices=ev.slice_metrics(preds, cfg.evaluate.metrics, cfg.evaluate.slices),
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
