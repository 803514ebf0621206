"""Issue 15 item 4: slices with paired intervals, Holm's correction over every slice x metric,
and the slice gate (a regression in one slice fails the PR although the overall number
improves)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from cml_bot.compare.engine import compare
from cml_bot.compare.results import SliceRow, SliceTable
from cml_bot.compare.slicestats import holm
from cml_bot.stats import PairedDelta, PredictionSet

Z = NormalDist().inv_cdf(0.975)


def with_p(p: float) -> PairedDelta:
    """A delta whose interval gives two-sided p-value ``p`` (se = 1)."""
    z = NormalDist().inv_cdf(1 - p / 2)
    return PairedDelta("accuracy", 0.5, 0.5 - z, -z, -z - Z, -z + Z, p < 0.05, "test", 100)


def table(ps: list[float]) -> SliceTable:
    rows = [
        SliceRow(f"v{i}", 10, {"accuracy": 0.5}, {"accuracy": 0.5}, {"accuracy": with_p(p)})
        for i, p in enumerate(ps)
    ]
    return SliceTable("segment", ["accuracy"], rows)


@pytest.mark.parametrize(
    ("ps", "flagged"),
    [
        ([0.001, 0.02, 0.04], [True, True, True]),  # .001<=.05/3, .02<=.05/2, .04<=.05
        ([0.001, 0.03, 0.04], [True, False, False]),  # .03 > .05/2: stop there
        ([0.004] + [0.03] * 9, [True] + [False] * 9),  # one of ten survives, nine do not
        ([0.2, 0.5], [False, False]),
    ],
)
def test_holm_step_down(ps: list[float], flagged: list[bool]) -> None:
    [out] = holm([table(ps)], 0.95)
    assert [r.verdicts["accuracy"] == -1 for r in out.rows] == flagged
    assert all(r.verdicts["accuracy"] in (0, -1) for r in out.rows)  # a drop is a regression


def predictions(y: np.ndarray, pred: np.ndarray, plan: np.ndarray) -> PredictionSet:
    return PredictionSet(
        row_id=np.arange(len(y)), y_true=y, y_pred=pred, classes=[0, 1], slices={"plan": plan}
    )


def better_overall_worse_for_pro() -> tuple[PredictionSet, PredictionSet]:
    rng = np.random.default_rng(3)
    n = 1200
    y = rng.integers(0, 2, n)
    plan = np.where(np.arange(n) % 4 == 0, "pro", "basic")
    base_wrong = rng.random(n) < 0.2
    cand_wrong = np.where(plan == "pro", rng.random(n) < 0.45, rng.random(n) < 0.05)
    base = predictions(y, np.where(base_wrong, 1 - y, y), plan)
    cand = predictions(y, np.where(cand_wrong, 1 - y, y), plan)
    return cand, base


@pytest.mark.parametrize(
    ("mode", "verdict", "failed", "warned"),
    [("fail", "fail", 1, 0), ("warn", "pass", 0, 1), ("ignore", "pass", 0, 0)],
)
def test_a_regression_in_one_slice_is_a_gate(
    mode: str, verdict: str, failed: int, warned: int
) -> None:
    cand, base = better_overall_worse_for_pro()
    cmp = compare(
        cand, base, metrics=["accuracy"], gates={}, slices=["plan"], slice_regression=mode
    )
    [overall] = cmp.rows
    assert overall.delta is not None and overall.delta.delta > 0 and overall.delta.significant
    assert cmp.verdict == verdict
    assert len(cmp.failed_gates) == failed and len(cmp.warned_gates) == warned
    rows = {r.value: r for r in cmp.slices[0].rows}
    assert rows["pro"].verdicts == {"accuracy": -1}
    assert rows["basic"].verdicts == {"accuracy": 1}
    if failed:
        [gate] = cmp.failed_gates
        assert gate.metric == "accuracy[plan=pro]"
        assert "regressed in the slice plan=pro (300 rows)" in gate.message
        assert "Holm" in gate.message


def test_noise_in_many_slices_is_not_called_a_regression() -> None:
    """Twenty slices of two equally good models: without a correction some slice 'regresses'
    by chance; after Holm's none does."""
    rng = np.random.default_rng(11)
    n = 4000
    y = rng.integers(0, 2, n)
    seg = (np.arange(n) % 20).astype(str)
    a = predictions(y, np.where(rng.random(n) < 0.2, 1 - y, y), seg)
    b = predictions(y, np.where(rng.random(n) < 0.2, 1 - y, y), seg)
    cmp = compare(a, b, metrics=["accuracy"], gates={}, slices=["plan"], slice_regression="fail")
    rows = cmp.slices[0].rows
    raw = sum(1 for r in rows if r.deltas["accuracy"].significant)
    assert raw >= 1  # what an uncorrected reading would have flagged
    assert all(r.verdicts["accuracy"] == 0 for r in rows)
    assert cmp.verdict == "pass"
