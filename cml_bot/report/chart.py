"""The report's Mermaid bar charts: one per unit and direction, so that a loss (lower is better)
never shares an axis with a score (higher is better), nor RMSE (the target's units) with R².

Pure: the numbers are the gate table's, the labels go through :func:`mermaid_label`.
"""

from __future__ import annotations

import math

from cml_bot.compare import Comparison, MetricRow
from cml_bot.report.text import mermaid_label

# What a metric is measured in, where it is not a score (a share or a correlation, 0-1 or -1-1).
UNITS = {
    "neg_log_loss": "log loss",
    "neg_brier_score": "Brier score",
    "neg_mean_squared_error": "squared target units",
    "neg_mean_absolute_error": "target units",
    "neg_root_mean_squared_error": "target units",
    "neg_median_absolute_error": "target units",
    "max_error": "target units",
    "neg_mean_absolute_percentage_error": "share of the target",
}


def unit(metric: str) -> str:
    return UNITS.get(metric, "score")


def mermaid_chart(cmp: Comparison) -> str:
    """One bar chart per (unit, direction) group of the table's metrics, in table order. A
    chart draws several bar series on top of each other, so baseline and candidate are adjacent
    bars of one series, labelled by side."""
    groups: dict[tuple[str, str], list[MetricRow]] = {}
    for row in cmp.rows:
        groups.setdefault((unit(row.metric), row.direction), []).append(row)
    charts = [_chart(cmp, rows, what, len(groups) > 1) for what, rows in groups.items()]
    return "\n\n".join(c for c in charts if c)


def _chart(cmp: Comparison, rows: list[MetricRow], what: tuple[str, str], titled: bool) -> str:
    labels: list[str] = []
    values: list[str] = []
    for row in rows:
        pairs = (
            [("baseline", row.baseline), ("candidate", row.candidate)]
            if cmp.baseline_present
            else [("", row.candidate)]
        )
        if not all(v is not None and math.isfinite(v) for _, v in pairs):
            continue
        for side, value in pairs:
            assert value is not None
            labels.append(mermaid_label(f"{row.label} {side}".strip()))
            values.append(f"{value:.{row.decimals}f}")  # the numbers the table shows
    if not values:
        return ""
    numbers = [float(v) for v in values]
    low, high = min(0.0, min(numbers)), max(0.0, max(numbers))
    high = high + (high - low) * 0.1 or 1.0
    title = "Baseline vs candidate" if cmp.baseline_present else "Candidate"
    if titled:
        title += f" - {what[0]} - {what[1]}"
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f"    title {mermaid_label(title, 80)}",
            f"    x-axis [{', '.join(labels)}]",
            f"    y-axis {mermaid_label(f'{what[0]} - {what[1]}', 60)} {low:.4g} --> {high:.4g}",
            f"    bar [{', '.join(values)}]",
            "```",
        ]
    )
