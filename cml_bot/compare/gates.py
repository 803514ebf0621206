"""Gates (``cml_bot.config.models.Gate``) on one metric, each row's status and the verdict.

``min`` / ``max`` apply to the candidate's value with or without a baseline; ``max_drop``,
``require: significant_improvement`` and ``forbid: significant_regression`` (the
``RELATIVE_RULES``) need a baseline and are *not evaluated* (``passed is None``) without one. A
gate on a metric that could not be computed (NaN) fails and says so. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cml_bot.compare.formatting import (
    _finite,
    decimals_for,
    fmt_ci,
    fmt_signed,
    fmt_threshold,
    fmt_value,
    scale_decimals,
)
from cml_bot.compare.results import GateResult, MetricRow, RowStatus, Rule, Verdict
from cml_bot.config import Gate
from cml_bot.core import metrics as metric_catalogue
from cml_bot.stats import PairedDelta

RELATIVE_RULES: tuple[Rule, ...] = ("max_drop", "require", "forbid")
_EPS = 1e-12


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
    improved = d.improved
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
