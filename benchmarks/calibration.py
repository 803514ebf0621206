"""Calibration: do the paired intervals of cml_bot.stats cover, and is "significant" rare under H0?

Usage: ``.venv/bin/python benchmarks/calibration.py [--quick] [--reps R] [--sizes 50,200,2000]``

Seeded simulations of the scenarios a pull request meets (binary, multiclass and regression;
near-copy, independent and heavy-tailed models). In a *null* scenario both models are
exchangeable draws of the same process, so every metric's true difference is 0: the share of
"significant" results is the false-positive rate (FPR). A *shift* scenario makes the candidate
better; its true difference is the metric on a large sample (``TRUTH_ROWS``) of each model.
Coverage is the share of intervals that hold the true difference (among results that give an
interval); ``no-int`` is the share of results with no interval (NaN), ``undef`` the mean share
of resamples where the metric was undefined. Target: coverage 0.93-0.97 and FPR 0.03-0.07.

``--quick`` runs a seeded subset (the unit test's); the full run is what ``make bench`` prints
and ``docs/statistics.md`` shows. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cml_bot.stats import PairedDelta, PredictionSet, metric_value, paired_deltas

TRUTH_ROWS = 1_000_000
COVERAGE_TARGET = (0.93, 0.97)
FPR_TARGET = (0.03, 0.07)

BINARY = [
    "accuracy",
    "balanced_accuracy",
    "matthews_corrcoef",
    "f1",
    "precision",
    "recall",
    "roc_auc",
    "average_precision",
    "neg_log_loss",
    "neg_brier_score",
]
MULTICLASS = [
    "accuracy",
    "balanced_accuracy",
    "matthews_corrcoef",
    "f1_macro",
    "f1_weighted",
    "roc_auc_ovr",
    "roc_auc_ovo",
    "neg_log_loss",
]
REGRESSION = [
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
    "neg_mean_absolute_percentage_error",
    "neg_median_absolute_error",
    "max_error",
    "r2",
    "explained_variance",
]
# Not a population parameter (it grows with the row count): only its null scenarios count.
NULL_ONLY = {"max_error"}

Maker = Callable[[np.random.Generator, int], tuple[PredictionSet, PredictionSet]]


def _sets(
    y: np.ndarray, preds: list[np.ndarray], probas: list[np.ndarray | None], classes: list[int]
) -> tuple[PredictionSet, PredictionSet]:
    rid = np.arange(len(y))
    made = [
        PredictionSet(row_id=rid, y_true=y, y_pred=p, proba=q, classes=classes)
        for p, q in zip(preds, probas, strict=True)
    ]
    return made[0], made[1]


def binary(shared: float, noise: tuple[float, float]) -> Maker:
    """A latent score; each model sees it through shared and own noise (near-copy: small own)."""

    def make(rng: np.random.Generator, n: int) -> tuple[PredictionSet, PredictionSet]:
        z = rng.standard_normal(n)
        y = (z + 0.6 * rng.standard_normal(n) > 0.3).astype(np.int64)
        common = z + shared * rng.standard_normal(n)
        scores = [common + s * rng.standard_normal(n) for s in noise]
        probas = [np.column_stack([1 - p, p]) for p in (1 / (1 + np.exp(-1.7 * s)) for s in scores)]
        return _sets(y, [(s > 0.3).astype(np.int64) for s in scores], list(probas), [0, 1])

    return make


def multiclass(shared: float, noise: tuple[float, float]) -> Maker:
    """Three classes; logits are the one-hot label plus shared and own noise."""

    def make(rng: np.random.Generator, n: int) -> tuple[PredictionSet, PredictionSet]:
        y = rng.integers(0, 3, n)
        common = 1.2 * np.eye(3)[y] + shared * rng.standard_normal((n, 3))
        logits = [common + s * rng.standard_normal((n, 3)) for s in noise]
        probas = [np.exp(v) / np.exp(v).sum(axis=1, keepdims=True) for v in logits]
        return _sets(y, [v.argmax(axis=1) for v in logits], list(probas), [0, 1, 2])

    return make


def regression(shared: float, noise: tuple[float, float], tail_df: float | None = None) -> Maker:
    """y away from 0 (for MAPE); each model's error is shared plus own (Student-t when heavy)."""

    def own(rng: np.random.Generator, n: int, s: float) -> np.ndarray:
        if tail_df is None:
            return s * rng.standard_normal(n)
        return s * rng.standard_t(tail_df, n)

    def make(rng: np.random.Generator, n: int) -> tuple[PredictionSet, PredictionSet]:
        y = 10 + 2 * rng.standard_normal(n)
        common = shared * rng.standard_normal(n)
        preds = [y + common + own(rng, n, s) for s in noise]
        return _sets(y, preds, [None, None], [])

    return make


def tweak(base: Maker, fix: float, brk: float, k: int) -> Maker:
    """The candidate is the baseline with a few rows changed: each wrong row is fixed with
    probability ``fix``, each right row broken with probability ``brk`` (few discordant rows)."""

    def make(rng: np.random.Generator, n: int) -> tuple[PredictionSet, PredictionSet]:
        b, _ = base(rng, n)
        wrong = b.y_pred != b.y_true
        fixed = wrong & (rng.random(n) < fix)
        broken = ~wrong & (rng.random(n) < brk)
        pred = b.y_pred.copy()
        pred[fixed] = b.y_true[fixed]
        pred[broken] = (b.y_true[broken] + rng.integers(1, k, int(broken.sum()))) % k
        return b, PredictionSet(row_id=b.row_id, y_true=b.y_true, y_pred=pred, classes=b.classes)

    return make


@dataclass(frozen=True)
class Scenario:
    name: str
    metrics: list[str]
    make: Maker
    null: bool  # both models exchangeable: every true difference is 0


SCENARIOS = [
    Scenario("binary near-copy", BINARY, binary(0.8, (0.25, 0.25)), True),
    Scenario("binary independent", BINARY, binary(0.0, (1.0, 1.0)), True),
    Scenario("binary shift", BINARY, binary(0.3, (1.0, 0.7)), False),
    Scenario("binary tweak", BINARY[:6], tweak(binary(0.3, (1.0, 1.0)), 0.08, 0.01, 2), False),
    Scenario("multiclass near-copy", MULTICLASS, multiclass(0.8, (0.15, 0.15)), True),
    Scenario("multiclass independent", MULTICLASS, multiclass(0.0, (1.0, 1.0)), True),
    Scenario(
        "multiclass tweak", MULTICLASS[:5], tweak(multiclass(0.3, (1.0, 1.0)), 0.08, 0.01, 3), False
    ),
    Scenario("regression near-copy", REGRESSION, regression(1.0, (0.15, 0.15)), True),
    Scenario("regression independent", REGRESSION, regression(0.0, (1.0, 1.0)), True),
    Scenario("regression heavy-tailed", REGRESSION, regression(0.0, (1.0, 1.0), 3.0), True),
    Scenario("regression shift", REGRESSION, regression(0.5, (1.0, 0.8)), False),
]
QUICK = ["binary near-copy", "binary tweak"]
QUICK_METRICS = ["accuracy", "f1", "balanced_accuracy", "matthews_corrcoef"]


@dataclass
class Cell:
    scenario: str
    metric: str
    n: int
    covered: int = 0
    with_interval: int = 0
    significant: int = 0
    runs: int = 0
    undefined_share: float = 0.0

    @property
    def coverage(self) -> float:
        return self.covered / self.with_interval if self.with_interval else float("nan")

    @property
    def fpr(self) -> float:
        return self.significant / self.runs if self.runs else float("nan")

    @property
    def no_interval(self) -> float:
        return 1 - self.with_interval / self.runs if self.runs else float("nan")


def true_deltas(scenario: Scenario, seed: int) -> dict[str, float]:
    """0 for a null scenario; otherwise each model's metric on ``TRUTH_ROWS`` rows."""
    if scenario.null:
        return dict.fromkeys(scenario.metrics, 0.0)
    b, c = scenario.make(np.random.default_rng(10_000 + seed), TRUTH_ROWS)
    return {
        m: metric_value(m, c) - metric_value(m, b) for m in scenario.metrics if m not in NULL_ONLY
    }


def _record(cell: Cell, result: PairedDelta, truth: float) -> None:
    cell.runs += 1
    cell.significant += bool(result.significant)
    spent = result.n_resamples or 0
    undefined = getattr(result, "n_undefined_resamples", 0)
    cell.undefined_share += undefined / spent if spent else 0.0
    if np.isfinite(result.ci_low) and np.isfinite(result.ci_high):
        cell.with_interval += 1
        cell.covered += bool(result.ci_low <= truth <= result.ci_high)


def simulate(
    scenario: Scenario, metrics: list[str], sizes: list[int], reps: int, seed: int, n_resamples: int
) -> list[Cell]:
    truth = true_deltas(scenario, seed)
    metrics = [m for m in metrics if m in truth]
    cells: list[Cell] = []
    for n in sizes:
        rng = np.random.default_rng([seed, n, len(scenario.name)])
        row = {m: Cell(scenario.name, m, n) for m in metrics}
        for rep in range(reps):
            b, c = scenario.make(rng, n)
            for result in paired_deltas(metrics, b, c, seed=rep, n_resamples=n_resamples):
                _record(row[result.metric], result, truth[result.metric])
        for cell in row.values():
            cell.undefined_share /= max(cell.runs, 1)
        cells.extend(row.values())
    return cells


def _fmt(x: float) -> str:
    return "  n/a" if not np.isfinite(x) else f"{x:.3f}"


def _flag(cell: Cell, null: bool) -> str:
    bad = []
    cov = cell.coverage
    if np.isfinite(cov) and not COVERAGE_TARGET[0] <= cov <= COVERAGE_TARGET[1]:
        bad.append("coverage")
    if null and not FPR_TARGET[0] <= cell.fpr <= FPR_TARGET[1]:
        bad.append("fpr")
    return ",".join(bad)


def print_table(cells: list[Cell], nulls: set[str]) -> None:
    head = f"{'n':>5} {'cover':>6} {'FPR':>6} {'no-int':>6} {'undef':>6}  off-target"
    print(f"{'scenario':24} {'metric':36} {head}")
    for c in cells:
        null = c.scenario in nulls
        fpr = _fmt(c.fpr) if null else "    -"
        print(
            f"{c.scenario:24} {c.metric:36} {c.n:>5} {_fmt(c.coverage):>6} {fpr:>6} "
            f"{_fmt(c.no_interval):>6} {_fmt(c.undefined_share):>6}  {_flag(c, null)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the seeded subset the tests run")
    parser.add_argument("--reps", type=int, default=None, help="simulated data sets per cell")
    parser.add_argument("--sizes", default=None, help="comma-separated row counts")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("50" if args.quick else "50,200,2000")).split(",")]
    reps = args.reps or (300 if args.quick else 1000)
    chosen = [s for s in SCENARIOS if not args.quick or s.name in QUICK]
    cells: list[Cell] = []
    for scenario in chosen:
        metrics = QUICK_METRICS if args.quick else scenario.metrics
        cells += simulate(scenario, metrics, sizes, reps, args.seed, args.resamples)
    nulls = {s.name for s in chosen if s.null}
    print_table(cells, nulls)
    off = [c for c in cells if _flag(c, c.scenario in nulls)]
    summary = {
        "reps": reps,
        "sizes": sizes,
        "cells": [
            {
                "scenario": c.scenario,
                "metric": c.metric,
                "n": c.n,
                "coverage": None if not np.isfinite(c.coverage) else round(c.coverage, 4),
                "fpr": round(c.fpr, 4) if c.scenario in nulls else None,
                "no_interval": round(c.no_interval, 4),
                "undefined_share": round(c.undefined_share, 4),
            }
            for c in cells
        ],
        "off_target": len(off),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
