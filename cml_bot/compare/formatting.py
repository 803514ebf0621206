"""Number formatting for comparisons and reports: values, signed deltas, intervals, thresholds.

A metric's values share one scale (3 significant digits of the largest magnitude); deltas and
intervals keep that scale and add decimals only to show a significant digit. NaN or a missing
value is ``n/a``. Pure: the standard library only.
"""

from __future__ import annotations

import math


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def decimals_for(x: float | None, sig: int = 3) -> int:
    """Decimals that show ``x`` with ``sig`` significant digits (0..6)."""
    if x is None or not math.isfinite(x) or x == 0:
        return 0
    exponent = int(f"{abs(x):.{sig - 1}e}".split("e")[1])  # after rounding: 0.0999.. -> 1.0e-01
    return max(0, min(6, sig - 1 - exponent))


def exact_decimals(x: float) -> int:
    """The fewest decimals (0..6) that write ``x`` exactly (for thresholds from the config)."""
    for d in range(7):
        if abs(round(x, d) - x) < 1e-12:
            return d
    return 6


def scale_decimals(*values: float | None) -> int:
    """Decimals for a metric's values: 3 significant digits of the largest finite magnitude."""
    finite = [abs(v) for v in values if _finite(v) and v != 0]  # type: ignore[arg-type]
    return decimals_for(max(finite), 3) if finite else 3


def fmt_value(x: float | None, decimals: int | None = None) -> str:
    """``0.812``, ``12.3``, ``1,234``; ``n/a`` for a missing or undefined value."""
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    d = decimals_for(x, 3) if decimals is None else decimals
    return f"{x:,.{d}f}"


def fmt_signed(x: float | None, decimals: int | None = None) -> str:
    """A delta with its sign: ``+0.012``, ``-0.004``: ``decimals`` (the metric's scale), more if
    needed to show at least one significant digit (without ``decimals``: two)."""
    if x is None or math.isnan(x):
        return "n/a"
    if decimals is None:
        return _signed(x, decimals_for(x, 2))
    return _signed(x, max(decimals, decimals_for(x, 1)))


def _signed(x: float, decimals: int) -> str:
    text = fmt_value(abs(x), decimals)
    negative = x < 0 and text.strip("0.,") != ""
    return ("-" if negative else "+") + text


def fmt_ci(low: float | None, high: float | None, decimals: int | None = None) -> str:
    """``[-0.012, +0.004]`` (both ends with the same decimals); ``n/a`` when undefined."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    widest = max(abs(low), abs(high))
    d = decimals_for(widest, 2) if decimals is None else max(decimals, decimals_for(widest, 1))
    return f"[{_signed(low, d)}, {_signed(high, d)}]"


def fmt_threshold(x: float, decimals: int) -> str:
    return fmt_value(x, max(decimals, exact_decimals(x)))
