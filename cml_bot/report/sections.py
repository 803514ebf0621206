"""The PR report's sections: each one a fragment of escaped GitHub markdown.

Pure: every user value goes through :func:`~cml_bot.report.text.md_escape` before it reaches a
cell, so the fragments are safe to hand to the template as ``Markup``. The verdict line and the
gate table (:func:`gate_table`, with an optional cell limit for the size budget) are always shown;
the other sections may be dropped in :data:`TRIM_ORDER` order, and :func:`trimmed_line` says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cml_bot.compare import (
    Comparison,
    ConfusionMatrices,
    GateResult,
    MetricRow,
    ModelIdentity,
    SliceTable,
    fmt_ci,
    fmt_signed,
    fmt_threshold,
    fmt_value,
    scale_decimals,
)
from cml_bot.core import iso_utc, md_escape
from cml_bot.report.context import UNSET, ReportContext, changed_params
from cml_bot.report.text import (
    _bytes,
    _cut,
    _pct_change,
    _plural,
    _table,
    safe_url,
)

# What the built-in trainer puts in front of the estimator (cml_bot/ml/worker.py build_pipeline).
BUILTIN_PREPROCESSING = (
    "Preprocessing (built-in trainer): numeric columns have missing values replaced "
    "by the training median; text columns have missing values replaced by the most frequent "
    "value, then are one-hot encoded (a category unseen in training is all zeros); no scaling."
)

# What is dropped, in this order, when the body is over budget: (show key, what the line says).
TRIM_ORDER: tuple[tuple[str, str], ...] = (
    ("slices", "per-slice tables"),
    ("confusion", "confusion matrices"),
    ("chart", "chart"),
    ("params", "changed parameters"),
    ("data", "data changes"),
    ("performance", "model size and latency"),
    ("links", "run links"),
    ("commands", "slash commands"),
    ("notes", "notes"),
    ("failed_gates", "failed-gate list"),
)


def _param_str(value: Any) -> str:
    if value is UNSET:
        return "(not set)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "🟡"}
# A significant change, by the metric's direction: a loss that went down is "better", not "⬇".
BETTER: dict[bool | int | None, str] = {True: " ✓ better", False: " ✗ worse"}


def _gate_cell(g: GateResult, dec: int) -> str:
    icon = "⚠️" if g.warned else _ICONS.get(g.status, "⚪")
    if g.rule in ("min", "max", "max_drop", "min_improvement"):
        assert isinstance(g.threshold, float | int)
        text = f"{g.rule} {fmt_threshold(float(g.threshold), dec)}"
    else:
        text = f"{g.rule} {str(g.threshold).replace('_', ' ')}"
    tail = " (no baseline)" if g.status == "not evaluated" else ""
    tail += " (inconclusive)" if g.inconclusive else ""
    tail += " (warn)" if g.severity == "warn" else ""
    return f"{icon} {md_escape(text)}{tail}"


def _delta_cell(row: MetricRow) -> str:
    d = row.delta
    if d is None:
        return "n/a"
    return fmt_signed(d.delta, row.decimals) + BETTER.get(d.improved, "")


def _gate_rows(cmp: Comparison, cell_limit: int | None) -> list[list[str]]:
    rows = []
    for row in cmp.rows:
        dec = row.decimals
        d = row.delta
        cells = [
            md_escape(row.label, 80),
            fmt_value(row.baseline, dec) if cmp.baseline_present else "n/a",
            fmt_value(row.candidate, dec),
            _delta_cell(row),
            fmt_ci(d.ci_low, d.ci_high, dec) if d is not None else "n/a",
            "<br>".join(_gate_cell(g, dec) for g in row.gates) or "—",
        ]
        rows.append([_cut(c, cell_limit) for c in cells])
    return rows


def _gate_headers(cmp: Comparison, ctx: ReportContext) -> list[str]:
    """The sides' names; the baseline's SHA is the headline's, so only the candidate's is here,
    and only when it is another commit."""
    b, c = ctx.baseline, ctx.candidate
    b_bits = [(b.ref or b.label) if b else ""]
    b_bits = [x for x in b_bits if x]
    c_bits = [c.short_sha] if c.short_sha and c.short_sha != (b.short_sha if b else "") else []
    pct = f"{cmp.confidence:.0%}"
    return [
        "metric",
        "baseline" + (f" ({md_escape(', '.join(b_bits), 40)})" if b_bits else ""),
        "candidate" + (f" ({md_escape(', '.join(c_bits), 40)})" if c_bits else ""),
        "Δ",
        f"{pct} CI",
        "gate",
    ]


def gate_table(cmp: Comparison, ctx: ReportContext, *, cell_limit: int | None = None) -> str:
    """metric | baseline (ref, SHA) | candidate (SHA) | Δ | CI | gate; cells cut to a limit."""
    rows = _gate_rows(cmp, cell_limit)
    headers = _gate_headers(cmp, ctx)
    if cell_limit is not None:
        headers = [_cut(h, cell_limit) for h in headers]
    return _table(headers, rows) if rows else "_No metrics were evaluated._"


def gate_legend(cmp: Comparison) -> str:
    if not cmp.baseline_present:
        return f"Candidate scored on {cmp.n_rows:,} evaluation rows."
    pct = f"{cmp.confidence:.0%}"
    return (
        f"Paired comparison on the same {cmp.n_rows:,} evaluation rows. "
        f"✓ better / ✗ worse: a significant improvement / regression by the metric's direction "
        f"(the {pct} CI of Δ excludes 0)."
    )


def _slice_cell(table: SliceTable, row: Any, metric: str) -> str:
    c = row.candidate[metric]
    if row.baseline is None:
        return fmt_value(c)
    b = row.baseline[metric]
    dec = scale_decimals(b, c)
    delta = row.delta(metric)
    arrow = BETTER.get({1: True, -1: False}.get(row.verdicts.get(metric, 0)), "")
    return f"{fmt_value(b, dec)} → {fmt_value(c, dec)} ({fmt_signed(delta, dec)}){arrow}"


def slice_section(cmp: Comparison) -> str:
    from cml_bot.core.metrics import METRICS

    parts = []
    for table in cmp.slices:
        labels = [md_escape(METRICS[m].label if m in METRICS else m, 60) for m in table.metrics]
        rows = [
            [md_escape(r.value, 60), f"{r.n:,}", *(_slice_cell(table, r, m) for m in table.metrics)]
            for r in table.rows
        ]
        parts.append(f"**{md_escape(table.column, 80)}**")
        parts.append(_table([md_escape(table.column, 80), "n", *labels], rows))
        if table.omitted:
            parts.append(f"… and {_plural(table.omitted, 'smaller slice')} not shown.")
    if parts and cmp.baseline_present:
        parts.insert(
            0,
            "Each cell: baseline → candidate (Δ). ✓ better / ✗ worse: significant by the "
            "metric's direction after Holm's correction for every slice and metric compared.",
        )
    return "\n\n".join(parts)


def _matrix_table(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    shown = [md_escape(x, 40) for x in labels]
    rows = [[shown[i], *(f"{v:,}" for v in matrix[i])] for i in range(len(labels))]
    return _table(["true ↓ predicted →", *shown], rows)


def confusion_section(conf: ConfusionMatrices | None) -> str:
    if conf is None:
        return ""
    parts = []
    if conf.baseline is not None:
        parts += [
            "**Baseline** (rows: true label, columns: predicted)",
            _matrix_table(conf.labels, conf.baseline),
        ]
    parts += [
        "**Candidate** (rows: true label, columns: predicted)",
        _matrix_table(conf.labels, conf.candidate),
    ]
    return "\n\n".join(parts)


def params_section(ctx: ReportContext) -> str:
    changes = ctx.changed_params
    if changes is None:
        if ctx.baseline is None:
            return ""
        changes = changed_params(ctx.baseline.params, ctx.candidate.params)
    builtin = f"\n\n{BUILTIN_PREPROCESSING}" if ctx.candidate.estimator else ""
    if not changes:
        return "No parameter changes." + builtin
    rows = [
        [md_escape(n, 80), md_escape(_param_str(a), 120), md_escape(_param_str(b), 120)]
        for n, a, b in changes
    ]
    return _table(["parameter", "baseline", "candidate"], rows) + builtin


def performance_section(ctx: ReportContext, cmp: Comparison | None = None) -> str:
    """Model size and latency. With both models timed together (``cmp.latency``) the latency
    row is theirs and the ratio line says whether it is noise; otherwise the latencies each
    model's scoring measured apart, and why there is no ratio."""
    b, c = ctx.baseline, ctx.candidate
    lat = cmp.latency if cmp is not None else None
    specs: list[tuple[str, Any, Any, Any]] = [
        ("model size", b.model_size_bytes if b else None, c.model_size_bytes, _bytes),
    ]
    if lat is not None:
        specs.append(
            ("prediction latency, timed together (ms/row)", lat.baseline_ms, lat.candidate_ms, None)
        )
    else:
        specs += [
            (
                "prediction latency, median (ms/row)",
                b.latency_median_ms if b else None,
                c.latency_median_ms,
                fmt_value,
            ),
            (
                "prediction latency, p95 (ms/row)",
                b.latency_p95_ms if b else None,
                c.latency_p95_ms,
                fmt_value,
            ),
        ]
    rows = []
    for name, before, after, fmt in specs:
        if before is None and after is None:
            continue
        if fmt is None:  # timed together: the ratio with its interval
            rows.append([name, fmt_value(before), fmt_value(after), _ratio_cell(lat)])
            continue
        if before is not None and after is not None:
            diff = (
                _bytes(after - before)
                if fmt is _bytes
                else fmt_signed(after - before, scale_decimals(before, after))
            )
            if fmt is _bytes and after >= before:
                diff = "+" + diff
            delta = diff + _pct_change(before, after)
        else:
            delta = "n/a"
        rows.append([name, fmt(before), fmt(after), delta])
    table = _table(["", "baseline", "candidate", "Δ"], rows) if rows else ""
    note = cmp.latency_note if cmp is not None else None
    line = _latency_line(lat) if lat is not None else md_escape(note or "", 300)
    return "\n\n".join(p for p in (table, line) if p)


def _ratio_cell(lat: Any) -> str:
    if not lat.has_interval:
        return f"×{lat.ratio:.2f}"
    return f"×{lat.ratio:.2f} ({lat.confidence:.0%} CI ×{lat.ci_low:.2f} to ×{lat.ci_high:.2f})"


def _latency_line(lat: Any) -> str:
    """The latency ratio candidate / baseline, and whether it is noise."""
    ci = (
        f"{lat.confidence:.0%} CI ×{lat.ci_low:.2f} to ×{lat.ci_high:.2f}"
        if lat.has_interval
        else "no interval"
    )
    rounds = _plural(lat.rounds, "interleaved round")
    how = f"{ci}; {rounds} on {_plural(lat.rows, 'row')} in one process"
    if not lat.has_interval:
        verdict = "one round cannot be told from noise"
    elif lat.noise:
        verdict = "noise, the interval includes 1"
    elif lat.ci_low > 1:
        verdict = "the candidate is slower per row (the whole interval is above 1)"
    else:
        verdict = "the candidate is faster per row (the whole interval is below 1)"
    return f"Latency ratio candidate / baseline: **×{lat.ratio:.2f}** ({how}): {verdict}."


def links_section(ctx: ReportContext) -> str:
    links = [
        ("candidate run", ctx.candidate.run_url),
        ("baseline run", ctx.baseline.run_url if ctx.baseline else None),
        ("workflow run", ctx.run_url),
    ]
    lines = [f"- [{name}]({url})" for name, raw in links if (url := safe_url(raw))]
    return "\n".join(lines)


def commands_section(ctx: ReportContext) -> str:
    if not ctx.commands:
        return ""
    rows = [
        [md_escape(f"/{verb.lstrip('/')}", 40), md_escape(usage, 200), md_escape(permission, 20)]
        for verb, usage, permission in ctx.commands
    ]
    return "Comment one of these as the first line of a PR comment:\n\n" + _table(
        ["command", "usage", "needs permission"], rows
    )


def trailer(ctx: ReportContext) -> str:
    def side(name: str, identity: ModelIdentity | None) -> str:
        if identity is None:
            return f"{name} none"
        ref = f" ({md_escape(identity.ref, 60)})" if identity.ref else ""
        return f"{name} {md_escape(identity.sha or identity.label, 40)}{ref}"

    bits = [
        side("baseline", ctx.baseline),
        side("candidate", ctx.candidate),
        f"cml-bot {md_escape(ctx.bot_version, 30)}",
        iso_utc(ctx.generated_at),
    ]
    return "<sub>" + " · ".join(bits) + "</sub>"


def trimmed_line(dropped: Sequence[str]) -> str:
    if not dropped:
        return ""
    names = dict(TRIM_ORDER)
    return (
        "> ✂️ Trimmed to fit GitHub's comment limit: " + ", ".join(names[k] for k in dropped) + "."
    )
