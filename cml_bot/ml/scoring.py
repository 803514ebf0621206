"""Scoring a model that is already trained: a registered version (the champion, ``cml-bot
evaluate``) or the candidate recorded for a commit (``/evaluate``), on the current evaluation
rows, in a worker process with no token or credential."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cml_bot.config import Config
from cml_bot.core import DataError, NotFoundError, Progress, without_credentials
from cml_bot.core.git import GitInfo
from cml_bot.ml import evaluation as ev
from cml_bot.ml import isolation
from cml_bot.ml.data import Dataset, load_dataset
from cml_bot.ml.pipeline import Outcome, finish_evaluation, typed_params
from cml_bot.ml.rows import TrainingRecord, read_record
from cml_bot.registry import TAG_PREFIX, ModelVersion, Registry, Tracker


def fetch_registered(
    cfg: Config,
    version: ModelVersion,
    tracker: Tracker,
    out_dir: Path,
    progress: Progress,
    registry: Registry | None = None,
) -> tuple[Path, str]:
    """The version's model directory downloaded into ``out_dir/registered``, and its URI."""
    from cml_bot import registry as tracking

    out_dir.mkdir(parents=True, exist_ok=True)
    with progress.step(f"loading {cfg.model.name} v{version.version}"):
        uri = version.model_uri
        if registry is not None:
            uri = registry.model_location(version, out_dir / "registered")
        local = tracking.download_model(uri, tracker.tracking_uri, out_dir / "registered")
    return local, uri


def own_inputs(dataset: Dataset, record: TrainingRecord | None, who: str) -> Dataset:
    """``dataset`` with the input columns ``record`` says the model was trained with."""
    if record is None or not record.features or record.features == dataset.features:
        return dataset
    missing = [c for c in record.features if c not in dataset.evaluation.columns]
    if missing:
        raise DataError(
            f"{who} was trained with column(s) {missing!r} that the evaluation data no longer has",
            fix="keep those columns in the data while that model is the baseline, or compare "
            "with the base commit (baseline: base)",
        )
    return dataclasses.replace(dataset, features=list(record.features))


def score_registered(
    cfg: Config,
    version: ModelVersion,
    tracker: Tracker,
    out_dir: Path,
    progress: Progress,
    dataset: Dataset | None = None,
    registry: Registry | None = None,
    fetched: tuple[Path, str] | None = None,
) -> ev.Evaluation:
    """Score a registered model on the current evaluation rows, with the input columns it was
    trained with (its ``train_rows.json``; without one, the current config's).

    This process (it holds the credentials) fetches the model into ``out_dir/registered``: a
    registry that keeps models as files (the GitHub Releases backend) downloads the version,
    MLflow's ``models:/`` and ``runs:/`` URIs are downloaded. A worker process with no token or
    credential loads it (scikit-learn models: skops with a fixed allow-list) and scores it."""
    if dataset is None:
        if cfg.train.data is None and cfg.evaluate.data is None:
            raise DataError(
                f"cannot rescore v{version.version}: no evaluation data configured",
                fix="set evaluate.data so cml-bot can score registered models",
            )
        dataset = load_dataset(cfg)
    if fetched is None:
        fetched = fetch_registered(cfg, version, tracker, out_dir, progress, registry)
    local, _ = fetched
    dataset = own_inputs(dataset, read_record(local), f"v{version.version}")
    with progress.step(f"scoring v{version.version} on {len(dataset.evaluation)} rows"):
        scored = isolation.score(
            cfg,
            local,
            kind=version.kind,
            label=without_credentials(version.model_uri),
            dataset=dataset,
            echo=progress.output(library=True),
        )
        preds = ev.prediction_set(
            dataset,
            scored.pred,
            scored.proba,
            scored.classes,
            cfg.evaluate.row_columns,
            cfg.model.task,
        )
    return finish_evaluation(
        cfg,
        preds,
        out_dir,
        scored.latency_median_ms,
        scored.latency_p95_ms,
        None,
        dataset.fingerprint(),
    )


def recorded_candidate(
    cfg: Config, tracker: Tracker, sha: str, out: Path, progress: Progress
) -> Outcome:
    """The candidate already trained for ``sha`` (``/evaluate``: score it again, no training)."""
    from cml_bot.registry import find_candidate

    found = find_candidate(tracker, sha)
    if found is None:
        raise NotFoundError(
            f"no trained candidate for {sha[:7]} is recorded in "
            f"{without_credentials(tracker.tracking_uri)}",
            fix="comment /retrain to train one (an embedded store does not outlive the job: set "
            "registry.tracking_uri to a team MLflow server to keep candidates between runs)",
        )
    run, tags = found
    version = ModelVersion(
        name=cfg.model.name,
        version=run.run_id[:8],
        model_uri=run.model_uri,
        run_id=run.run_id,
        sha=sha,
        kind=tags.get(TAG_PREFIX + "kind", "sklearn"),
    )
    dataset = load_dataset(cfg) if cfg.train.data is not None or cfg.evaluate.data else None
    fetched = fetch_registered(cfg, version, tracker, out / "candidate", progress)
    evaluation = score_registered(
        cfg, version, tracker, out / "candidate", progress, dataset=dataset, fetched=fetched
    )
    prefix = TAG_PREFIX + "param."
    params = typed_params({k[len(prefix) :]: v for k, v in tags.items() if k.startswith(prefix)})
    return Outcome(
        role="candidate",
        out_dir=out / "candidate",
        evaluation=evaluation,
        params=params,
        run=run,
        kind=version.kind,
        git=GitInfo(sha=sha),
        source=f"run {run.run_id[:8]}",
        dataset=dataset,  # the rows, and the model directory, to time it with the baseline
        model_dir=fetched[0],
    )
