"""The pull-request flow with no GitHub in it: train the candidate, resolve the baseline, compare,
render. ``cml-bot run --local`` prints its report; the Action publishes it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot import ml as bl
from cml_bot.compare import Comparison, ModelIdentity, compare, regate, result_json
from cml_bot.config import Config, Gate
from cml_bot.core import Progress
from cml_bot.core.git import GitInfo
from cml_bot.ml import Outcome, train_candidate
from cml_bot.report import DataChanges, ReportContext, load_template, render_report

if TYPE_CHECKING:
    from cml_bot.registry import Registry, Tracker

REPORT_FILE = "report.md"
RESULT_FILE = "result.json"
COMMAND_USAGE = {
    "retrain": "/retrain [key=value ...]",
    "evaluate": "/evaluate",
    "deploy": "/deploy",
    "rollback": "/rollback [vN]",
    "help": "/help",
}


@dataclass
class FlowResult:
    comparison: Comparison
    report: str
    result: dict[str, Any]
    candidate: Outcome
    baseline: bl.Baseline
    report_path: Path
    result_path: Path
    gates_from: str = ""  # the branch whose gates decided the verdict ("": the run's own)

    @property
    def verdict(self) -> str:
        return self.comparison.verdict


@dataclass
class FlowInputs:
    """What the caller knows about this run beyond the config."""

    overrides: dict[str, Any] = field(default_factory=dict)
    git: GitInfo = field(default_factory=GitInfo)
    baseline_mode: str | None = None  # default: the config's `baseline`
    base_ref: str | None = None
    notes: list[str] = field(default_factory=list)  # extra report notes (who asked, staleness)
    run_url: str | None = None  # the workflow run
    candidate_ref: str = ""  # the PR branch, for the report
    gates_from: str = ""  # the default branch whose gates the config carries ("": its own)
    own_gates: dict[str, Gate] | None = None  # the pull request's own gates, when they differ


def identity(
    outcome: Outcome | None, role: str, kind: str, ref: str = "", version: str | None = None
) -> ModelIdentity | None:
    if outcome is None:
        return None
    e = outcome.evaluation
    data = outcome.data_summary.get("evaluation", {})
    return ModelIdentity(
        role=role,
        kind=kind,
        ref=ref,
        sha=outcome.git.sha or "",
        version=version,
        run_id=outcome.run.run_id if outcome.run else None,
        run_url=outcome.run.run_url if outcome.run else None,
        params=dict(outcome.params),
        model_size_bytes=e.model_size_bytes,
        latency_median_ms=e.latency_median_ms,
        latency_p95_ms=e.latency_p95_ms,
        rows=data.get("rows", len(e.predictions)),
        class_balance=data.get("class_balance"),
        columns=list(data.get("columns", [])),
        features=list(outcome.features),
        estimator=outcome.estimator,
    )


def commands_help(cfg: Config) -> list[tuple[str, str, str]]:
    cmds = cfg.commands
    specs = {
        "retrain": cmds.retrain,
        "evaluate": cmds.evaluate,
        "deploy": cmds.deploy,
        "rollback": cmds.rollback,
        "help": cmds.help,
    }
    out: list[tuple[str, str, str]] = []
    for verb, spec in specs.items():
        usage = COMMAND_USAGE[verb]
        if verb == "retrain" and spec.params:
            usage = f"/retrain {' '.join(f'{p}=…' for p in spec.params)}"
        out.append((verb, usage, spec.permission))
    return out


def run(
    cfg: Config,
    inputs: FlowInputs,
    *,
    out_dir: Path,
    tracker: Tracker,
    registry: Registry,
    progress: Progress,
    now: datetime,
    candidate: Outcome | None = None,
) -> FlowResult:
    """Candidate (trained unless given), baseline, comparison, report; ``report.md`` and
    ``result.json`` in ``out_dir``."""
    if candidate is None:
        if tracker is not None:
            tracker.ensure_store()  # a dead tracking server fails before training, not after
        candidate = train_candidate(
            cfg,
            overrides=inputs.overrides,
            out_dir=out_dir / "candidate",
            tracker=tracker,
            git=inputs.git,
            progress=progress,
        )
    base = bl.resolve(
        cfg,
        candidate,
        mode=inputs.baseline_mode,
        registry=registry,
        tracker=tracker,
        base_ref=inputs.base_ref,
        out_dir=out_dir,
        progress=progress,
    )
    return finish(cfg, candidate, base, inputs, out_dir=out_dir, progress=progress, now=now)


def finish(
    cfg: Config,
    candidate: Outcome,
    base: bl.Baseline,
    inputs: FlowInputs,
    *,
    out_dir: Path,
    progress: Progress,
    now: datetime,
) -> FlowResult:
    """Compare, render, and write ``report.md`` and ``result.json``."""
    timing = bl.time_together(cfg, candidate, base, progress)  # both models, one process
    with progress.step("comparing with paired statistics"):
        comparison = _compare(cfg, candidate, base, timing)
    own = regate(comparison, inputs.own_gates) if inputs.own_gates is not None else None
    cand_id, base_id = _identities(candidate, base, inputs)
    ctx = _report_context(cfg, base, inputs, cand_id, base_id, now)
    if own is not None:
        ctx.notes.append(_own_gates_note(comparison.verdict, own.verdict, inputs.gates_from))
    with progress.step("rendering the report"):
        text = render_report(
            comparison,
            ctx,
            template_text=load_template(cfg.report.template, root=cfg.root),
            max_chars=cfg.report.max_chars,
        )
    result = result_json(
        comparison,
        base_id,
        cand_id,
        model=cfg.model.name,
        baseline_mode=base.mode,
        generated_at=now.isoformat(),
        model_uri=candidate.run.model_uri if candidate.run else None,
    )
    result["rows"] = _rows_json(base)
    result["gates_from"] = inputs.gates_from or None
    result["own_gates_verdict"] = own.verdict if own is not None else None
    report_path, result_path = _write(out_dir, text, result)
    return FlowResult(
        comparison=comparison,
        report=text,
        result=result,
        candidate=candidate,
        baseline=base,
        report_path=report_path,
        result_path=result_path,
        gates_from=inputs.gates_from,
    )


def _own_gates_note(verdict: str, own: str, branch: str) -> str:
    return (
        f"This pull request changes the gates. The status uses the gates of {branch}: "
        f"{verdict}. With the pull request's own gates the verdict would be: {own}."
    )


def _rows_json(base: bl.Baseline) -> dict[str, Any] | None:
    """The evaluation rows compared and set aside (``result.json``'s ``rows``)."""
    if base.rows is None:
        return None
    return {**base.rows.to_json(), "fallback": base.fallback}


def _compare(cfg: Config, candidate: Outcome, base: bl.Baseline, timing: bl.Timing) -> Comparison:
    """The comparison on the evaluation rows neither model was trained on."""
    excluded = base.rows.excluded if base.rows is not None else set()
    return compare(
        bl.kept(candidate.evaluation.predictions, excluded),
        bl.kept(base.outcome.evaluation.predictions, excluded) if base.outcome else None,
        metrics=cfg.evaluate.metrics,
        gates=cfg.gates,
        confidence=cfg.evaluate.confidence,
        seed=cfg.train.seed,
        n_resamples=cfg.evaluate.n_resamples,
        slices=cfg.evaluate.slices,
        inconclusive=cfg.verdict.inconclusive,
        group_column=cfg.evaluate.group_column,
        slice_regression=cfg.verdict.slice_regression,
        latency=timing.ratio,
        latency_note=timing.note,
    )


def _identities(
    candidate: Outcome, base: bl.Baseline, inputs: FlowInputs
) -> tuple[ModelIdentity, ModelIdentity | None]:
    """The candidate's and the baseline's identity cards (no baseline: None)."""
    cand_id = identity(
        candidate, "candidate", "candidate", ref=inputs.candidate_ref or (inputs.git.branch or "")
    )
    assert cand_id is not None
    base_id = identity(
        base.outcome,
        "baseline",
        base.mode,
        ref=base.ref or "",
        version=base.version.version if base.version else None,
    )
    return cand_id, base_id


def _report_context(
    cfg: Config,
    base: bl.Baseline,
    inputs: FlowInputs,
    cand_id: ModelIdentity,
    base_id: ModelIdentity | None,
    now: datetime,
) -> ReportContext:
    changes = _data_changes(base, cand_id, base_id)
    notes = [*base.notes, *inputs.notes]
    if inputs.overrides:
        shown = ", ".join(f"{k}={v}" for k, v in inputs.overrides.items())
        notes.append(f"Parameters overridden for this run: {shown}.")
    return ReportContext(
        model_name=cfg.model.name,
        baseline=base_id,
        candidate=cand_id,
        generated_at=now,
        baseline_note=base.label,
        data_changes=changes,
        notes=notes,
        run_url=inputs.run_url,
        commands=commands_help(cfg),
    )


def _data_changes(
    base: bl.Baseline, cand_id: ModelIdentity, base_id: ModelIdentity | None
) -> DataChanges:
    """The identities' data changes, with the training rows and the rows compared."""
    changes = DataChanges.between(base_id, cand_id)
    if base.rows is None:
        return changes
    return dataclasses.replace(
        changes,
        training_added=base.rows.training_added,
        training_removed=base.rows.training_removed,
        rows_compared=base.rows.compared,
        rows_set_aside=len(base.rows.excluded),
    )


def _write(out_dir: Path, report: str, result: dict[str, Any]) -> tuple[Path, Path]:
    """``report.md`` and ``result.json`` in ``out_dir``, created if need be."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path, result_path = out_dir / REPORT_FILE, out_dir / RESULT_FILE
    report_path.write_text(report, encoding="utf-8")
    result_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report_path, result_path
