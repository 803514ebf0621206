"""Benchmark: paired 95% intervals from cml_bot.stats.engine vs a naive sklearn row bootstrap.

Usage: ``.venv/bin/python benchmarks/stats_bench.py [--rows N] [--repeats R] [--naive-resamples K]``

Synthetic, seeded data: a binary classification set (labels, two correlated models' predictions
and probabilities) and a regression set (targets, two correlated models' predictions). Our
engine computes every interval with ``n_resamples=2000`` through the public API. The naive
alternative resamples rows and calls scikit-learn's metric functions for both models per
resample; a few resamples are timed and extrapolated to 2000. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from cml_bot.stats.engine import paired_delta, paired_deltas
from cml_bot.stats.predictions import PredictionSet

N_RESAMPLES = 2000
CLASSIFICATION = ["accuracy", "f1", "f1_macro", "roc_auc", "neg_log_loss"]
REGRESSION = ["neg_mean_squared_error"]


def make_data(rows: int, seed: int = 7) -> dict[str, tuple[PredictionSet, PredictionSet]]:
    """Two correlated classifiers and two correlated regressors on the same rows."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    y = (rng.random(rows) < 0.3).astype(np.int64)
    shared = rng.normal(size=rows)  # what both models get wrong together
    sets = []
    for signal, own in ((1.6, 0.8), (1.75, 0.8)):  # the candidate is slightly sharper
        z = signal * (y - 0.3) + 0.9 * shared + own * rng.normal(size=rows) - 0.6
        p1 = 1.0 / (1.0 + np.exp(-z))
        proba = np.column_stack([1.0 - p1, p1])
        sets.append(PredictionSet(ids, y, (p1 >= 0.5).astype(np.int64), proba, [0, 1]))
    target = rng.normal(10.0, 3.0, size=rows)
    common = rng.normal(size=rows)
    reg = [
        PredictionSet(ids, target, target + 1.0 * common + scale * rng.normal(size=rows))
        for scale in (1.0, 0.95)
    ]
    return {"classification": (sets[0], sets[1]), "regression": (reg[0], reg[1])}


def timed(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def naive_resample(
    data: dict[str, tuple[PredictionSet, PredictionSet]], rng: np.random.Generator
) -> None:
    """One bootstrap resample of every metric for both models with scikit-learn."""
    cb, cc = data["classification"]
    idx = rng.integers(0, len(cb), size=len(cb))
    y = cb.y_true[idx]
    for model in (cb, cc):
        pred, score = model.y_pred[idx], model.proba[idx]  # type: ignore[index]
        skm.accuracy_score(y, pred)
        skm.f1_score(y, pred)
        skm.f1_score(y, pred, average="macro")
        skm.roc_auc_score(y, score[:, 1])
        skm.log_loss(y, score, labels=[0, 1])
    rb, rc = data["regression"]
    idx = rng.integers(0, len(rb), size=len(rb))
    for model in (rb, rc):
        skm.mean_squared_error(rb.y_true[idx], model.y_pred[idx])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of our engine")
    parser.add_argument("--naive-resamples", type=int, default=3, help="naive resamples timed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    data = make_data(args.rows)
    cb, cc = data["classification"]
    rb, rc = data["regression"]
    kw = {"n_resamples": N_RESAMPLES, "seed": 0, "confidence": 0.95}
    paired_deltas(CLASSIFICATION, cb, cc, **kw)  # warm-up (imports, allocator)

    per_metric: dict[str, float] = {}
    for name in CLASSIFICATION + REGRESSION:
        b, c = (cb, cc) if name in CLASSIFICATION else (rb, rc)
        per_metric[name] = timed(
            lambda b=b, c=c, name=name: paired_delta(name, b, c, **kw), args.repeats
        )

    results: list[Any] = []

    def together() -> None:
        results[:] = paired_deltas(CLASSIFICATION, cb, cc, **kw) + paired_deltas(
            REGRESSION, rb, rc, **kw
        )

    seconds = timed(together, args.repeats)

    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for _ in range(args.naive_resamples):
        naive_resample(data, rng)
    naive_measured = time.perf_counter() - start
    naive = naive_measured / args.naive_resamples * N_RESAMPLES

    print(f"rows: {args.rows:,}   resamples: {N_RESAMPLES}   cpus: {os.cpu_count()}")
    print(f"{'metric':<26}{'seconds':>9}  {'delta':>10}  {'95% interval':>24}  method")
    for d in results:
        interval = f"[{d.ci_low:+.5f}, {d.ci_high:+.5f}]"
        print(
            f"{d.metric:<26}{per_metric[d.metric]:>9.3f}  {d.delta:>+10.5f}  {interval:>24}  "
            f"{d.method}"
        )
    print(f"{'all metrics, one call per set':<26}{seconds:>9.3f}")
    print(f"{'sum of single-metric calls':<26}{sum(per_metric.values()):>9.3f}")
    print(
        f"naive sklearn bootstrap: {naive_measured:.2f} s for {args.naive_resamples} resamples "
        f"-> {naive:,.0f} s extrapolated to {N_RESAMPLES}"
    )
    print(f"speedup vs naive: {naive / seconds:,.0f}x")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "n_resamples": N_RESAMPLES,
                "seconds": round(seconds, 4),
                "seconds_single_metric_calls": round(sum(per_metric.values()), 4),
                "per_metric_seconds": {k: round(v, 4) for k, v in per_metric.items()},
                "naive_resamples_timed": args.naive_resamples,
                "naive_seconds_measured": round(naive_measured, 3),
                "naive_seconds_extrapolated": round(naive, 1),
                "speedup_vs_naive": round(naive / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
