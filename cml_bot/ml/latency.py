"""The candidate and the baseline timed together: one worker process, the same rows, interleaved
rounds (``python -m cml_bot.ml.worker time``), so their latency ratio compares like with like.

Each model's own latency is measured when it is scored, in another process and perhaps another
job or machine: the same model run twice once read -51%. Here both model directories are local
(the candidate's output, the champion's download or the base commit's trained model), and one
worker with no secret loads both (skops with the fixed allow-list, as ``score``), warms each up
and times them in alternating rounds; :func:`cml_bot.stats.latency_ratio` turns the rounds into
the ratio candidate / baseline with an interval. A model cml-bot cannot load itself (a training
command's, or none) gives no ratio and a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot.core import CmlBotError, DataError, Progress
from cml_bot.ml import evaluation as ev
from cml_bot.ml import isolation
from cml_bot.stats import LatencyRatio, latency_ratio

if TYPE_CHECKING:
    from cml_bot.config import Config
    from cml_bot.ml.baseline import Baseline
    from cml_bot.ml.pipeline import Outcome


@dataclass(frozen=True)
class Timing:
    """The latency ratio (None: not timed) and, when there is none, why."""

    ratio: LatencyRatio | None = None
    note: str | None = None


def _loadable(outcome: Outcome, who: str) -> str | None:
    """Why ``outcome``'s model cannot be timed here (None: it can)."""
    if outcome.kind != "sklearn":
        return f"{who} is a training command's model, which cml-bot does not load to time"
    if outcome.model_dir is None or not (outcome.model_dir / "MLmodel").is_file():
        return f"{who} has no local model directory to load"
    return None


def time_together(cfg: Config, candidate: Outcome, base: Baseline, progress: Progress) -> Timing:
    """The latency ratio of ``candidate`` to the baseline, timed together (see the module)."""
    if base.outcome is None:
        return Timing()
    if cfg.evaluate.latency_rounds == 0:
        return Timing(note="Latency ratio not measured: evaluate.latency_rounds is 0.")
    why = _loadable(candidate, "the candidate") or _loadable(base.outcome, base.label)
    dataset = candidate.dataset
    if why is None and dataset is None:
        why = "the candidate's evaluation rows are not known here"
    if why is not None:
        return Timing(note=f"No latency ratio: {why}.")
    assert dataset is not None and candidate.model_dir and base.outcome.model_dir
    cand_features = list(candidate.features or dataset.features)
    base_features = list(base.outcome.features or cand_features)
    columns = list(dict.fromkeys([*cand_features, *base_features]))
    missing = [c for c in columns if c not in dataset.evaluation.columns]
    if missing:
        return Timing(note=f"No latency ratio: the evaluation rows lack {', '.join(missing)}.")
    rows = dataset.evaluation[columns].head(ev.LATENCY_SAMPLE_ROWS)
    job = {
        "candidate": _side(candidate.model_dir, "the candidate", cand_features),
        "baseline": _side(base.outcome.model_dir, base.label, base_features),
        "rows": len(rows),
        "rounds": cfg.evaluate.latency_rounds,
        "packages": list(cfg.registry.trusted_packages),
    }
    what = f"timing the candidate and {base.label} together"
    try:
        with progress.step(f"{what} ({job['rounds']} rounds, {len(rows)} rows)"):
            cand_ms, base_ms, n = isolation.run_worker(
                "time",
                job,
                {isolation.EVAL_FRAME: rows},
                cwd=None,  # the job folder: nothing of the pull request's tree is importable
                allow=cfg.train.env,
                timeout=cfg.train.timeout,
                echo=progress.output(library=True),
                failure=DataError,
                what=what,
                read=_read,
            )
        ratio = latency_ratio(cand_ms, base_ms, confidence=cfg.evaluate.confidence, rows=n)
    except (CmlBotError, ValueError) as exc:
        message = exc.message if isinstance(exc, CmlBotError) else str(exc)
        return Timing(note=f"No latency ratio: {what} failed ({message}).")
    return Timing(ratio=ratio)


def _side(model_dir: Path, label: str, features: list[str]) -> dict[str, Any]:
    return {"model_dir": str(model_dir.resolve()), "label": label, "features": features}


def _read(folder: Path, result: dict[str, Any]) -> tuple[list[float], list[float], int]:
    """The worker's rounds, checked as data: two equal lists of numbers."""
    cand, base, rows = result.get("candidate_ms"), result.get("baseline_ms"), result.get("rows")
    ok = (
        isinstance(cand, list)
        and isinstance(base, list)
        and len(cand) == len(base)
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in [*cand, *base])
        and isinstance(rows, int)
    )
    if not ok:
        raise DataError("the timing worker returned malformed rounds", fix="re-run the job")
    assert isinstance(cand, list) and isinstance(base, list) and isinstance(rows, int)
    return [float(x) for x in cand], [float(x) for x in base], rows
