"""The report's data section: evaluation rows compared and set aside, class balance, data columns,
model inputs, the estimator class and training rows, baseline against candidate. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cml_bot.core import md_escape
from cml_bot.report.context import DataChanges, ReportContext
from cml_bot.report.text import _table, fmt_int

MAX_COLUMNS_LISTED = 20


def _balance(balance: Mapping[str, float] | None) -> str:
    if not balance:
        return "n/a"
    items = list(balance.items())
    text = ", ".join(f"{md_escape(k, 30)}: {v:.1%}" for k, v in items[:10])
    return text + (f", … ({len(items) - 10} more)" if len(items) > 10 else "")


def _columns(names: Sequence[str]) -> str:
    shown = ", ".join(md_escape(n, 60) for n in names[:MAX_COLUMNS_LISTED])
    more = len(names) - MAX_COLUMNS_LISTED
    return shown + (f", … ({more} more)" if more > 0 else "") if names else "none"


def _changes(dc: DataChanges) -> list[str]:
    """One line per kind of change; the data columns' line always."""
    lines = []
    if dc.added_columns or dc.removed_columns:
        lines.append(
            f"Columns added: {_columns(dc.added_columns)}. "
            f"Columns removed: {_columns(dc.removed_columns)}."
        )
    else:
        lines.append("No columns added or removed.")
    if dc.added_inputs or dc.removed_inputs:
        lines.append(
            f"Model inputs added: {_columns(dc.added_inputs)}. "
            f"Model inputs removed: {_columns(dc.removed_inputs)}."
        )
    if dc.estimator_before and dc.estimator_after:
        lines.append(
            f"Estimator: {md_escape(dc.estimator_before, 80)} → "
            f"{md_escape(dc.estimator_after, 80)}."
        )
    if dc.training_added is not None:
        lines.append(
            f"Training rows: {fmt_int(dc.training_added)} added, "
            f"{fmt_int(dc.training_removed)} removed."
        )
    return lines


def data_section(ctx: ReportContext) -> str:
    dc = ctx.data_changes or DataChanges.between(ctx.baseline, ctx.candidate)
    if dc.rows_after is None and dc.rows_before is None and not dc.balance_after:
        return ""
    rows = [
        ["evaluation rows", fmt_int(dc.rows_before), fmt_int(dc.rows_after)],
        ["class balance", _balance(dc.balance_before), _balance(dc.balance_after)],
    ]
    text = _table(["", "baseline", "candidate"], rows)
    if dc.rows_compared is not None:
        text += (
            f"\n\nCompared on {fmt_int(dc.rows_compared)} evaluation rows; "
            f"{fmt_int(dc.rows_set_aside)} set aside (rows a model was trained on)."
        )
    return text + "\n\n" + "\n\n".join(_changes(dc))
