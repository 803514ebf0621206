"""Slices with paired intervals, corrected for how many were looked at.

Every slice value x metric gets its own paired interval (the same engine as the overall rows,
on that slice's rows). With many slices and metrics some interval excludes 0 by chance on every
PR, so "better" or "worse" in a slice is decided by **Holm's step-down correction** over every
slice x metric cell of the comparison (family-wise error at 1 - confidence). Each cell's p-value
is read from its interval under a normal approximation: se = width / (2 z), p = 2 (1 - Φ(|Δ| /
se)). Cells without an interval (undefined, or a metric with none) take no part.

``verdict.slice_regression`` turns a corrected regression into a gate: ``fail`` (the PR fails
even when the overall number improves), ``warn`` (shown, never decides) or ``ignore``. Pure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from statistics import NormalDist

from cml_bot.compare.results import GateResult, SliceTable
from cml_bot.core import metrics as metric_catalogue
from cml_bot.stats import PairedDelta


def _p_value(d: PairedDelta) -> float | None:
    """Two-sided p-value of Δ = 0 recovered from the interval (normal approximation)."""
    if not all(math.isfinite(v) for v in (d.delta, d.ci_low, d.ci_high)):
        return None
    z = NormalDist().inv_cdf(0.5 + d.confidence / 2)
    se = (d.ci_high - d.ci_low) / (2 * z)
    if se <= 0:
        return 1.0 if d.delta == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(d.delta) / se))


def holm(tables: Sequence[SliceTable], confidence: float) -> list[SliceTable]:
    """``tables`` with each cell's corrected verdict (+1 better, -1 worse, 0 cannot tell)."""
    cells = [
        (p, ti, ri, metric)
        for ti, table in enumerate(tables)
        for ri, row in enumerate(table.rows)
        for metric, d in row.deltas.items()
        if (p := _p_value(d)) is not None
    ]
    alpha, m = 1 - confidence, len(cells)
    rejected = set()
    for k, (p, ti, ri, metric) in enumerate(sorted(cells, key=lambda c: c[0])):
        if p > alpha / (m - k):
            break
        rejected.add((ti, ri, metric))
    out = []
    for ti, table in enumerate(tables):
        rows = []
        for ri, row in enumerate(table.rows):
            verdicts = {
                metric: _direction(metric, d) if (ti, ri, metric) in rejected else 0
                for metric, d in row.deltas.items()
            }
            rows.append(dataclasses.replace(row, verdicts=verdicts))
        out.append(dataclasses.replace(table, rows=rows))
    return out


def _direction(metric: str, d: PairedDelta) -> int:
    better = metric_catalogue.get(metric).greater_is_better
    return 1 if (d.delta > 0) == better else -1


def slice_gates(tables: Sequence[SliceTable], mode: str) -> list[GateResult]:
    """One failed gate per slice x metric whose corrected verdict is a regression."""
    if mode == "ignore":
        return []
    gates = []
    for table in tables:
        for row in table.rows:
            for metric, verdict in row.verdicts.items():
                if verdict >= 0:
                    continue
                d = row.deltas[metric]
                label = metric_catalogue.get(metric).label
                where = f"{table.column}={row.value}"
                gates.append(
                    GateResult(
                        f"{metric}[{where}]",
                        "forbid",
                        "significant_regression",
                        d.delta,
                        False,
                        f"{label} regressed in the slice {where} ({row.n:,} rows): "
                        f"{d.delta:+.3g} ({d.confidence:.0%} CI [{d.ci_low:+.3g}, "
                        f"{d.ci_high:+.3g}]), significant after Holm's correction",
                        severity="fail" if mode == "fail" else "warn",
                    )
                )
    return gates
