"""Gates (``cml_bot.config.models.Gate``) on one metric, each row's status and the verdict.

``min`` / ``max`` apply to the candidate's value with or without a baseline; ``max_drop``,
``min_improvement``, ``require: significant_improvement`` and ``forbid: significant_regression``
(the ``RELATIVE_RULES``) need a baseline and are *not evaluated* (``passed is None``) without
one. A gate on a metric that could not be computed (NaN) fails and says so.

``max_drop`` and ``min_improvement`` are judged on the confidence interval of the change by
default (``judge: interval``), oriented so that positive is better: non-inferiority passes when
the lower bound clears ``-max_drop`` and fails when the upper bound is below it; superiority
passes when the lower bound clears ``min_improvement`` and fails when the upper bound does not
reach it; anything in between is *inconclusive*. ``judge: point`` uses the point estimate alone.
A ``severity: warn`` gate is reported but never decides the verdict. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
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
from cml_bot.stats import LatencyRatio, PairedDelta

RELATIVE_RULES: tuple[Rule, ...] = ("max_drop", "min_improvement", "require", "forbid")
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


def _no_baseline(rule: Rule, bound: float, label: str, dec: int) -> GateResult:
    shown = fmt_threshold(bound, dec)
    return GateResult(
        label, rule, bound, None, None, f"{label} {rule} {shown} not evaluated: no baseline"
    )


def _better(row: _Values) -> tuple[float, float, float]:
    """The change and its interval, oriented so that positive is better."""
    d = row.delta
    assert d is not None
    if row.greater:
        return d.delta, d.ci_low, d.ci_high
    return -d.delta, -d.ci_high, -d.ci_low


def _relative_gate(
    rule: Rule, bound: float, label: str, row: _Values, gate: Gate, dec: int
) -> GateResult:
    """``max_drop`` (non-inferiority) or ``min_improvement`` (superiority)."""
    if row.delta is None:
        return _no_baseline(rule, bound, label, dec)
    b, c = row.delta.baseline, row.delta.candidate
    if not (_finite(b) and _finite(c)):
        return GateResult(
            label,
            rule,
            bound,
            None,
            False,
            f"{label} could not be computed for {_side_of_nan(c, b)}, so the "
            f"{_RULE_WORDS[rule]} {fmt_threshold(bound, dec)} cannot be checked",
        )
    gain, lo, hi = _better(row)
    actual = -gain if rule == "max_drop" else gain
    if gate.judge == "point":
        ok = gain >= -bound - _EPS if rule == "max_drop" else (gain >= bound - _EPS and gain > 0)
        msg = _point_message(rule, bound, label, row, dec, ok)
        return GateResult(label, rule, bound, actual, ok, msg)
    if not (_finite(lo) and _finite(hi)):
        msg = (
            f"{label} has no confidence interval ({row.delta.method}), so the "
            f"{_RULE_WORDS[rule]} {fmt_threshold(bound, dec)} cannot be judged on it "
            "(`judge: point` uses the point estimate)"
        )
        return GateResult(label, rule, bound, actual, None, msg, inconclusive=True)
    decided = _on_interval(rule, bound, lo, hi)
    msg = _interval_message(rule, bound, label, row, dec, decided)
    return GateResult(label, rule, bound, actual, decided, msg, inconclusive=decided is None)


def _on_interval(rule: Rule, bound: float, lo: float, hi: float) -> bool | None:
    """Pass (True), fail (False) or inconclusive (None) from the better-oriented interval."""
    if rule == "max_drop":
        if lo >= -bound - _EPS:
            return True
        return False if hi < -bound - _EPS else None
    if lo >= bound - _EPS and lo > 0:
        return True
    return False if hi <= bound + _EPS else None


_RULE_WORDS = {"max_drop": "allowed drop", "min_improvement": "required improvement"}


def _point_message(rule: Rule, bound: float, label: str, row: _Values, dec: int, ok: bool) -> str:
    assert row.delta is not None
    b, c = row.delta.baseline, row.delta.candidate
    shown = fmt_threshold(bound, dec)
    if rule == "min_improvement":
        change = fmt_signed(c - b, dec)
        return f"{label} changed {change} vs baseline (required improvement {shown})"
    if ok:
        return f"{label} changed {fmt_signed(c - b, dec)} vs baseline (allowed drop {shown})"
    drop = (b - c) if row.greater else (c - b)
    verb = "dropped" if row.greater else "rose"
    amount = fmt_value(drop, max(dec, decimals_for(drop, 2)))
    return f"{label} {verb} {amount} vs baseline (allowed {shown})"


def _interval_message(
    rule: Rule, bound: float, label: str, row: _Values, dec: int, ok: bool | None
) -> str:
    assert row.delta is not None
    shown = fmt_threshold(bound, dec)
    change = _change(row.delta, dec)
    what = f"allowed drop {shown}" if rule == "max_drop" else f"required improvement {shown}"
    if ok is True:
        side = "no worse than the" if rule == "max_drop" else "above the"
        return f"{label} {change}: the whole interval is {side} {what}"
    if ok is False:
        side = "beyond the" if rule == "max_drop" else "short of the"
        return f"{label} {change}: the whole interval is {side} {what}"
    return (
        f"{label} {change}: inconclusive, the interval straddles the {what} (more rows would tell)"
    )


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
        out.append(_relative_gate("max_drop", gate.max_drop, spec.label, row, gate, dec))
    if gate.min_improvement is not None:
        out.append(
            _relative_gate("min_improvement", gate.min_improvement, spec.label, row, gate, dec)
        )
    if gate.require is not None:
        out.append(_significance_gate("require", spec.label, row, dec))
    if gate.forbid is not None:
        out.append(_significance_gate("forbid", spec.label, row, dec))
    return [dataclasses.replace(g, metric=metric, severity=gate.severity) for g in out]


def latency_gate(gate: Gate | None, ratio: LatencyRatio | None, why: str = "") -> list[GateResult]:
    """``gates.latency``: the ratio candidate / baseline against ``max``, judged on its interval
    like ``max_drop`` (pass: the whole interval is at or under the ceiling; fail: all of it is
    above; inconclusive in between or with no interval); ``judge: point`` uses the ratio alone.
    Not evaluated without a ratio (no baseline, or a model cml-bot does not load: ``why``)."""
    if gate is None or gate.max is None:
        return []
    bound = gate.max
    label, shown = "latency ratio", f"{bound:g}x"

    def result(ok: bool | None, msg: str, inconclusive: bool = False) -> list[GateResult]:
        actual = ratio.ratio if ratio is not None else None
        return [GateResult("latency", "max", bound, actual, ok, msg, inconclusive, gate.severity)]

    if ratio is None:
        return result(None, f"{label} max {shown} not evaluated: {why or 'no latency ratio'}")
    at = f"{label} {ratio.ratio:.2f}x"
    if gate.judge == "point":
        ok = ratio.ratio <= bound + _EPS
        return result(ok, f"{at} is {'at or under' if ok else 'above'} the maximum {shown}")
    if not ratio.has_interval:
        msg = (
            f"{at} has no interval ({ratio.rounds} round), so the maximum {shown} cannot be judged"
        )
        return result(None, msg, inconclusive=True)
    ci = f"({ratio.confidence:.0%} CI {ratio.ci_low:.2f}x to {ratio.ci_high:.2f}x)"
    if ratio.ci_high <= bound + _EPS:
        return result(True, f"{at} {ci}: the whole interval is at or under the maximum {shown}")
    if ratio.ci_low > bound + _EPS:
        return result(False, f"{at} {ci}: the whole interval is above the maximum {shown}")
    msg = f"{at} {ci}: inconclusive, the interval straddles the maximum {shown}"
    return result(None, msg, inconclusive=True)


def row_status(gates: Sequence[GateResult]) -> RowStatus:
    if any(g.failed for g in gates):
        return "fail"
    if any(g.undecided for g in gates):
        return "inconclusive"
    return "pass" if any(g.passed for g in gates) else "none"


def verdict_of(
    rows: Sequence[MetricRow], baseline_present: bool, extra: Sequence[GateResult] = ()
) -> Verdict:
    """fail: a gate failed; inconclusive: none failed but one cannot be decided on these rows;
    else pass (no-baseline without one). Gates of ``severity: warn`` never decide. ``extra``:
    gates outside the metric rows (slice regressions, the latency gate)."""
    gates = [*[g for row in rows for g in row.gates], *extra]
    if any(g.failed for g in gates):
        return "fail"
    if any(g.undecided for g in gates):
        return "inconclusive"
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
