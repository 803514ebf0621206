"""Runner I/O for GitHub Actions: step outputs, the job summary, workflow commands, log groups.

Plain functions that take the environment as a mapping (default: ``os.environ``) so tests can pass
their own. Outside Actions (``GITHUB_ACTIONS`` is not ``true``) outputs and the summary are not
written, masks are not printed (printing a secret to a plain log would leak it), and annotations
and groups are printed as plain lines.

Workflow commands follow the runner's escaping (``@actions/core``): in data ``%``, CR and LF
become ``%25``, ``%0D``, ``%0A``; property values also escape ``:`` and ``,``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from cml_bot.core import PayloadError

SUMMARY_LIMIT = 1024 * 1024  # bytes: GitHub rejects a step summary over 1 MiB
SUMMARY_TRUNCATED_NOTE = (
    "\n\n> [!WARNING]\n> This summary was cut short: GitHub limits a step summary to 1 MiB. "
    "The full report is in the pull request comment and the job log.\n"
)
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions job."""
    return _env(env).get("GITHUB_ACTIONS") == "true"


# -------------------------------------------------------------------------- escaping


def escape_data(value: str) -> str:
    """Escape a workflow command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (``title=``, ``file=`` ...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, message: str, properties: Mapping[str, Any] | None = None) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


# -------------------------------------------------------------------------- outputs and summary


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _delimiter(name: str, value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        if delimiter not in value and delimiter not in name:
            return delimiter


def format_outputs(outputs: Mapping[str, Any]) -> str:
    """``GITHUB_OUTPUT`` text: every value in the heredoc form, which is safe for any content."""
    chunks = []
    for name, raw in outputs.items():
        if not _OUTPUT_NAME.match(name):
            raise ValueError(f"invalid step output name {name!r}: use letters, digits, - and _")
        value = _format_value(raw)
        delimiter = _delimiter(name, value)
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def set_outputs(outputs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> bool:
    """Append step outputs to ``$GITHUB_OUTPUT``; False (nothing written) outside Actions.

    Booleans become ``true``/``false``, None an empty string, lists and dicts JSON.
    """
    text = format_outputs(outputs)  # validates names even outside Actions
    path = _env(env).get("GITHUB_OUTPUT")
    if not path:
        return False
    with Path(path).open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return True


def truncate_summary(markdown: str, budget: int) -> str:
    """``markdown`` cut to ``budget`` UTF-8 bytes with a note, on a line break when possible."""
    data = markdown.encode("utf-8")
    if len(data) <= budget:
        return markdown
    note = SUMMARY_TRUNCATED_NOTE.encode("utf-8")
    keep = data[: max(budget - len(note), 0)].decode("utf-8", errors="ignore")
    cut = keep.rfind("\n")
    if cut > len(keep) // 2:
        keep = keep[:cut]
    return keep + SUMMARY_TRUNCATED_NOTE if budget >= len(note) else ""


def append_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append markdown to ``$GITHUB_STEP_SUMMARY`` within GitHub's 1 MiB cap per step.

    Returns False (nothing written) outside Actions.
    """
    path = _env(env).get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    text = truncate_summary(text, SUMMARY_LIMIT - used)
    if text:
        with target.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return True


# -------------------------------------------------------------------------- workflow commands


def _annotate(
    level: str,
    message: str,
    title: str | None,
    file: str | None,
    line: int | None,
    env: Mapping[str, str] | None,
    stream: TextIO | None,
) -> None:
    out = stream or sys.stdout
    if in_actions(env):
        props = {"file": file, "line": line, "title": title}
        print(_command(level, message, props), file=out, flush=True)
        return
    where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    heading = f"{title}: " if title else ""
    print(f"{level}: {where}{heading}{message}", file=stream or sys.stderr, flush=True)


def error(
    message: str,
    title: str | None = None,
    file: str | None = None,
    *,
    line: int | None = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """An error annotation (``::error``); a plain ``error:`` line on stderr outside Actions."""
    _annotate("error", message, title, file, line, env, stream)


def warning(
    message: str,
    title: str | None = None,
    file: str | None = None,
    *,
    line: int | None = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """A warning annotation (``::warning``)."""
    _annotate("warning", message, title, file, line, env, stream)


def notice(
    message: str,
    title: str | None = None,
    file: str | None = None,
    *,
    line: int | None = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """A notice annotation (``::notice``)."""
    _annotate("notice", message, title, file, line, env, stream)


def debug(message: str, env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> None:
    """A debug line, shown when the run has step debug logging on; nothing outside Actions."""
    if in_actions(env):
        print(_command("debug", message), file=stream or sys.stdout, flush=True)


def add_mask(
    value: str, env: Mapping[str, str] | None = None, stream: TextIO | None = None
) -> None:
    """Mask a secret in the job log: one ``::add-mask::`` per non-blank line.

    The runner matches masks line by line, so a multi-line secret (a PEM key) needs every line
    masked. Outside Actions nothing is printed.
    """
    if not in_actions(env):
        return
    out = stream or sys.stdout
    for line in value.splitlines():
        if line.strip():
            print(_command("add-mask", line), file=out, flush=True)


@contextmanager
def group(
    title: str, env: Mapping[str, str] | None = None, stream: TextIO | None = None
) -> Iterator[None]:
    """A collapsible log group; a plain ``== title ==`` heading outside Actions."""
    out = stream or sys.stdout
    if not in_actions(env):
        print(f"== {title} ==", file=out, flush=True)
        yield
        return
    print(_command("group", title), file=out, flush=True)
    try:
        yield
    finally:
        print("::endgroup::", file=out, flush=True)


# -------------------------------------------------------------------------- the event


def event_name(env: Mapping[str, str] | None = None) -> str:
    """``GITHUB_EVENT_NAME`` or an empty string."""
    return _env(env).get("GITHUB_EVENT_NAME", "")


def load_event_file(path: str | Path) -> dict[str, Any]:
    """A webhook payload file as a dict; :class:`PayloadError` with the fix otherwise."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PayloadError(
            f"the event payload {path} does not exist",
            fix="point GITHUB_EVENT_PATH (or --event-path) at a webhook payload file",
        ) from None
    except RecursionError:  # json nests deeper than the interpreter's stack allows
        raise PayloadError(
            f"the event payload {path} nests too deeply to be a webhook payload",
            fix="GITHUB_EVENT_PATH must name the JSON payload the runner wrote",
        ) from None
    except (OSError, ValueError) as exc:
        raise PayloadError(
            f"cannot read the event payload {path}: {exc}",
            fix="GITHUB_EVENT_PATH must name the JSON payload the runner wrote; when running by "
            "hand, unset it or point it at a webhook payload file",
        ) from None
    if not isinstance(payload, dict):
        raise PayloadError(
            f"the event payload {path} is not a JSON object",
            fix="point GITHUB_EVENT_PATH at a webhook payload file",
        )
    return payload


def read_event(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The webhook payload at ``$GITHUB_EVENT_PATH``; an empty dict when there is none."""
    path = _env(env).get("GITHUB_EVENT_PATH")
    if not path or not Path(path).exists():
        return {}
    return load_event_file(path)
