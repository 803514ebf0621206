"""Baseline vs candidate: metric rows with paired deltas, gate outcomes, the verdict, slices and
confusion matrices, and ``result.json``.

May import: ``core``, ``config``, ``stats``, numpy. Pure.
"""

from cml_bot.compare.engine import compare, regate
from cml_bot.compare.formatting import fmt_ci, fmt_signed, fmt_threshold, fmt_value, scale_decimals
from cml_bot.compare.results import (
    STATUS_STATES,
    Comparison,
    ConfusionMatrices,
    GateResult,
    MetricRow,
    ModelIdentity,
    SliceTable,
    result_json,
)

__all__ = [
    "STATUS_STATES",
    "Comparison",
    "ConfusionMatrices",
    "GateResult",
    "MetricRow",
    "ModelIdentity",
    "SliceTable",
    "compare",
    "fmt_ci",
    "fmt_signed",
    "fmt_threshold",
    "fmt_value",
    "regate",
    "result_json",
    "scale_decimals",
]
