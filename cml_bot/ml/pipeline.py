"""The model use cases with no GitHub in them: train+evaluate a candidate, score a registered
model, promote a run. Each writes its outputs to a folder and logs an MLflow run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml_bot.config import Config
from cml_bot.core import DataError, NotFoundError, Progress
from cml_bot.core.git import GitInfo
from cml_bot.ml import evaluation as ev
from cml_bot.ml.data import Dataset, load_dataset
from cml_bot.ml.inputs import inputs_fingerprint, library_versions
from cml_bot.ml.rows import RECORD_FILE
from cml_bot.ml.training import TrainedModel, command_line, train
from cml_bot.registry import TAG_PREFIX, LoggedRun, ModelVersion, Registry, Tracker

RUN_FILE = "run.json"


@dataclass
class Outcome:
    """What one train/evaluate produced, as written to ``out_dir/run.json``."""

    role: str  # "candidate" | "baseline"
    out_dir: Path
    evaluation: ev.Evaluation
    params: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    run: LoggedRun | None = None
    kind: str = "sklearn"
    git: GitInfo = field(default_factory=GitInfo)
    data_summary: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float | None = None
    source: str = ""  # e.g. "trained", "champion v3", "base main@abc123"
    features: list[str] = field(default_factory=list)  # the model's input columns
    estimator: str | None = None  # the built-in trainer's estimator class
    dataset: Dataset | None = field(default=None, repr=False)  # not written: the rows it used
    model_dir: Path | None = None  # not written: the local MLflow model directory, if any

    def to_json(self) -> dict[str, Any]:
        e = self.evaluation
        return {
            "role": self.role,
            "source": self.source,
            "kind": self.kind,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "overrides": {k: _jsonable(v) for k, v in self.overrides.items()},
            "metrics": e.metrics,
            "slices": e.slices,
            "fingerprint": e.fingerprint,
            "latency_median_ms": e.latency_median_ms,
            "latency_p95_ms": e.latency_p95_ms,
            "model_size_bytes": e.model_size_bytes,
            "fit_seconds": self.fit_seconds,
            "run_id": self.run.run_id if self.run else None,
            "model_uri": self.run.model_uri if self.run else None,
            "run_url": self.run.run_url if self.run else None,
            "git": {"sha": self.git.sha, "branch": self.git.branch, "pr": self.git.pr},
            "data": self.data_summary,
            "features": list(self.features),
            "estimator": self.estimator,
        }


def typed_params(raw: dict[str, str]) -> dict[str, Any]:
    """Parameters read back from registry tags (strings) as the scalars they were written from."""
    import yaml

    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        out[key] = parsed if isinstance(parsed, (str, int, float, bool, type(None))) else value
    return out


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def run_tags(cfg: Config, outcome: Outcome) -> dict[str, str]:
    """The ``cml_bot.*`` tags of a run; the registry copies them onto the version it makes."""
    e = outcome.evaluation
    tags = {
        **outcome.git.tags(),
        TAG_PREFIX + "role": outcome.role,
        TAG_PREFIX + "kind": outcome.kind,
        TAG_PREFIX + "model": cfg.model.name,
    }
    if e.fingerprint:
        tags[TAG_PREFIX + "fingerprint"] = e.fingerprint
    tags[TAG_PREFIX + "inputs"] = inputs_fingerprint(cfg, outcome.overrides)
    for lib, version in library_versions(outcome.estimator).items():
        tags[TAG_PREFIX + "lib." + lib] = version
    measured = {
        **e.metrics,
        "latency_median_ms": e.latency_median_ms,
        "latency_p95_ms": e.latency_p95_ms,
        "model_size_bytes": e.model_size_bytes,
    }
    for name, value in measured.items():
        if value is not None:
            tags[TAG_PREFIX + "metric." + name] = repr(float(value))
    for name, value in outcome.params.items():
        tags[TAG_PREFIX + "param." + name] = str(value)[:500]
    summary = json.dumps(outcome.data_summary.get("evaluation", {}), sort_keys=True)
    if len(summary) <= 5000:  # MLflow tag values are bounded; the report just shows n/a then
        tags[TAG_PREFIX + "data"] = summary
    return tags


def finish_evaluation(
    cfg: Config,
    preds: Any,
    out_dir: Path,
    median: float | None,
    p95: float | None,
    size: int | None,
    columns: str | None,
) -> ev.Evaluation:
    """Metrics, slices and the fingerprint (:func:`~cml_bot.ml.evaluation.rows_fingerprint`:
    the rows, and ``columns``, the evaluation rows' values, when cml-bot read them) saved."""
    names = cfg.evaluate.metrics
    result = ev.Evaluation(
        predictions=preds,
        metrics=ev.compute_metrics(preds, names),
        slices=ev.slice_metrics(preds, names, cfg.evaluate.slices),
        latency_median_ms=median,
        latency_p95_ms=p95,
        model_size_bytes=size,
        fingerprint=ev.rows_fingerprint(preds, columns),
    )
    ev.save_predictions(preds, out_dir / "predictions.csv")
    (out_dir / "metrics.json").write_text(json.dumps(result.metrics, indent=2) + "\n")
    return result


def train_candidate(
    cfg: Config,
    *,
    overrides: dict[str, Any],
    out_dir: Path,
    tracker: Tracker | None,
    git: GitInfo,
    progress: Progress,
    role: str = "candidate",
    echo: Any = None,
) -> Outcome:
    """Train with ``train.params`` + overrides, evaluate, save, and log one MLflow run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {**cfg.train.params, **overrides}
    dataset: Dataset | None = None
    if cfg.train.command is None:
        with progress.step(f"loading data ({cfg.train.data})"):
            dataset = load_dataset(cfg)
    label = command_line(cfg, params, out_dir) if cfg.train.command else cfg.estimator
    echo = echo or progress.output(library=cfg.train.command is None)
    with progress.step(f"training {label}"):
        trained = train(cfg, dataset, params, out_dir, echo=echo)
    evaluation = _evaluate_trained(cfg, trained, dataset, out_dir, progress)
    if dataset is not None and trained.model_dir is not None:  # travels with the model
        dataset.training_record(cfg.estimator).write(out_dir, trained.model_dir)
    outcome = Outcome(
        role=role,
        out_dir=out_dir,
        evaluation=evaluation,
        params=trained.params,
        overrides=overrides,
        kind=trained.kind,
        git=git,
        data_summary=dataset.summary if dataset else {},
        fit_seconds=trained.fit_seconds,
        source="trained",
        features=list(dataset.features) if dataset else [],
        estimator=cfg.estimator if trained.kind == "sklearn" else None,
        dataset=dataset,
        model_dir=trained.model_dir,
    )
    if tracker is not None:
        with progress.step(f"logging the run to {tracker.experiment_name}"):
            outcome.run = _log(cfg, tracker, outcome, trained, dataset)
    write_outcome(outcome)
    return outcome


def _evaluate_trained(
    cfg: Config, trained: TrainedModel, dataset: Dataset | None, out_dir: Path, progress: Progress
) -> ev.Evaluation:
    if trained.kind == "sklearn":  # the worker scored the rows and saved the model
        assert dataset is not None and trained.scored is not None and trained.model_dir
        s = trained.scored
        preds = ev.prediction_set(
            dataset, s.pred, s.proba, s.classes, cfg.evaluate.row_columns, cfg.model.task
        )
        return finish_evaluation(
            cfg,
            preds,
            out_dir,
            s.latency_median_ms,
            s.latency_p95_ms,
            ev.dir_size(trained.model_dir),
            dataset.fingerprint(),
        )
    assert trained.predictions_path is not None and trained.model_dir is not None
    preds = ev.load_predictions(trained.predictions_path, cfg.model.task)
    if len(preds) == 0:
        raise DataError(
            f"{trained.predictions_path} has no rows",
            fix="score the evaluation rows and write one line per row",
        )
    tmp = out_dir / "predictions.csv"
    if trained.predictions_path.resolve() != tmp.resolve():
        tmp.write_bytes(trained.predictions_path.read_bytes())
    return finish_evaluation(cfg, preds, out_dir, None, None, ev.dir_size(trained.model_dir), None)


def _log(
    cfg: Config, tracker: Tracker, outcome: Outcome, trained: TrainedModel, dataset: Dataset | None
) -> LoggedRun:
    e = outcome.evaluation
    metrics = dict(e.metrics)
    for key, value in (
        ("latency_median_ms", e.latency_median_ms),
        ("latency_p95_ms", e.latency_p95_ms),
        ("model_size_bytes", e.model_size_bytes),
    ):
        if value is not None:
            metrics[key] = float(value)
    # The model directory the worker (or the command) wrote, as files: this process never
    # loads the model.
    return tracker.log_run(
        run_name=f"{outcome.role}-{(outcome.git.sha or 'local')[:7]}",
        params=outcome.params,
        metrics=metrics,
        tags=run_tags(cfg, outcome),
        model_dir=trained.model_dir,
        artifacts=[
            outcome.out_dir / name
            for name in ("predictions.csv", "metrics.json", RECORD_FILE)
            if (outcome.out_dir / name).is_file()
        ],
    )


def write_outcome(outcome: Outcome) -> None:
    (outcome.out_dir / RUN_FILE).write_text(json.dumps(outcome.to_json(), indent=2) + "\n")


def read_outcome(out_dir: Path, fix: str | None = None) -> dict[str, Any]:
    """``run.json`` of an output folder; :class:`NotFoundError` with ``fix`` when missing."""
    path = out_dir / RUN_FILE
    if not path.is_file():
        raise NotFoundError(
            f"no {RUN_FILE} in {out_dir}: not an output folder of `cml-bot train` or `evaluate`",
            fix=fix
            or "name folders written by `cml-bot train --out DIR` or `cml-bot evaluate --out DIR`",
        )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def promote(
    cfg: Config,
    registry: Registry,
    *,
    run_id: str,
    model_uri: str,
    tags: dict[str, str],
    expected: str | None,
    progress: Progress,
    reason: str = "",
) -> ModelVersion:
    """Register the run's model and move the champion alias to it (compare-and-set).

    If moving the alias fails, the new version stays registered but unaliased: the champion is
    untouched, so nothing is half-promoted.
    """
    with progress.step(f"registering {cfg.model.name}"):
        version = registry.register(run_id=run_id, model_uri=model_uri, tags=tags)
    with progress.step(f"moving '{cfg.deploy.alias}' to v{version.version}"):
        registry.move_alias(cfg.deploy.alias, version.version, expected=expected, reason=reason)
    return version


def load_outcome(out_dir: Path, cfg: Config) -> Outcome:
    """An outcome back from a ``cml-bot train``/``evaluate`` folder (run.json + predictions)."""
    data = read_outcome(out_dir)
    preds = ev.load_predictions(out_dir / "predictions.csv", cfg.model.task)
    e = ev.Evaluation(
        predictions=preds,
        metrics=ev.compute_metrics(preds, cfg.evaluate.metrics),
        slices=ev.slice_metrics(preds, cfg.evaluate.metrics, cfg.evaluate.slices),
        latency_median_ms=data.get("latency_median_ms"),
        latency_p95_ms=data.get("latency_p95_ms"),
        model_size_bytes=data.get("model_size_bytes"),
        fingerprint=data.get("fingerprint"),
    )
    git = data.get("git") or {}
    run = None
    if data.get("run_id"):
        run = LoggedRun(
            run_id=data["run_id"],
            model_uri=data.get("model_uri") or "",
            run_url=data.get("run_url"),
            experiment_id="",
        )
    return Outcome(
        role=data.get("role", "candidate"),
        out_dir=out_dir,
        evaluation=e,
        params=data.get("params", {}),
        overrides=data.get("overrides", {}),
        run=run,
        kind=data.get("kind", "sklearn"),
        git=GitInfo(sha=git.get("sha"), branch=git.get("branch"), pr=git.get("pr")),
        data_summary=data.get("data", {}),
        fit_seconds=data.get("fit_seconds"),
        source=data.get("source", ""),
        features=list(data.get("features") or []),
        estimator=data.get("estimator"),
    )
