"""`--set` and `/retrain` speak YAML: `null`/`~` is None, Python's `None` is refused with the
YAML spelling, `True`/`False` are YAML booleans, `estimator=` switches the estimator (its
parameters start empty), `-name` removes a parameter."""

from __future__ import annotations

from typing import Any

import pytest

from cml_bot.bot.commands import (
    BadArguments,
    ParsedCommand,
    check_retrain_args,
    help_text,
    parse_command,
    retrain_overrides,
)
from cml_bot.bot.slash import requested_note
from cml_bot.config import CommandsSection, edit_params, parse_config, parse_overrides
from cml_bot.core.errors import EXIT_CONFIG, ConfigError


def config(**train: Any) -> Any:
    return parse_config(
        {
            "model": {"name": "churn"},
            "train": {"data": "t.csv", "target": "y", **train},
        }
    )


def test_python_none_is_refused_with_the_yaml_spelling() -> None:
    got = parse_overrides(["max_depth=null", "min_samples_leaf=~", "a=True", "b=False"])
    assert got == {"max_depth": None, "min_samples_leaf": None, "a": True, "b": False}
    with pytest.raises(ConfigError) as info:
        parse_overrides(["max_depth=None"])
    assert info.value.exit_code == EXIT_CONFIG
    assert "YAML reads `None` as the text 'None'" in info.value.message
    assert (
        info.value.fix == "write max_depth=null (or max_depth=~) to set it to None, or "
        "-max_depth to remove it"
    )


def test_minus_name_removes_a_parameter() -> None:
    cfg = config(params={"max_depth": 3, "n_estimators": 10})
    overrides = parse_overrides(["-max_depth", "n_estimators=20"])
    new, values = edit_params(cfg, overrides)
    assert new.train.params == {"n_estimators": 10}
    assert values == {"n_estimators": 20}


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (["-criterion"], "train.params has no 'criterion' to remove (max_depth)"),
        (["-max_depth", "max_depth=2"], "max_depth is also set"),
        (["estimator=null"], "is not an import path"),
    ],
)
def test_edits_that_cannot_apply_say_why(pairs: list[str], says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        edit_params(config(params={"max_depth": 3}), parse_overrides(pairs))


def test_estimator_switches_and_its_parameters_start_empty() -> None:
    cfg = config(estimator="sklearn.ensemble.RandomForestClassifier", params={"max_depth": 3})
    overrides = parse_overrides(["estimator=sklearn.linear_model.LogisticRegression", "C=0.5"])
    new, values = edit_params(cfg, overrides)
    assert new.train.estimator == "sklearn.linear_model.LogisticRegression"
    assert new.train.params == {}
    assert values == {"C": 0.5}
    assert new.file_name == cfg.file_name


def test_retrain_removes_switches_and_refuses_python_none() -> None:
    parsed = parse_command("/retrain -max_depth estimator=sklearn.svm.SVC C=null")
    assert isinstance(parsed, ParsedCommand)
    overrides = retrain_overrides(parsed.args)
    assert overrides == {"-max_depth": None, "estimator": "sklearn.svm.SVC", "C": None}
    assert check_retrain_args(parsed.args, ["max_depth", "estimator", "C"]) == []
    new, values = edit_params(config(params={"max_depth": 3}), overrides)
    assert (new.train.estimator, new.train.params, values) == ("sklearn.svm.SVC", {}, {"C": None})

    none = parse_command("/retrain max_depth=None")
    assert isinstance(none, ParsedCommand)
    assert check_retrain_args(none.args, ["max_depth"]) == [
        "`max_depth=None`: YAML reads `None` as the text 'None'; write `max_depth=null` to set "
        "it to None, or `-max_depth` to remove the parameter"
    ]
    removal = parse_command("/retrain -max_depth")
    assert isinstance(removal, ParsedCommand)
    assert "`max_depth` is not a parameter" in check_retrain_args(removal.args, ["n"])[0]
    assert requested_note(parsed, "ann") == (
        "Retrained with -max_depth estimator=sklearn.svm.SVC C=null at the request of @ann."
    )
    twice = parse_command("/retrain -max_depth max_depth=3")
    assert isinstance(twice, BadArguments)
    assert twice.problems == ("`max_depth` is given more than once",)


def test_help_says_how_to_clear_remove_and_switch() -> None:
    text = help_text(CommandsSection())
    assert "`/retrain [key=value ...] [-key ...] [sha=<commit>]`" in text
    assert "`max_depth=null` sets a parameter to None (not `None`)" in text
    assert "`-max_depth` removes it" in text
