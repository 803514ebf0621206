"""The report's headline: the verdict line (pass, fail, inconclusive or no baseline), whose
gates decided it and against which baseline."""

from __future__ import annotations

from cml_bot.compare import Comparison, ModelIdentity
from cml_bot.core import md_escape
from cml_bot.report.context import ReportContext
from cml_bot.report.text import _plural


def _who(identity: ModelIdentity | None, note: str) -> str:
    """Escaped: ``champion v3 (main, abc1234)``."""
    if identity is None:
        return md_escape(note or "no baseline", 80)
    name = note or identity.label
    details = [
        d for d in (identity.ref if identity.ref not in name else "", identity.short_sha) if d
    ]
    suffix = f" ({md_escape(', '.join(details), 60)})" if details else ""
    return md_escape(name, 80) + suffix


def verdict_line(cmp: Comparison, ctx: ReportContext) -> str:
    n_eval, n_fail = len(cmp.evaluated_gates), len(cmp.failed_gates)
    who = _who(ctx.baseline, ctx.baseline_note)
    if cmp.verdict == "fail":
        against = f"against {who}" if cmp.baseline_present else f"(no comparable baseline: {who})"
        return f"❌ **Fail**: {n_fail} of {_plural(n_eval, 'gate')} failed {against}."
    if cmp.verdict == "pass":
        gates = (
            ("the gate passed" if n_eval == 1 else f"all {n_eval} gates passed")
            if n_eval
            else "no gates configured"
        )
        return f"✅ **Pass**: {gates} against {who}." + _warned(cmp)
    if cmp.verdict == "inconclusive":
        return _inconclusive_line(cmp, who, n_eval)
    if ctx.baseline is not None and cmp.baseline_problem:
        reason = f"{who} could not be compared ({md_escape(cmp.baseline_problem, 200)})"
    else:
        reason = who if ctx.baseline is None else f"{who} gave no comparable rows"
    skipped = len(cmp.gates) - n_eval
    tail = f"{_plural(n_eval, 'absolute gate')} passed" if n_eval else "no absolute gates"
    if skipped:
        tail += f", {_plural(skipped, 'relative gate')} not evaluated"
    return f"⚪ **No baseline**: {reason}; {tail}."


_STATE_WORDS = {
    "failure": "the status is a failure",
    "pending": "the status stays pending",
    "success": "the status passes",
}


def _inconclusive_line(cmp: Comparison, who: str, n_eval: int) -> str:
    k = len(cmp.inconclusive_gates)
    state = _STATE_WORDS[cmp.status_state]
    return (
        f"🟡 **Inconclusive**: {k} of {_plural(n_eval, 'gate')} cannot be decided on these "
        f"{cmp.n_rows:,} rows against {who}; {state} (`verdict.inconclusive: "
        f"{cmp.inconclusive_policy}`)." + _warned(cmp)
    )


def _warned(cmp: Comparison) -> str:
    n = len(cmp.warned_gates)
    return f" ⚠️ {_plural(n, 'warning gate')} did not pass." if n else ""
