"""Issue 15 item 5: the latency ratio of two models timed together, its interval and its gate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from cml_bot.stats import LatencyRatio, latency_ratio


def test_ratio_is_the_geometric_mean_of_round_ratios_with_a_log_t_interval() -> None:
    cand = [2.0, 2.2, 1.9, 2.1, 2.05, 1.95, 2.0]
    base = [1.0, 1.0, 1.0, 1.1, 1.0, 0.9, 1.0]
    got = latency_ratio(cand, base, confidence=0.95, rows=20)
    logs = np.log(np.asarray(cand) / np.asarray(base))
    half = sps.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
    assert got.ratio == pytest.approx(math.exp(logs.mean()))
    assert got.ci_low == pytest.approx(math.exp(logs.mean() - half))
    assert got.ci_high == pytest.approx(math.exp(logs.mean() + half))
    assert got.rounds == 7 and got.rows == 20
    assert got.candidate_ms == pytest.approx(2.0) and got.baseline_ms == pytest.approx(1.0)
    assert got.round_ratios == pytest.approx(list(np.exp(logs)))
    assert not got.noise  # the whole interval is above 1


def test_an_interval_that_includes_one_is_noise() -> None:
    got = latency_ratio([1.0, 1.1, 0.9, 1.05, 0.95], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert got.ci_low < 1.0 < got.ci_high
    assert got.noise


def test_the_interval_is_symmetric_on_the_log_scale() -> None:
    up = latency_ratio([2.0, 2.2, 1.8], [1.0, 1.0, 1.0])
    down = latency_ratio([1.0, 1.0, 1.0], [2.0, 2.2, 1.8])
    assert up.ratio == pytest.approx(1 / down.ratio)
    assert up.ci_low == pytest.approx(1 / down.ci_high)
    assert up.ci_high == pytest.approx(1 / down.ci_low)


def test_one_round_has_no_interval_and_says_noise() -> None:
    got = latency_ratio([2.0], [1.0])
    assert got.ratio == pytest.approx(2.0)
    assert math.isnan(got.ci_low) and math.isnan(got.ci_high)
    assert not got.has_interval and got.noise


@pytest.mark.parametrize(
    ("cand", "base"), [([1.0, 2.0], [1.0]), ([], []), ([0.0, 1.0], [1.0, 1.0]), ([1.0], [math.nan])]
)
def test_bad_rounds_are_refused(cand: list[float], base: list[float]) -> None:
    with pytest.raises(ValueError):
        latency_ratio(cand, base)


def test_to_json_carries_the_ratio_interval_and_rounds() -> None:
    got = latency_ratio([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]).to_json()
    assert got["ratio"] == pytest.approx(2.0)
    assert got["ci_low"] == pytest.approx(2.0) and got["ci_high"] == pytest.approx(2.0)
    assert got["rounds"] == 3 and got["noise"] is False
    assert isinstance(LatencyRatio(**{k: v for k, v in got.items() if k != "noise"}), LatencyRatio)
