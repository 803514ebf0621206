"""The configuration reference (``docs/configuration.md``), generated from the code.

Every field of :class:`cml_bot.config.Config` with its dotted path, type, default, meaning (the
pydantic ``Field`` description) and an example, and the metric catalogue of
:mod:`cml_bot.core.metrics`. Regenerate the committed page with::

    python -m cml_bot.config.reference > docs/configuration.md

``tests/unit/test_reference.py`` fails when the page and the code disagree.

Pure: imports only the config models and the metric catalogue.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cml_bot.config.models import DEFAULT_ESTIMATORS, Config, Gate, parse_config
from cml_bot.core import markdown_table
from cml_bot.core import metrics as metrics

REGENERATE = "python -m cml_bot.config.reference > docs/configuration.md"

# What each top-level key is for (the section models carry no description of their own).
SECTIONS: dict[str, str] = {
    "model": "What is trained, and the name everything is filed under.",
    "train": "How the model is trained: the built-in scikit-learn trainer (`data`, `target`, "
    "`estimator`, `params`) or your own command (`command`, see docs/training-contract.md).",
    "evaluate": "Which rows the models are scored on, with which metrics and intervals.",
    "gates": "What fails the commit status: per metric of `evaluate.metrics`, its gate. The key "
    "`latency` gates the latency ratio candidate / baseline (both timed together, interleaved): "
    "`latency: {max: 1.5}` passes when the whole interval of the ratio is at or under 1.5, fails "
    "when all of it is above, is inconclusive in between; it takes only `max`, `judge` and "
    "`severity`, and is not evaluated when a model cannot be timed.",
    "verdict": "What inconclusive gates and regressions within a slice do to the status.",
    "baseline": "What the candidate is compared with.",
    "registry": "Where runs, model versions and the champion alias are kept.",
    "deploy": "What promotion on merge does.",
    "commands": "Slash commands in pull-request comments: who may use each verb. Levels: "
    "none < read < triage < write < maintain < admin (GitHub's repository roles), checked "
    "with the collaborator-permission endpoint on the default branch's config.",
    "report": "The PR comment.",
}

# Meanings for fields whose model has no description (sections and the command verbs).
DESCRIPTIONS: dict[str, str] = {
    "gates.<metric>": "The gate of one metric (a scorer name from `evaluate.metrics`). Every "
    "condition that is set must hold.",
    "commands.retrain": "`/retrain key=value ...`: train the PR head with overrides of the keys "
    "in `params`, compare, update the report.",
    "commands.evaluate": "`/evaluate`: score the candidate recorded for the head again (no "
    "training) and update the report.",
    "commands.deploy": "`/deploy`: deploy a merged pull request's commit.",
    "commands.rollback": "`/rollback [vN]`: move the champion alias back (default: the "
    "previous version).",
    "commands.help": "`/help`: list the commands, their arguments and levels.",
    **{
        f"commands.{verb}.params": "Unused: only `/retrain` takes parameters."
        for verb in ("evaluate", "deploy", "rollback", "help")
    },
}

# One example value per field, as YAML (dotted path; ``<metric>`` stands for any metric name).
EXAMPLES: dict[str, str] = {
    "model.name": "churn-classifier",
    "model.task": "regression",
    "train.data": "data/train.csv",
    "train.target": "churned",
    "train.features": "[tenure, plan, monthly_charges]",
    "train.id_column": "customer_id",
    "train.estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
    "train.params": "{n_estimators: 200, max_depth: 8}",
    "train.command": '["{python}", "train.py", "--out", "{output_dir}", "--params", '
    '"{params_json}"]',
    "train.timeout": "1800",
    "train.env": "[HF_TOKEN]",
    "train.seed": "42",
    "evaluate.data": "data/test.csv",
    "evaluate.test_size": "0.3",
    "evaluate.metrics": "[roc_auc, accuracy, f1_macro]",
    "evaluate.slices": "[plan, region]",
    "evaluate.group_column": "customer_id",
    "evaluate.min_rows": "50",
    "evaluate.confidence": "0.9",
    **{"evaluate.latency_rounds": "11", "evaluate.n_resamples": "5000"},
    "gates": "{roc_auc: {min: 0.8, max_drop: 0.005}}",
    "gates.<metric>": "{min: 0.8, max_drop: 0.005}",
    **{"gates.<metric>.min": "0.8", "gates.<metric>.max": "0.35"},
    **{"gates.<metric>.max_drop": "0.005", "gates.<metric>.min_improvement": "0.01"},
    **{"gates.<metric>.judge": "point", "gates.<metric>.severity": "warn"},
    **{"verdict": "{inconclusive: pending, slice_regression: fail}"},
    **{"verdict.inconclusive": "pending", "verdict.slice_regression": "fail"},
    "gates.<metric>.require": "significant_improvement",
    "gates.<metric>.forbid": "significant_regression",
    "baseline": "base",
    "registry.backend": "mlflow",
    "registry.tracking_uri": "https://mlflow.example.com",
    **{"registry.authors": '["acme-model-bot[bot]"]', "registry.trusted_packages": "[lightgbm]"},
    "deploy.alias": "production",
    "deploy.environment": "staging",
    "deploy.command": "[./scripts/deploy.sh, --model, churn]",
    "deploy.timeout": "300",
    "report.template": ".github/cml-bot-report.md.j2",
    "report.max_chars": "30000",
}
_COMMAND_EXAMPLES = {
    "retrain": ("{permission: write, params: [n_estimators, max_depth]}", "triage"),
    "evaluate": ("{permission: triage}", "triage"),
    "deploy": ("{permission: admin}", "admin"),
    "rollback": ("{permission: admin}", "admin"),
    "help": ("{permission: read}", "read"),
}
for _verb, (_section, _level) in _COMMAND_EXAMPLES.items():
    EXAMPLES[f"commands.{_verb}"] = _section
    EXAMPLES[f"commands.{_verb}.permission"] = _level
    EXAMPLES[f"commands.{_verb}.params"] = (
        "[n_estimators, max_depth]" if _verb == "retrain" else "[]"
    )

# Defaults that depend on other fields: said in words, from the code's own tables.
DEFAULT_NOTES: dict[str, str] = {
    "evaluate.metrics": "by task: "
    + "; ".join(f"{task} `{', '.join(names)}`" for task, names in metrics.DEFAULT_METRICS.items()),
    "train.estimator": "by task: "
    + "; ".join(f"{task} `{path}`" for task, path in DEFAULT_ESTIMATORS.items()),
}

RULES = [
    'Unknown keys are errors (with a "did you mean" for near misses); so are values of the '
    "wrong type. `cml-bot validate` lists every problem with its field path, value and fix.",
    "`train` needs either `data` (the built-in trainer) or `command` (your own); with a data "
    "file, `target` is required (a `sklearn:<name>` dataset brings its own).",
    "Every name in `evaluate.metrics` must be a metric of the catalogue below, for `model.task`.",
    "Every key of `gates` must be a metric of `evaluate.metrics`.",
    "A gate's `min` must not be above its `max`.",
    "Relative paths (`train.data`, `evaluate.data`, `report.template`, a relative program in "
    "`train.command`) resolve against the folder that holds the config file.",
    "`--set key=value` overrides for one run, values read as YAML: a bare key is an estimator "
    "parameter (`n_estimators=300`; `max_depth=null` is None, `-max_depth` removes it, "
    "`estimator=PATH` switches, its params start empty), a dotted key any field. Re-validated.",
]

KIND_INTERVALS: dict[str, str] = {
    "label": "Tango's interval scaled by a joint-counts bootstrap; mid-p McNemar guard",
    "auc": "paired DeLong variance, normal interval",
    "rowloss": "closed form: mean of the per-row loss differences",
    "rmse": "the paired MSE interval divided by RMSE_b + RMSE_c",
    "r2": "delta method on the MSE difference / var(y), var(y) included",
    "other": "seeded bootstrap over rows (`evaluate.n_resamples`)",
}
# Metrics whose method differs from their kind's (docs/statistics.md).
_TANGO = "Tango's score interval for paired proportions; mid-p McNemar guard"
METRIC_INTERVALS: dict[str, str] = {
    "accuracy": _TANGO,
    **{f"{base}_micro": _TANGO for base in ("f1", "precision", "recall")},  # equal to accuracy
    "max_error": "none: one extreme row (NaN interval, never significant)",
}
NEEDS = {"pred": "predicted labels", "proba": "class probabilities"}


@dataclass(frozen=True)
class Row:
    path: str
    type: str
    default: str
    meaning: str
    example: str


def _is_model(tp: Any) -> typing.TypeGuard[type[BaseModel]]:
    # get_origin: on Python 3.10 `list[str]` passes isinstance(_, type) but is no class
    return isinstance(tp, type) and typing.get_origin(tp) is None and issubclass(tp, BaseModel)


def _type_name(tp: Any) -> str:
    """A type in words: ``string or null``, ``list of strings``, ``one of `a`, `b```."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" or null" if type(None) in args else "")
    if origin is list:
        inner = _type_name(args[0]) if args else "value"
        return f"list of {inner}s" if inner in ("string", "integer", "number") else "list"
    if origin is dict:
        if args and _is_model(args[1]):
            return f"mapping of name to {args[1].__name__.lower()}"
        return "mapping"
    if _is_model(tp):
        return "section"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in names:
        return names[tp]
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", str(tp))


def _constraints(info: FieldInfo) -> str:
    out = []
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
    for item in info.metadata:
        for attr, symbol in symbols.items():
            value = getattr(item, attr, None)
            if value is not None:
                out.append(f"{symbol} {value}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            out.append(f"matching `{pattern}`")
    return ", ".join(out)


def _yaml(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    return text.strip().removesuffix("...").strip()


_NO_DEFAULT = object()


def _value(path: str, info: FieldInfo, inherited: Any) -> Any:
    """The field's default value: from the enclosing section's default when it has one."""
    if inherited is not _NO_DEFAULT:
        return inherited
    if info.is_required():
        return _NO_DEFAULT
    return info.get_default(call_default_factory=True)


def _default(path: str, value: Any) -> str:
    if path in DEFAULT_NOTES:
        return DEFAULT_NOTES[path]
    return "required" if value is _NO_DEFAULT else f"`{_yaml(value)}`"


def rows(
    model: type[BaseModel] = Config, prefix: str = "", parent: Any = _NO_DEFAULT
) -> Iterator[Row]:
    """Every field of ``model`` and of the sections inside it, depth first, in code order.

    A section's own row is left out at the top level (its heading says it); a nested section
    (``commands.retrain``) has one. Defaults inside a section come from the section's default
    (``commands.deploy.permission`` is ``maintain``, not CommandSpec's ``write``).
    """
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        tp = info.annotation
        kind = _type_name(tp)
        limits = _constraints(info)
        meaning = DESCRIPTIONS.get(path) or info.description or ""
        inherited = _NO_DEFAULT if parent is _NO_DEFAULT else getattr(parent, name)
        value = _value(path, info, inherited)
        if typing.get_origin(tp) is dict and typing.get_args(tp)[1] is Gate:
            yield Row(path, kind, _default(path, value), meaning, EXAMPLES.get(path, ""))
            inner = f"{path}.<metric>"
            yield Row(inner, "section", "—", DESCRIPTIONS.get(inner, ""), EXAMPLES.get(inner, ""))
            yield from rows(Gate, inner + ".")
            continue
        if not (_is_model(tp) and not prefix):
            yield Row(
                path,
                f"{kind}, {limits}" if limits else kind,
                _default(path, value),
                meaning,
                EXAMPLES.get(path, ""),
            )
        if _is_model(tp):
            yield from rows(tp, path + ".", value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(items: list[Row]) -> list[str]:
    rows = [
        [
            f"`{r.path}`",
            _cell(r.type),
            _cell(r.default),
            _cell(r.meaning),
            f"`{_cell(r.example)}`" if r.example else "",
        ]
        for r in items
    ]
    headers = ["field", "type", "default", "meaning", "example"]
    return markdown_table(headers, rows, escape=False).splitlines()


def metric_rows() -> list[str]:
    headers = ["name (in the config)", "the report shows", "task", "direction", "needs", "interval"]
    rows = [
        [
            f"`{spec.name}`",
            spec.label,
            spec.task,
            spec.direction,
            NEEDS[spec.needs],
            f"{spec.kind}: {METRIC_INTERVALS.get(spec.name, KIND_INTERVALS[spec.kind])}",
        ]
        for spec in metrics.METRICS.values()
    ]
    return markdown_table(headers, rows, escape=False).splitlines()


def _minimal() -> str:
    cfg = parse_config(
        {"model": {"name": "churn-classifier"}, "train": {"data": "data/train.csv", "target": "y"}}
    )
    return yaml.safe_dump(cfg.model_dump(), sort_keys=False, width=100).strip()


def generate() -> str:
    """The whole of ``docs/configuration.md``."""
    all_rows = list(rows())
    top = list(Config.model_fields)
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from cml_bot/config/models.py and cml_bot/core/metrics.py "
        f"by `{REGENERATE}`. "
        "Do not edit by hand: tests/unit/test_reference.py fails when this page and the code "
        "disagree. -->",
        "",
        "cml-bot reads one file, `cml-bot.yaml` at the repository root (or `--config PATH`; the "
        "action's `config` and `working-directory` inputs). `cml-bot init` writes a commented "
        "one; `cml-bot validate` checks one; `cml-bot doctor` checks it together with the data, "
        "the workflows and the tracking store.",
        "",
        "Sections: " + ", ".join(f"[`{k}`](#{k})" for k in top) + ", and the "
        "[metric catalogue](#metrics).",
        "",
        "## Rules",
        "",
        *[f"- {rule}" for rule in RULES],
        "",
        "## The smallest config, expanded",
        "",
        "`model.name`, and `train.data` with `train.target`, are all that is required. This is "
        "what such a config means once every default is filled in:",
        "",
        "```yaml",
        "# cml-bot.yaml as written",
        "model: {name: churn-classifier}",
        "train: {data: data/train.csv, target: y}",
        "```",
        "",
        "```yaml",
        "# ... as cml-bot reads it",
        _minimal(),
        "```",
    ]
    for key in top:
        section = [r for r in all_rows if r.path == key or r.path.startswith(key + ".")]
        text = SECTIONS[key]
        if Config.model_fields[key].is_required():
            text += " Required."
        lines += ["", f"## {key}", "", text, "", *_table(section)]
    lines += [
        "",
        "## metrics",
        "",
        "Names are scikit-learn scorer names. Values are shown in natural units: "
        "`neg_mean_squared_error` is reported as a positive mean squared error (lower is "
        "better), so a gate's `min`, `max` and `max_drop` read as a person reads the number. "
        "`max_drop` is measured in the metric's direction: for a lower-is-better metric it is "
        "how much the value may rise. Every interval is paired (both models scored on the "
        "same rows); a change is significant when its interval (`evaluate.confidence`) "
        "excludes 0.",
        "",
        *metric_rows(),
        "",
        "Precision, recall and F1 without a suffix are binary (the positive class is the "
        "greater label: 1 for 0/1 labels, the sorted-last name for text labels); `_macro`, "
        "`_micro` and `_weighted` average over classes. "
        "`roc_auc` is binary; use `roc_auc_ovr`/`roc_auc_ovo` with more than two classes.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    sys.stdout.write(generate())


if __name__ == "__main__":
    main()
