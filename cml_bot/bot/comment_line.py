"""The line of a comment a slash command is read from, and the characters it may not hide.

Pure: no click, no GitHub, no MLflow, no environment. The rules themselves are listed in
:mod:`cml_bot.bot.commands`.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LINE = 1000

_LEADING_BLANK_RE = re.compile(r"(?:[ \t]*(?:\r\n|\r|\n))*")
_ALLOWED_CONTROL = frozenset("\t")


def first_line(body: object) -> str | None:
    """The first non-blank line with up to three leading spaces removed, or ``None`` when there
    is none or it is an indented code block. Looks at a bounded window, never the whole body."""
    if not isinstance(body, str):
        return None
    text = body.lstrip("\ufeff")
    start = _LEADING_BLANK_RE.match(text)
    pos = start.end() if start else 0
    window = text[pos : pos + MAX_LINE + 8]
    line = re.split(r"\r\n|\r|\n", window, maxsplit=1)[0]
    indent = len(line) - len(line.lstrip(" "))
    if indent >= 4 or line[indent : indent + 1] == "\t":
        return None
    line = line[indent:].rstrip()
    return line or None


def is_hidden(char: str) -> bool:
    """A control or invisible formatting character (a tab is allowed)."""
    return char not in _ALLOWED_CONTROL and unicodedata.category(char) in (
        "Cc",
        "Cf",
        "Cs",
        "Co",
        "Zl",
        "Zp",
    )


def hidden_chars(line: str) -> str:
    """The hidden characters of ``line`` as code points (``U+200B, ...``), at most five."""
    found = sorted({c for c in line if is_hidden(c)})
    return ", ".join(f"U+{ord(c):04X}" for c in found[:5])


def normalize_spaces(text: str) -> str:
    """Unicode spaces and tabs as plain spaces."""
    return "".join(" " if unicodedata.category(c) == "Zs" or c == "\t" else c for c in text)


def code_span(text: str, limit: int = 40) -> str:
    """User text as a Markdown code span that cannot break out of itself or mention anyone."""
    shown = "".join(c for c in text if not is_hidden(c)).replace("`", "'")
    shown = shown.replace("<!--", "<!\u2060--")  # never an HTML comment, nor a report marker
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f"`{shown}`"
