"""What a deploy says on the merged pull request: deployed (with the metrics), not deployed
(why), or rejected by a gate. Every value from a user goes through the one markdown escaper or
table builder."""

from __future__ import annotations

from typing import Any

from cml_bot.core import CmlBotError, markdown_table
from cml_bot.core.metrics import METRICS
from cml_bot.deploy.deployer import DeployResult


def merged_comment(result: DeployResult, flow: Any, run_url: str | None) -> str:
    lines = [
        f"🚀 **Deployed**: {result.message}"
        if result.outcome == "deployed"
        else f"ℹ️ {result.message}"
    ]
    if flow is not None:
        rows = [
            [
                METRICS[r["metric"]].label,
                _n(r.get("baseline")),
                _n(r.get("candidate")),
                _n(r.get("delta"), signed=True),
            ]
            for r in flow.result["metrics"]
        ]
        lines += ["", markdown_table(["metric", "previous", "deployed", "Δ"], rows)]
    if run_url:
        lines += ["", f"[Deployment log]({run_url})"]
    return "\n".join(lines)


def failed_comment(exc: CmlBotError, run_url: str | None) -> str:
    lines = [f"⚠️ **Not deployed**: {exc.message}"]
    if exc.fix:
        lines += ["", f"Fix: {exc.fix}"]
    if run_url:
        lines += ["", f"[Deployment log]({run_url})"]
    return "\n".join(lines)


def rejected_comment(flow: Any, run_url: str | None) -> str:
    cmp = flow.comparison
    gates = cmp.failed_gates
    if gates:
        what = f"failed {len(gates)} gate{'s' if len(gates) != 1 else ''}"
    else:
        gates = cmp.inconclusive_gates
        what = (
            f"has {len(gates)} inconclusive gate{'s' if len(gates) != 1 else ''} (the "
            "evaluation rows cannot tell; `verdict.inconclusive` decides)"
        )
    lines = [
        f"❌ **Not deployed**: the merged model {what}, so the champion stays where it is.",
        "",
        *[f"- {g.message}" for g in gates],
    ]
    if run_url:
        lines += ["", f"[Run log]({run_url})"]
    return "\n".join(lines)


def _n(value: Any, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.4g}" if signed else f"{value:.4g}"
