"""report.py: golden files of whole reports, escaping of hostile strings, the size budget.

Regenerate the golden files with ``UPDATE_GOLDEN=1 pytest tests/unit/test_report.py`` and review
the diff. The inputs are built by hand (fixed numbers, a seeded generator, a fixed time), so the
golden text does not depend on the statistics' implementation.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cml_bot.compare.engine import (
    Comparison,
    ConfusionMatrices,
    MetricRow,
    ModelIdentity,
    SliceRow,
    SliceTable,
    build_row,
    compare,
    verdict_of,
)
from cml_bot.config.models import Gate
from cml_bot.core.errors import ConfigError
from cml_bot.report.render import (
    DataChanges,
    ReportContext,
    changed_params,
    default_template_text,
    load_template,
    md_escape,
    mermaid_label,
    render_report,
    report_marker,
    safe_url,
)
from cml_bot.stats.engine import PairedDelta
from cml_bot.stats.predictions import PredictionSet

GOLDEN = Path(__file__).parent / "golden"
WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
COMMANDS = [
    ("retrain", "/retrain [key=value ...] (keys: n_estimators, max_depth)", "write"),
    ("evaluate", "/evaluate", "write"),
    ("deploy", "/deploy", "maintain"),
    ("help", "/help", "none"),
]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"missing {path}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name}: differs from {path}"


# ---------------------------------------------------------------------------------- builders


def pd(
    metric: str,
    b: float,
    c: float,
    lo: float,
    hi: float,
    method: str = "paired mean",
    n: int = 1000,
) -> PairedDelta:
    return PairedDelta(metric, b, c, c - b, lo, hi, lo > 0 or hi < 0, method, n)


def comparison(
    rows: list[MetricRow],
    *,
    baseline: bool = True,
    notes: list[str] | None = None,
    slices: list[SliceTable] | None = None,
    confusion: ConfusionMatrices | None = None,
    n: int = 1000,
    inconclusive: str = "fail",
) -> Comparison:
    return Comparison(
        verdict=verdict_of(rows, baseline),
        rows=rows,
        failed_gates=[g for r in rows for g in r.gates if g.failed],
        notes=notes or [],
        slices=slices or [],
        confusion=confusion,
        baseline_present=baseline,
        label_mismatch=[],
        n_rows=n,
        candidate_rows=n,
        baseline_rows=n if baseline else None,
        inconclusive_policy=inconclusive,
    )


def identity(role: str, kind: str, **kw: Any) -> ModelIdentity:
    defaults: dict[str, Any] = {
        "ref": "main" if role == "baseline" else "feature/deeper-trees",
        "sha": ("3f2a9c1e" if role == "baseline" else "9b8c7d6e") + "0" * 32,
        "params": {"n_estimators": 200, "max_depth": None, "random_state": 0},
        "model_size_bytes": 1_843_200,
        "latency_median_ms": 1.234,
        "latency_p95_ms": 2.5,
        "rows": 1000,
        "class_balance": {"no": 0.734, "yes": 0.266},
        "columns": ["tenure", "plan", "monthly_charges"],
        "run_url": f"https://mlflow.example.com/#/experiments/1/runs/{role}",
    }
    defaults.update(kw)
    return ModelIdentity(role, kind, **defaults)


def confusion() -> ConfusionMatrices:
    return ConfusionMatrices(
        ["no", "yes"], candidate=[[690, 44], [71, 195]], baseline=[[681, 53], [80, 186]]
    )


def plan_slices() -> list[SliceTable]:
    rows = [
        SliceRow(
            "basic",
            612,
            {"roc_auc": 0.801, "accuracy": 0.861},
            {"roc_auc": 0.788, "accuracy": 0.852},
        ),
        SliceRow(
            "pro", 301, {"roc_auc": 0.845, "accuracy": 0.884}, {"roc_auc": 0.850, "accuracy": 0.879}
        ),
        SliceRow(
            "team",
            87,
            {"roc_auc": float("nan"), "accuracy": 0.954},
            {"roc_auc": float("nan"), "accuracy": 0.943},
        ),
    ]
    return [SliceTable("plan", ["roc_auc", "accuracy"], rows)]


def context(baseline: ModelIdentity | None, candidate: ModelIdentity, **kw: Any) -> ReportContext:
    args: dict[str, Any] = {
        "model_name": "churn-classifier",
        "baseline": baseline,
        "candidate": candidate,
        "generated_at": WHEN,
        "run_url": "https://github.com/acme/churn/actions/runs/42",
        "commands": COMMANDS,
        "bot_version": "0.1.0",
    }
    args.update(kw)
    return ReportContext(**args)


def pass_case() -> tuple[Comparison, ReportContext]:
    rows = [
        build_row(
            "roc_auc",
            0.8312,
            pd("roc_auc", 0.8204, 0.8312, 0.0031, 0.0185, "paired DeLong"),
            Gate(min=0.8, max_drop=0.005),
        ),
        build_row(
            "accuracy",
            0.866,
            pd("accuracy", 0.861, 0.866, -0.0042, 0.0141, "joint-counts bootstrap"),
            Gate(min=0.75),
        ),
        build_row(
            "f1_macro",
            0.8119,
            pd("f1_macro", 0.8011, 0.8119, -0.0034, 0.0251, "joint-counts bootstrap"),
            None,
        ),
        build_row(
            "neg_log_loss",
            0.3821,
            pd("neg_log_loss", 0.3977, 0.3821, -0.0262, -0.0050),
            Gate(forbid="significant_regression"),
        ),
    ]
    cmp = comparison(rows, slices=plan_slices(), confusion=confusion())
    base, cand = (
        identity("baseline", "champion", ref="champion", version=3),
        identity(
            "candidate",
            "candidate",
            params={"n_estimators": 300, "max_depth": None, "random_state": 0},
            model_size_bytes=2_764_800,
            latency_median_ms=1.318,
            latency_p95_ms=2.61,
        ),
    )
    ctx = context(
        base,
        cand,
        baseline_note="champion v3",
        notes=["Retrained with n_estimators=300 at the request of @octocat"],
    )
    return cmp, ctx


def fail_case() -> tuple[Comparison, ReportContext]:
    rows = [
        build_row(
            "roc_auc",
            0.781,
            pd("roc_auc", 0.793, 0.781, -0.0198, -0.0062, "paired DeLong"),
            Gate(min=0.8, max_drop=0.005),
        ),
        build_row(
            "accuracy",
            0.8512,
            pd("accuracy", 0.861, 0.8512, -0.0187, -0.0009, "joint-counts bootstrap"),
            Gate(min=0.75, forbid="significant_regression"),
        ),
        build_row(
            "f1_macro",
            0.7933,
            pd("f1_macro", 0.8011, 0.7933, -0.0210, 0.0051, "joint-counts bootstrap"),
            None,
        ),
    ]
    cmp = comparison(
        rows,
        confusion=confusion(),
        notes=[
            "Compared on the 1000 evaluation rows both models scored: the candidate has 1000 rows, "
            "the baseline 1200."
        ],
    )
    base = identity(
        "baseline",
        "base",
        rows=1200,
        class_balance={"no": 0.741, "yes": 0.259},
        columns=["tenure", "plan", "monthly_charges", "region"],
    )
    cand = identity(
        "candidate",
        "candidate",
        params={"n_estimators": 200, "max_depth": 4, "random_state": 0},
        model_size_bytes=409_600,
    )
    ctx = context(base, cand, baseline_note="base commit (no champion yet)")
    return cmp, ctx


def inconclusive_case() -> tuple[Comparison, ReportContext]:
    """Issue 15: a small evaluation set that cannot tell a noise-sized drop from the allowed one,
    a superiority gate that holds, and a warning gate."""
    rows = [
        build_row(
            "roc_auc",
            0.8251,
            pd("roc_auc", 0.8312, 0.8251, -0.0213, 0.0091, "paired DeLong"),
            Gate(min=0.8, max_drop=0.01),
        ),
        build_row(
            "recall",
            0.7301,
            pd("recall", 0.6902, 0.7301, 0.0152, 0.0644, "Newcombe score"),
            Gate(min_improvement=0.01),
        ),
        build_row(
            "accuracy",
            0.8403,
            pd("accuracy", 0.8512, 0.8403, -0.0301, -0.0013, "Newcombe score"),
            Gate(max_drop=0.005, severity="warn"),
        ),
    ]
    cmp = comparison(rows, n=171, inconclusive="pending")
    base = identity("baseline", "champion", ref="champion", version=7, rows=171)
    cand = identity("candidate", "candidate", rows=171)
    return cmp, context(base, cand, baseline_note="champion v7")


def no_baseline_case() -> tuple[Comparison, ReportContext]:
    rows = [
        build_row("neg_root_mean_squared_error", 41.27, None, Gate(max=50, max_drop=1.0)),
        build_row("r2", 0.4412, None, Gate(min=0.4)),
    ]
    cmp = comparison(
        rows,
        baseline=False,
        notes=["No baseline: relative gates (max_drop, require, forbid) were not evaluated."],
        n=111,
    )
    cand = identity(
        "candidate",
        "candidate",
        class_balance=None,
        rows=111,
        columns=["age", "bmi", "bp"],
        params={"alpha": 0.5},
    )
    ctx = context(
        None,
        cand,
        model_name="diabetes-regressor",
        baseline_note="no champion yet and baseline: none",
        notes=["Stale: the PR head moved to abc1234 after this run"],
    )
    return cmp, ctx


def trimmed_case() -> tuple[Comparison, ReportContext]:
    rng = np.random.default_rng(7)
    cmp, ctx = pass_case()
    tables = []
    for column in ("region", "plan", "segment"):
        rows = []
        for i in range(40):
            c, b = rng.uniform(0.7, 0.9, 2).round(4)
            rows.append(
                SliceRow(
                    f"{column}-{i:02d}",
                    int(rng.integers(20, 400)),
                    {"roc_auc": float(c), "accuracy": float(c) + 0.05},
                    {"roc_auc": float(b), "accuracy": float(b) + 0.05},
                )
            )
        tables.append(SliceTable(column, ["roc_auc", "accuracy"], rows, omitted=3))
    big = Comparison(**{**cmp.__dict__, "slices": tables})
    return big, ctx


HUGE = "x" * 100_000
HOSTILE_BRANCH = "</details><img src=x>"


def hostile_case() -> tuple[Comparison, ReportContext]:
    slice_rows = [
        SliceRow("<!-- x -->", 10, {"accuracy": 0.9}, {"accuracy": 0.8}),
        SliceRow("`code` | *bold* [link](http://e.vil)", 12, {"accuracy": 0.7}, {"accuracy": 0.75}),
        SliceRow("line\nbreak\r\n# heading", 14, {"accuracy": 0.6}, {"accuracy": 0.6}),
    ]
    rows = [build_row("accuracy", 0.86, pd("accuracy", 0.85, 0.86, -0.01, 0.03), Gate(min=0.5))]
    cmp = comparison(
        rows,
        slices=[SliceTable("a|b", ["accuracy"], slice_rows)],
        confusion=ConfusionMatrices(["<img src=x>", "a|b"], [[1, 2], [3, 4]], [[2, 1], [4, 3]]),
        notes=["Label '</details>' <script>alert(1)</script>"],
    )
    base = identity(
        "baseline",
        "base",
        ref=HOSTILE_BRANCH,
        sha="<b>sha</b>",
        params={"n_estimators": 200, "a|b": "<!-- x -->"},
        columns=["tenure", "a|b", "<!--"],
    )
    cand = identity(
        "candidate",
        "candidate",
        ref=HUGE,
        sha="9b8c7d6e" + "0" * 32,
        params={"n_estimators": 200, "a|b": "`x` -->", "evil": HUGE},
        columns=["tenure", "a|b", "`tick`"],
        run_url="javascript:alert(1)",
    )
    ctx = context(
        base,
        cand,
        model_name="churn --> <img src=x>",
        baseline_note=f"base {HOSTILE_BRANCH}",
        notes=[
            "Retrained at the request of @**octo_cat**[x](y) <img src=x>",
            "Stale: the PR head moved to `abc` \n\n</details>\n<!--",
            HUGE,
        ],
    )
    return cmp, ctx


def data_notes_case() -> tuple[Comparison, ReportContext]:
    """A PR that drops rows and a feature and changes the estimator, against the champion."""
    cmp, _ = pass_case()
    cmp = dataclasses.replace(cmp, n_rows=32, candidate_rows=84, baseline_rows=32)
    inputs = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "sex"]
    base = identity(
        "baseline",
        "champion",
        ref="champion",
        version=3,
        rows=86,
        features=inputs,
        estimator="sklearn.ensemble.RandomForestClassifier",
    )
    cand = identity(
        "candidate",
        "candidate",
        rows=84,
        features=[c for c in inputs if c != "bill_length_mm"],
        estimator="sklearn.linear_model.LogisticRegression",
    )
    changes = dataclasses.replace(
        DataChanges.between(base, cand),
        training_added=51,
        training_removed=60,
        rows_compared=32,
        rows_set_aside=52,
    )
    notes = [
        "Compared on 32 of 84 evaluation rows; set aside: 52 because champion v3 was trained "
        "on them (rows identified by content hash of 8 column(s)).",
    ]
    return cmp, context(base, cand, baseline_note="champion v3", data_changes=changes, notes=notes)


CASES = {
    "data_notes": data_notes_case,
    "pass": pass_case,
    "fail": fail_case,
    "inconclusive": inconclusive_case,
    "no_baseline": no_baseline_case,
    "hostile": hostile_case,
}


# ----------------------------------------------------------------------------------- golden


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    cmp, ctx = CASES[name]()
    text = render_report(cmp, ctx)
    check_golden(name, text)
    assert len(text) <= 65000
    assert render_report(cmp, ctx) == text  # deterministic


def test_golden_trimmed() -> None:
    cmp, ctx = trimmed_case()
    full = render_report(cmp, ctx)
    assert len(full) > 3000 and "Trimmed" not in full
    text = render_report(cmp, ctx, max_chars=3000)
    check_golden("trimmed", text)
    assert len(text) <= 3000
    assert "Trimmed to fit GitHub's comment limit: per-slice tables, confusion matrices" in text
    assert "Per-slice results" not in text
    assert text.startswith(report_marker("churn-classifier") + "\n")
    assert "✅ **Pass**" in text and "| roc\\_auc" in text  # verdict and gate table survive


# --------------------------------------------------------------------------- hostile strings


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line.replace("\\\\", "")))


def assert_tables_intact(text: str) -> None:
    """Every markdown table row has as many cell separators as its header."""
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        n = unescaped_pipes(line)
        width = width or n
        assert n == width, line


def test_hostile_strings_render_as_text() -> None:
    cmp, ctx = hostile_case()
    text = render_report(cmp, ctx)
    assert "<img" not in text and "<script" not in text and "<b>" not in text
    assert text.count("<details>") == text.count("</details>")
    assert text.count("<summary>") == text.count("</summary>")
    assert text.count("<!--") == 1
    assert text.startswith("<!-- cml-bot:report model=churn_--___img_src_x_ -->\n")
    lines = text.splitlines()
    assert lines[0].endswith(" -->") and lines[0].count("-->") == 1
    assert all(line.startswith("    y-axis") for line in lines[1:] if "-->" in line)  # Mermaid
    assert text.count("```") % 2 == 0
    assert "&lt;/details&gt;&lt;img src=x&gt;" in text
    assert "javascript:" not in text
    assert "@\\*\\*octo\\_cat\\*\\*\\[x\\](y)" in text
    assert "\\`code\\` \\| \\*bold\\* \\[link\\](http:\u2060//e.vil)" in text
    assert "line break # heading" in text
    assert len(text) < 20_000  # the 100 KB branch name and note were truncated
    assert_tables_intact(text)


@pytest.mark.parametrize("budget", [2000, 3000, 5000, 65000])
def test_hostile_within_any_budget(budget: int) -> None:
    cmp, ctx = hostile_case()
    text = render_report(cmp, ctx, max_chars=budget)
    assert len(text) <= budget
    assert "<img" not in text and text.count("<details>") == text.count("</details>")


def test_md_escape() -> None:
    assert md_escape("</details><img src=x>") == "&lt;/details&gt;&lt;img src=x&gt;"
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<!-- x -->") == "&lt;!-- x --&gt;"
    assert (
        md_escape("`x` *y* _z_ [a](b) ~s~ $m$")
        == "\\`x\\` \\*y\\* \\_z\\_ \\[a\\](b) \\~s\\~ \\$m\\$"
    )
    assert md_escape("# title") == "\\# title"
    assert md_escape("- item") == "\\- item"
    assert md_escape("1. item") == "1\\. item"
    assert md_escape("v1.2") == "v1.2"
    assert md_escape("a\nb\r\n\tc\u2028d") == "a b c d"
    assert md_escape("a\u202eb\x00c") == "abc"
    assert md_escape("back\\slash") == "back\\\\slash"
    assert md_escape("&lt;") == "&amp;lt;"
    assert md_escape(None) == ""
    assert md_escape("x" * 500, 10) == "x" * 9 + "…"
    assert md_escape(3) == "3"


def test_marker_cannot_close_the_comment() -> None:
    assert report_marker("churn") == "<!-- cml-bot:report model=churn -->"
    marker = report_marker("a --> <b>\nc")
    assert marker.count("-->") == 1 and marker.endswith(" -->") and "<b>" not in marker


def test_mermaid_labels_and_urls() -> None:
    assert mermaid_label('a"b]\n`c') == '"a_b_ _c"'
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.example/a)(b<c>") == "https://x.example/a%29%28b%3Cc%3E"
    assert safe_url("https://x.example/a b") is None
    assert safe_url(None) is None


# ------------------------------------------------------------------------------- size budget


def many_metrics_case(n: int) -> tuple[Comparison, ReportContext]:
    names = ["accuracy", "f1_macro", "roc_auc", "neg_log_loss", "balanced_accuracy"]
    rows = [
        build_row(
            names[i % len(names)],
            0.8,
            pd(names[i % len(names)], 0.79, 0.8, -0.01, 0.03),
            Gate(min=0.9 if i == 0 else 0.5),
        )
        for i in range(n)
    ]
    cmp, ctx = trimmed_case()
    return Comparison(
        **{
            **cmp.__dict__,
            "rows": rows,
            "verdict": verdict_of(rows, True),
            "failed_gates": [g for r in rows for g in r.gates if g.failed],
        }
    ), ctx


@pytest.mark.parametrize("budget", [600, 2000, 3000, 10_000, 65_000])
def test_length_invariant(budget: int) -> None:
    for cmp, ctx in (trimmed_case(), many_metrics_case(2000), hostile_case()):
        text = render_report(cmp, ctx, max_chars=budget)
        assert len(text) <= budget
        assert text.startswith("<!-- cml-bot:report model=")
        assert text.count("<details>") == text.count("</details>")
        if budget >= 2000:
            assert re.search(r"^(✅|❌|⚪) \*\*", text, re.M), "the verdict line is never dropped"


def test_absurd_metric_count_keeps_verdict_and_truncates_table() -> None:
    cmp, ctx = many_metrics_case(3000)
    text = render_report(cmp, ctx, max_chars=5000)
    assert len(text) <= 5000
    assert "❌ **Fail**: 1 of 3000 gates failed against champion v3 (3f2a9c1)." in text
    assert re.search(r"… \d+ more metrics not shown", text)
    assert "Trimmed to fit GitHub's comment limit: per-slice tables" in text


# ---------------------------------------------------------------------------- templates


def test_default_template_is_packaged_or_next_to_the_package() -> None:
    text = default_template_text()
    repo_copy = Path(__file__).parents[2] / "templates" / "report.md.j2"
    assert text == repo_copy.read_text(encoding="utf-8")
    assert load_template(None) == text


def test_load_user_template(tmp_path: Path) -> None:
    (tmp_path / "mine.md.j2").write_text("custom {{ model_name }}", encoding="utf-8")
    assert load_template("mine.md.j2", root=tmp_path) == "custom {{ model_name }}"
    with pytest.raises(ConfigError, match="not found"):
        load_template("nope.md.j2", root=tmp_path)


def test_user_template_is_escaped_by_default_and_keeps_the_marker() -> None:
    cmp, ctx = hostile_case()
    template = (
        "{{ ctx.baseline.ref }} | {{ ctx.notes[0] }} | {{ verdict_line }} | "
        "{{ ctx.candidate.ref | esc(5) }}"
    )
    text = render_report(cmp, ctx, template_text=template)
    first, second = text.splitlines()[:2]
    assert first == report_marker("churn --> <img src=x>")
    assert second.startswith("&lt;/details&gt;&lt;img src=x&gt; | Retrained at the request of")
    assert "<img" not in text and second.endswith("| xxxx…")


def test_user_template_errors_are_config_errors() -> None:
    cmp, ctx = pass_case()
    with pytest.raises(ConfigError, match="line 1"):
        render_report(cmp, ctx, template_text="{% if %}")
    with pytest.raises(ConfigError, match="failed to render"):
        render_report(cmp, ctx, template_text="{{ ''.__class__.__mro__[1].__subclasses__() }}")


# ------------------------------------------------------------------------------ pieces


def test_changed_params_and_data_changes() -> None:
    assert changed_params({"a": 1, "b": None, "c": 3}, {"a": 1, "b": 2, "d": 4}) == [
        ("b", None, 2),
        ("c", 3, changed_params({}, {"x": 1})[0][1]),
        ("d", changed_params({}, {"x": 1})[0][1], 4),
    ]
    base = identity("baseline", "base", columns=["a", "b"], rows=10)
    cand = identity("candidate", "candidate", columns=["b", "c"], rows=12)
    dc = DataChanges.between(base, cand)
    assert (dc.rows_before, dc.rows_after) == (10, 12)
    assert (dc.added_columns, dc.removed_columns) == (["c"], ["a"])


def test_naive_datetime_is_treated_as_utc() -> None:
    cmp, ctx = no_baseline_case()
    aware = render_report(cmp, ctx)
    naive = render_report(
        cmp,
        context(
            None,
            ctx.candidate,
            **{
                **{k: getattr(ctx, k) for k in ("model_name", "baseline_note", "notes")},
                "generated_at": datetime(2024, 5, 1, 12, 30),
            },
        ),
    )
    shifted = render_report(
        cmp,
        context(
            None,
            ctx.candidate,
            **{
                **{k: getattr(ctx, k) for k in ("model_name", "baseline_note", "notes")},
                "generated_at": datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
            },
        ),
    )
    assert aware == naive == shifted and "2024-05-01T12:30:00Z" in aware


def test_end_to_end_from_compare() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)

    def model(flip: float, seed: int) -> PredictionSet:
        r = np.random.default_rng(seed)
        pred = np.where(r.random(400) < flip, 1 - y, y)
        score = np.clip(np.where(pred == 1, 0.7, 0.3) + r.normal(0, 0.1, 400), 0.01, 0.99)
        return PredictionSet(
            np.arange(400),
            y,
            pred,
            np.c_[1 - score, score],
            [0, 1],
            {"plan": np.where(np.arange(400) % 2 == 0, "a|b", "<img src=x>")},
        )

    cmp = compare(
        model(0.1, 1),
        model(0.2, 2),
        metrics=["roc_auc", "accuracy"],
        gates={"accuracy": Gate(min=0.8, max_drop=0.0)},
        slices=["plan"],
    )
    ctx = context(
        identity("baseline", "champion", ref="champion", version=1),
        identity("candidate", "candidate"),
    )
    text = render_report(cmp, ctx)
    assert "✅ **Pass**: all 2 gates passed against champion v1 (3f2a9c1)." in text
    assert "xychart-beta" in text and "<img" not in text and "a\\|b" in text
    assert_tables_intact(text)


def test_packaged_template_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cml_bot.report import render as report

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "report.md.j2").write_text(
        "packaged {{ model_name }}", encoding="utf-8"
    )
    monkeypatch.setattr(report.resources, "files", lambda _pkg: tmp_path)
    assert default_template_text() == "packaged {{ model_name }}"


def test_verdict_when_the_given_baseline_is_not_comparable() -> None:
    y = np.array([0, 1] * 50)
    cand = PredictionSet(np.arange(100), y, y, None, [0, 1])
    other = PredictionSet(np.arange(100), 1 - y, y, None, [0, 1])
    cmp = compare(cand, other, metrics=["accuracy"], gates={"accuracy": Gate(max_drop=0.01)})
    ctx = context(
        identity("baseline", "champion", ref="champion", version=2),
        identity("candidate", "candidate"),
        baseline_note="champion v2",
    )
    line = render_report(cmp, ctx).splitlines()[3]
    assert line == (
        "⚪ **No baseline**: champion v2 (3f2a9c1) could not be compared (the "
        "baseline's predictions carry different true labels for the same row ids, so "
        "they are not the same evaluation rows); no absolute gates, 1 relative gate "
        "not evaluated."
    )


# ------------------------------------------------------------------ reading right (issue 17)


def test_the_baseline_sha_is_in_the_headline_not_again_in_the_header() -> None:
    cmp, ctx = pass_case()
    body = render_report(cmp, ctx).split("<sub>")[0]  # the trailer has both full SHAs
    assert body.count("3f2a9c1") == 1
    assert "against champion v3 (3f2a9c1)." in body
    assert "| baseline (champion) " in body and "| candidate (9b8c7d6) " in body
    same = dataclasses.replace(ctx, candidate=dataclasses.replace(ctx.candidate, sha="3f2a9c1e"))
    assert "| candidate " in render_report(cmp, same).split("<sub>")[0]
    assert render_report(cmp, same).split("<sub>")[0].count("3f2a9c1") == 1


def test_a_significant_drop_of_a_loss_reads_better_not_down() -> None:
    cmp, ctx = pass_case()
    text = render_report(cmp, ctx)
    (log_loss,) = [line for line in text.splitlines() if line.startswith("| log\\_loss")]
    assert "-0.016 ✓ better" in log_loss
    assert "⬆" not in text and "⬇" not in text
    assert "✓ better / ✗ worse: a significant improvement / regression by the metric's" in text


def test_the_chart_groups_metrics_by_unit_and_direction() -> None:
    cmp, ctx = pass_case()
    charts = re.findall(r"```mermaid\n(.*?)```", render_report(cmp, ctx), re.S)
    assert len(charts) == 2
    assert 'title "Baseline vs candidate - score - higher is better"' in charts[0]
    assert '"roc_auc baseline"' in charts[0] and "log_loss" not in charts[0]
    assert 'title "Baseline vs candidate - log loss - lower is better"' in charts[1]
    assert 'x-axis ["log_loss baseline", "log_loss candidate"]' in charts[1]
    cmp, ctx = no_baseline_case()
    charts = re.findall(r"```mermaid\n(.*?)```", render_report(cmp, ctx), re.S)
    assert [re.search(r'y-axis "([^"]+)"', c).group(1) for c in charts] == [  # type: ignore[union-attr]
        "target units - lower is better",
        "score - higher is better",
    ]


def test_the_footer_names_a_baseline_it_knows_without_a_sha() -> None:
    cmp, ctx = pass_case()
    nameless = dataclasses.replace(ctx, baseline=dataclasses.replace(ctx.baseline, sha=""))
    trailer = render_report(cmp, nameless).rsplit("<sub>", 1)[1]
    assert trailer.startswith("baseline champion v3 (champion) · candidate 9b8c7d6e")
    assert "unknown" not in trailer
