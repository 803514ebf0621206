"""Baseline vs candidate on the same evaluation rows -> metric rows, gate results and a verdict.

Pure: numpy and the statistics in :mod:`cml_bot.stats`; no click, GitHub, MLflow or environment.
A missing or unusable baseline is data (verdict ``no-baseline`` plus a note), never an exception.

Gates (``cml_bot.config.models.Gate``):

- ``min`` / ``max`` are absolute: they apply to the candidate's value with or without a baseline.
- ``max_drop``, ``require: significant_improvement`` and ``forbid: significant_regression`` are
  relative: without a baseline they are *not evaluated* (``passed is None``), which is neither a
  pass nor a failure.
- A gate on a metric that could not be computed (NaN) fails and says so.

The verdict is ``fail`` when any gate failed, else ``no-baseline`` when there is no comparable
baseline, else ``pass``.

Layout: this module holds :func:`compare`; the parts live in sibling modules and are
re-exported here: :mod:`cml_bot.compare.results` (the result types and ``result.json``),
:mod:`cml_bot.compare.gates` (gates, row status, verdict), :mod:`cml_bot.compare.values`
(alignment, metric values, paired deltas), :mod:`cml_bot.compare.breakdowns` (slices,
confusion matrices, label mismatches) and :mod:`cml_bot.compare.formatting` (number formatting).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from cml_bot.compare.breakdowns import (
    MAX_CONFUSION_LABELS,
    MAX_SLICE_VALUES,
    _classification_extras,
    _slice_table,
    label_mismatch,
)
from cml_bot.compare.formatting import (
    _finite,
    decimals_for,
    exact_decimals,
    fmt_ci,
    fmt_signed,
    fmt_threshold,
    fmt_value,
    scale_decimals,
)
from cml_bot.compare.gates import (
    RELATIVE_RULES,
    build_row,
    evaluate_gates,
    latency_gate,
    row_status,
    verdict_of,
)
from cml_bot.compare.results import (
    Comparison,
    ConfusionMatrices,
    GateResult,
    LabelMismatch,
    MetricRow,
    ModelIdentity,
    RowStatus,
    Rule,
    SliceRow,
    SliceTable,
    Verdict,
    result_json,
)
from cml_bot.compare.slicestats import holm, slice_gates
from cml_bot.compare.values import _align, _deltas, _value
from cml_bot.config import LATENCY_GATE, Gate
from cml_bot.core import metrics as metric_catalogue
from cml_bot.stats import LatencyRatio, PredictionSet

__all__ = [
    "MAX_CONFUSION_LABELS",
    "MAX_SLICE_VALUES",
    "RELATIVE_RULES",
    "Comparison",
    "ConfusionMatrices",
    "GateResult",
    "LabelMismatch",
    "MetricRow",
    "ModelIdentity",
    "RowStatus",
    "Rule",
    "SliceRow",
    "SliceTable",
    "Verdict",
    "build_row",
    "compare",
    "decimals_for",
    "evaluate_gates",
    "exact_decimals",
    "fmt_ci",
    "fmt_signed",
    "fmt_threshold",
    "fmt_value",
    "label_mismatch",
    "result_json",
    "row_status",
    "scale_decimals",
    "verdict_of",
]


# ------------------------------------------------------------------------------------- compare


def _task(names: Sequence[str], candidate: PredictionSet) -> str:
    tasks = {metric_catalogue.METRICS[n].task for n in names if n in metric_catalogue.METRICS}
    if len(tasks) == 1:
        return tasks.pop()
    return "regression" if np.asarray(candidate.y_true).dtype.kind == "f" else "classification"


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
    inconclusive: str = "fail",
    group_column: str | None = None,
    slice_regression: str = "warn",
    latency: LatencyRatio | None = None,
    latency_note: str | None = None,
) -> Comparison:
    """Compare the candidate with the baseline on their shared rows and apply the gates;
    ``inconclusive`` is what an inconclusive verdict does to the status (`verdict.inconclusive`);
    ``latency``: both models timed together (``latency_note``: why not), for `gates.latency`."""
    names = list(dict.fromkeys([*metrics, *(g for g in gates if g != LATENCY_GATE)]))
    al = _align(candidate, baseline)
    c, b = al.candidate, al.baseline
    notes = list(al.notes)
    if b is None:
        rows = [build_row(n, _value(n, c), None, gates.get(n)) for n in names]
    else:
        groups = _groups(c, group_column, notes)
        deltas = _deltas(
            names, b, c, confidence=confidence, seed=seed, n_resamples=n_resamples, groups=groups
        )
        rows = [build_row(d.metric, d.candidate, d, gates.get(d.metric)) for d in deltas]
    notes += _undefined_notes(rows)
    notes += _detectable_notes(rows, len(c))
    task = _task(names, candidate)
    mismatches, confusion = _classification_extras(task, c, b, notes)
    tables = []
    for column in slices:
        if column not in c.slices:
            notes.append(f"Slice column '{column}' is not in the candidate's predictions.")
            continue
        settings = {"confidence": confidence, "seed": seed, "n_resamples": n_resamples}
        tables.append(_slice_table(column, names, c, b, settings))
    tables = holm(tables, confidence)
    sliced = slice_gates(tables, slice_regression)
    if (
        b is None
        and any(g.rule in RELATIVE_RULES for r in rows for g in r.gates)
        and al.problem is None
    ):
        notes.append(
            "No baseline: relative gates (max_drop, min_improvement, require, forbid) were not "
            "evaluated."
        )
    why = latency_note or ("no baseline" if b is None else "the models were not timed together")
    lat_gates = latency_gate(gates.get(LATENCY_GATE), latency, why)
    return Comparison(
        verdict=verdict_of(rows, b is not None, [*sliced, *lat_gates]),
        rows=rows,
        failed_gates=[g for r in rows for g in r.gates if g.failed]
        + [g for g in [*sliced, *lat_gates] if g.failed],
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
        inconclusive_policy=inconclusive,
        slice_gates=sliced,
        latency=latency,
        latency_note=latency_note,
        latency_gates=lat_gates,
    )


def regate(cmp: Comparison, gates: Mapping[str, Gate]) -> Comparison:
    """The same comparison judged by other gates; the statistics are not computed again.

    What a pull request's own gates would have said, next to the default branch's (which decide
    the status). A gated metric the comparison has no row for is named in a note."""
    rows = [build_row(r.metric, r.candidate, r.delta, gates.get(r.metric)) for r in cmp.rows]
    why = cmp.latency_note or "the models were not timed together"
    lat_gates = latency_gate(gates.get(LATENCY_GATE), cmp.latency, why)
    known = {r.metric for r in cmp.rows} | {LATENCY_GATE}
    missing = [m for m in gates if m not in known]
    notes = [*cmp.notes]
    if missing:
        notes.append(f"Not computed, so not gated: {', '.join(missing)}.")
    return dataclasses.replace(
        cmp,
        rows=rows,
        verdict=verdict_of(rows, cmp.baseline_present, [*cmp.slice_gates, *lat_gates]),
        failed_gates=[g for r in rows for g in r.gates if g.failed]
        + [g for g in [*cmp.slice_gates, *lat_gates] if g.failed],
        notes=notes,
        latency_gates=lat_gates,
    )


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


def _detectable_notes(rows: Sequence[MetricRow], n: int) -> list[str]:
    """For the changes that are not significant, how large a change these rows could have
    detected (80% power): a non-significant result on 171 rows and on 100,000 differ."""
    sizes = [
        f"{row.label} ±{row.delta.detectable:.2g}"
        for row in rows
        if row.delta is not None
        and not row.delta.significant
        and math.isfinite(row.delta.detectable)
    ]
    if not sizes:
        return []
    return [
        f"With {n:,} rows, differences smaller than these cannot be told from noise "
        f"(80% power): {', '.join(sizes)}."
    ]


def _groups(c: PredictionSet, column: str | None, notes: list[str]) -> np.ndarray | None:
    """The group of each shared row (`evaluate.group_column`), or None: rows independent."""
    if column is None:
        return None
    if column not in c.slices:
        notes.append(
            f"Group column '{column}' is not in the candidate's predictions, so its rows were "
            "treated as independent (intervals may be too narrow)."
        )
        return None
    groups = c.slices[column]
    notes.append(
        f"Rows are grouped by '{column}' ({len(set(groups.tolist())):,} groups): the intervals "
        "resample whole groups."
    )
    return groups
