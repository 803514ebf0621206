"""cml_bot.stats: point values equal scikit-learn's, paired intervals are calibrated."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from cml_bot.core.metrics import METRICS
from cml_bot.stats import engine as stats
from cml_bot.stats.engine import PairedDelta, metric_value, paired_delta, paired_deltas
from cml_bot.stats.predictions import PredictionSet

CLASSIFICATION = [n for n, s in METRICS.items() if s.task == "classification"]
REGRESSION = [n for n, s in METRICS.items() if s.task == "regression"]


# ----------------------------------------------------------------------------- data


def classifier(
    y: np.ndarray,
    labels: list[Any],
    rng: np.random.Generator,
    skill: float = 1.0,
    decimals: int = 2,
) -> PredictionSet:
    """A noisy classifier of codes ``y`` (0..K-1) reported with ``labels``; rounded probas tie."""
    k = len(labels)
    logits = rng.normal(size=(len(y), k))
    logits[np.arange(len(y)), y] += skill
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    proba = np.round(proba, decimals)
    proba /= proba.sum(axis=1, keepdims=True)
    lab = np.array(labels)
    return PredictionSet(np.arange(len(y)), lab[y], lab[proba.argmax(axis=1)], proba, list(labels))


def class_data(n: int, labels: list[Any], seed: int) -> PredictionSet:
    rng = np.random.default_rng(seed)
    return classifier(rng.integers(0, len(labels), n), labels, rng)


def reg_data(n: int, seed: int, zeros: bool = False) -> PredictionSet:
    rng = np.random.default_rng(seed)
    y = rng.normal(5, 2, n)
    if zeros:
        y[:5] = 0.0  # MAPE's epsilon
    return PredictionSet(np.arange(n), y, y + rng.normal(0, 1, n))


def pair_from(
    base: PredictionSet, pred: np.ndarray, proba: np.ndarray | None = None
) -> PredictionSet:
    return PredictionSet(base.row_id, base.y_true, pred, proba, list(base.classes))


def sklearn_value(name: str, ps: PredictionSet) -> float:
    """The scikit-learn metric function the catalogue names (natural units)."""
    spec = METRICS[name]
    y, pred, proba, classes = ps.y_true, ps.y_pred, ps.proba, ps.classes
    if spec.task == "regression":
        fn: Callable[..., Any] = {
            "neg_mean_squared_error": skm.mean_squared_error,
            "neg_mean_absolute_error": skm.mean_absolute_error,
            "neg_mean_absolute_percentage_error": skm.mean_absolute_percentage_error,
            "neg_root_mean_squared_error": skm.root_mean_squared_error,
            "neg_median_absolute_error": skm.median_absolute_error,
            "max_error": skm.max_error,
            "r2": skm.r2_score,
            "explained_variance": skm.explained_variance_score,
        }[name]
        return float(fn(y, pred))
    if spec.average:
        fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[
            name.split("_")[0]
        ]
        if spec.average == "binary":
            return float(fn(y, pred, average="binary", pos_label=max(set(y) | set(pred))))
        return float(fn(y, pred, average=spec.average))
    if spec.kind == "label":
        fn = {
            "accuracy": skm.accuracy_score,
            "balanced_accuracy": skm.balanced_accuracy_score,
            "matthews_corrcoef": skm.matthews_corrcoef,
        }[name]
        return float(fn(y, pred))
    assert proba is not None
    binary = proba.shape[1] == 2
    score = proba[:, 1] if binary else proba
    return float(
        {
            "roc_auc": lambda: skm.roc_auc_score(y, score),
            "roc_auc_ovr": lambda: skm.roc_auc_score(y, score, multi_class="ovr"),
            "roc_auc_ovo": lambda: skm.roc_auc_score(y, score, multi_class="ovo"),
            "roc_auc_ovr_weighted": lambda: skm.roc_auc_score(
                y, score, multi_class="ovr", average="weighted"
            ),
            "average_precision": lambda: (
                skm.average_precision_score(y, score, pos_label=classes[1])
                if binary
                else skm.average_precision_score(y, score)
            ),
            "neg_log_loss": lambda: skm.log_loss(y, proba, labels=classes),
            "neg_brier_score": lambda: skm.brier_score_loss(y, proba, labels=classes),
        }[name]()
    )


CLASS_SETS = {
    "binary-int": ([0, 1], 400, 1),
    "binary-str": (["no", "yes"], 300, 2),
    "multiclass-3": ([0, 1, 2], 500, 3),
    "multiclass-4-str": (["ant", "bee", "cat", "dog"], 400, 4),
}


# ----------------------------------------------------------------------------- point values


@pytest.mark.parametrize("dataset", list(CLASS_SETS))
def test_classification_point_values_equal_sklearn(dataset: str) -> None:
    labels, n, seed = CLASS_SETS[dataset]
    ps = class_data(n, labels, seed)
    binary = len(labels) == 2
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in CLASSIFICATION:
            ours = metric_value(name, ps)
            if not binary and (METRICS[name].average == "binary" or name == "roc_auc"):
                assert math.isnan(ours), name  # scikit-learn raises for these
                continue
            assert ours == pytest.approx(sklearn_value(name, ps), abs=1e-9), name
            checked += 1
    assert checked >= 18


@pytest.mark.parametrize("zeros", [False, True])
def test_regression_point_values_equal_sklearn(zeros: bool) -> None:
    ps = reg_data(301, seed=5, zeros=zeros)
    for name in REGRESSION:
        assert metric_value(name, ps) == pytest.approx(sklearn_value(name, ps), abs=1e-9), name


def test_label_metrics_with_missing_predicted_and_unpredicted_classes() -> None:
    # class 3 is only predicted, class 2 is never predicted: zero-division conventions
    y = np.array([0, 0, 1, 1, 2, 2, 2, 1, 0, 0])
    pred = np.array([0, 3, 1, 0, 1, 1, 0, 1, 0, 3])
    ps = PredictionSet(np.arange(10), y, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in CLASSIFICATION:
            spec = METRICS[name]
            if spec.kind == "label" and spec.average != "binary":
                assert metric_value(name, ps) == pytest.approx(sklearn_value(name, ps), abs=1e-12)


@pytest.mark.parametrize(
    ("y", "pred"),
    [
        ([-1, 1, 1, -1, 1, -1, -1], [-1, 1, -1, -1, 1, 1, -1]),
        ([True, False, True, True, False], [True, True, False, True, False]),
        ([0, 0, 0, 0], [0, 0, 1, 0]),
        ([0, 0, 0], [0, 0, 0]),  # one label: positive class 1 is absent -> 0 (zero_division)
    ],
)
def test_binary_metrics_match_sklearn_default_pos_label(y: list[Any], pred: list[Any]) -> None:
    ps = PredictionSet(np.arange(len(y)), np.array(y), np.array(pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for base, fn in (
            ("f1", skm.f1_score),
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
        ):
            assert metric_value(base, ps) == pytest.approx(float(fn(y, pred)), abs=1e-12)


def test_binary_positive_class_is_the_greater_label() -> None:
    # documented: for labels {1, 2} the positive class is 2 (scikit-learn's default would be 1)
    y, pred = np.array([1, 2, 1, 2]), np.array([1, 1, 1, 2])
    ps = PredictionSet(np.arange(4), y, pred)
    assert metric_value("f1", ps) == pytest.approx(skm.f1_score(y, pred, pos_label=2))
    strings = PredictionSet(
        np.arange(4), np.array(["no", "yes", "no", "yes"]), np.array(["no", "no", "no", "yes"])
    )
    assert metric_value("recall", strings) == pytest.approx(0.5)
    # a binary model whose rows show one label: the positive class is the model's greater class
    only_no = PredictionSet(
        np.arange(3), np.array(["no"] * 3), np.array(["no"] * 3), classes=["no", "yes"]
    )
    assert metric_value("f1", only_no) == 0.0


def test_probability_columns_follow_classes_order() -> None:
    ps = class_data(200, ["a", "b", "c"], seed=9)
    assert ps.proba is not None
    shuffled = PredictionSet(
        ps.row_id, ps.y_true, ps.y_pred, ps.proba[:, [2, 0, 1]], ["c", "a", "b"]
    )
    for name in (
        "neg_log_loss",
        "neg_brier_score",
        "roc_auc_ovr",
        "roc_auc_ovo",
        "average_precision",
    ):
        assert metric_value(name, shuffled) == pytest.approx(metric_value(name, ps), abs=1e-12)


def test_paired_values_equal_metric_value() -> None:
    b = class_data(300, [0, 1], seed=11)
    c = classifier(np.asarray(b.y_true), [0, 1], np.random.default_rng(12), skill=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in paired_deltas(CLASSIFICATION, b, c, n_resamples=100):
            assert d.baseline == pytest.approx(metric_value(d.metric, b), abs=1e-12), d.metric
            assert d.candidate == pytest.approx(metric_value(d.metric, c), abs=1e-12), d.metric
            assert d.delta == pytest.approx(d.candidate - d.baseline, abs=1e-12)


def test_bootstrap_evaluators_equal_sklearn_on_resampled_rows() -> None:
    """The weighted/coded statistics used per resample equal the metric on the resampled rows."""
    rng = np.random.default_rng(21)
    cases = [
        (
            class_data(150, [0, 1, 2], seed=22),
            ["roc_auc_ovr", "roc_auc_ovo", "roc_auc_ovr_weighted", "average_precision"],
        ),
        (class_data(150, [0, 1], seed=23), ["roc_auc_ovr", "average_precision"]),
        (
            reg_data(151, seed=24),
            [
                "neg_median_absolute_error",
                "max_error",
                "explained_variance",
                "neg_root_mean_squared_error",
            ],
        ),
    ]
    for ps, names in cases:
        pair = stats._Pair(ps, ps)
        for _ in range(3):
            idx = rng.integers(0, len(ps), len(ps))
            resampled = ps.take(idx)
            for name in names:
                ours = stats._evaluator(METRICS[name], pair, 0).fn(idx[None])[0]
                assert ours == pytest.approx(sklearn_value(name, resampled), abs=1e-9), name


# ----------------------------------------------------------------------------- paired deltas


def two_classifiers(
    n: int, seed: int, skill_b: float = 1.0, skill_c: float = 1.0, labels: list[Any] | None = None
) -> tuple[PredictionSet, PredictionSet]:
    rng = np.random.default_rng(seed)
    labels = labels or [0, 1]
    y = rng.integers(0, len(labels), n)
    return classifier(y, labels, rng, skill_b), classifier(y, labels, rng, skill_c)


def test_same_seed_same_result_and_seed_matters() -> None:
    b, c = two_classifiers(500, seed=3)
    names = ["accuracy", "f1_macro", "roc_auc", "roc_auc_ovr", "neg_log_loss"]
    first = paired_deltas(names, b, c, seed=7, n_resamples=300)
    assert first == paired_deltas(names, b, c, seed=7, n_resamples=300)
    other = paired_deltas(names, b, c, seed=8, n_resamples=300)
    for i in (1, 3):  # bootstrap intervals move with the seed
        assert (first[i].ci_low, first[i].ci_high) != (other[i].ci_low, other[i].ci_high)
    assert first[2] == other[2]  # DeLong is closed-form


def test_paired_deltas_equal_single_calls() -> None:
    b, c = two_classifiers(400, seed=4, labels=["x", "y", "z"])
    names = [
        "accuracy",
        "f1_macro",
        "balanced_accuracy",
        "roc_auc_ovo",
        "average_precision",
        "neg_log_loss",
        "f1",
    ]
    together = paired_deltas(names, b, c, seed=1, n_resamples=200)
    singles = [paired_delta(n, b, c, seed=1, n_resamples=200) for n in names]
    assert repr(together) == repr(singles)  # repr: NaN fields compare equal
    assert together[-1].method.startswith("undefined: average='binary'")


def test_identical_models_are_not_significant() -> None:
    b, _ = two_classifiers(300, seed=5)
    r = reg_data(300, seed=6)
    results = paired_deltas(CLASSIFICATION, b, b, n_resamples=200) + paired_deltas(
        REGRESSION, r, r, n_resamples=200
    )
    for d in results:
        assert d.delta == 0.0, d.metric
        assert not d.significant, d.metric
        assert d.improved is None


def test_better_classifier_is_significant_improvement() -> None:
    b, c = two_classifiers(2000, seed=7, skill_b=0.5, skill_c=2.5)
    for d in paired_deltas(
        [
            "accuracy",
            "f1",
            "f1_macro",
            "matthews_corrcoef",
            "roc_auc",
            "neg_log_loss",
            "neg_brier_score",
            "average_precision",
        ],
        b,
        c,
        n_resamples=500,
    ):
        assert d.significant, d
        assert d.improved is True, d
    loss = paired_delta("neg_log_loss", b, c)
    assert loss.delta < 0 and loss.ci_high < 0  # a smaller loss is the improvement
    worse = paired_delta("accuracy", c, b, n_resamples=500)
    assert worse.significant and worse.improved is False


def test_better_regressor_is_significant_improvement() -> None:
    rng = np.random.default_rng(8)
    y = rng.normal(0, 3, 1000)
    b = PredictionSet(np.arange(1000), y, y + rng.normal(0, 2, 1000))
    c = PredictionSet(np.arange(1000), y, y + rng.normal(0, 1, 1000))
    for d in paired_deltas(REGRESSION, b, c, n_resamples=300):
        if d.metric == "max_error":  # an extreme value: too noisy to promise
            continue
        assert d.significant and d.improved is True, d
        lower_is_better = not METRICS[d.metric].greater_is_better
        assert (d.delta < 0) == lower_is_better, d


def test_methods_and_interval_contains_delta() -> None:
    b, c = two_classifiers(600, seed=9)
    r = reg_data(600, seed=10)
    r2 = pair_from(r, np.asarray(r.y_pred) + np.random.default_rng(1).normal(0, 0.5, 600))
    got = {
        d.metric: d
        for d in paired_deltas(
            ["accuracy", "roc_auc", "neg_log_loss", "roc_auc_ovr"], b, c, n_resamples=400
        )
    }
    got |= {
        d.metric: d
        for d in paired_deltas(
            [
                "neg_mean_squared_error",
                "neg_root_mean_squared_error",
                "r2",
                "neg_median_absolute_error",
            ],
            r,
            r2,
            n_resamples=400,
        )
    }
    assert {m: d.method for m, d in got.items()} == {
        "accuracy": "Tango score",
        "roc_auc": "paired DeLong",
        "neg_log_loss": "paired mean",
        "roc_auc_ovr": "bootstrap",
        "neg_mean_squared_error": "paired mean",
        "neg_root_mean_squared_error": "MSE interval / (RMSE + RMSE)",
        "r2": "delta method incl. var(y)",
        "neg_median_absolute_error": "bootstrap",
    }
    for d in got.values():
        assert d.ci_low <= d.delta <= d.ci_high, d
        assert d.n_rows == 600
    assert got["accuracy"].n_resamples is None and got["roc_auc"].n_resamples is None


def test_wider_interval_at_higher_confidence() -> None:
    b, c = two_classifiers(500, seed=11)
    for name in ("accuracy", "roc_auc", "neg_log_loss"):
        narrow = paired_delta(name, b, c, confidence=0.8)
        wide = paired_delta(name, b, c, confidence=0.99)
        assert wide.ci_low < narrow.ci_low and narrow.ci_high < wide.ci_high, name
        assert wide.confidence == 0.99


def test_joint_counts_bootstrap_matches_analytic_variance() -> None:
    """For accuracy, Var(acc_c - acc_b) = (p10 + p01 - (p10 - p01)^2) / n."""
    b, c = two_classifiers(2000, seed=12)
    ok_b = np.asarray(b.y_pred) == b.y_true
    ok_c = np.asarray(c.y_pred) == c.y_true
    p10, p01 = np.mean(ok_c & ~ok_b), np.mean(ok_b & ~ok_c)
    sd = math.sqrt((p10 + p01 - (p10 - p01) ** 2) / 2000)
    d = paired_delta("accuracy", b, c, n_resamples=4000, confidence=0.95)
    assert (d.ci_high - d.ci_low) / (2 * 1.96) == pytest.approx(sd, rel=0.08)


def test_delong_agrees_with_the_row_bootstrap() -> None:
    """roc_auc (DeLong) and roc_auc_ovr (row bootstrap) are the same binary AUC."""
    b, c = two_classifiers(1500, seed=14, skill_b=1.0, skill_c=1.3)
    delong, boot = paired_deltas(["roc_auc", "roc_auc_ovr"], b, c, n_resamples=2000)
    assert boot.delta == pytest.approx(delong.delta, abs=1e-12)
    assert boot.ci_high - boot.ci_low == pytest.approx(delong.ci_high - delong.ci_low, rel=0.1)


def test_rmse_and_r2_intervals_agree_with_the_paired_mse_interval() -> None:
    r = reg_data(800, seed=13)
    c = pair_from(r, 0.9 * np.asarray(r.y_pred) + 0.1 * np.asarray(r.y_true))
    mse, rmse, r2 = paired_deltas(
        ["neg_mean_squared_error", "neg_root_mean_squared_error", "r2"], r, c
    )
    total = rmse.baseline + rmse.candidate  # RMSE_c - RMSE_b = (MSE_c - MSE_b) / total
    assert rmse.ci_low == pytest.approx(mse.ci_low / total)
    assert rmse.ci_high == pytest.approx(mse.ci_high / total)
    assert rmse.significant == mse.significant
    var_y = float(np.var(np.asarray(r.y_true)))
    assert r2.delta == pytest.approx(-mse.delta / var_y)
    assert r2.ci_low < r2.delta < r2.ci_high


@pytest.mark.parametrize("n", [12, 20, 30, 60])
def test_rmse_is_significant_exactly_when_mse_is(n: int) -> None:
    # RMSE's old delta-method interval (normal quantile) was significant at 30 rows where MSE
    # (Student-t) was not; now RMSE's interval is MSE's, rescaled.
    for seed in range(40):
        r = reg_data(n, seed=seed)
        noise = np.random.default_rng(seed).normal(0, 0.4, n)
        c = pair_from(r, np.asarray(r.y_pred) * 0.8 + noise)
        mse, rmse = paired_deltas(["neg_mean_squared_error", "neg_root_mean_squared_error"], r, c)
        assert rmse.significant == mse.significant, seed


def test_r2_interval_counts_the_variability_of_var_y() -> None:
    # errors that grow with |y - mean|: var(y) and the MSE difference move together, so the
    # interval differs from the one that treats var(y) as a constant (MSE interval / var(y)),
    # which the old code gave
    rng = np.random.default_rng(3)
    y = rng.normal(0, 1, 400)
    b = PredictionSet(np.arange(400), y, y + 0.8 * np.abs(y) * rng.normal(size=400))
    c = PredictionSet(np.arange(400), y, y + 0.5 * np.abs(y) * rng.normal(size=400))
    mse, r2 = paired_deltas(["neg_mean_squared_error", "r2"], b, c)
    var_y = float(np.var(y))
    fixed_width = (mse.ci_high - mse.ci_low) / var_y
    assert abs((r2.ci_high - r2.ci_low) / fixed_width - 1) > 0.02


# ----------------------------------------------------------------------------- coverage


POPULATION = 100_000


def population_classifiers(size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two correlated models' positive-class scores on a finite population."""
    rng = np.random.default_rng(seed)
    y = (rng.random(size) < 0.35).astype(np.int64)
    shared = rng.normal(size=size)
    scores = []
    for signal in (1.2, 1.45):
        z = signal * (y - 0.35) + 0.7 * shared + 0.8 * rng.normal(size=size) - 0.2
        scores.append(1 / (1 + np.exp(-z)))
    return y, scores[0], scores[1]


def coverage(
    trials: int,
    n: int,
    names: list[str],
    make: Callable[[np.ndarray], tuple[PredictionSet, PredictionSet]],
    truth: dict[str, float],
    seed: int,
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(names, 0)
    for trial in range(trials):
        idx = rng.integers(0, POPULATION, n)
        for d in paired_deltas(names, *make(idx), seed=trial, n_resamples=400):
            hits[d.metric] += d.ci_low <= truth[d.metric] <= d.ci_high
    return {m: h / trials for m, h in hits.items()}


def test_coverage_classification() -> None:
    y, sb, sc = population_classifiers(POPULATION, seed=31)

    def make(idx: np.ndarray) -> tuple[PredictionSet, PredictionSet]:
        out = []
        for s in (sb, sc):
            proba = np.column_stack([1 - s[idx], s[idx]])
            out.append(
                PredictionSet(
                    np.arange(len(idx)), y[idx], (s[idx] >= 0.5).astype(int), proba, [0, 1]
                )
            )
        return out[0], out[1]

    names = ["accuracy", "f1_macro", "roc_auc", "neg_log_loss"]
    full_b, full_c = make(np.arange(POPULATION))
    truth = {m: metric_value(m, full_c) - metric_value(m, full_b) for m in names}
    assert all(abs(v) > 0.005 for v in truth.values())  # a real difference to cover
    got = coverage(300, 400, names, make, truth, seed=32)
    for name, rate in got.items():
        assert 0.90 <= rate <= 0.99, (name, rate)


def test_coverage_multiclass_f1_macro() -> None:
    rng = np.random.default_rng(41)
    y = rng.integers(0, 3, POPULATION)
    noise = rng.normal(size=(POPULATION, 3))
    preds = []
    for skill in (1.0, 1.3):
        logits = noise + rng.normal(size=(POPULATION, 3)) * 0.8
        logits[np.arange(POPULATION), y] += skill
        preds.append(logits.argmax(axis=1))

    def make(idx: np.ndarray) -> tuple[PredictionSet, PredictionSet]:
        b, c = (PredictionSet(np.arange(len(idx)), y[idx], p[idx]) for p in preds)
        return b, c

    full_b, full_c = make(np.arange(POPULATION))
    truth = {
        m: metric_value(m, full_c) - metric_value(m, full_b)
        for m in ("f1_macro", "balanced_accuracy")
    }
    got = coverage(300, 400, list(truth), make, truth, seed=42)
    for name, rate in got.items():
        assert 0.90 <= rate <= 0.99, (name, rate)


def test_coverage_regression() -> None:
    rng = np.random.default_rng(51)
    y = rng.normal(0, 2, POPULATION)
    common = rng.normal(size=POPULATION)
    pb = y + common + rng.normal(0, 1.0, POPULATION)
    pc = y + common + rng.normal(0, 0.8, POPULATION)

    def make(idx: np.ndarray) -> tuple[PredictionSet, PredictionSet]:
        b, c = (PredictionSet(np.arange(len(idx)), y[idx], p[idx]) for p in (pb, pc))
        return b, c

    names = ["neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error"]
    full_b, full_c = make(np.arange(POPULATION))
    truth = {m: metric_value(m, full_c) - metric_value(m, full_b) for m in names}
    got = coverage(300, 300, names, make, truth, seed=52)
    for name, rate in got.items():
        assert 0.90 <= rate <= 0.99, (name, rate)


# ----------------------------------------------------------------------------- edge cases


def test_one_class_only() -> None:
    rng = np.random.default_rng(61)
    y = np.zeros(50, dtype=int)
    proba = rng.dirichlet([1, 1], 50)
    b = PredictionSet(np.arange(50), y, proba.argmax(axis=1), proba, [0, 1])
    c = pair_from(b, np.zeros(50, dtype=int), proba[::-1])
    assert math.isnan(metric_value("roc_auc", b))
    d = paired_delta("roc_auc", b, c)
    assert d.method == "undefined: one class in y_true"
    assert not d.significant and d.improved is None
    assert math.isnan(d.delta) and math.isnan(d.ci_low) and math.isnan(d.ci_high)
    for name in ("roc_auc_ovr", "average_precision"):
        assert paired_delta(name, b, c).method.startswith("undefined: one class"), name
    acc = paired_delta("accuracy", b, c)  # still defined
    assert acc.candidate == 1.0 and acc.delta > 0
    assert paired_delta("neg_log_loss", b, c).method == "paired mean"


def test_empty_sets_give_nan_not_errors() -> None:
    empty = PredictionSet(
        np.array([], dtype=int),
        np.array([], dtype=int),
        np.array([], dtype=int),
        np.empty((0, 2)),
        [0, 1],
    )
    for name in CLASSIFICATION:
        assert math.isnan(metric_value(name, empty)), name
        d = paired_delta(name, empty, empty)
        assert d.method == "undefined: no rows" and d.n_rows == 0 and not d.significant
    reg = PredictionSet(np.array([], dtype=int), np.array([]), np.array([]))
    assert all(math.isnan(metric_value(n, reg)) for n in REGRESSION)


def test_nan_probabilities_and_predictions_are_undefined() -> None:
    b, c = two_classifiers(100, seed=62)
    assert c.proba is not None
    bad = c.proba.copy()
    bad[3, 0] = np.nan
    c_nan = pair_from(c, np.asarray(c.y_pred), bad)
    for name in ("roc_auc", "neg_log_loss", "neg_brier_score", "roc_auc_ovr", "average_precision"):
        assert math.isnan(metric_value(name, c_nan)), name
        d = paired_delta(name, b, c_nan)
        assert d.method == "undefined: NaN or infinite probabilities", name
        assert d.baseline == pytest.approx(metric_value(name, b)) and math.isnan(d.candidate)
    assert paired_delta("accuracy", b, c_nan).method == "Tango score"
    r = reg_data(50, seed=63)
    pred = np.asarray(r.y_pred).copy()
    pred[0] = np.nan
    d = paired_delta("neg_mean_squared_error", r, pair_from(r, pred))
    assert d.method == "undefined: NaN or infinite predictions"
    assert math.isnan(
        metric_value("accuracy", pair_from(b, np.where(np.arange(100) < 1, np.nan, 1.0)))
    )


def test_probabilities_outside_unit_interval_are_undefined_for_losses() -> None:
    b, _ = two_classifiers(50, seed=64)
    assert b.proba is not None
    scores = pair_from(b, np.asarray(b.y_pred), b.proba * 3)  # scores, not probabilities
    assert math.isnan(metric_value("neg_log_loss", scores))
    assert metric_value("roc_auc", scores) == pytest.approx(metric_value("roc_auc", b))


def test_degenerate_regression() -> None:
    y = np.full(20, 3.0)
    b = PredictionSet(np.arange(20), y, y + np.linspace(-1, 1, 20))
    c = PredictionSet(np.arange(20), y, y.copy())
    d = paired_delta("r2", b, c)
    assert d.method.startswith("undefined: constant y_true")
    assert (d.baseline, d.candidate) == (0.0, 1.0)  # scikit-learn's force_finite values
    rmse = paired_delta("neg_root_mean_squared_error", b, c, n_resamples=200)
    assert rmse.candidate == 0.0 and rmse.significant  # MSE's interval, rescaled
    assert rmse.method == "MSE interval / (RMSE + RMSE)"


def test_bootstrap_resamples_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # work = rows x (passes of both models): 100 x 2 for a binary AUC
    monkeypatch.setattr(stats, "BOOTSTRAP_BUDGET", 20_000)
    monkeypatch.setattr(stats, "MIN_CAPPED_RESAMPLES", 30)
    b, c = two_classifiers(100, seed=65)
    capped = paired_delta("roc_auc_ovr", b, c, n_resamples=2000)
    assert capped.n_resamples == 100
    # few resamples: a normal interval around the point delta (bootstrap standard error)
    assert capped.delta - capped.ci_low == pytest.approx(capped.ci_high - capped.delta)
    assert paired_delta("roc_auc_ovr", b, c, n_resamples=50).n_resamples == 50
    monkeypatch.setattr(stats, "BOOTSTRAP_BUDGET", 10)
    assert paired_delta("roc_auc_ovr", b, c, n_resamples=2000).n_resamples == 30


def test_misuse_raises() -> None:
    b, c = two_classifiers(30, seed=66)
    with pytest.raises(ValueError, match=r"unknown metric .acuracy.*accuracy"):
        paired_delta("acuracy", b, c)
    with pytest.raises(ValueError, match="unknown metric"):
        metric_value("nope", b)
    with pytest.raises(ValueError, match="different row counts"):
        paired_delta("accuracy", b, b.take(np.arange(10)))
    shuffled = PredictionSet(c.row_id, np.asarray(c.y_true)[::-1], c.y_pred, c.proba, c.classes)
    with pytest.raises(ValueError, match="different y_true"):
        paired_delta("accuracy", b, shuffled)
    with pytest.raises(ValueError, match="confidence"):
        paired_delta("accuracy", b, c, confidence=1.0)
    with pytest.raises(ValueError, match="n_resamples"):
        paired_delta("accuracy", b, c, n_resamples=0)


def test_result_type() -> None:
    b, c = two_classifiers(40, seed=67)
    d = paired_delta("accuracy", b, c)
    assert isinstance(d, PairedDelta)
    assert all(
        isinstance(getattr(d, f), float)
        for f in ("baseline", "candidate", "delta", "ci_low", "ci_high")
    )
    assert isinstance(d.significant, bool)
