"""The seeded row bootstrap (``kind="other"``) of :mod:`cml_bot.stats.engine`.

Evaluators compute a metric on a batch of resampled row indices ``(r, n)``: rank metrics
(one-vs-rest / one-vs-one ROC AUC, average precision) and median/max errors sort once and give
each row a small integer code, so one resample is one bincount; RMSE and explained variance
index the per-row values. :func:`_bootstrap_diffs` draws the resamples (blocks of bounded
memory; blocking does not change the draws) and shares them between metrics. Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.delong import _positive_scores
from cml_bot.stats.intervals import _BLOCK
from cml_bot.stats.pair import _columns_of, _Pair, _proba, _Undefined

Evaluator = Callable[[np.ndarray], np.ndarray]  # row indices (r, n) -> metric per resample (r,)


@dataclass(frozen=True)
class _Stat:
    """A metric on resampled rows and its work per resample (for chunking and capping)."""

    fn: Evaluator
    passes: int = 1  # passes over n rows per resample
    width: int = 1  # memory per resample, in units of n values


#
# Evaluators take resampled row indices (r, n). Rank-based metrics sort once and give each row
# a small integer code (class, tie group of its score), so one resample is one bincount.


def _row_samples(n: int, reps: int, width: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of (first resample, resampled row indices (r, n)); blocks do not change draws."""
    rng = np.random.default_rng(seed)
    per = max(1, min(reps, _BLOCK // (n * width)))
    for start in range(0, reps, per):
        yield start, rng.integers(0, n, size=(min(per, reps - start), n))


def _group_samples(groups: np.ndarray, reps: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """One resample at a time (its row count varies): G groups drawn with replacement, each
    drawn group's rows taken as often as it was drawn."""
    rng = np.random.default_rng(seed)
    g = int(groups.max()) + 1
    rows = np.arange(len(groups))
    for start in range(reps):
        times = np.bincount(rng.integers(0, g, g), minlength=g)
        yield start, np.repeat(rows, times[groups])[None]


def _counts(code: np.ndarray, n_codes: int, idx: np.ndarray) -> np.ndarray:
    """How often each code occurs in each resample: (r, n_codes) int64."""
    r = idx.shape[0]
    flat = code[idx]
    flat += (np.arange(r) * n_codes)[:, None]
    return np.bincount(flat.reshape(-1), minlength=r * n_codes).reshape(r, n_codes)


def _tie_groups(values: np.ndarray, descending: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the index of its value among the sorted distinct values; the distinct values."""
    uniq, group = np.unique(values, return_inverse=True)
    group = group.reshape(-1).astype(np.int64)
    if descending:
        return len(uniq) - 1 - group, uniq[::-1]
    return group, uniq


def _auc_counts(gp: np.ndarray, gn: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC (ties count one half) from positive/negative counts per score group
    (ascending), one row per resample; exact integer sums."""
    num2 = (gp * (2 * np.cumsum(gn, axis=1) - gn)).sum(axis=1)
    den2 = 2 * gp.sum(axis=1) * gn.sum(axis=1)
    return np.where(den2 > 0, num2 / np.maximum(den2, 1), np.nan)


def _binary_codes(
    score: np.ndarray, pos: np.ndarray, descending: bool = False
) -> tuple[np.ndarray, int]:
    group, uniq = _tie_groups(score, descending)
    return pos.astype(np.int64) * len(uniq) + group, len(uniq)


def _stat_ovr(per_class: list[tuple[np.ndarray, np.ndarray]], weighted: bool) -> _Stat:
    """Binary AUC (one entry) or the macro / prevalence-weighted one-vs-rest AUC."""
    parts = [_binary_codes(score, pos) for score, pos in per_class]

    def fn(idx: np.ndarray) -> np.ndarray:
        aucs, prevalence = [], []
        for code, g in parts:
            c = _counts(code, 2 * g, idx).reshape(-1, 2, g)
            aucs.append(_auc_counts(c[:, 1], c[:, 0]))
            prevalence.append(c[:, 1].sum(axis=1))
        values = np.stack(aucs, axis=1)
        if not weighted:
            return values.mean(axis=1)
        w = np.stack(prevalence, axis=1).astype(np.float64)
        return (values * w).sum(axis=1) / w.sum(axis=1)

    return _Stat(fn, passes=len(parts), width=2)


def _stat_ovo(per_class: list[tuple[np.ndarray, np.ndarray]], y_code: np.ndarray) -> _Stat:
    """Macro one-vs-one AUC (Hand & Till): mean over class pairs (a, b) of the AUC of a vs b
    on score a and of b vs a on score b. One pass per score column."""
    k = len(per_class)
    parts = []
    for score, _ in per_class:
        group, uniq = _tie_groups(score)
        parts.append((y_code * len(uniq) + group, len(uniq)))

    def fn(idx: np.ndarray) -> np.ndarray:
        auc: dict[tuple[int, int], np.ndarray] = {}
        for a, (code, g) in enumerate(parts):
            c = _counts(code, k * g, idx).reshape(-1, k, g)
            for b in range(k):
                if b != a:
                    auc[a, b] = _auc_counts(c[:, a], c[:, b])
        pairs = [(auc[a, b] + auc[b, a]) / 2 for a, b in combinations(range(k), 2)]
        return np.mean(pairs, axis=0)

    return _Stat(fn, passes=k + k * (k - 1) // 2, width=k)  # K counts + K(K-1) AUC sums


def _stat_ap(per_class: list[tuple[np.ndarray, np.ndarray]]) -> _Stat:
    """Average precision (scikit-learn's step integral; 0 without positives), macro over
    classes for a multiclass target."""
    parts = [_binary_codes(score, pos, descending=True) for score, pos in per_class]

    def fn(idx: np.ndarray) -> np.ndarray:
        out = []
        for code, g in parts:
            c = _counts(code, 2 * g, idx).reshape(-1, 2, g)
            gp = c[:, 1]
            tps = np.cumsum(gp, axis=1)
            seen = tps + np.cumsum(c[:, 0], axis=1)
            precision = tps / np.maximum(seen, 1)  # seen == 0 only where gp == 0
            total = tps[:, -1]
            out.append(np.where(total > 0, (gp * precision).sum(axis=1) / np.maximum(total, 1), 0))
        return np.mean(out, axis=0)

    return _Stat(fn, passes=2 * len(parts), width=2)


def _class_scores(spec: MetricSpec, pair: _Pair, which: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(score, positive mask) per class for a multiclass target, or one pair for a binary one."""
    model = pair.models()[which]
    labels, codes = pair.y_codes()
    if len(labels) < 2:
        raise _Undefined("one class in y_true")
    proba, classes = _proba(model, labels)
    if len(labels) == 2 and proba.shape[1] == 2:
        return [(_positive_scores(model, pair), codes == 1)]
    if proba.shape[1] != len(labels):
        raise _Undefined(
            f"y_true has {len(labels)} classes but the probabilities have {proba.shape[1]} columns"
        )
    if spec.name.startswith("roc_auc") and not np.allclose(1, proba.sum(axis=1)):
        raise _Undefined("probabilities do not sum to 1")
    cols = _columns_of(labels.tolist(), classes)
    return [(proba[:, col], codes == j) for j, col in enumerate(cols)]


def _evaluator(spec: MetricSpec, pair: _Pair, which: int) -> _Stat:
    """The metric on resampled rows, for the row bootstrap."""
    name = spec.name
    if name == "neg_root_mean_squared_error":
        se = pair.sq_err(which)
        return _Stat(lambda idx: np.sqrt(se[idx].mean(axis=1)))
    if spec.task == "regression":
        y, p = pair.y_float(), pair.pred_float(which)
        if name == "explained_variance":
            return _stat_explained_variance(y, y - p)
        group, uniq = _tie_groups(np.abs(y - p))
        if name == "max_error":
            last = len(uniq) - 1
            return _Stat(
                lambda idx: uniq[last - (_counts(group, len(uniq), idx)[:, ::-1] > 0).argmax(1)]
            )
        if name == "neg_median_absolute_error":
            return _stat_median(group, uniq)
        raise AssertionError(f"unhandled metric {name}")  # pragma: no cover
    per_class = _class_scores(spec, pair, which)
    if name == "average_precision":
        return _stat_ap(per_class)
    if len(per_class) == 1 or name in ("roc_auc_ovr", "roc_auc_ovr_weighted"):
        return _stat_ovr(per_class, weighted=name == "roc_auc_ovr_weighted")
    if name == "roc_auc_ovo":
        return _stat_ovo(per_class, pair.y_codes()[1])
    raise AssertionError(f"unhandled metric {name}")  # pragma: no cover


def _stat_median(group: np.ndarray, uniq: np.ndarray) -> _Stat:
    """np.median of the resampled values (mean of the two middle ones for an even count)."""

    def fn(idx: np.ndarray) -> np.ndarray:
        cw = np.cumsum(_counts(group, len(uniq), idx), axis=1)
        total = cw[:, -1:]
        lo = (cw > (total - 1) // 2).argmax(axis=1)
        hi = (cw > total // 2).argmax(axis=1)
        return (uniq[lo] + uniq[hi]) / 2

    return _Stat(fn)


def _stat_explained_variance(y: np.ndarray, e: np.ndarray) -> _Stat:
    """scikit-learn's explained_variance_score (force_finite) of the resampled rows."""

    def fn(idx: np.ndarray) -> np.ndarray:
        ye, ee = y[idx], e[idx]
        var_e = ((ee - ee.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
        var_y = ((ye - ye.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = 1 - var_e / var_y
        return np.where(var_e == 0, 1.0, np.where(var_y == 0, 0.0, score))

    return _Stat(fn, passes=2, width=4)


def _bootstrap_diffs(
    n: int,
    entries: Sequence[tuple[_Stat, _Stat, int]],
    seed: int,
    groups: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Candidate minus baseline per resample for each (baseline, candidate, resamples) entry.

    The entries share the resampled rows: one with fewer resamples uses the first ones, so each
    result equals the one-entry call's. With ``groups``, whole groups are resampled.
    """
    width = max(max(sb.width, sc.width) for sb, sc, _ in entries)
    diffs = [np.empty(reps) for *_, reps in entries]
    most = max(reps for *_, reps in entries)
    samples = (
        _row_samples(n, most, width, seed) if groups is None else _group_samples(groups, most, seed)
    )
    for start, idx in samples:
        for j, (sb, sc, reps) in enumerate(entries):
            if start < reps:
                part = idx[: reps - start]
                diffs[j][start : start + len(part)] = sc.fn(part) - sb.fn(part)
    return diffs
