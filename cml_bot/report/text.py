"""Escaping and formatting for the PR report: user strings -> inline plain markdown text.

Pure: no clock, no environment, no network. :func:`md_escape` is the one escaping rule for every
user-controlled string (see :mod:`cml_bot.report`); :func:`_finalize` and :func:`_esc_filter`
apply it in the Jinja2 environment. The formatting helpers (tables, cut cells, byte sizes,
percent changes, counts, UTC timestamps) build the report's fragments from escaped cells.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from markupsafe import Markup

from cml_bot.core import VALUE_LIMIT, markdown_table, md_escape

MARKER_PREFIX = "<!-- cml-bot:report"


# -------------------------------------------------------------------------------------- escaping


def mermaid_label(value: Any, limit: int = 40) -> str:
    """A double-quoted Mermaid string: only letters, digits, space and ``_ . -`` survive."""
    text = re.sub(r"[^A-Za-z0-9 _.\-]", "_", " ".join(str(value).split()))[:limit]
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


# ------------------------------------------------------------------------------- formatting


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of cells that are markdown already (each built from escaped values)."""
    return markdown_table(headers, rows, escape=False)


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: max(limit - 1, 1)] + "…"


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def fmt_int(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"
