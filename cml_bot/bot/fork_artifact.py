"""Publishing a fork pull request's report from its artifact, treating the artifact as hostile.

A fork's ``pull_request`` run has a read-only token, so it uploads ``result.json`` and ``pr.json``
as an artifact; a ``workflow_run`` job with a write token publishes them. That job must assume
the fork's code wrote anything at all into the artifact. So it:

- reads only two small JSON files (size-capped), never executes or renders the fork's markdown;
- validates every field it uses with strict pydantic models (:class:`Claim`, :class:`Result`):
  types, finite numbers, lengths, the verdict's vocabulary; every refusal names the field;
- checks the claimed PR against GitHub: the PR's head must be the ``workflow_run``'s head SHA
  (which comes from GitHub's event, not the artifact);
- renders a compact report itself from the validated numbers, every string escaped.

Pure: no I/O beyond reading the given folder's two files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from tabulate import tabulate

from cml_bot.compare import fmt_ci, fmt_signed, fmt_value
from cml_bot.core import PayloadError
from cml_bot.report import md_escape, report_marker

MAX_FILE = 256 * 1024
MAX_METRICS = 50
MAX_GATES = 10
Verdict = Literal["pass", "fail", "inconclusive", "no-baseline"]
VERDICTS: dict[Verdict, str] = {
    "pass": "✅ **Pass**",
    "fail": "❌ **Fail**",
    "inconclusive": "🟡 **Inconclusive**",
    "no-baseline": "⚪ **No baseline**",
}
NUMBERS = ("baseline", "candidate", "delta", "ci_low", "ci_high")
_SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"
_NAME = r"^[A-Za-z0-9_.\-]{1,80}$"


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


# The artifact's shape. Strict: nothing is coerced ("1" is no number, 4.0 no PR number, true
# neither). The files carry more than these fields (result.json is the whole result): other keys
# are ignored, never read. Patterns are checked with Python's ``re``, as before the models.


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, regex_engine="python-re")


def _capped(limit: int, *, empty_if_falsy: bool = False) -> BeforeValidator:
    """Refuse a list longer than ``limit`` before any of its items is validated."""

    def check(value: Any) -> Any:
        value = (value or []) if empty_if_falsy else value
        if isinstance(value, list) and len(value) > limit:
            raise ValueError(f"more than {limit} items")
        return value

    return BeforeValidator(check)


def _objects_only(value: Any) -> Any:
    """Gate entries that are no JSON objects are skipped, not refused."""
    return [g for g in value if isinstance(g, dict)] if isinstance(value, list) else value


Number = Annotated[float | None, Field(allow_inf_nan=False)]


class Claim(_Strict):
    """pr.json: the pull request and head commit the fork's run says it was for."""

    pr: Annotated[int, Field(gt=0)]
    sha: Annotated[str, Field(pattern=_SHA)]


class Gate(_Strict):
    message: str = ""
    passed: Any = None  # only true and false mean something

    def row(self) -> tuple[str, bool | None]:
        return self.message[:300], self.passed if isinstance(self.passed, bool) else None


class Metric(_Strict):
    metric: Annotated[str, Field(pattern=_NAME)]
    # missing, null or empty: no gates. At most MAX_GATES entries, counted before the ones that
    # are no objects are skipped (Annotated's before-validators run last to first).
    gates: Annotated[
        list[Gate], BeforeValidator(_objects_only), _capped(MAX_GATES, empty_if_falsy=True)
    ] = []
    baseline: Number = None
    candidate: Number = None
    delta: Number = None
    ci_low: Number = None
    ci_high: Number = None
    significant: Any = None  # only true means significant


class Result(_Strict):
    """result.json, reduced to what the compact report shows."""

    verdict: Verdict
    metrics: Annotated[list[Metric], _capped(MAX_METRICS)]


def _problem(loc: tuple[int | str, ...]) -> str | None:
    """What is wrong, named by the place of a validation error."""
    match loc:
        case ("sha", *_):
            return "pr.json has no valid head SHA"
        case ("metrics", int(), "gates", int(), "message", *_):
            return "gate message is not a string"
        case ("metrics", int(i), "gates", *_):
            return f"metrics[{i}].gates is not a short list"
        case ("metrics", int(i), str(field), *_) if field in NUMBERS:
            return f"metrics[{i}].{field} is not a finite number"
        case ("metrics", int(i), *_):
            return f"metrics[{i}] has no valid name"
        case ("metrics", *_):
            return "result.json has no valid metric list"
    return None


def _order(loc: tuple[int | str, ...]) -> tuple[int, bool]:
    """Metric by metric; within one, its gates' entries after its numbers."""
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1
    return index, len(loc) > 3 and loc[2] == "gates"


_Model = TypeVar("_Model", bound=_Strict)


def _validate(model: type[_Model], data: Any, otherwise: str) -> _Model:
    """``data`` as ``model``; PayloadError naming the first wrong field (else ``otherwise``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = min((e["loc"] for e in exc.errors()), key=_order)
        raise PayloadError(f"the artifact's {_problem(first) or otherwise}") from None


def read_claim(folder: Path) -> tuple[int, str]:
    """The PR number and head SHA the artifact claims (to be checked against GitHub)."""
    data = _read(folder, "pr.json")
    claim = _validate(Claim, data, "pr.json has no valid pull request number")
    return claim.pr, claim.sha


def read_result(folder: Path) -> dict[str, Any]:
    """result.json reduced to the validated fields the compact report uses."""
    data = _read(folder, "result.json")
    result = _validate(Result, data, "result.json has no valid verdict")
    rows = [
        {
            "metric": m.metric,
            **{k: getattr(m, k) for k in NUMBERS},
            "significant": m.significant is True,
            "gates": [g.row() for g in m.gates],
        }
        for m in result.metrics
    ]
    return {"verdict": result.verdict, "metrics": rows}


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
