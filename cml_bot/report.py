"""The sticky PR report: a :class:`~cml_bot.compare.Comparison` -> one GitHub-markdown body.

Pure render: no clock, no environment, no network. The same inputs give the same text.

Escaping (one rule for every user-controlled string). :func:`md_escape` makes a value plain
text in GitHub markdown: whitespace and newlines collapse to one space, invisible and bidi control
characters are dropped, the value is truncated, ``& < >`` are HTML-escaped (so ``</details>``,
``<img>`` and ``<!--`` stay text), and markdown specials ``\\ ` * _ [ ] | ~ $`` are
backslash-escaped, as is a leading ``# + - =`` or ``1.``. User values are never put inside code
spans, link targets or HTML attributes, so this one inline context is the only one needed.

How it is applied: *escape by default*. The Jinja2 ``SandboxedEnvironment`` has a custom
``finalize`` that runs :func:`md_escape` on every ``{{ expression }}`` unless the value is a
:class:`markupsafe.Markup`. Fragments this module builds (tables, chart, verdict line) are
built from escaped cells and handed to the template as ``Markup``; everything else a template
prints, including anything a user's own template reaches into, is escaped. Jinja's HTML
``autoescape`` is off because HTML escaping alone does not neutralise markdown (``|`` breaks a
table, ``*`` starts emphasis). ``{{ value | esc(80) }}`` escapes with a custom length limit.

Size budget: the body never exceeds ``max_chars``. Detail is dropped in :data:`TRIM_ORDER`
order (the template is told through ``show``), and a line says what was trimmed. The marker,
the verdict line and the gate table are never dropped: if they alone are too long, the gate
table's cells are shortened, then its last rows are replaced by a count.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from tabulate import tabulate

from cml_bot import __version__
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
from cml_bot.errors import ConfigError

TEMPLATE_NAME = "report.md.j2"
MARKER_PREFIX = "<!-- cml-bot:report"
DEFAULT_MAX_CHARS = 65000
VALUE_LIMIT = 300  # default length of one user value (the autoescape default)
NOTE_LIMIT = 500
MAX_NOTES = 20
MAX_COLUMNS_LISTED = 20

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
_CELL_LIMITS = (60, 30, 16)


# -------------------------------------------------------------------------------------- escaping

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_SPACE = re.compile(r"\s+")
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
_LEADING = re.compile(r"^([#+=-]|\d{1,9}(?=[.)](?:\s|$)))")


def md_escape(value: Any, limit: int | None = VALUE_LIMIT) -> str:
    """``value`` as inline plain text in GitHub markdown (see the module docstring)."""
    if value is None:
        return ""
    text = _SPACE.sub(" ", _INVISIBLE.sub("", str(value))).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    text = html.escape(_INLINE.sub(r"\\\1", text), quote=False)
    return _LEADING.sub(
        lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), text
    )


def mermaid_label(value: Any, limit: int = 40) -> str:
    """A double-quoted Mermaid string: only letters, digits, space and ``_ . -`` survive."""
    text = re.sub(r"[^A-Za-z0-9 _.\-]", "_", _SPACE.sub(" ", str(value)).strip())[:limit]
    return f'"{text}"'


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for a markdown link target, or None. ``user:password@`` is dropped:
    a tracking URI with credentials must not put them in the report's run links."""
    if not url or not re.match(r"^https?://[^\s]+$", url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    text = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return quote(text, safe=":/?#@!$&*+,;=%-._~")


def report_marker(model_name: str) -> str:
    """The hidden first line that finds the sticky comment; the name cannot close the comment."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_name)[:100]
    return f"{MARKER_PREFIX} model={safe} -->"


def _esc_filter(value: Any, limit: int | None = VALUE_LIMIT) -> Markup:
    return Markup(md_escape(value, limit))  # noqa: S704 - md_escape output is plain text


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    return md_escape(value)


# ---------------------------------------------------------------------------------- context


class _Unset:
    def __repr__(self) -> str:
        return "(not set)"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class DataChanges:
    rows_before: int | None = None
    rows_after: int | None = None
    balance_before: dict[str, float] | None = None
    balance_after: dict[str, float] | None = None
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)

    @classmethod
    def between(cls, baseline: ModelIdentity | None, candidate: ModelIdentity) -> DataChanges:
        before = baseline.columns if baseline is not None else []
        return cls(
            rows_before=baseline.rows if baseline is not None else None,
            rows_after=candidate.rows,
            balance_before=baseline.class_balance if baseline is not None else None,
            balance_after=candidate.class_balance,
            added_columns=[c for c in candidate.columns if before and c not in before],
            removed_columns=[c for c in before if candidate.columns and c not in candidate.columns],
        )


def changed_params(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, old, new) for every parameter that differs; :data:`UNSET` marks a missing side."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, UNSET), new.get(name, UNSET)
        if a is UNSET or b is UNSET or a != b:
            out.append((name, a, b))
    return out


@dataclass(frozen=True)
class ReportContext:
    """Everything the report says besides the comparison itself."""

    model_name: str
    baseline: ModelIdentity | None
    candidate: ModelIdentity
    generated_at: datetime  # passed in, never read from the clock here
    baseline_note: str = ""  # e.g. "champion v3", "base commit (no champion yet)"
    changed_params: list[tuple[str, Any, Any]] | None = None  # None: from the identities' params
    data_changes: DataChanges | None = None  # None: from the identities' data summaries
    notes: list[str] = field(default_factory=list)
    run_url: str | None = None  # the workflow run
    commands: list[tuple[str, str, str]] = field(default_factory=list)  # verb, usage, permission
    bot_version: str = __version__
    marker: str = ""  # "": report_marker(model_name)


# ------------------------------------------------------------------------------- formatting


def _iso_utc(moment: datetime) -> str:
    moment = (
        moment.replace(tzinfo=timezone.utc)
        if moment.tzinfo is None
        else moment.astimezone(timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return tabulate(
        [list(r) for r in rows], headers=list(headers), tablefmt="github", disable_numparse=True
    )


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _param_str(value: Any) -> str:
    if value is UNSET:
        return "(not set)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bytes(n: float | None) -> str:
    if n is None or not math.isfinite(n):
        return "n/a"
    size, units = abs(float(n)), ("B", "KiB", "MiB", "GiB", "TiB")
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size, i = size / 1024, i + 1
    sign = "-" if n < 0 else ""
    return f"{sign}{size:.0f} {units[i]}" if i == 0 else f"{sign}{size:.1f} {units[i]}"


def _pct_change(before: float | None, after: float | None) -> str:
    if before is None or after is None or before == 0:
        return ""
    return f" ({(after - before) / abs(before):+.1%})"


# --------------------------------------------------------------------------------- sections


def _who(identity: ModelIdentity | None, note: str) -> str:
    """Escaped: ``champion v3 (main, abc1234)``."""
    if identity is None:
        return md_escape(note or "no baseline", 80)
    name = note or identity.label
    details = [
        d for d in (identity.ref if identity.ref not in name else "", identity.short_sha) if d
    ]
    suffix = f" ({md_escape(', '.join(details), 60)})" if details else ""
    return md_escape(name, 80) + suffix


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def verdict_line(cmp: Comparison, ctx: ReportContext) -> str:
    n_eval, n_fail = len(cmp.evaluated_gates), len(cmp.failed_gates)
    who = _who(ctx.baseline, ctx.baseline_note)
    if cmp.verdict == "fail":
        against = f"against {who}" if cmp.baseline_present else f"(no comparable baseline: {who})"
        return f"❌ **Fail**: {n_fail} of {_plural(n_eval, 'gate')} failed {against}."
    if cmp.verdict == "pass":
        gates = (
            ("the gate passed" if n_eval == 1 else f"all {n_eval} gates passed")
            if n_eval
            else "no gates configured"
        )
        return f"✅ **Pass**: {gates} against {who}."
    if ctx.baseline is not None and cmp.baseline_problem:
        reason = f"{who} could not be compared ({md_escape(cmp.baseline_problem, 200)})"
    else:
        reason = who if ctx.baseline is None else f"{who} gave no comparable rows"
    skipped = len(cmp.gates) - n_eval
    tail = f"{_plural(n_eval, 'absolute gate')} passed" if n_eval else "no absolute gates"
    if skipped:
        tail += f", {_plural(skipped, 'relative gate')} not evaluated"
    return f"⚪ **No baseline**: {reason}; {tail}."


def _gate_cell(g: GateResult, dec: int) -> str:
    icon = {"pass": "✅", "fail": "❌"}.get(g.status, "⚪")
    if g.rule in ("min", "max", "max_drop"):
        assert isinstance(g.threshold, float | int)
        text = f"{g.rule} {fmt_threshold(float(g.threshold), dec)}"
    else:
        text = f"{g.rule} {str(g.threshold).replace('_', ' ')}"
    return f"{icon} {md_escape(text)}" + (" (no baseline)" if g.passed is None else "")


def _delta_cell(row: MetricRow) -> str:
    d = row.delta
    if d is None:
        return "n/a"
    arrow = ""
    if d.significant and math.isfinite(d.delta) and d.delta != 0:
        arrow = " ⬆" if (d.delta > 0) == row.greater_is_better else " ⬇"
    return fmt_signed(d.delta, row.decimals) + arrow


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
    b, c = ctx.baseline, ctx.candidate
    b_bits = [x for x in ((b.ref or b.label) if b else "", b.short_sha if b else "") if x]
    c_bits = [c.short_sha] if c.short_sha else []
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
        f"⬆/⬇: significant improvement/regression (the {pct} CI of Δ excludes 0)."
    )


def mermaid_chart(cmp: Comparison) -> str:
    """A bar chart with the table's numbers. xychart-beta draws several bar series on top of each
    other, so baseline and candidate are adjacent bars of one series, labelled by side."""
    labels: list[str] = []
    values: list[str] = []
    for row in cmp.rows:
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
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Baseline vs candidate"'
            if cmp.baseline_present
            else '    title "Candidate"',
            f"    x-axis [{', '.join(labels)}]",
            f'    y-axis "value" {low:.4g} --> {high:.4g}',
            f"    bar [{', '.join(values)}]",
            "```",
        ]
    )


def _slice_cell(table: SliceTable, row: Any, metric: str) -> str:
    c = row.candidate[metric]
    if row.baseline is None:
        return fmt_value(c)
    b = row.baseline[metric]
    dec = scale_decimals(b, c)
    delta = row.delta(metric)
    return f"{fmt_value(b, dec)} → {fmt_value(c, dec)} ({fmt_signed(delta, dec)})"


def slice_section(cmp: Comparison) -> str:
    from cml_bot.metrics import METRICS

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
        parts.insert(0, "Each cell: baseline → candidate (Δ).")
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
    if not changes:
        return "No parameter changes."
    rows = [
        [md_escape(n, 80), md_escape(_param_str(a), 120), md_escape(_param_str(b), 120)]
        for n, a, b in changes
    ]
    return _table(["parameter", "baseline", "candidate"], rows)


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


def data_section(ctx: ReportContext) -> str:
    dc = ctx.data_changes or DataChanges.between(ctx.baseline, ctx.candidate)
    if dc.rows_after is None and dc.rows_before is None and not dc.balance_after:
        return ""
    rows_fmt = [fmt_int(dc.rows_before), fmt_int(dc.rows_after)]
    rows = [
        ["evaluation rows", *rows_fmt],
        ["class balance", _balance(dc.balance_before), _balance(dc.balance_after)],
    ]
    text = _table(["", "baseline", "candidate"], rows)
    if dc.added_columns or dc.removed_columns:
        text += (
            f"\n\nColumns added: {_columns(dc.added_columns)}. "
            f"Columns removed: {_columns(dc.removed_columns)}."
        )
    else:
        text += "\n\nNo columns added or removed."
    return text


def fmt_int(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def performance_section(ctx: ReportContext) -> str:
    b, c = ctx.baseline, ctx.candidate
    specs: list[tuple[str, Any, Any, Any]] = [
        ("model size", b.model_size_bytes if b else None, c.model_size_bytes, _bytes),
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
    return _table(["", "baseline", "candidate", "Δ"], rows) if rows else ""


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
        return f"{name} {md_escape(identity.sha or 'unknown', 40)}{ref}"

    bits = [
        side("baseline", ctx.baseline),
        side("candidate", ctx.candidate),
        f"cml-bot {md_escape(ctx.bot_version, 30)}",
        _iso_utc(ctx.generated_at),
    ]
    return "<sub>" + " · ".join(bits) + "</sub>"


def trimmed_line(dropped: Sequence[str]) -> str:
    if not dropped:
        return ""
    names = dict(TRIM_ORDER)
    return (
        "> ✂️ Trimmed to fit GitHub's comment limit: " + ", ".join(names[k] for k in dropped) + "."
    )


# -------------------------------------------------------------------------------- templates


def default_template_text() -> str:
    """The packaged ``report.md.j2`` (wheel: ``cml_bot/templates``; editable: ``templates/``)."""
    try:
        res = resources.files("cml_bot") / "templates" / TEMPLATE_NAME
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        pass
    fallback = Path(__file__).resolve().parent.parent / "templates" / TEMPLATE_NAME
    return fallback.read_text(encoding="utf-8")


def load_template(path: str | None, *, root: Path | None = None) -> str:
    """The user's template text (``report.template``; relative to ``root``), else the default."""
    if path is None:
        return default_template_text()
    p = Path(path)
    if not p.is_absolute() and root is not None:
        p = root / p
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"report.template: file not found: {p}",
            fix="fix the path (relative to the config file) or remove the key",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"report.template: cannot read {p}: {exc}", fix="give a UTF-8 Jinja2 template file"
        ) from None


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=False,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["esc"] = _esc_filter
    return env


def _compile(template_text: str) -> Template:
    try:
        return environment().from_string(template_text)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        raise ConfigError(
            f"report template{where}: {exc}", fix="fix the Jinja2 syntax of report.template"
        ) from None


# ---------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class _Sections:
    """The pre-rendered fragments (escaped markdown) the template arranges."""

    slices: str
    confusion: str
    chart: str
    params: str
    data: str
    performance: str
    links: str
    commands: str


def _sections(cmp: Comparison, ctx: ReportContext) -> _Sections:
    return _Sections(
        slices=slice_section(cmp),
        confusion=confusion_section(cmp.confusion),
        chart=mermaid_chart(cmp),
        params=params_section(ctx),
        data=data_section(ctx),
        performance=performance_section(ctx),
        links=links_section(ctx),
        commands=commands_section(ctx),
    )


def _notes(cmp: Comparison, ctx: ReportContext) -> list[Markup]:
    notes = [*ctx.notes, *cmp.notes]
    shown = [Markup(md_escape(n, NOTE_LIMIT)) for n in notes[:MAX_NOTES]]  # noqa: S704
    if len(notes) > MAX_NOTES:
        shown.append(Markup(f"… and {len(notes) - MAX_NOTES} more notes"))  # noqa: S704
    return shown


def _variables(
    cmp: Comparison, ctx: ReportContext, parts: _Sections, dropped: Sequence[str], table: str
) -> dict[str, Any]:
    show = {key: key not in dropped for key, _ in TRIM_ORDER}
    m = Markup  # every fragment below is built from md_escape'd values
    sections = {name: m(getattr(parts, name)) for name in _Sections.__dataclass_fields__}
    return {
        "marker": m(ctx.marker or report_marker(ctx.model_name)),
        "model_name": ctx.model_name,
        "verdict": cmp.verdict,
        "verdict_line": m(verdict_line(cmp, ctx)),
        "gate_table": m(table),
        "gate_legend": m(gate_legend(cmp)),
        "failed_gates": [m(md_escape(g.message, NOTE_LIMIT)) for g in cmp.failed_gates],
        "notes": _notes(cmp, ctx),
        "trimmed": [dict(TRIM_ORDER)[k] for k in dropped],
        "trimmed_line": m(trimmed_line(dropped)),
        "show": show,
        "sections": sections,
        **sections,
        "trailer": m(trailer(ctx)),
        "comparison": cmp,
        "ctx": ctx,
    }


def _render_once(template: Template, variables: dict[str, Any]) -> str:
    try:
        text = template.render(**variables)
    except TemplateError as exc:
        raise ConfigError(
            f"report template failed to render: {exc}",
            fix="check the variables report.template uses (see docs/report-templates.md)",
        ) from None
    marker = str(variables["marker"])
    if not text.startswith(marker):  # a custom template without the marker stays findable
        text = f"{marker}\n{text}"
    return text.rstrip() + "\n"


def _close_open_blocks(text: str) -> str:
    if text.count("```") % 2:
        text += "\n```"
    opened = len(re.findall(r"<details>", text)) - len(re.findall(r"</details>", text))
    return text + "\n</details>" * max(opened, 0) + "\n"


def _hard_cut(text: str, max_chars: int) -> str:
    """Last resort (a custom template or an absurdly small budget): cut at a line end."""
    tail = "\n\n… (cut to fit the comment limit)\n"
    budget = max_chars - len(tail) - len("\n```") - len("\n</details>") * 3 - 1
    cut = text[: max(budget, 0)]
    if "\n" in cut:
        cut = cut.rsplit("\n", 1)[0]
    out = _close_open_blocks(cut.rstrip()) + tail.lstrip("\n")
    return out if len(out) <= max_chars else text[:max_chars]


def render_report(
    comparison: Comparison,
    ctx: ReportContext,
    *,
    template_text: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """The report body, never longer than ``max_chars`` characters."""
    template = _compile(template_text if template_text is not None else default_template_text())
    parts = _sections(comparison, ctx)
    dropped: list[str] = []

    def attempt(table: str) -> str:
        return _render_once(template, _variables(comparison, ctx, parts, dropped, table))

    present = {
        **{k: bool(v) for k, v in parts.__dict__.items()},
        "notes": bool(ctx.notes or comparison.notes),
        "failed_gates": bool(comparison.failed_gates),
    }
    table = gate_table(comparison, ctx)
    text = attempt(table)
    for key, _ in TRIM_ORDER:
        if len(text) <= max_chars:
            return text
        if present[key]:  # the trimmed line names only sections that had something to show
            dropped.append(key)
            text = attempt(table)
    for limit in _CELL_LIMITS:
        if len(text) <= max_chars:
            return text
        table = gate_table(comparison, ctx, cell_limit=limit)
        text = attempt(table)
    if len(text) > max_chars:
        text = _fit_rows(table, attempt, max_chars) or text
    return text if len(text) <= max_chars else _hard_cut(text, max_chars)


def _fit_rows(table: str, attempt: Callable[[str], str], max_chars: int) -> str | None:
    """The gate table's longest prefix of rows that fits, the rest counted; None if none does.

    A prefix of a tabulate table is still a table (columns are padded to the widest cell)."""
    lines = table.split("\n")
    head, body = lines[:2], lines[2:]

    def cut(k: int) -> str:
        more = f"\n\n… {_plural(len(body) - k, 'more metric')} not shown (see the result JSON)."
        return "\n".join(head + body[:k]) + more

    low, high, best = 0, len(body) - 1, None
    while low <= high:
        mid = (low + high) // 2
        text = attempt(cut(mid))
        if len(text) <= max_chars:
            best, low = text, mid + 1
        else:
            high = mid - 1
    return best
