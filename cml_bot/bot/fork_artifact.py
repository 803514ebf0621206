"""Publishing a fork pull request's report from its artifact, treating the artifact as hostile.

A fork's ``pull_request`` run has a read-only token, so it uploads ``result.json`` and ``pr.json``
as an artifact; a ``workflow_run`` job with a write token publishes them. That job must assume
the fork's code wrote anything at all into the artifact. So it:

- reads only two small JSON files (size-capped), never executes or renders the fork's markdown;
- validates every field it uses (types, finite numbers, lengths, the verdict's vocabulary);
- checks the claimed PR against GitHub: the PR's head must be the ``workflow_run``'s head SHA
  (which comes from GitHub's event, not the artifact);
- renders a compact report itself from the validated numbers, every string escaped.

Pure: no I/O beyond reading the given folder's two files.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from tabulate import tabulate

from cml_bot.compare import fmt_ci, fmt_signed, fmt_value
from cml_bot.core import PayloadError
from cml_bot.report import md_escape, report_marker

MAX_FILE = 256 * 1024
MAX_METRICS = 50
VERDICTS = {"pass": "✅ **Pass**", "fail": "❌ **Fail**", "no-baseline": "⚪ **No baseline**"}
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


def _read(folder: Path, name: str) -> Any:
    path = folder / name
    if not path.is_file() or path.is_symlink():
        raise PayloadError(
            f"the artifact has no regular file {name}",
            fix="upload .cml-bot/out/result.json and pr.json from the PR job",
        )
    if path.stat().st_size > MAX_FILE:
        raise PayloadError(
            f"the artifact's {name} is larger than {MAX_FILE} bytes",
            fix="upload only result.json and pr.json",
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the artifact's {name} is not JSON: {exc}") from None


def _num(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PayloadError(f"the artifact's {what} is not a finite number")
    return float(value)


def _text(value: Any, what: str, limit: int = 300) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"the artifact's {what} is not a string")
    return value[:limit]


def read_claim(folder: Path) -> tuple[int, str]:
    """The PR number and head SHA the artifact claims (to be checked against GitHub)."""
    data = _read(folder, "pr.json")
    pr, sha = (data.get("pr"), data.get("sha")) if isinstance(data, dict) else (None, None)
    if isinstance(pr, bool) or not isinstance(pr, int) or pr <= 0:
        raise PayloadError("the artifact's pr.json has no valid pull request number")
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise PayloadError("the artifact's pr.json has no valid head SHA")
    return pr, sha


def read_result(folder: Path) -> dict[str, Any]:
    """result.json reduced to the validated fields the compact report uses."""
    data = _read(folder, "result.json")
    if not isinstance(data, dict) or data.get("verdict") not in VERDICTS:
        raise PayloadError("the artifact's result.json has no valid verdict")
    metrics = data.get("metrics")
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
        raise PayloadError("the artifact's result.json has no valid metric list")
    rows = []
    for i, m in enumerate(metrics):
        if not isinstance(m, dict) or not _NAME.match(str(m.get("metric", ""))):
            raise PayloadError(f"the artifact's metrics[{i}] has no valid name")
        gates = m.get("gates") or []
        if not isinstance(gates, list) or len(gates) > 10:
            raise PayloadError(f"the artifact's metrics[{i}].gates is not a short list")
        rows.append(
            {
                "metric": m["metric"],
                **{
                    k: _num(m.get(k), f"metrics[{i}].{k}")
                    for k in ("baseline", "candidate", "delta", "ci_low", "ci_high")
                },
                "significant": m.get("significant") is True,
                "gates": [
                    (_text(g.get("message", ""), "gate message"), g.get("passed"))
                    for g in gates
                    if isinstance(g, dict)
                ],
            }
        )
    return {"verdict": data["verdict"], "metrics": rows}


def render(result: dict[str, Any], *, model_name: str, sha: str, run_url: str | None) -> str:
    """A compact report built here from validated values; every string escaped."""
    table = []
    for m in result["metrics"]:
        gates = (
            "<br>".join(
                ("✅ " if ok is True else "❌ " if ok is False else "⚪ ") + md_escape(msg, 120)
                for msg, ok in m["gates"]
            )
            or "—"
        )
        table.append(
            [
                md_escape(m["metric"]),
                fmt_value(m["baseline"]),
                fmt_value(m["candidate"]),
                fmt_signed(m["delta"]),
                fmt_ci(m["ci_low"], m["ci_high"]),
                gates,
            ]
        )
    failed = sum(1 for m in result["metrics"] for _, ok in m["gates"] if ok is False)
    verdict = VERDICTS[result["verdict"]] + (f": {failed} gate(s) failed" if failed else "")
    lines = [
        report_marker(model_name),
        f"## 🤖 cml-bot report: {md_escape(model_name)}",
        "",
        f"{verdict} for `{sha[:7]}` (from a fork).",
        "",
        tabulate(
            table,
            headers=["metric", "baseline", "candidate", "Δ", "95% CI", "gate"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        "This pull request comes from a fork, so its report was published from the run's "
        "artifact by a trusted job, which rebuilt this summary from validated numbers. "
        + (
            f"Per-slice tables and the other details are in the [run's job summary]({run_url})."
            if run_url
            else "The details are in the run's job summary."
        ),
    ]
    return "\n".join(lines) + "\n"


def claim_matches(claimed_sha: str, run_head_sha: str, pr_head_sha: str) -> bool:
    """The artifact may be published only for the commit GitHub says both the run and the PR
    are at (the fork cannot forge ``workflow_run.head_sha`` or the PR's head)."""
    return claimed_sha == run_head_sha == pr_head_sha
