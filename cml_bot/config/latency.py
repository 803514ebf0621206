"""``gates.latency``: the gate on the latency ratio candidate / baseline (both models timed
together, see ``cml_bot.ml.latency``). It is not a metric of ``evaluate.metrics``: it takes only
``max``, the ratio's ceiling, judged on its interval like ``max_drop`` (``judge``, ``severity``).
"""

from __future__ import annotations

from typing import Any

from cml_bot.config.errors import _FieldError

# The gate key for the latency ratio candidate / baseline (``max``: its ceiling), not a metric.
LATENCY_GATE = "latency"


def check_latency_gate(gate: Any) -> None:  # a models.Gate (not imported: no cycle)
    """``gates.latency`` takes ``max`` (the ratio ceiling), ``judge`` and ``severity`` only."""
    others = [
        k
        for k in ("min", "max_drop", "min_improvement", "require", "forbid")
        if getattr(gate, k) is not None
    ]
    if others or gate.max is None or gate.max <= 0:
        raise _FieldError(
            ("gates", LATENCY_GATE),
            gate.model_dump(exclude_defaults=True),
            "gates the latency ratio candidate / baseline, which takes only `max` (> 0), "
            f"`judge` and `severity`{' (not ' + ', '.join(others) + ')' if others else ''}",
            "write e.g. `latency: {max: 1.5}`: fail when the candidate is surely over 1.5x "
            "as slow per row",
        )
