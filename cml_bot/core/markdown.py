"""Markdown every bot output shares: the one escaping rule and the one table builder.

:func:`md_escape` turns any value a user controls (a branch name, a column, a class label, a
parameter) into inline plain text; :func:`markdown_table` is the only way a GitHub-flavoured table
is built (tabulate's ``github`` format), escaping its cells unless they are already markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

VALUE_LIMIT = 300  # default length of one user value

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_SPACE = re.compile(r"\s+")
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
_LEADING = re.compile(r"^([#+=-]|\d{1,9}(?=[.)](?:\s|$)))")
# GitHub turns these into pings, cross-references and links even in plain text; a WORD JOINER
# (invisible, and removed from input above, so only ours are left) keeps them text.
_WJ = "\u2060"
_LIVE = re.compile(
    r"(?<=@)(?=[A-Za-z0-9])|(?<=#)(?=\d)|(?:(?<=http:)|(?<=https:))(?=//)|(?<=\bwww)(?=\.)", re.I
)


def md_escape(value: Any, limit: int | None = VALUE_LIMIT) -> str:
    """``value`` as inline plain text in GitHub markdown: no formatting, link, HTML or table
    cell break survives, no @mention pings, no #123 cross-reference or bare URL is linked,
    invisible characters are dropped, whitespace is folded, and the text is cut to ``limit``
    characters (``None``: no limit)."""
    if value is None:
        return ""
    text = _SPACE.sub(" ", _INVISIBLE.sub("", str(value))).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    text = html.escape(_INLINE.sub(r"\\\1", text), quote=False)
    text = _LIVE.sub(_WJ, text)
    return _LEADING.sub(
        lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), text
    )


def fenced(text: str) -> str:
    """``text`` (a program's output, an error) verbatim in a fenced code block whose fence is
    longer than any run of backticks inside, so nothing in it can close the block and be
    rendered: no forged "✅ Pass", no team ping, no HTML."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def markdown_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    escape: bool = True,
    align: Sequence[str] | None = None,
) -> str:
    """A GitHub markdown table. ``escape=False`` when the cells are markdown already (escaped
    by the caller, or code spans); a literal ``|`` in such a cell must be ``\\|``. ``align``:
    one of ``left``, ``right``, ``center`` per column."""
    from tabulate import tabulate  # light, but only the paths that write tables need it

    def cell(value: Any) -> str:
        return md_escape(value, None) if escape else str(value).replace("\n", " ")

    return tabulate(
        [[cell(v) for v in row] for row in rows],
        headers=[cell(h) for h in headers],
        tablefmt="github",
        disable_numparse=True,
        colalign=tuple(align) if align else None,
    )
