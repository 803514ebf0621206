"""What the CLI prints: the short texts for a valid config, an outcome, a comparison, a deploy and
the model list. Each function returns the text; the CLI echoes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from cml_bot.core import metrics as metrics

if TYPE_CHECKING:
    from cml_bot.app.deploy import DeployRun
    from cml_bot.app.pr_flow import FlowResult
    from cml_bot.config import Config
    from cml_bot.ml import Outcome
    from cml_bot.registry import ModelVersion


def as_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


def valid_config(path: Path, cfg: Config) -> str:
    return (
        f"{path}: valid (model {cfg.model.name}, {cfg.model.task}, metrics "
        f"{', '.join(cfg.evaluate.metrics)}, baseline {cfg.baseline})"
    )


def outcome(done: Outcome) -> str:
    """`cml-bot train` and `evaluate`: each metric with its direction, the run, the outputs."""
    data = done.to_json()
    rows = [
        (metrics.METRICS[k].label, metrics.METRICS[k].direction, v)
        for k, v in data["metrics"].items()
    ]
    width = max((len(label) for label, _, _ in rows), default=0)
    lines = [
        f"{done.role} ({done.source}) metrics on "
        f"{len(done.evaluation.predictions)} evaluation rows:"
    ]
    lines += [f"  {label:<{width}}  {value:.4f}  ({direction})" for label, direction, value in rows]
    if data.get("run_id"):
        lines.append(f"  MLflow run {data['run_id']}")
    lines.append(f"  outputs in {done.out_dir}")
    return "\n".join(lines)


def comparison(result: FlowResult) -> str:
    """`cml-bot compare`: the verdict, each metric's delta with its interval, failed gates."""
    lines = [f"verdict: {result.verdict}"]
    for m in result.result["metrics"]:
        ci = f"[{m['ci_low']:+.4f}, {m['ci_high']:+.4f}]" if m.get("ci_low") is not None else "n/a"
        delta = f"{m['delta']:+.4f}" if m.get("delta") is not None else "n/a"
        lines.append(
            f"  {m['metric']}: delta {delta} 95% CI {ci}"
            f"{' significant' if m.get('significant') else ''}"
        )
    lines += [f"  failed: {gate['message']}" for gate in result.result["failed_gates"]]
    lines.append(f"report: {result.report_path}")
    return "\n".join(lines)


def deploy_run(done: DeployRun) -> str:
    """`cml-bot deploy`: what happened and, when the gates failed, which."""
    lines = [done.message]
    if done.exit_code and done.flow is not None:
        lines += [f"  failed: {gate.message}" for gate in done.flow.comparison.failed_gates]
    return "\n".join(lines)


def models_json(versions: list[ModelVersion], champion: str | None) -> list[dict[str, object]]:
    return [{**vars(v), "champion": v.version == champion} for v in versions]


def models_table(versions: list[ModelVersion], champion: str | None) -> str:
    """`cml-bot models`: one row per version, the champion starred, a column per metric."""
    from tabulate import tabulate

    names = sorted({m for v in versions for m in v.metrics if m in metrics.METRICS})
    rows = [
        [
            "*" if v.version == champion else "",
            f"v{v.version}",
            (v.sha or "")[:7],
            f"#{v.pr}" if v.pr else "",
            (v.created_at or "")[:16],
            *[f"{v.metrics[m]:.4f}" if m in v.metrics else "" for m in names],
        ]
        for v in versions
    ]
    if not rows:
        return "no versions registered yet"
    return tabulate(
        rows,
        headers=["", "version", "sha", "pr", "created", *[metrics.METRICS[m].label for m in names]],
        tablefmt="simple",
        disable_numparse=True,
    )
