"""Baseline vs candidate on the same evaluation rows -> metric rows, gate results and a verdict.

Pure: numpy and the statistics in :mod:`cml_bot.stats`; no click, GitHub, MLflow or environment.
A missing or unusable baseline is data (verdict ``no-baseline`` plus a note), never an exception.

Gates (``cml_bot.config.Gate``):

- ``min`` / ``max`` are absolute: they apply to the candidate's value with or without a baseline.
- ``max_drop``, ``require: significant_improvement`` and ``forbid: significant_regression`` are
  relative: without a baseline they are *not evaluated* (``passed is None``), which is neither a
  pass nor a failure.
- A gate on a metric that could not be computed (NaN) fails and says so.

The verdict is ``fail`` when any gate failed, else ``no-baseline`` when there is no comparable
baseline, else ``pass``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cml_bot import metrics as metric_catalogue
from cml_bot import stats
from cml_bot.config import Gate
from cml_bot.predictions import PredictionSet, align
from cml_bot.stats import PairedDelta

Verdict = Literal["pass", "fail", "no-baseline"]
Rule = Literal["min", "max", "max_drop", "require", "forbid"]
RowStatus = Literal["pass", "fail", "none"]

MAX_SLICE_VALUES = 50  # per slice column: the largest slices are kept, the rest counted
MAX_CONFUSION_LABELS = 25  # more classes than this: no confusion matrix (a note says so)
RELATIVE_RULES: tuple[Rule, ...] = ("max_drop", "require", "forbid")
_EPS = 1e-12


# --------------------------------------------------------------------------- number formatting


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def decimals_for(x: float | None, sig: int = 3) -> int:
    """Decimals that show ``x`` with ``sig`` significant digits (0..6)."""
    if x is None or not math.isfinite(x) or x == 0:
        return 0
    exponent = int(f"{abs(x):.{sig - 1}e}".split("e")[1])  # after rounding: 0.0999.. -> 1.0e-01
    return max(0, min(6, sig - 1 - exponent))


def exact_decimals(x: float) -> int:
    """The fewest decimals (0..6) that write ``x`` exactly (for thresholds from the config)."""
    for d in range(7):
        if abs(round(x, d) - x) < 1e-12:
            return d
    return 6


def scale_decimals(*values: float | None) -> int:
    """Decimals for a metric's values: 3 significant digits of the largest finite magnitude."""
    finite = [abs(v) for v in values if _finite(v) and v != 0]  # type: ignore[arg-type]
    return decimals_for(max(finite), 3) if finite else 3


def fmt_value(x: float | None, decimals: int | None = None) -> str:
    """``0.812``, ``12.3``, ``1,234``; ``n/a`` for a missing or undefined value."""
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    d = decimals_for(x, 3) if decimals is None else decimals
    return f"{x:,.{d}f}"


def fmt_signed(x: float | None, decimals: int | None = None) -> str:
    """A delta with its sign: ``+0.012``, ``-0.004``: ``decimals`` (the metric's scale), more if
    needed to show at least one significant digit (without ``decimals``: two)."""
    if x is None or math.isnan(x):
        return "n/a"
    if decimals is None:
        return _signed(x, decimals_for(x, 2))
    return _signed(x, max(decimals, decimals_for(x, 1)))


def _signed(x: float, decimals: int) -> str:
    text = fmt_value(abs(x), decimals)
    negative = x < 0 and text.strip("0.,") != ""
    return ("-" if negative else "+") + text


def fmt_ci(low: float | None, high: float | None, decimals: int | None = None) -> str:
    """``[-0.012, +0.004]`` (both ends with the same decimals); ``n/a`` when undefined."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    widest = max(abs(low), abs(high))
    d = decimals_for(widest, 2) if decimals is None else max(decimals, decimals_for(widest, 1))
    return f"[{_signed(low, d)}, {_signed(high, d)}]"


def fmt_threshold(x: float, decimals: int) -> str:
    return fmt_value(x, max(decimals, exact_decimals(x)))


# ----------------------------------------------------------------------------------- data model


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
        }


@dataclass(frozen=True)
class GateResult:
    metric: str
    rule: Rule
    threshold: float | str | None  # the configured bound, or the required/forbidden change
    actual: float | None  # candidate value (min/max), drop (max_drop), delta (require/forbid)
    passed: bool | None  # None: not evaluated (a relative gate without a baseline)
    message: str

    @property
    def status(self) -> str:
        return "not evaluated" if self.passed is None else ("pass" if self.passed else "fail")

    @property
    def failed(self) -> bool:
        return self.passed is False

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "rule": self.rule,
            "threshold": self.threshold,
            "actual": self.actual,
            "passed": self.passed,
            "status": self.status,
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

    @property
    def gates(self) -> list[GateResult]:
        return [g for row in self.rows for g in row.gates]

    @property
    def evaluated_gates(self) -> list[GateResult]:
        return [g for g in self.gates if g.passed is not None]


# ---------------------------------------------------------------------------------------- gates


def _side_of_nan(candidate: float, baseline: float | None) -> str:
    c_bad = not _finite(candidate)
    b_bad = baseline is not None and not _finite(baseline)
    return "both models" if c_bad and b_bad else ("the candidate" if c_bad else "the baseline")


def _absolute_gate(rule: Rule, bound: float, label: str, value: float, dec: int) -> GateResult:
    word = "minimum" if rule == "min" else "maximum"
    shown = fmt_threshold(bound, dec)
    if not _finite(value):
        return GateResult(
            label,
            rule,
            bound,
            None,
            False,
            f"{label} could not be computed for the candidate, so the {word} {shown} cannot be met",
        )
    ok = value >= bound - _EPS if rule == "min" else value <= bound + _EPS
    side = (
        ("below" if rule == "min" else "above")
        if not ok
        else ("at or above" if rule == "min" else "at or below")
    )
    return GateResult(
        label,
        rule,
        bound,
        value,
        ok,
        f"{label} {fmt_value(value, dec)} is {side} the {word} {shown}",
    )


def _drop_gate(allowed: float, label: str, row: _Values, dec: int) -> GateResult:
    shown = fmt_threshold(allowed, dec)
    if row.delta is None:
        return GateResult(
            label,
            "max_drop",
            allowed,
            None,
            None,
            f"{label} max_drop {shown} not evaluated: no baseline",
        )
    b, c = row.delta.baseline, row.delta.candidate
    if not (_finite(b) and _finite(c)):
        return GateResult(
            label,
            "max_drop",
            allowed,
            None,
            False,
            f"{label} could not be computed for {_side_of_nan(c, b)}, so the "
            f"allowed drop {shown} cannot be checked",
        )
    drop = (b - c) if row.greater else (c - b)
    ok = drop <= allowed + _EPS
    if ok:
        msg = f"{label} changed {fmt_signed(c - b, dec)} vs baseline (allowed drop {shown})"
    else:
        verb = "dropped" if row.greater else "rose"
        msg = (
            f"{label} {verb} {fmt_value(drop, max(dec, decimals_for(drop, 2)))} vs baseline "
            f"(allowed {shown})"
        )
    return GateResult(label, "max_drop", allowed, drop, ok, msg)


def _change(d: PairedDelta, dec: int) -> str:
    pct = f"{d.confidence:.0%}"
    return f"{fmt_signed(d.delta, dec)} ({pct} CI {fmt_ci(d.ci_low, d.ci_high, dec)})"


def _significance_gate(rule: Rule, label: str, row: _Values, dec: int) -> GateResult:
    threshold = "significant_improvement" if rule == "require" else "significant_regression"
    d = row.delta
    if d is None:
        return GateResult(
            label,
            rule,
            threshold,
            None,
            None,
            f"{label} {rule} {threshold} not evaluated: no baseline",
        )
    if not all(_finite(v) for v in (d.delta, d.ci_low, d.ci_high)):
        return GateResult(
            label,
            rule,
            threshold,
            None,
            False,
            f"{label} could not be computed for "
            f"{_side_of_nan(d.candidate, d.baseline)}, so its significance cannot "
            "be checked",
        )
    improved = _improved(d, row.greater)
    if rule == "require":
        ok = improved is True
        msg = (
            f"{label} improved significantly: {_change(d, dec)}"
            if ok
            else f"{label} {_change(d, dec)} is not a significant improvement (required)"
        )
    else:
        ok = improved is not False
        msg = (
            f"{label} regressed significantly: {_change(d, dec)}"
            if not ok
            else f"{label} shows no significant regression: {_change(d, dec)}"
        )
    return GateResult(label, rule, threshold, d.delta, ok, msg)


def _improved(d: PairedDelta, greater: bool) -> bool | None:
    if not d.significant:
        return None
    return (d.delta > 0) == greater


@dataclass(frozen=True)
class _Values:
    candidate: float
    delta: PairedDelta | None  # None: no baseline
    greater: bool


def evaluate_gates(
    metric: str, gate: Gate | None, candidate: float, delta: PairedDelta | None
) -> list[GateResult]:
    """Every configured rule of ``gate`` on one metric. ``delta`` is None without a baseline."""
    if gate is None:
        return []
    spec = metric_catalogue.get(metric)
    row = _Values(candidate, delta, spec.greater_is_better)
    dec = scale_decimals(candidate, delta.baseline if delta else None)
    out: list[GateResult] = []
    if gate.min is not None:
        out.append(_absolute_gate("min", gate.min, spec.label, candidate, dec))
    if gate.max is not None:
        out.append(_absolute_gate("max", gate.max, spec.label, candidate, dec))
    if gate.max_drop is not None:
        out.append(_drop_gate(gate.max_drop, spec.label, row, dec))
    if gate.require is not None:
        out.append(_significance_gate("require", spec.label, row, dec))
    if gate.forbid is not None:
        out.append(_significance_gate("forbid", spec.label, row, dec))
    return [_with_metric(g, metric) for g in out]


def _with_metric(g: GateResult, metric: str) -> GateResult:
    return GateResult(metric, g.rule, g.threshold, g.actual, g.passed, g.message)


def row_status(gates: Sequence[GateResult]) -> RowStatus:
    if any(g.passed is False for g in gates):
        return "fail"
    return "pass" if any(g.passed for g in gates) else "none"


def verdict_of(rows: Sequence[MetricRow], baseline_present: bool) -> Verdict:
    if any(g.passed is False for row in rows for g in row.gates):
        return "fail"
    return "pass" if baseline_present else "no-baseline"


def build_row(
    metric: str, candidate: float, delta: PairedDelta | None, gate: Gate | None
) -> MetricRow:
    """One table row: values, the paired delta and the gate outcomes."""
    spec = metric_catalogue.get(metric)
    gates = evaluate_gates(metric, gate, candidate, delta)
    return MetricRow(
        metric=metric,
        label=spec.label,
        direction=spec.direction,
        baseline=delta.baseline if delta is not None else None,
        candidate=candidate,
        delta=delta,
        gates=gates,
        status=row_status(gates),
    )


# ----------------------------------------------------------------------------- metric values


def _value(metric: str, preds: PredictionSet) -> float:
    """The metric, or NaN where it is undefined or cannot be computed on these predictions."""
    try:
        return float(stats.metric_value(metric, preds))
    except (ValueError, ZeroDivisionError, TypeError, IndexError):
        return math.nan


def _paired(
    metric: str,
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float,
    seed: int,
    n_resamples: int,
) -> PairedDelta:
    try:
        return stats.paired_delta(
            metric, baseline, candidate, confidence=confidence, seed=seed, n_resamples=n_resamples
        )
    except (ValueError, ZeroDivisionError, TypeError, IndexError):
        b, c = _value(metric, baseline), _value(metric, candidate)
        return PairedDelta(
            metric=metric,
            baseline=b,
            candidate=c,
            delta=c - b,
            ci_low=math.nan,
            ci_high=math.nan,
            significant=False,
            method="unavailable",
            n_rows=len(candidate),
            confidence=confidence,
        )


def _deltas(
    names: list[str],
    baseline: PredictionSet,
    candidate: PredictionSet,
    *,
    confidence: float,
    seed: int,
    n_resamples: int,
) -> list[PairedDelta]:
    """All metrics at once (the statistics share work); one by one if the batch refuses."""
    try:
        return stats.paired_deltas(
            names, baseline, candidate, confidence=confidence, seed=seed, n_resamples=n_resamples
        )
    except ValueError:
        return [
            _paired(
                n, baseline, candidate, confidence=confidence, seed=seed, n_resamples=n_resamples
            )
            for n in names
        ]


# ----------------------------------------------------------------------- alignment and labels


@dataclass(frozen=True)
class _Codes:
    """An array of labels as text: the distinct labels and each row's index into them."""

    names: list[str]
    inverse: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Codes:
        arr = np.asarray(values)
        try:
            uniq, inv = np.unique(arr, return_inverse=True)
        except TypeError:  # mixed types in an object array
            uniq, inv = np.unique(arr.astype(str), return_inverse=True)
        names = [str(u.item() if isinstance(u, np.generic) else u) for u in uniq]
        return cls(names, inv.reshape(-1))

    def to(self, labels: Sequence[str]) -> np.ndarray:
        """Each row's index into ``labels`` (which must hold every name)."""
        index = {label: i for i, label in enumerate(labels)}
        return np.array([index[n] for n in self.names], dtype=int)[self.inverse]


def _sorted_labels(names: set[str]) -> list[str]:
    return sorted(names, key=_label_key)


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _quoted(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{i}'" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def label_mismatch(
    role: str, preds: PredictionSet, eval_labels: Sequence[str], predicted: set[str] | None = None
) -> LabelMismatch:
    """Evaluation classes the model does not know or never predicts (``predicted``: its distinct
    predictions as text, when already known)."""
    known = {str(c) for c in preds.classes}
    predicted = set(_Codes.of(preds.y_pred).names) if predicted is None else predicted
    unknown = [c for c in eval_labels if known and c not in known]
    never = [c for c in eval_labels if c not in predicted and c not in unknown]
    return LabelMismatch(role, unknown, never)


def _mismatch_notes(m: LabelMismatch, counts: Mapping[str, int]) -> list[str]:
    notes = []
    if m.unknown:
        notes.append(
            f"The {m.role} does not know class(es) {_quoted(m.unknown)} that appear in "
            "the evaluation rows (it was trained without them)."
        )
    if m.never_predicted:
        rows = sum(counts.get(c, 0) for c in m.never_predicted)
        notes.append(
            f"The {m.role} never predicts class(es) {_quoted(m.never_predicted)} "
            f"({rows} evaluation rows)."
        )
    return notes


@dataclass(frozen=True)
class _Aligned:
    candidate: PredictionSet
    baseline: PredictionSet | None
    notes: list[str]
    problem: str | None = None


def _align(candidate: PredictionSet, baseline: PredictionSet | None) -> _Aligned:
    if baseline is None:
        return _Aligned(candidate, None, [])
    try:
        b, c = align(baseline, candidate)
    except ValueError:
        problem = (
            "the baseline's predictions carry different true labels for the same row ids, "
            "so they are not the same evaluation rows"
        )
        return _Aligned(
            candidate,
            None,
            [f"No comparable baseline: {problem}; relative gates were not evaluated."],
            problem,
        )
    if len(c) == 0:
        problem = "the baseline's predictions share no row ids with the candidate's"
        return _Aligned(
            candidate,
            None,
            [f"No comparable baseline: {problem}; relative gates were not evaluated."],
            problem,
        )
    notes = []
    if len(c) < len(candidate) or len(b) < len(baseline):
        notes.append(
            f"Compared on the {len(c)} evaluation rows both models scored: the candidate "
            f"has {len(candidate)} rows, the baseline {len(baseline)}."
        )
    return _Aligned(c, b, notes)


def _task(names: Sequence[str], candidate: PredictionSet) -> str:
    tasks = {metric_catalogue.METRICS[n].task for n in names if n in metric_catalogue.METRICS}
    if len(tasks) == 1:
        return tasks.pop()
    return "regression" if np.asarray(candidate.y_true).dtype.kind == "f" else "classification"


# ----------------------------------------------------------------------- slices and confusion


def _slice_table(
    column: str, names: Sequence[str], candidate: PredictionSet, baseline: PredictionSet | None
) -> SliceTable:
    codes = _Codes.of(candidate.slices[column])
    counts = np.bincount(codes.inverse, minlength=len(codes.names))
    order = sorted(range(len(codes.names)), key=lambda i: (-int(counts[i]), codes.names[i]))
    kept = order[:MAX_SLICE_VALUES]
    rows = []
    for i in kept:
        idx = np.flatnonzero(codes.inverse == i)
        c_sub = candidate.take(idx)
        b_vals = None
        if baseline is not None:
            b_sub = baseline.take(idx)
            b_vals = {m: _value(m, b_sub) for m in names}
        rows.append(
            SliceRow(codes.names[i], int(counts[i]), {m: _value(m, c_sub) for m in names}, b_vals)
        )
    return SliceTable(column, list(names), rows, omitted=len(codes.names) - len(kept))


def _matrix(truth: _Codes, pred: _Codes, labels: list[str]) -> list[list[int]]:
    k = len(labels)
    flat = np.bincount(truth.to(labels) * k + pred.to(labels), minlength=k * k)
    return [[int(v) for v in row] for row in flat.reshape(k, k)]


def _confusion(
    truth: _Codes, c_pred: _Codes, b_pred: _Codes | None
) -> tuple[ConfusionMatrices | None, list[str]]:
    names = set(truth.names) | set(c_pred.names) | set(b_pred.names if b_pred else [])
    labels = _sorted_labels(names)
    if len(labels) > MAX_CONFUSION_LABELS:
        return None, [
            f"No confusion matrix: {len(labels)} classes is more than {MAX_CONFUSION_LABELS}."
        ]
    return ConfusionMatrices(
        labels=labels,
        candidate=_matrix(truth, c_pred, labels),
        baseline=_matrix(truth, b_pred, labels) if b_pred else None,
    ), []


# ------------------------------------------------------------------------------------- compare


def compare(
    candidate: PredictionSet,
    baseline: PredictionSet | None,
    *,
    metrics: list[str],
    gates: Mapping[str, Gate],
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 2000,
    slices: Sequence[str] = (),
) -> Comparison:
    """Compare the candidate with the baseline on their shared rows and apply the gates."""
    names = list(dict.fromkeys([*metrics, *gates]))
    al = _align(candidate, baseline)
    c, b = al.candidate, al.baseline
    notes = list(al.notes)
    if b is None:
        rows = [build_row(n, _value(n, c), None, gates.get(n)) for n in names]
    else:
        deltas = _deltas(names, b, c, confidence=confidence, seed=seed, n_resamples=n_resamples)
        rows = [build_row(d.metric, d.candidate, d, gates.get(d.metric)) for d in deltas]
    notes += _undefined_notes(rows)
    task = _task(names, candidate)
    mismatches, confusion = _classification_extras(task, c, b, notes)
    tables = []
    for column in slices:
        if column not in c.slices:
            notes.append(f"Slice column '{column}' is not in the candidate's predictions.")
            continue
        tables.append(_slice_table(column, names, c, b))
    if (
        b is None
        and any(g.rule in RELATIVE_RULES for r in rows for g in r.gates)
        and al.problem is None
    ):
        notes.append("No baseline: relative gates (max_drop, require, forbid) were not evaluated.")
    return Comparison(
        verdict=verdict_of(rows, b is not None),
        rows=rows,
        failed_gates=[g for r in rows for g in r.gates if g.passed is False],
        notes=notes,
        slices=tables,
        confusion=confusion,
        baseline_present=b is not None,
        label_mismatch=mismatches,
        n_rows=len(c),
        candidate_rows=len(candidate),
        baseline_rows=None if baseline is None else len(baseline),
        confidence=confidence,
        task=task,
        baseline_problem=al.problem,
    )


def _classification_extras(
    task: str, c: PredictionSet, b: PredictionSet | None, notes: list[str]
) -> tuple[list[LabelMismatch], ConfusionMatrices | None]:
    if task != "classification":
        return [], None
    truth = _Codes.of(c.y_true)  # the same rows and labels on both sides after alignment
    counts = np.bincount(truth.inverse, minlength=len(truth.names))
    count_of = {name: int(n) for name, n in zip(truth.names, counts, strict=True)}
    eval_labels = _sorted_labels(set(truth.names))
    c_pred = _Codes.of(c.y_pred)
    b_pred = _Codes.of(b.y_pred) if b is not None else None
    mismatches = []
    for role, preds, pred in (("baseline", b, b_pred), ("candidate", c, c_pred)):
        if preds is None or pred is None:
            continue
        m = label_mismatch(role, preds, eval_labels, set(pred.names))
        if m.unknown or m.never_predicted:
            mismatches.append(m)
            notes.extend(_mismatch_notes(m, count_of))
    confusion, extra = _confusion(truth, c_pred, b_pred)
    notes.extend(extra)
    return mismatches, confusion


def _undefined_notes(rows: Sequence[MetricRow]) -> list[str]:
    notes = []
    for row in rows:
        sides = []
        if not _finite(row.candidate):
            sides.append("the candidate")
        if row.baseline is not None and not _finite(row.baseline):
            sides.append("the baseline")
        if sides:
            why = (
                row.delta.method.partition(":")[2].strip()
                if row.delta is not None and row.delta.method.startswith("undefined")
                else ""
            )
            notes.append(
                f"{row.label} could not be computed for {' and '.join(sides)} on these "
                f"rows ({why or 'undefined, e.g. a single class or no probabilities'})."
            )
    return notes


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
        "status": row.status,
        "gates": [g.to_json() for g in row.gates],
    }


def _slices_json(tables: Sequence[SliceTable]) -> list[dict[str, Any]]:
    return [
        {
            "column": t.column,
            "omitted": t.omitted,
            "rows": [
                {"value": r.value, "n": r.n, "candidate": r.candidate, "baseline": r.baseline}
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
        "baseline_present": cmp.baseline_present,
        "baseline_problem": cmp.baseline_problem,
        "task": cmp.task,
        "confidence": cmp.confidence,
        "n_rows": cmp.n_rows,
        "candidate_rows": cmp.candidate_rows,
        "baseline_rows": cmp.baseline_rows,
        "metrics": [_row_json(r) for r in cmp.rows],
        "failed_gates": [g.to_json() for g in cmp.failed_gates],
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
        "baseline": baseline.to_json() if baseline is not None else None,
        "candidate": candidate.to_json(),
    }
    out.update(extra)
    cleaned: dict[str, Any] = _clean(out)
    return cleaned
