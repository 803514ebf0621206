"""A metric's gate must be able to decide something: not empty, and its thresholds on the
metric's scale (``min: 90`` on a 0-1 accuracy is 90%, written 0.9). The latency gate has its own
rules (:mod:`cml_bot.config.latency`)."""

from __future__ import annotations

from typing import Any

from cml_bot.config.errors import _FieldError
from cml_bot.core import metrics as metrics

_RULES = ("min", "max", "max_drop", "min_improvement", "require", "forbid")


def check_metric_gate(name: str, gate: Any) -> None:  # a models.Gate (not imported: no cycle)
    """Refuse an empty gate and a threshold off the metric's scale, naming the fix."""
    if all(getattr(gate, rule) is None for rule in _RULES):
        raise _FieldError(
            ("gates", name),
            gate.model_dump(exclude_defaults=True),
            "is an empty gate: it can never fail",
            f"give it a rule, e.g. `{name}: {{max_drop: 0.01}}`, or remove the gate",
        )
    low, high = metrics.value_range(name)
    for rule in ("min", "max"):
        value = getattr(gate, rule)
        if value is not None:
            _on_scale(name, rule, value, low, high)
    if low is not None and high is not None:
        for rule in ("max_drop", "min_improvement"):
            value = getattr(gate, rule)
            if value is not None and value > high - low:
                _off_scale(name, rule, value, f"is larger than the whole range of {name}", low)


def _on_scale(name: str, rule: str, value: float, low: float | None, high: float | None) -> None:
    if high is not None and value > high:
        _off_scale(name, rule, value, f"is above {high:g}, the most {name} can be", low)
    if low is not None and value < low:
        raise _FieldError(
            ("gates", name, rule),
            value,
            f"is below {low:g}, the least {name} can be",
            f"write a value from {low:g}" + (f" to {high:g}" if high is not None else " up"),
        )


def _off_scale(name: str, rule: str, value: float, problem: str, low: float | None) -> None:
    """A threshold beyond the scale; a fraction metric's (0 to 1) as a percentage, said so."""
    percent = low == 0 and 1 < value <= 100
    raise _FieldError(
        ("gates", name, rule),
        value,
        problem + (" (it is a fraction from 0 to 1, not a percentage)" if percent else ""),
        f"write {value / 100:g} for {value:g}%"
        if percent
        else "write a value on the metric's scale (docs/configuration.md)",
    )
