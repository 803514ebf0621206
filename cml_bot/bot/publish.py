"""Publishing a PR report: the sticky comment, the commit status, the job summary, step outputs
and annotations. Takes a GitHub client (or None when no write is possible) and the runner env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cml_bot.bot import runner as actions
from cml_bot.report import report_marker


@dataclass(frozen=True)
class Published:
    comment_url: str | None
    comment_action: str | None  # created | updated | unchanged | None (not posted)
    status: str | None  # the state set on the commit, None when none was set
    skipped: str | None = None  # why nothing was written to the PR


# A fork's numbers come from code nobody trusted: they are shown, never certified.
FORK_STATES = {
    "pass": "pending",
    "no-baseline": "pending",
    "inconclusive": "pending",
    "fail": "failure",
}


def fork_status(claimed: str) -> tuple[str, str]:
    """The commit status for a fork's artifact that claims ``claimed``: never ``success``.

    A claimed pass stays ``pending`` until a maintainer verifies it (a maintain-level
    ``/evaluate`` trains the fork's code with no token and no secrets); a claimed failure is
    shown as one (a fork gains nothing by failing itself)."""
    state = FORK_STATES.get(claimed, "pending")
    if state == "failure":
        return state, "fail (claimed by the fork's own run; unverified)"
    return state, (
        f"unverified: the fork's run claims {claimed}; a maintainer comments /evaluate to verify"
    )[:140]


def status_context(model_name: str) -> str:
    return f"cml-bot/{model_name}"


def status_description(result: Any) -> str:
    """One line for the commit status, naming whose gates decided it (GitHub keeps 140
    characters)."""
    cmp = result.comparison
    source = getattr(result, "gates_from", "")
    whose = f" (gates of {source})" if source else ""
    if cmp.verdict == "fail":
        names = ", ".join(dict.fromkeys(g.metric for g in cmp.failed_gates))
        text = f"{len(cmp.failed_gates)} gate(s) failed{whose}: {names}"
    elif cmp.verdict == "inconclusive":
        names = ", ".join(dict.fromkeys(g.metric for g in cmp.inconclusive_gates))
        text = f"Inconclusive{whose}: too few rows to decide {names}"
    elif cmp.verdict == "no-baseline":
        text = f"No baseline to compare with; absolute gates passed{whose}"
    else:
        text = f"All gates passed{whose} against {result.baseline.label}"
    return text if len(text) <= 140 else text[:139] + "…"


def outputs(result: Any, published: Published | None) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "status": result.comparison.status_state,
        "report-path": str(result.report_path),
        "result-path": str(result.result_path),
        "comment-url": (published.comment_url if published else None) or "",
        "model-uri": result.result.get("model_uri") or "",
    }


def to_runner(result: Any, env: Mapping[str, str]) -> None:
    """The report to the job summary, failed gates as error annotations."""
    actions.append_summary(result.report, env)
    cmp = result.comparison
    for gate in cmp.failed_gates:
        actions.error(gate.message, title=f"cml-bot gate failed: {gate.metric}", env=env)
    for gate in cmp.inconclusive_gates:
        actions.warning(gate.message, title=f"cml-bot gate inconclusive: {gate.metric}", env=env)
    for gate in cmp.warned_gates:
        actions.warning(gate.message, title=f"cml-bot gate (warn): {gate.metric}", env=env)


def to_pull_request(
    result: Any, *, gh: Any, model_name: str, pr: int, sha: str, run_url: str | None
) -> Published:
    """Upsert the one sticky comment, then set the commit status on the evaluated SHA.

    The status is written last, so it never claims a result the PR does not show.
    """
    sticky = gh.upsert_sticky(pr, report_marker(model_name), result.report)
    state = result.comparison.status_state
    gh.set_status(
        sha, status_context(model_name), state, status_description(result), run_url or sticky.url
    )
    return Published(comment_url=sticky.url, comment_action=sticky.action, status=state)


def skipped(reason: str) -> Published:
    return Published(comment_url=None, comment_action=None, status=None, skipped=reason)
