"""Escaping and formatting for the PR report: user strings -> inline plain markdown text.

Pure: no clock, no environment, no network. :func:`md_escape` is the one escaping rule for every
user-controlled string (see :mod:`cml_bot.report`); :func:`_finalize` and :func:`_esc_filter`
apply it in the Jinja2 environment. The formatting helpers (tables, cut cells, byte sizes,
percent changes, counts, UTC timestamps) build the report's fragments from escaped cells.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from markupsafe import Markup
from tabulate import tabulate

MARKER_PREFIX = "<!-- cml-bot:report"
VALUE_LIMIT = 300  # default length of one user value (the autoescape default)


# -------------------------------------------------------------------------------------- escaping

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_SPACE = re.compile(r"\s+")
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
_LEADING = re.compile(r"^([#+=-]|\d{1,9}(?=[.)](?:\s|$)))")


def md_escape(value: Any, limit: int | None = VALUE_LIMIT) -> str:
    """``value`` as inline plain text in GitHub markdown (the rule: ``report.render``)."""
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
