"""The sticky PR report: a :class:`~cml_bot.compare.engine.Comparison` -> one GitHub-markdown body.

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

Layout: this module holds template loading and rendering with the size budget; the parts live in
sibling modules and are re-exported here: :mod:`cml_bot.report.text` (escaping and formatting),
:mod:`cml_bot.report.context` (:class:`ReportContext`, :class:`DataChanges`,
:func:`changed_params`) and :mod:`cml_bot.report.sections` (the verdict line, gate table, chart
and the other sections, and :data:`TRIM_ORDER`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from cml_bot.compare import Comparison
from cml_bot.core import VALUE_LIMIT, ConfigError, md_escape
from cml_bot.report.chart import mermaid_chart
from cml_bot.report.context import UNSET, DataChanges, ReportContext, changed_params
from cml_bot.report.data_notes import MAX_COLUMNS_LISTED, data_section
from cml_bot.report.sections import (
    TRIM_ORDER,
    commands_section,
    confusion_section,
    gate_legend,
    gate_table,
    links_section,
    params_section,
    performance_section,
    slice_section,
    trailer,
    trimmed_line,
)
from cml_bot.report.text import (
    MARKER_PREFIX,
    _esc_filter,
    _finalize,
    _plural,
    fmt_int,
    mermaid_label,
    report_marker,
    safe_url,
)
from cml_bot.report.verdict import verdict_line

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MARKER_PREFIX",
    "MAX_COLUMNS_LISTED",
    "MAX_NOTES",
    "NOTE_LIMIT",
    "TEMPLATE_NAME",
    "TRIM_ORDER",
    "UNSET",
    "VALUE_LIMIT",
    "DataChanges",
    "ReportContext",
    "changed_params",
    "commands_section",
    "confusion_section",
    "data_section",
    "default_template_text",
    "environment",
    "fmt_int",
    "gate_legend",
    "gate_table",
    "links_section",
    "load_template",
    "md_escape",
    "mermaid_chart",
    "mermaid_label",
    "params_section",
    "performance_section",
    "render_report",
    "report_marker",
    "safe_url",
    "slice_section",
    "trailer",
    "trimmed_line",
    "verdict_line",
]

TEMPLATE_NAME = "report.md.j2"
DEFAULT_MAX_CHARS = 65000
NOTE_LIMIT = 500
MAX_NOTES = 20
_CELL_LIMITS = (60, 30, 16)


# -------------------------------------------------------------------------------- templates


def default_template_text() -> str:
    """The packaged ``report.md.j2`` (wheel: ``cml_bot/templates``; editable: ``templates/``)."""
    try:
        res = resources.files("cml_bot") / "templates" / TEMPLATE_NAME
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        pass
    fallback = Path(__file__).resolve().parents[2] / "templates" / TEMPLATE_NAME
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
        performance=performance_section(ctx, cmp),
        links=links_section(ctx),
        commands=commands_section(ctx),
    )


def _notes(cmp: Comparison, ctx: ReportContext) -> list[Markup]:
    """The notes, led by what changed in the model's inputs, estimator and training rows."""
    changes = ctx.data_changes or DataChanges.between(ctx.baseline, ctx.candidate)
    lead = ["Changed since the baseline: " + " ".join(changes.headline)] if changes.headline else []
    notes = [*lead, *ctx.notes, *cmp.notes]
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
        "other_gates": [
            *[m("🟡 " + md_escape(g.message, NOTE_LIMIT)) for g in cmp.inconclusive_gates],
            *[m("⚠️ " + md_escape(g.message, NOTE_LIMIT) + " (warn)") for g in cmp.warned_gates],
        ],
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
        "notes": bool(ctx.notes or comparison.notes or _notes(comparison, ctx)),
        "failed_gates": bool(
            comparison.failed_gates or comparison.inconclusive_gates or comparison.warned_gates
        ),
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
