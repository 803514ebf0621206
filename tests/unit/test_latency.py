"""Issue 15 item 5: the latency ratio of two models timed together, its interval and its gate."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cml_bot.compare import ModelIdentity, compare, regate, result_json
from cml_bot.compare.gates import latency_gate
from cml_bot.config import Config, Gate, parse_config
from cml_bot.core import ConfigError, Progress
from cml_bot.core.git import GitInfo
from cml_bot.ml import Baseline, Outcome, Timing, time_together, train_candidate
from cml_bot.ml import evaluation as ev
from cml_bot.stats import LatencyRatio, PredictionSet, latency_ratio
from tests.unit.model_payloads import project

QUIET = Progress(quiet=True)


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


# ---------------------------------------------------------------------- timing both together


class FakeClock:
    """A clock that advances only when a fake model "runs": relative speed known exactly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def model(self, name: str, seconds: float, jitter: list[float]) -> ev.PredictFn:
        def predict(frame: pd.DataFrame) -> tuple[np.ndarray, None]:
            self.calls.append(name)
            self.now += seconds * jitter[len(self.calls) % len(jitter)]
            return np.zeros(len(frame)), None

        return predict


def frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=float)})


def test_rounds_interleave_after_a_warm_up_each_and_recover_a_known_ratio() -> None:
    clock = FakeClock()
    jitter = [1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.05]  # the machine's state, shared by both
    slow = clock.model("B", 0.002, jitter)  # the candidate, twice as slow by construction
    fast = clock.model("A", 0.001, jitter)
    cand, base = ev.timed_rounds([slow, fast], [frame(), frame()], 7, clock=clock)
    assert clock.calls[:2] == ["B", "A"]  # one warm-up call each
    per_round = [clock.calls[2 + 5 * k] for k in range(14)]
    assert per_round == ["B", "A", "A", "B"] * 3 + ["B", "A"]  # interleaved, order alternating
    assert len(cand) == len(base) == 7
    got = latency_ratio(cand, base)
    assert got.ci_low <= 2.0 <= got.ci_high
    assert not got.noise


def test_a_sleeping_model_twice_as_slow_is_told_apart_from_noise() -> None:
    """Real sleeps (no speed target: only the ratio the construction fixes)."""

    def sleeper(seconds: float) -> ev.PredictFn:
        def predict(frame: pd.DataFrame) -> tuple[np.ndarray, None]:
            time.sleep(seconds)
            return np.zeros(len(frame)), None

        return predict

    cand, base = ev.timed_rounds([sleeper(0.004), sleeper(0.002)], [frame(), frame()], 7)
    got = latency_ratio(cand, base)
    assert got.ci_low > 1.0 and not got.noise
    assert 1.3 < got.ratio < 2.5


# ---------------------------------------------------------------------- the worker and the flow


def _outcome(tmp_path: Path, estimator: str, name: str) -> Outcome:
    cfg = project(tmp_path, estimator)
    return train_candidate(
        cfg, overrides={}, out_dir=tmp_path / name, tracker=None, git=GitInfo(), progress=QUIET
    )


def test_the_worker_times_both_models_together(tmp_path: Path) -> None:
    cand = _outcome(tmp_path, "sklearn.ensemble.RandomForestClassifier", "cand")
    base_outcome = _outcome(tmp_path, "sklearn.linear_model.LogisticRegression", "base")
    cfg = project(tmp_path).model_copy(
        update={"evaluate": project(tmp_path).evaluate.model_copy(update={"latency_rounds": 3})}
    )
    timing = time_together(cfg, cand, Baseline("base", base_outcome, ref="main"), QUIET)
    assert timing.note is None and timing.ratio is not None
    r = timing.ratio
    assert r.rounds == 3 and r.rows == len(cand.dataset.evaluation)  # type: ignore[union-attr]
    assert r.ratio > 0 and r.ci_low <= r.ratio <= r.ci_high
    assert r.candidate_ms > 0 and r.baseline_ms > 0


def test_a_model_cml_bot_does_not_load_gives_no_ratio_and_says_why(tmp_path: Path) -> None:
    cand = _outcome(tmp_path, "sklearn.linear_model.LogisticRegression", "cand")
    command = Outcome(role="baseline", out_dir=tmp_path, evaluation=cand.evaluation, params={})
    command.kind = "command"
    timing = time_together(project(tmp_path), cand, Baseline("base", command), QUIET)
    assert timing.ratio is None
    assert timing.note is not None and "training command" in timing.note
    assert time_together(project(tmp_path), cand, Baseline("none", None), QUIET) == Timing()


# ---------------------------------------------------------------------- the latency gate


def ratio(lo: float, mid: float, hi: float, rounds: int = 7) -> LatencyRatio:
    return LatencyRatio(mid, lo, hi, 0.95, rounds, 2.0, 1.0, 10)


def config(gate: Mapping[str, object]) -> Config:
    data = {
        "model": {"name": "m", "task": "classification"},
        "train": {"data": "x.csv", "target": "y"},
        "gates": {"latency": gate},
    }
    return parse_config(data)


def test_a_latency_gate_takes_a_ratio_ceiling() -> None:
    assert config({"max": 1.5}).gates["latency"].max == 1.5
    for bad in ({"max": 1.5, "max_drop": 0.1}, {"min": 0.5}, {"max": 0}):
        with pytest.raises(ConfigError, match=r"gates\.latency"):
            config(bad)


@pytest.mark.parametrize(
    ("interval", "status"),
    [
        ((1.1, 1.2, 1.4), "pass"),  # the whole interval under 1.5
        ((1.6, 1.8, 2.0), "fail"),  # all of it above
        ((1.3, 1.45, 1.7), "inconclusive"),  # straddles the ceiling
        ((math.nan, 1.2, math.nan), "inconclusive"),  # one round: no interval
    ],
)
def test_the_latency_gate_is_judged_on_the_interval(
    interval: tuple[float, float, float], status: str
) -> None:
    (got,) = latency_gate(Gate(max=1.5), ratio(*interval))
    assert got.status == status and got.metric == "latency" and got.rule == "max"
    assert got.actual == pytest.approx(interval[1])


def test_point_judging_and_no_ratio() -> None:
    (point,) = latency_gate(Gate(max=1.5, judge="point"), ratio(1.3, 1.45, 1.7))
    assert point.status == "pass"
    (none,) = latency_gate(Gate(max=1.5), None, "the baseline is a training command's model")
    assert none.status == "not evaluated" and "training command" in none.message
    assert latency_gate(None, ratio(1, 1, 1)) == []


def preds(pred: list[int]) -> PredictionSet:
    y = np.array([0, 1] * 10)
    return PredictionSet(np.arange(20), y, np.array(pred * 10), classes=[0, 1])


@pytest.mark.parametrize(
    ("interval", "verdict", "severity"),
    [
        ((1.6, 1.8, 2.0), "fail", "fail"),
        ((1.3, 1.45, 1.7), "inconclusive", "fail"),
        ((1.1, 1.2, 1.4), "pass", "fail"),
        ((1.6, 1.8, 2.0), "pass", "warn"),
    ],
)
def test_the_latency_gate_decides_the_verdict_and_lands_in_result_json(
    interval: tuple[float, float, float], verdict: str, severity: str
) -> None:
    same = preds([0, 1])
    gates = {"latency": Gate(max=1.5, severity=severity)}
    cmp = compare(same, same, metrics=["accuracy"], gates=gates, latency=ratio(*interval))
    assert cmp.verdict == verdict
    assert [r.metric for r in cmp.rows] == ["accuracy"]
    identity = ModelIdentity(role="candidate", kind="candidate")
    out = result_json(cmp, identity, identity)
    assert out["latency"]["ratio"] == pytest.approx(interval[1])
    assert out["latency"]["ci_low"] == pytest.approx(interval[0])
    assert out["latency"]["rounds"] == 7
    assert out["latency_gates"][0]["status"] == (
        "fail" if verdict == "fail" else cmp.gates[0].status
    )
    # judged again by other gates: the same ratio, the new ceiling
    assert regate(cmp, {"latency": Gate(max=3.0)}).verdict == "pass"


def test_without_a_ratio_the_latency_gate_is_not_evaluated_and_says_why() -> None:
    same = preds([0, 1])
    cmp = compare(
        same,
        same,
        metrics=["accuracy"],
        gates={"latency": Gate(max=1.5)},
        latency_note="No latency ratio: the baseline is a training command's model.",
    )
    assert cmp.verdict == "pass"
    (gate,) = cmp.latency_gates
    assert gate.status == "not evaluated" and "training command" in gate.message


# ---------------------------------------------------------------------- the report


def _section(cmp: object) -> str:
    from datetime import datetime, timezone

    from cml_bot.report.context import ReportContext
    from cml_bot.report.sections import performance_section

    side = ModelIdentity(role="candidate", kind="candidate", latency_median_ms=0.5)
    ctx = ReportContext("m", side, side, datetime(2026, 1, 1, tzinfo=timezone.utc))
    return performance_section(ctx, cmp)  # type: ignore[arg-type]


def test_the_report_gives_the_ratio_with_its_interval_and_says_when_it_is_noise() -> None:
    same = preds([0, 1])
    noise = compare(same, same, metrics=["accuracy"], gates={}, latency=ratio(0.9, 1.01, 1.1))
    text = _section(noise)
    assert "**×1.01** (95% CI ×0.90 to ×1.10; 7 interleaved rounds on 10 rows" in text
    assert "noise, the interval includes 1" in text
    assert "timed together" in text and "p95" not in text  # not the figures measured apart
    slower = compare(same, same, metrics=["accuracy"], gates={}, latency=ratio(1.6, 1.8, 2.0))
    assert "the candidate is slower per row" in _section(slower)
    note = "No latency ratio: the baseline is a training command's model."
    apart = compare(same, same, metrics=["accuracy"], gates={}, latency_note=note)
    assert note in _section(apart).replace("\\", "") and "median (ms/row)" in _section(apart)
