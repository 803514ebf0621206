"""Publishing a PR report: the sticky comment, the commit status, the job summary, step outputs
and annotations. Takes a GitHub client (or None when no write is possible) and the runner env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cml_bot.bot import runner as actions
from cml_bot.report import report_marker

STATUS_STATES = {"pass": "success", "no-baseline": "success", "fail": "failure"}


@dataclass(frozen=True)
class Published:
    comment_url: str | None
    comment_action: str | None  # created | updated | unchanged | None (not posted)
    status: str | None  # the state set on the commit, None when none was set
    skipped: str | None = None  # why nothing was written to the PR


def status_context(model_name: str) -> str:
    return f"cml-bot/{model_name}"


def status_description(result: Any) -> str:
    cmp = result.comparison
    if cmp.verdict == "fail":
        names = ", ".join(dict.fromkeys(g.metric for g in cmp.failed_gates))
        return f"{len(cmp.failed_gates)} gate(s) failed: {names}"
    if cmp.verdict == "no-baseline":
        return "No baseline to compare with; absolute gates passed"
    return f"All gates passed against {result.baseline.label}"


def outputs(result: Any, published: Published | None) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "report-path": str(result.report_path),
        "result-path": str(result.result_path),
        "comment-url": (published.comment_url if published else None) or "",
        "model-uri": result.result.get("model_uri") or "",
    }


def to_runner(result: Any, env: Mapping[str, str]) -> None:
    """The report to the job summary, failed gates as error annotations."""
    actions.append_summary(result.report, env)
    for gate in result.comparison.failed_gates:
        actions.error(gate.message, title=f"cml-bot gate failed: {gate.metric}", env=env)


def to_pull_request(
    result: Any, *, gh: Any, model_name: str, pr: int, sha: str, run_url: str | None
) -> Published:
    """Upsert the one sticky comment, then set the commit status on the evaluated SHA.

    The status is written last, so it never claims a result the PR does not show.
    """
    sticky = gh.upsert_sticky(pr, report_marker(model_name), result.report)
    state = STATUS_STATES[result.verdict]
    gh.set_status(
        sha, status_context(model_name), state, status_description(result), run_url or sticky.url
    )
    return Published(comment_url=sticky.url, comment_action=sticky.action, status=state)


def skipped(reason: str) -> Published:
    return Published(comment_url=None, comment_action=None, status=None, skipped=reason)
