"""compare.py: gates, verdicts, a missing or unusable baseline as data, result JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from cml_bot.compare.engine import (
    ModelIdentity,
    build_row,
    compare,
    evaluate_gates,
    fmt_ci,
    fmt_signed,
    fmt_value,
    regate,
    result_json,
    verdict_of,
)
from cml_bot.config.models import Gate
from cml_bot.stats.engine import PairedDelta
from cml_bot.stats.predictions import PredictionSet

NAN = float("nan")


def pdelta(
    metric: str,
    b: float,
    c: float,
    lo: float = -0.01,
    hi: float = 0.01,
    significant: bool | None = None,
) -> PairedDelta:
    sig = (lo > 0 or hi < 0) if significant is None else significant
    return PairedDelta(metric, b, c, c - b, lo, hi, sig, "paired mean", 500)


def preds(
    y: Any,
    pred: Any,
    *,
    proba: Any = None,
    ids: Any = None,
    classes: Any = None,
    slices: dict[str, Any] | None = None,
) -> PredictionSet:
    y, pred = np.asarray(y), np.asarray(pred)
    return PredictionSet(
        row_id=np.arange(len(y)) if ids is None else np.asarray(ids),
        y_true=y,
        y_pred=pred,
        proba=None if proba is None else np.asarray(proba, dtype=float),
        classes=list(classes) if classes is not None else sorted(set(y.tolist())),
        slices={k: np.asarray(v) for k, v in (slices or {}).items()},
    )


def model(y: np.ndarray, flip: float, seed: int) -> PredictionSet:
    """A binary classifier that gets a share ``flip`` of the rows wrong, with probabilities."""
    rng = np.random.default_rng(seed)
    wrong = rng.random(len(y)) < flip
    pred = np.where(wrong, 1 - y, y)
    score = np.clip(np.where(pred == 1, 0.75, 0.25) + rng.normal(0, 0.15, len(y)), 0.01, 0.99)
    plan = np.where(np.arange(len(y)) % 3 == 0, "pro", "basic")
    return preds(y, pred, proba=np.c_[1 - score, score], classes=[0, 1], slices={"plan": plan})


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return np.random.default_rng(42).integers(0, 2, 600)


# ------------------------------------------------------------------------------ formatting


def test_number_formatting() -> None:
    assert fmt_value(0.78123) == "0.781"
    assert fmt_value(1234.5) == "1,234"
    assert fmt_value(None) == fmt_value(NAN) == "n/a"
    assert fmt_signed(0.012, 3) == "+0.012"
    assert fmt_signed(-0.0004, 3) == "-0.0004"
    assert fmt_signed(-0.0098, 3) == "-0.010"
    assert fmt_signed(0.0, 3) == "+0.000"
    assert fmt_signed(-0.09999999999999987) == "-0.10"
    assert fmt_ci(-0.012, 0.004, 3) == "[-0.012, +0.004]"
    assert fmt_ci(NAN, 0.1) == "n/a"


# ----------------------------------------------------------------------------------- gates


def test_min_gate_messages() -> None:
    [fail] = evaluate_gates("roc_auc", Gate(min=0.8), 0.781, None)
    assert (fail.passed, fail.rule, fail.metric) == (False, "min", "roc_auc")
    assert fail.message == "roc_auc 0.781 is below the minimum 0.800"
    [ok] = evaluate_gates("roc_auc", Gate(min=0.8), 0.8, None)
    assert ok.passed is True


def test_max_gate_on_a_loss() -> None:
    [fail] = evaluate_gates("neg_mean_squared_error", Gate(max=10), 12.34, None)
    assert fail.passed is False
    assert fail.message == "mean_squared_error 12.3 is above the maximum 10.0"
    [ok] = evaluate_gates("neg_mean_squared_error", Gate(max=10), 9.5, None)
    assert ok.passed is True


def test_max_drop_higher_is_better_on_the_point_rule() -> None:
    gate = Gate(max_drop=0.005, judge="point")
    [fail] = evaluate_gates("roc_auc", gate, 0.781, pdelta("roc_auc", 0.793, 0.781))
    assert fail.passed is False
    assert fail.message == "roc_auc dropped 0.012 vs baseline (allowed 0.005)"
    assert fail.actual == pytest.approx(0.012)
    [within] = evaluate_gates("roc_auc", gate, 0.79, pdelta("roc_auc", 0.793, 0.79))
    assert within.passed is True
    [boundary] = evaluate_gates("roc_auc", gate, 0.795, pdelta("roc_auc", 0.8, 0.795))
    assert boundary.passed is True  # exactly the allowed drop, despite float rounding
    [better] = evaluate_gates("roc_auc", gate, 0.9, pdelta("roc_auc", 0.8, 0.9))
    assert better.passed is True and better.actual == pytest.approx(-0.1)


def test_max_drop_lower_is_better_counts_a_rise_as_a_drop() -> None:
    gate = Gate(max_drop=0.01, judge="point")
    [fail] = evaluate_gates("neg_log_loss", gate, 0.42, pdelta("neg_log_loss", 0.40, 0.42))
    assert fail.passed is False
    assert fail.message == "log_loss rose 0.020 vs baseline (allowed 0.010)"
    point = Gate(max_drop=0, judge="point")
    [ok] = evaluate_gates("neg_log_loss", point, 0.30, pdelta("neg_log_loss", 0.4, 0.3))
    assert ok.passed is True


# Issue 15: the interval decides. Δ is candidate - baseline; (lo, hi) its interval.
@pytest.mark.parametrize(
    ("metric", "b", "c", "lo", "hi", "status"),
    [
        # accuracy, max_drop 0.01: non-inferiority on the lower bound of Δ
        ("accuracy", 0.80, 0.80, -0.008, 0.006, "pass"),  # whole interval above -0.01
        ("accuracy", 0.80, 0.78, -0.08, 0.03, "inconclusive"),  # the issue's [-0.08, +0.03]
        ("accuracy", 0.80, 0.79, -0.011, -0.009, "inconclusive"),  # the noise-sized case
        ("accuracy", 0.80, 0.75, -0.07, -0.03, "fail"),  # whole interval below -0.01
        # log loss (lower is better): a rise is a drop
        ("neg_log_loss", 0.40, 0.40, -0.02, 0.009, "pass"),
        ("neg_log_loss", 0.40, 0.42, 0.015, 0.03, "fail"),
        ("neg_log_loss", 0.40, 0.41, -0.01, 0.02, "inconclusive"),
    ],
)
def test_max_drop_is_judged_on_the_interval(
    metric: str, b: float, c: float, lo: float, hi: float, status: str
) -> None:
    [g] = evaluate_gates(metric, Gate(max_drop=0.01), c, pdelta(metric, b, c, lo, hi))
    assert g.status == status
    assert g.passed is {"pass": True, "fail": False, "inconclusive": None}[status]
    assert g.undecided is (status == "inconclusive")
    assert "95% CI [" in g.message


@pytest.mark.parametrize(
    ("lo", "hi", "status"),
    [(0.021, 0.05, "pass"), (0.0, 0.04, "inconclusive"), (-0.03, 0.019, "fail")],
)
def test_min_improvement_needs_the_whole_interval_above_it(
    lo: float, hi: float, status: str
) -> None:
    gate = Gate(min_improvement=0.02)
    [g] = evaluate_gates("accuracy", gate, 0.83, pdelta("accuracy", 0.80, 0.83, lo, hi))
    assert g.status == status and g.rule == "min_improvement"
    [point] = evaluate_gates(
        "accuracy", Gate(min_improvement=0.02, judge="point"), 0.83, pdelta("accuracy", 0.8, 0.83)
    )
    assert point.passed is True  # +0.03 >= 0.02, whatever the interval


def test_a_metric_without_an_interval_is_inconclusive_not_passed() -> None:
    nan = float("nan")
    d = PairedDelta("max_error", 3.0, 3.5, 0.5, nan, nan, False, "no interval: extreme value", 500)
    [g] = evaluate_gates("max_error", Gate(max_drop=1.0), 3.5, d)
    assert g.status == "inconclusive" and "judge: point" in g.message
    [p] = evaluate_gates("max_error", Gate(max_drop=1.0, judge="point"), 3.5, d)
    assert p.passed is True


def test_a_warn_gate_is_shown_but_never_decides(labels: np.ndarray) -> None:
    strong, weak = model(labels, 0.05, 1), model(labels, 0.25, 2)
    gates = {"accuracy": Gate(max_drop=0.01, severity="warn")}
    cmp = compare(weak, strong, metrics=["accuracy"], gates=gates)
    assert cmp.verdict == "pass" and cmp.status_state == "success"
    [g] = cmp.warned_gates
    assert g.status == "fail" and g.severity == "warn" and not g.failed
    assert cmp.failed_gates == []


@pytest.mark.parametrize(
    ("policy", "state"), [("fail", "failure"), ("pending", "pending"), ("pass", "success")]
)
def test_an_inconclusive_verdict_sets_the_status_the_team_chose(
    labels: np.ndarray, policy: str, state: str
) -> None:
    a, b = model(labels, 0.10, 1), model(labels, 0.10, 2)  # as good as each other, few rows
    gates = {"accuracy": Gate(max_drop=0.001)}
    cmp = compare(a, b, metrics=["accuracy"], gates=gates, inconclusive=policy)
    assert cmp.verdict == "inconclusive" and cmp.status_state == state
    assert cmp.blocks is (state != "success")
    assert [g.metric for g in cmp.inconclusive_gates] == ["accuracy"]
    out = result_json(cmp, None, ModelIdentity("candidate", "candidate"))
    assert (out["verdict"], out["status"], out["inconclusive_policy"]) == (
        "inconclusive",
        state,
        policy,
    )
    assert out["inconclusive_gates"][0]["status"] == "inconclusive"


@pytest.mark.parametrize(
    ("metric", "b", "c", "lo", "hi", "passed"),
    [
        ("accuracy", 0.80, 0.85, 0.02, 0.08, True),  # significant improvement
        ("accuracy", 0.80, 0.81, -0.01, 0.03, False),  # not significant
        ("accuracy", 0.85, 0.80, -0.08, -0.02, False),  # significant regression
        ("neg_log_loss", 0.50, 0.40, -0.15, -0.05, True),  # a loss going down is an improvement
        ("neg_log_loss", 0.40, 0.50, 0.05, 0.15, False),
    ],
)
def test_require_significant_improvement(
    metric: str, b: float, c: float, lo: float, hi: float, passed: bool
) -> None:
    [g] = evaluate_gates(
        metric, Gate(require="significant_improvement"), c, pdelta(metric, b, c, lo, hi)
    )
    assert g.passed is passed
    assert ("improved significantly" in g.message) is passed


@pytest.mark.parametrize(
    ("metric", "b", "c", "lo", "hi", "passed"),
    [
        ("accuracy", 0.85, 0.80, -0.08, -0.02, False),  # significant regression
        ("accuracy", 0.80, 0.79, -0.03, 0.01, True),  # a drop, but not significant
        ("accuracy", 0.80, 0.85, 0.02, 0.08, True),  # significant improvement
        ("neg_log_loss", 0.40, 0.50, 0.05, 0.15, False),  # a loss going up is a regression
        ("neg_log_loss", 0.50, 0.40, -0.15, -0.05, True),
    ],
)
def test_forbid_significant_regression(
    metric: str, b: float, c: float, lo: float, hi: float, passed: bool
) -> None:
    [g] = evaluate_gates(
        metric, Gate(forbid="significant_regression"), c, pdelta(metric, b, c, lo, hi)
    )
    assert g.passed is passed
    assert ("regressed significantly" in g.message) is not passed
    if not passed:
        assert "95% CI [" in g.message


def test_relative_gates_are_not_evaluated_without_a_baseline() -> None:
    gate = Gate(
        min=0.7, max_drop=0.01, require="significant_improvement", forbid="significant_regression"
    )
    results = evaluate_gates("accuracy", gate, 0.8, None)
    assert [(g.rule, g.passed) for g in results] == [
        ("min", True),
        ("max_drop", None),
        ("require", None),
        ("forbid", None),
    ]
    assert all("not evaluated: no baseline" in g.message for g in results[1:])
    row = build_row("accuracy", 0.8, None, gate)
    assert row.status == "pass"
    assert verdict_of([row], baseline_present=False) == "no-baseline"
    failing = build_row("accuracy", 0.6, None, gate)
    assert failing.status == "fail"
    assert verdict_of([failing], baseline_present=False) == "fail"


def test_gate_on_an_undefined_metric_fails_and_says_why() -> None:
    gate = Gate(min=0.8, max_drop=0.01, forbid="significant_regression")
    delta = PairedDelta("roc_auc", NAN, 0.9, NAN, NAN, NAN, False, "undefined: one class", 10)
    results = evaluate_gates("roc_auc", gate, 0.9, delta)
    assert [g.passed for g in results] == [True, False, False]
    assert "could not be computed for the baseline" in results[1].message
    [nan_min] = evaluate_gates("roc_auc", Gate(min=0.8), NAN, None)
    assert nan_min.passed is False
    assert nan_min.message == (
        "roc_auc could not be computed for the candidate, so the minimum 0.800 cannot be met"
    )


def test_row_status_and_verdict() -> None:
    rows = [
        build_row("accuracy", 0.9, pdelta("accuracy", 0.8, 0.9), Gate(min=0.5)),
        build_row("f1_macro", 0.9, pdelta("f1_macro", 0.8, 0.9), None),
    ]
    assert [r.status for r in rows] == ["pass", "none"]
    assert verdict_of(rows, baseline_present=True) == "pass"


# --------------------------------------------------------------------------------- compare


METRICS = ["roc_auc", "accuracy", "f1_macro", "neg_log_loss"]


def test_compare_pass(labels: np.ndarray) -> None:
    strong, weak = model(labels, 0.05, 1), model(labels, 0.25, 2)
    gates = {
        "accuracy": Gate(min=0.7, max_drop=0.01, require="significant_improvement"),
        "roc_auc": Gate(forbid="significant_regression"),
    }
    cmp = compare(strong, weak, metrics=METRICS, gates=gates, slices=["plan"])
    assert cmp.verdict == "pass" and cmp.baseline_present
    assert cmp.failed_gates == [] and len(cmp.evaluated_gates) == 4
    acc = next(r for r in cmp.rows if r.metric == "accuracy")
    assert acc.delta is not None and acc.delta.significant and acc.delta.delta > 0
    assert acc.baseline == pytest.approx(float(np.mean(weak.y_pred == labels)))
    assert cmp.n_rows == 600 and cmp.notes == []
    again = compare(strong, weak, metrics=METRICS, gates=gates, slices=["plan"])
    assert again == cmp  # deterministic for a seed


def test_compare_fail_lists_failed_gates(labels: np.ndarray) -> None:
    strong, weak = model(labels, 0.05, 1), model(labels, 0.25, 2)
    gates = {
        "accuracy": Gate(min=0.7, max_drop=0.01, judge="point"),
        "neg_log_loss": Gate(max_drop=0.0, judge="point"),
    }
    cmp = compare(weak, strong, metrics=METRICS, gates=gates)
    assert cmp.verdict == "fail"
    assert [(g.metric, g.rule) for g in cmp.failed_gates] == [
        ("accuracy", "max_drop"),
        ("neg_log_loss", "max_drop"),
    ]
    assert cmp.failed_gates[0].message.startswith("accuracy dropped 0.")
    assert cmp.failed_gates[1].message.startswith("log_loss rose 0.")
    assert {r.metric: r.status for r in cmp.rows}["accuracy"] == "fail"


def test_compare_without_baseline(labels: np.ndarray) -> None:
    cand = model(labels, 0.05, 1)
    gates = {"accuracy": Gate(min=0.7, max_drop=0.01)}
    cmp = compare(cand, None, metrics=METRICS, gates=gates, slices=["plan"])
    assert cmp.verdict == "no-baseline" and not cmp.baseline_present
    assert all(r.baseline is None and r.delta is None for r in cmp.rows)
    assert [g.passed for g in cmp.gates] == [True, None]
    assert any("relative gates" in n for n in cmp.notes)
    assert cmp.slices[0].rows[0].baseline is None
    failing = compare(cand, None, metrics=METRICS, gates={"accuracy": Gate(min=0.99)})
    assert failing.verdict == "fail"


def test_metric_undefined_on_one_side_is_data(labels: np.ndarray) -> None:
    cand = model(labels, 0.1, 1)
    no_proba = preds(labels, model(labels, 0.1, 2).y_pred, classes=[0, 1])
    cmp = compare(cand, no_proba, metrics=["roc_auc", "accuracy"], gates={})
    auc = cmp.rows[0]
    assert math.isnan(auc.baseline or NAN) and math.isfinite(auc.candidate)
    assert auc.status == "none" and cmp.verdict == "pass"
    assert any(n.startswith("roc_auc could not be computed for the baseline") for n in cmp.notes)
    gated = compare(cand, no_proba, metrics=["roc_auc"], gates={"roc_auc": Gate(max_drop=0.01)})
    assert gated.verdict == "fail"
    assert "could not be computed for the baseline" in gated.failed_gates[0].message


def test_metric_undefined_on_both_sides(labels: np.ndarray) -> None:
    ones = np.ones(50, dtype=int)
    cand = preds(ones, ones, proba=np.tile([0.2, 0.8], (50, 1)), classes=[0, 1])
    cmp = compare(cand, cand, metrics=["roc_auc", "accuracy"], gates={"roc_auc": Gate(min=0.5)})
    assert cmp.verdict == "fail"
    assert "could not be computed for the candidate" in cmp.failed_gates[0].message
    assert any("candidate and the baseline" in n for n in cmp.notes)


def test_labels_disagree_means_no_comparable_baseline(labels: np.ndarray) -> None:
    cand = model(labels, 0.1, 1)
    other = model(1 - labels, 0.1, 2)  # same row ids, different true labels
    cmp = compare(
        cand, other, metrics=["accuracy"], gates={"accuracy": Gate(min=0.5, max_drop=0.01)}
    )
    assert cmp.verdict == "no-baseline" and not cmp.baseline_present
    assert cmp.baseline_problem and "different true labels" in cmp.baseline_problem
    assert [g.passed for g in cmp.gates] == [True, None]
    assert any(n.startswith("No comparable baseline") for n in cmp.notes)


def test_no_shared_rows_means_no_comparable_baseline(labels: np.ndarray) -> None:
    cand = model(labels, 0.1, 1)
    base = model(labels, 0.1, 2)
    base.row_id = base.row_id + 10_000
    cmp = compare(cand, base, metrics=["accuracy"], gates={})
    assert cmp.verdict == "no-baseline"
    assert cmp.baseline_problem is not None and "share no row ids" in cmp.baseline_problem


def test_partial_row_overlap_is_noted(labels: np.ndarray) -> None:
    cand = model(labels, 0.1, 1)
    base = model(labels, 0.2, 2).take(np.arange(100, 600))
    cmp = compare(cand, base, metrics=["accuracy"], gates={})
    assert cmp.n_rows == 500 and cmp.candidate_rows == 600 and cmp.baseline_rows == 500
    assert cmp.notes == [
        "Compared on the 500 evaluation rows both models scored: the candidate "
        "has 600 rows, the baseline 500."
    ]
    acc = cmp.rows[0]
    expected = float(np.mean(cand.y_pred[100:] == labels[100:]))
    assert acc.candidate == pytest.approx(expected)


def test_label_set_mismatch_is_noted() -> None:
    y = np.array([0, 1, 2] * 20)
    cand = preds(y, np.where(y == 2, 1, y), classes=[0, 1])  # trained without class 2
    base = preds(y, np.where(y == 1, 0, y), classes=[0, 1, 2])  # never predicts 1
    cmp = compare(cand, base, metrics=["accuracy"], gates={})
    mism = {m.role: m for m in cmp.label_mismatch}
    assert mism["candidate"].unknown == ["2"]
    assert mism["baseline"].never_predicted == ["1"] and mism["baseline"].unknown == []
    assert "The candidate does not know class(es) '2'" in " ".join(cmp.notes)
    assert "The baseline never predicts class(es) '1' (20 evaluation rows)." in cmp.notes
    assert cmp.confusion is not None and cmp.confusion.labels == ["0", "1", "2"]
    assert cmp.confusion.candidate == [[20, 0, 0], [0, 20, 0], [0, 20, 0]]
    assert cmp.confusion.baseline == [[20, 0, 0], [20, 0, 0], [0, 0, 20]]


def test_slices(labels: np.ndarray) -> None:
    cand, base = model(labels, 0.05, 1), model(labels, 0.25, 2)
    cmp = compare(cand, base, metrics=["accuracy"], gates={}, slices=["plan", "missing"])
    [table] = cmp.slices
    assert table.column == "plan" and [r.value for r in table.rows] == ["basic", "pro"]
    assert [r.n for r in table.rows] == [400, 200]
    pro = np.arange(600) % 3 == 0
    pro_row = table.rows[1]
    assert pro_row.candidate["accuracy"] == pytest.approx(np.mean(cand.y_pred[pro] == labels[pro]))
    assert pro_row.delta("accuracy") == pytest.approx(
        pro_row.candidate["accuracy"] - (pro_row.baseline or {})["accuracy"]
    )
    assert "Slice column 'missing' is not in the candidate's predictions." in cmp.notes


def test_regression_has_no_confusion_matrix() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    cand = preds(y, y + rng.normal(0, 0.1, 200), classes=[])
    base = preds(y, y + rng.normal(0, 0.5, 200), classes=[])
    cmp = compare(
        cand,
        base,
        metrics=["neg_mean_squared_error", "r2"],
        gates={"neg_mean_squared_error": Gate(max_drop=0.0)},
    )
    assert cmp.task == "regression" and cmp.confusion is None and cmp.label_mismatch == []
    assert cmp.verdict == "pass"
    mse = cmp.rows[0]
    assert mse.candidate < (mse.baseline or 0) and mse.direction == "lower is better"


def test_gated_metric_missing_from_metrics_is_still_evaluated(labels: np.ndarray) -> None:
    cmp = compare(
        model(labels, 0.1, 1), None, metrics=["accuracy"], gates={"f1_macro": Gate(min=0.99)}
    )
    assert [r.metric for r in cmp.rows] == ["accuracy", "f1_macro"]
    assert cmp.verdict == "fail"


# ------------------------------------------------------------------------------ result JSON


def test_result_json_round_trips(labels: np.ndarray) -> None:
    cand = model(labels, 0.1, 1)
    no_proba = preds(labels, model(labels, 0.1, 2).y_pred, classes=[0, 1])
    cmp = compare(
        cand,
        no_proba,
        metrics=["roc_auc", "accuracy"],
        gates={"roc_auc": Gate(min=0.5, max_drop=0.01), "accuracy": Gate(min=0.5)},
        slices=["plan"],
    )
    base_id = ModelIdentity(
        "baseline",
        "champion",
        ref="champion",
        sha="a" * 40,
        version=3,
        params={"n_estimators": 200, "max_depth": None},
        class_balance={"0": 0.5, "1": 0.5},
        columns=["x"],
    )
    cand_id = ModelIdentity(
        "candidate", "candidate", ref="feature/x", sha="b" * 40, latency_median_ms=NAN
    )
    data = result_json(cmp, base_id, cand_id, pr=7, event="pull_request")
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back == data
    assert back["verdict"] == "fail" and back["pr"] == 7
    auc = back["metrics"][0]
    assert auc["baseline"] is None and auc["delta"] is None and auc["significant"] is False
    assert auc["method"].startswith("undefined")
    assert [g["rule"] for g in auc["gates"]] == ["min", "max_drop"]
    assert back["failed_gates"][0]["message"].startswith("roc_auc could not be computed")
    assert back["baseline"]["version"] == 3 and back["baseline"]["params"]["max_depth"] is None
    assert back["candidate"]["latency_median_ms"] is None
    assert back["slices"][0]["column"] == "plan"
    assert back["confusion"]["labels"] == ["0", "1"]


def test_result_json_without_baseline(labels: np.ndarray) -> None:
    cmp = compare(model(labels, 0.1, 1), None, metrics=["accuracy"], gates={})
    data = result_json(cmp, None, ModelIdentity("candidate", "candidate"))
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["baseline"] is None and data["verdict"] == "no-baseline"
    assert data["metrics"][0]["delta"] is None and data["metrics"][0]["baseline"] is None


# ------------------------------------------------------------------------- whose gates count


def test_regate_judges_the_same_numbers_by_other_gates(labels: np.ndarray) -> None:
    """A PR that relaxes its own gate: the default branch's gates fail it, its own would not."""
    weak, strong = model(labels, 0.30, 1), model(labels, 0.10, 2)
    trusted = {"accuracy": Gate(max_drop=0.01)}
    cmp = compare(weak, strong, metrics=METRICS, gates=trusted)
    assert cmp.verdict == "fail"
    relaxed = regate(cmp, {"accuracy": Gate(max_drop=0.5)})
    assert relaxed.verdict == "pass" and not relaxed.failed_gates
    assert [r.delta for r in relaxed.rows] == [r.delta for r in cmp.rows]  # same statistics
    assert cmp.verdict == "fail"  # the original is untouched
    unknown = regate(cmp, {"brier": Gate(max=0.1)})
    assert unknown.notes[-1] == "Not computed, so not gated: brier."


def test_a_result_that_is_not_significant_says_what_the_rows_could_detect(
    labels: np.ndarray,
) -> None:
    """Issue 15 item 6: 'not significant' on 171 rows and on 100,000 must not read the same."""
    small = labels[:171]
    a, b = model(small, 0.10, 1), model(small, 0.10, 2)
    cmp = compare(a, b, metrics=["accuracy", "roc_auc"], gates={})
    [note] = [n for n in cmp.notes if n.startswith("With 171 rows")]
    row = {r.metric: r for r in cmp.rows}["accuracy"]
    assert row.delta is not None and not row.delta.significant
    assert f"accuracy ±{row.delta.detectable:.2g}" in note
    assert 0.02 < row.delta.detectable < 0.2  # a few points of accuracy on 171 rows
    big = compare(model(labels, 0.10, 1), model(labels, 0.10, 2), metrics=["accuracy"], gates={})
    [big_row] = big.rows
    assert big_row.delta is not None and big_row.delta.detectable < row.delta.detectable
    out = result_json(cmp, None, ModelIdentity("candidate", "candidate"))
    assert out["metrics"][0]["detectable"] == pytest.approx(row.delta.detectable)


def test_a_group_column_resamples_groups_and_says_so(labels: np.ndarray) -> None:
    """Issue 15 item 7: 600 rows from 30 customers are not 600 independent rows."""
    customer = (np.arange(len(labels)) // 20).astype(str)
    a, b = model(labels, 0.10, 1), model(labels, 0.14, 2)
    a.slices["customer"] = customer
    b.slices["customer"] = customer
    flat = compare(a, b, metrics=["accuracy"], gates={})
    grouped = compare(a, b, metrics=["accuracy"], gates={}, group_column="customer")
    [f], [g] = flat.rows, grouped.rows
    assert f.delta is not None and g.delta is not None and g.delta.n_groups == 30
    assert f.delta.delta == g.delta.delta
    assert any("grouped by 'customer' (30 groups)" in n for n in grouped.notes)
    assert grouped.slices == []  # the group column is not a slice table
    missing = compare(a, b, metrics=["accuracy"], gates={}, group_column="session")
    assert any("'session' is not in the candidate's predictions" in n for n in missing.notes)
