"""Issue 15's statistics: few discordant rows, no interval for max_error, undefined resamples,
the detectable difference, and grouped rows (cluster bootstrap / cluster-robust variance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtri

from cml_bot.stats import (
    PredictionSet,
    detectable_difference,
    paired_delta,
    paired_deltas,
    standard_error,
)

LABEL_METRICS = ["accuracy", "f1", "balanced_accuracy", "matthews_corrcoef", "f1_macro"]


def labels(y: np.ndarray, pred: np.ndarray) -> PredictionSet:
    return PredictionSet(np.arange(len(y)), y, pred, classes=[0, 1])


def discordant(n: int, fixed: int, broken: int) -> tuple[PredictionSet, PredictionSet]:
    """Both models right on most rows; the candidate fixes ``fixed`` baseline errors and breaks
    ``broken`` baseline successes; 10 rows both wrong."""
    y = np.array([1, 0] * (n // 2))
    base = y.copy()
    base[:fixed] = 1 - y[:fixed]
    cand = y.copy()
    cand[fixed : fixed + broken] = 1 - y[fixed : fixed + broken]
    both = slice(n - 10, n)
    base[both] = cand[both] = 1 - y[both]
    return labels(y, base), labels(y, cand)


@pytest.mark.parametrize("metric", LABEL_METRICS)
def test_four_to_none_discordant_is_not_significant(metric: str) -> None:
    # exact McNemar p = 0.125 (mid-p 0.0625): the old joint-counts percentile interval said yes
    b, c = discordant(50, fixed=4, broken=0)
    d = paired_delta(metric, b, c)
    assert d.delta > 0 and not d.significant, d
    assert d.ci_low <= 0 < d.ci_high


@pytest.mark.parametrize("metric", LABEL_METRICS)
def test_many_one_sided_discordant_rows_are_significant(metric: str) -> None:
    b, c = discordant(200, fixed=14, broken=1)
    assert paired_delta(metric, b, c).significant


@pytest.mark.parametrize("metric", LABEL_METRICS)
def test_no_discordant_row_still_has_an_interval(metric: str) -> None:
    # the old interval was [0, 0]: it claimed an exact zero difference from 50 rows
    b, c = discordant(50, fixed=0, broken=0)
    d = paired_delta(metric, b, c)
    assert d.delta == 0 and d.ci_low < -0.01 and d.ci_high > 0.01, d


def test_tango_interval_without_discordant_rows_matches_the_published_width() -> None:
    # Tango (1998): 0 discordant of n pairs -> +/- about z^2 / (n + z^2) (0.0713 at n = 50)
    b, c = discordant(50, fixed=0, broken=0)
    d = paired_delta("accuracy", b, c)
    assert d.method == "Tango score"
    assert d.ci_high == pytest.approx(0.0713, abs=5e-4) and d.ci_low == pytest.approx(
        -0.0713, abs=5e-4
    )


def regression(n: int, seed: int) -> tuple[PredictionSet, PredictionSet]:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 2, n)
    b = PredictionSet(np.arange(n), y, y + rng.standard_t(3, n))
    c = PredictionSet(np.arange(n), y, y + rng.standard_t(3, n))
    return b, c


def test_max_error_has_no_interval() -> None:
    b, c = regression(80, seed=1)
    d = paired_delta("max_error", b, c)
    assert math.isnan(d.ci_low) and math.isnan(d.ci_high) and not d.significant
    assert d.method.startswith("no interval: ") and math.isfinite(d.delta)
    assert math.isnan(d.detectable)


def test_undefined_resamples_are_counted() -> None:
    # 2 positives in 30 rows: about (28/30)^30 = 13% of resamples have none (AUC undefined)
    rng = np.random.default_rng(5)
    y = np.zeros(30, dtype=np.int64)
    y[:2] = 1
    sets = []
    for _ in range(2):
        p = np.clip(0.3 * y + rng.random(30) * 0.7, 0, 1)
        sets.append(
            PredictionSet(
                np.arange(30), y, (p > 0.5).astype(np.int64), np.column_stack([1 - p, p]), [0, 1]
            )
        )
    d = paired_delta("roc_auc_ovr", sets[0], sets[1], n_resamples=1000)
    assert 50 < d.n_undefined_resamples < 300, d
    assert math.isfinite(d.ci_low)


def test_detectable_difference_is_the_80_percent_power_difference() -> None:
    b, c = regression(400, seed=2)
    d = paired_delta("neg_mean_absolute_error", b, c)
    z = float(ndtri(0.975))
    se = (d.ci_high - d.ci_low) / (2 * z)
    assert standard_error(d.ci_low, d.ci_high, 0.95) == pytest.approx(se)
    assert d.detectable == pytest.approx((z + float(ndtri(0.8))) * se)
    assert d.detectable == pytest.approx(detectable_difference(se))
    big = paired_delta("neg_mean_absolute_error", *regression(1600, seed=2))
    assert big.detectable == pytest.approx(d.detectable / 2, rel=0.25)  # 1 / sqrt(n)
    assert math.isnan(detectable_difference(math.nan))
    with pytest.raises(ValueError):
        detectable_difference(0.1, power=1.0)


# ----------------------------------------------------------------------------- groups


def duplicated(
    groups: int, copies: int, seed: int
) -> tuple[PredictionSet, PredictionSet, np.ndarray]:
    """``groups`` independent rows, each repeated ``copies`` times (a customer seen often)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, groups)
    score = y + rng.normal(0, 0.9, groups)
    p = [1 / (1 + np.exp(-(score + rng.normal(0, 0.9, groups) - 0.5))) for _ in range(2)]
    rep = np.repeat(np.arange(groups), copies)
    n = groups * copies
    made = [
        PredictionSet(
            np.arange(n),
            y[rep],
            (q[rep] > 0.5).astype(np.int64),
            np.column_stack([1 - q[rep], q[rep]]),
            [0, 1],
        )
        for q in p
    ]
    return made[0], made[1], rep


GROUPED = ["accuracy", "f1_macro", "roc_auc", "neg_log_loss", "average_precision"]


def test_duplicated_groups_widen_the_interval() -> None:
    b, c, g = duplicated(60, 8, seed=3)
    rows = {d.metric: d for d in paired_deltas(GROUPED, b, c, n_resamples=500)}
    grouped = {d.metric: d for d in paired_deltas(GROUPED, b, c, n_resamples=500, groups=g)}
    for m in GROUPED:
        assert grouped[m].n_groups == 60 and rows[m].n_groups is None
        width = grouped[m].ci_high - grouped[m].ci_low
        assert width > 2 * (rows[m].ci_high - rows[m].ci_low), m  # about sqrt(8) = 2.8
        assert grouped[m].delta == rows[m].delta
    assert "cluster" in grouped["accuracy"].method and "cluster" in grouped["roc_auc"].method


def test_groups_of_one_row_match_independent_rows_closely() -> None:
    b, c, _ = duplicated(300, 1, seed=4)
    rows = paired_delta("neg_log_loss", b, c)
    grouped = paired_delta("neg_log_loss", b, c, groups=np.arange(300))
    assert grouped.ci_high - grouped.ci_low == pytest.approx(rows.ci_high - rows.ci_low, rel=0.01)


def test_grouped_intervals_hold_their_level_where_row_intervals_do_not() -> None:
    # null: both models exchangeable; 40 groups of 6 identical rows (few groups: the cluster
    # bootstrap is somewhat liberal, about 0.1 at 25 groups)
    metrics = ["accuracy", "neg_log_loss", "f1_macro"]
    hits = {"rows": dict.fromkeys(metrics, 0), "groups": dict.fromkeys(metrics, 0)}
    reps = 120
    for seed in range(reps):
        b, c, g = duplicated(40, 6, seed=100 + seed)
        for key, groups in (("rows", None), ("groups", g)):
            for d in paired_deltas(metrics, b, c, n_resamples=300, seed=seed, groups=groups):
                hits[key][d.metric] += d.significant
    for m in metrics:
        assert hits["groups"][m] / reps <= 0.1, (m, hits)
        assert hits["rows"][m] / reps >= 0.2, (m, hits)


def test_groups_must_have_one_value_per_row() -> None:
    b, c, g = duplicated(10, 2, seed=5)
    with pytest.raises(ValueError, match="one value per row"):
        paired_delta("accuracy", b, c, groups=g[:-1])
    assert paired_delta("accuracy", b, c, groups=None) == paired_delta("accuracy", b, c)


def test_many_classes_keep_the_smoothed_table_small() -> None:
    # two pseudo cells per class: 300 classes must not build a (K^2 x K^2) matrix
    rng = np.random.default_rng(8)
    y = rng.integers(0, 300, 3000)
    sets = []
    for _ in range(2):
        pred = np.where(rng.random(3000) < 0.7, y, rng.integers(0, 300, 3000))
        sets.append(PredictionSet(np.arange(3000), y, pred))
    d = paired_delta("f1_macro", sets[0], sets[1], n_resamples=200)
    assert d.ci_low < d.delta < d.ci_high and d.method.startswith("Tango score, scaled")
