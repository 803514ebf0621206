"""Config errors are in cml-bot's words: the field's path, the value and the fix; no pydantic
wording reaches the user. And `validate` refuses what is obviously wrong: a fraction gate
written as a percentage, an empty gate, `train.command` with an estimator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cml_bot.config import parse_config
from cml_bot.core.errors import EXIT_CONFIG, ConfigError

PYDANTIC_WORDS = (
    "Input should",
    "should match pattern",
    "after validation",
    "Value error",
    "valid dictionary",
    "instance of",
    "pydantic",
    "unable to parse",
    "fractional part",
    "Field required",
    "Extra inputs",
    "correct the value in the config",
)


def base() -> dict[str, Any]:
    return {"model": {"name": "m"}, "train": {"data": "t.csv", "target": "y"}}


def changed(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = base()
    edit(data)
    return data


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.exit_code == EXIT_CONFIG
    return str(info.value)


# (the broken config, the line the user reads: the path, the value, the problem; and the fix)
CASES = [
    (
        lambda d: d["train"].update(timeout=-1),
        "train.timeout: -1 must be greater than 0",
        "write a number above 0",
    ),
    (
        lambda d: d["train"].update(timeout="abc"),
        "train.timeout: 'abc' is not a whole number",
        "write a whole number, e.g. 3",
    ),
    (
        lambda d: d["train"].update(timeout=1.5),
        "train.timeout: 1.5 is not a whole number",
        "write a whole number, e.g. 3",
    ),
    (
        lambda d: d.update(evaluate={"test_size": 1.5}),
        "evaluate.test_size: 1.5 must be less than 1",
        "write a number below 1",
    ),
    (
        lambda d: d.update(evaluate={"metrics": "accuracy"}),
        "evaluate.metrics: 'accuracy' is not a list",
        "write a YAML list, e.g. [a, b]",
    ),
    (
        lambda d: d.update(evaluate={"slices": [1]}),
        "evaluate.slices[0]: 1 is not text",
        "write a string (quote it in YAML)",
    ),
    (
        lambda d: d.update(gates={"accuracy": 0.9}),
        "gates.accuracy: 0.9 is not a mapping",
        "write `accuracy:` as a mapping of key: value",
    ),
    (lambda d: d.update(model="x"), "model: 'x' is not a mapping", "write `model:` as a mapping"),
    (
        lambda d: d["model"].update(name="a b"),
        "model.name: 'a b' is not a valid name",
        "use letters, digits",
    ),
    (
        lambda d: d.update(registry={"authors": []}),
        "registry.authors: [] has too few items",
        "give at least 1",
    ),
    (
        lambda d: d.update(registry={"authors": ["a b"]}),
        "registry.authors: 'a b' is not a GitHub login",
        "write the account name",
    ),
    (
        lambda d: d.update(report={"max_chars": 10}),
        "report.max_chars: 10 must be at least 2000",
        "write 2000 or more",
    ),
    (
        lambda d: d.update(gates={"accuracy": {"max_drop": -1}}),
        "gates.accuracy.max_drop: -1 must be at least 0",
        "write 0 or more",
    ),
    (lambda d: d.update(train={}), "train: has nothing to train from", "set train.data"),
    (
        lambda d: d.update(train={"data": "t.csv"}),
        "train.target: is required with a data file",
        "name the label column in train.target",
    ),
    (
        lambda d: d["train"].update(command="'open"),
        'train.command: cannot split "\'open" like a shell line',
        "correct train.command",
    ),
    (
        lambda d: d.update(gates={"accuracy": {"min": 0.9, "max": 0.5}}),
        "gates.accuracy: min (0.9) is above max (0.5): no value passes",
        "correct gates.accuracy",
    ),
    # the refusals of item 4
    (
        lambda d: d.update(gates={"accuracy": {"min": 90}}),
        "gates.accuracy.min: 90 is above 1, "
        "the most accuracy can be (it is a fraction from 0 to 1, not a percentage)",
        "write 0.9 for 90%",
    ),
    (
        lambda d: d.update(gates={"f1_macro": {"max": 95}}),
        "gates.f1_macro.max: 95 is above 1",
        "write 0.95 for 95%",
    ),
    (
        lambda d: d.update(gates={"accuracy": {"max_drop": 5}}),
        "gates.accuracy.max_drop: 5 is larger than the whole range of accuracy (it is a fraction",
        "write 0.05 for 5%",
    ),
    (
        lambda d: d.update(gates={"accuracy": {"min": -0.1}}),
        "gates.accuracy.min: -0.1 is below 0, the least accuracy can be",
        "write a value from 0 to 1",
    ),
    (
        lambda d: d.update(gates={"accuracy": {}}),
        "gates.accuracy: {} is an empty gate: it can never fail",
        "give it a rule, e.g. `accuracy: {max_drop: 0.01}`, or remove the gate",
    ),
    (
        lambda d: d.update(gates={"accuracy": {"severity": "warn"}}),
        "is an empty gate",
        "give it a rule",
    ),
    (
        lambda d: d["train"].update(command="python t.py", estimator="sklearn.svm.SVC"),
        "train.estimator: 'sklearn.svm.SVC' is not used: `train.command` trains the model",
        "remove train.estimator, or remove train.command to use the built-in trainer",
    ),
]


@pytest.mark.parametrize(("edit", "line", "fix"), CASES, ids=[c[1][:40] for c in CASES])
def test_each_problem_names_path_value_and_fix_in_our_words(
    edit: Callable[[dict[str, Any]], object], line: str, fix: str
) -> None:
    text = error_of(changed(edit))
    assert line in text
    assert f"  fix: {fix}" in text
    assert not [w for w in PYDANTIC_WORDS if w in text], text


def test_gates_on_their_own_scale_still_pass() -> None:
    cfg = parse_config(
        {
            "model": {"name": "m", "task": "regression"},
            "train": {"data": "t.csv", "target": "y"},
            "evaluate": {
                "metrics": ["r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"]
            },
            "gates": {
                "r2": {"min": -3, "max_drop": 0.05},
                "neg_root_mean_squared_error": {"max": 250},
                "neg_mean_absolute_error": {"max_drop": 40},
            },
        }
    )
    assert cfg.gates["neg_root_mean_squared_error"].max == 250
    cls = parse_config(
        {
            **base(),
            "evaluate": {"metrics": ["matthews_corrcoef", "neg_log_loss"]},
            "gates": {
                "matthews_corrcoef": {"min": -0.5, "max_drop": 1.5},
                "neg_log_loss": {"max": 3},
            },
        }
    )
    assert cls.gates["neg_log_loss"].max == 3
    with pytest.raises(ConfigError, match=r"r2\.min: 90 is above 1, the most r2 can be\n"):
        parse_config(
            {
                "model": {"name": "m", "task": "regression"},
                "train": {"data": "t.csv", "target": "y"},
                "gates": {"r2": {"min": 90}},
            }
        )
