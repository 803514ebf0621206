"""What a comparison produces: the result types of :mod:`cml_bot.compare.engine` and their JSON.

:class:`Comparison` (the verdict, one :class:`MetricRow` per metric with its
:class:`GateResult` list, slice tables, confusion matrices, label mismatches, notes),
:class:`ModelIdentity` (who each side is) and :func:`result_json`, the machine-readable
``result.json`` (NaN written as null). Pure: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cml_bot.compare.formatting import scale_decimals
from cml_bot.stats import LatencyRatio, PairedDelta

Verdict = Literal["pass", "fail", "inconclusive", "no-baseline"]
Rule = Literal["min", "max", "max_drop", "min_improvement", "require", "forbid"]
RowStatus = Literal["pass", "fail", "inconclusive", "none"]
Outcome = Literal["pass", "fail", "inconclusive", "not evaluated"]
Severity = Literal["fail", "warn"]
# The commit status of each verdict; an inconclusive one follows `verdict.inconclusive`
# (INCONCLUSIVE_STATES; "failure" is the default policy's).
STATUS_STATES: dict[str, str] = {
    "pass": "success",
    "no-baseline": "success",
    "fail": "failure",
    "inconclusive": "failure",
}
INCONCLUSIVE_STATES: dict[str, str] = {"fail": "failure", "pending": "pending", "pass": "success"}


@dataclass(frozen=True)
class ModelIdentity:
    """Which model a side of the comparison is, and what the report says about it."""

    role: str  # "baseline" | "candidate"
    kind: str  # "champion" | "base" | "candidate"
    ref: str = ""  # e.g. "main", "champion", a PR branch
    sha: str = ""
    version: str | int | None = None  # registry version
    run_id: str | None = None
    run_url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    model_size_bytes: int | None = None
    latency_median_ms: float | None = None
    latency_p95_ms: float | None = None
    rows: int | None = None  # evaluation rows
    class_balance: dict[str, float] | None = None  # label -> share of the evaluation rows
    columns: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # the model's input columns ([]: unknown)
    estimator: str | None = None  # import path of the estimator class (None: unknown)

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def label(self) -> str:
        """``champion v3``, ``base main``, ``candidate``: who this is, in a few words."""
        if self.kind == "champion":
            return f"champion v{self.version}" if self.version is not None else "champion"
        if self.kind == "base":
            return f"base {self.ref}".strip()
        return self.kind

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "kind": self.kind,
            "ref": self.ref,
            "sha": self.sha,
            "version": self.version,
            "run_id": self.run_id,
            "run_url": self.run_url,
            "params": dict(self.params),
            "model_size_bytes": self.model_size_bytes,
            "latency_median_ms": self.latency_median_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "data": {
                "rows": self.rows,
                "class_balance": self.class_balance,
                "columns": list(self.columns),
            },
            "features": list(self.features),
            "estimator": self.estimator,
        }


@dataclass(frozen=True)
class GateResult:
    metric: str
    rule: Rule
    threshold: float | str | None  # the configured bound, or the required/forbidden change
    # candidate value (min/max), drop (max_drop), gain (min_improvement), delta (require/forbid)
    actual: float | None
    passed: bool | None  # None: not evaluated (no baseline) or inconclusive
    message: str
    inconclusive: bool = False  # the interval straddles the threshold: cannot tell yet
    severity: Severity = "fail"  # "warn": shown, never decides the verdict

    @property
    def status(self) -> Outcome:
        if self.inconclusive:
            return "inconclusive"
        return "not evaluated" if self.passed is None else ("pass" if self.passed else "fail")

    @property
    def failed(self) -> bool:
        """Failed, and decides the verdict (a `warn` gate never does)."""
        return self.passed is False and self.severity == "fail"

    @property
    def undecided(self) -> bool:
        """Inconclusive, and decides the verdict."""
        return self.inconclusive and self.severity == "fail"

    @property
    def warned(self) -> bool:
        """A `warn` gate that failed or could not be decided."""
        return self.severity == "warn" and (self.passed is False or self.inconclusive)

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "rule": self.rule,
            "threshold": self.threshold,
            "actual": self.actual,
            "passed": self.passed,
            "status": self.status,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class MetricRow:
    metric: str  # scorer name
    label: str  # what the report shows
    direction: str  # "higher is better" | "lower is better"
    baseline: float | None  # None: no baseline; NaN: undefined for the baseline
    candidate: float
    delta: PairedDelta | None
    gates: list[GateResult] = field(default_factory=list)
    status: RowStatus = "none"

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "higher is better"

    @property
    def decimals(self) -> int:
        return scale_decimals(self.baseline, self.candidate)


@dataclass(frozen=True)
class SliceRow:
    value: str
    n: int
    candidate: dict[str, float]
    baseline: dict[str, float] | None = None
    deltas: dict[str, PairedDelta] = field(default_factory=dict)  # paired, on this slice's rows
    # after Holm's correction over every slice x metric: +1 better, -1 worse, 0 cannot tell
    verdicts: dict[str, int] = field(default_factory=dict)

    def delta(self, metric: str) -> float | None:
        if self.baseline is None:
            return None
        return self.candidate[metric] - self.baseline[metric]


@dataclass(frozen=True)
class SliceTable:
    column: str
    metrics: list[str]
    rows: list[SliceRow]
    omitted: int = 0  # slice values beyond MAX_SLICE_VALUES (the smallest)


@dataclass(frozen=True)
class ConfusionMatrices:
    """Rows are true labels, columns predicted labels, both in ``labels`` order."""

    labels: list[str]
    candidate: list[list[int]]
    baseline: list[list[int]] | None = None


@dataclass(frozen=True)
class LabelMismatch:
    """Evaluation classes one model does not know (not in its classes) or never predicts."""

    role: str  # "baseline" | "candidate"
    unknown: list[str] = field(default_factory=list)
    never_predicted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    verdict: Verdict
    rows: list[MetricRow]
    failed_gates: list[GateResult]
    notes: list[str]
    slices: list[SliceTable]
    confusion: ConfusionMatrices | None
    baseline_present: bool
    label_mismatch: list[LabelMismatch]
    n_rows: int  # rows the metrics were computed on (the shared rows when there is a baseline)
    candidate_rows: int
    baseline_rows: int | None = None  # rows the baseline brought (None: no baseline given)
    confidence: float = 0.95
    task: str = "classification"
    baseline_problem: str | None = None  # why a given baseline could not be compared
    inconclusive_policy: str = "fail"  # `verdict.inconclusive`: fail | pending | pass
    slice_gates: list[GateResult] = field(default_factory=list)  # `verdict.slice_regression`
    latency: LatencyRatio | None = None  # both models timed together (None: not timed)
    latency_note: str | None = None  # why there is no latency ratio
    latency_gates: list[GateResult] = field(default_factory=list)  # `gates.latency`

    @property
    def gates(self) -> list[GateResult]:
        rows = [g for row in self.rows for g in row.gates]
        return [*rows, *self.slice_gates, *self.latency_gates]

    @property
    def evaluated_gates(self) -> list[GateResult]:
        return [g for g in self.gates if g.passed is not None or g.inconclusive]

    @property
    def inconclusive_gates(self) -> list[GateResult]:
        return [g for g in self.gates if g.undecided]

    @property
    def warned_gates(self) -> list[GateResult]:
        return [g for g in self.gates if g.warned]

    @property
    def status_state(self) -> str:
        """The commit status this comparison sets: success, failure or pending."""
        if self.verdict == "inconclusive":
            return INCONCLUSIVE_STATES.get(self.inconclusive_policy, "failure")
        return STATUS_STATES[self.verdict]

    @property
    def blocks(self) -> bool:
        """Whether the change may not be deployed: a failed gate, or an inconclusive one
        unless `verdict.inconclusive: pass`."""
        return self.status_state != "success"


# -------------------------------------------------------------------------------- result JSON


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, tuples -> lists, keys -> str."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def _row_json(row: MetricRow) -> dict[str, Any]:
    d = row.delta
    return {
        "metric": row.metric,
        "label": row.label,
        "direction": row.direction,
        "baseline": row.baseline,
        "candidate": row.candidate,
        "delta": d.delta if d else None,
        "ci_low": d.ci_low if d else None,
        "ci_high": d.ci_high if d else None,
        "significant": d.significant if d else None,
        "method": d.method if d else None,
        "detectable": d.detectable if d else None,
        "status": row.status,
        "gates": [g.to_json() for g in row.gates],
    }


def _slices_json(tables: Sequence[SliceTable]) -> list[dict[str, Any]]:
    return [
        {
            "column": t.column,
            "omitted": t.omitted,
            "rows": [
                {
                    "value": r.value,
                    "n": r.n,
                    "candidate": r.candidate,
                    "baseline": r.baseline,
                    "delta": {m: [d.delta, d.ci_low, d.ci_high] for m, d in r.deltas.items()},
                    "holm": r.verdicts,
                }
                for r in t.rows
            ],
        }
        for t in tables
    ]


def result_json(
    comparison: Comparison, baseline: ModelIdentity | None, candidate: ModelIdentity, **extra: Any
) -> dict[str, Any]:
    """The machine-readable result (``result.json``, step outputs). NaN is written as null."""
    cmp = comparison
    out: dict[str, Any] = {
        "verdict": cmp.verdict,
        "status": cmp.status_state,
        "inconclusive_policy": cmp.inconclusive_policy,
        "baseline_present": cmp.baseline_present,
        "baseline_problem": cmp.baseline_problem,
        "task": cmp.task,
        "confidence": cmp.confidence,
        "n_rows": cmp.n_rows,
        "candidate_rows": cmp.candidate_rows,
        "baseline_rows": cmp.baseline_rows,
        "metrics": [_row_json(r) for r in cmp.rows],
        "failed_gates": [g.to_json() for g in cmp.failed_gates],
        "inconclusive_gates": [g.to_json() for g in cmp.inconclusive_gates],
        "warned_gates": [g.to_json() for g in cmp.warned_gates],
        "notes": list(cmp.notes),
        "label_mismatch": [
            {"role": m.role, "unknown": m.unknown, "never_predicted": m.never_predicted}
            for m in cmp.label_mismatch
        ],
        "slices": _slices_json(cmp.slices),
        "confusion": None
        if cmp.confusion is None
        else {
            "labels": cmp.confusion.labels,
            "candidate": cmp.confusion.candidate,
            "baseline": cmp.confusion.baseline,
        },
        "latency": None if cmp.latency is None else cmp.latency.to_json(),
        "latency_note": cmp.latency_note,
        "latency_gates": [g.to_json() for g in cmp.latency_gates],
        "baseline": baseline.to_json() if baseline is not None else None,
        "candidate": candidate.to_json(),
    }
    out.update(extra)
    cleaned: dict[str, Any] = _clean(out)
    return cleaned
