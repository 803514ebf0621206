"""`cml-bot init` refuses answers the data contradicts and a moving action ref, before writing
anything (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from cml_bot.cli import main
from cml_bot.core.errors import ConfigError
from cml_bot.scaffold import setup as init

SHA = "0123456789abcdef0123456789abcdef01234567"


def penguins(folder: Path) -> Path:
    path = folder / "data" / "penguins.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame(
        {
            "bill_length_mm": [39.1 + i % 7 for i in range(60)],
            "body_mass_g": [3750 + 10 * i for i in range(60)],
            "species": ["Adelie", "Gentoo", "Chinstrap"] * 20,
        }
    ).to_csv(path, index=False)
    return path


def run_init(repo: Path, *args: str) -> Result:
    config = str(repo / "cml-bot.yaml")
    return CliRunner().invoke(main, ["init", "-c", config, "--yes", "--action-ref", SHA, *args])


def refused(repo: Path, result: Result, *says: str) -> None:
    assert result.exit_code == 2, result.output
    for text in says:
        assert text in result.output
    assert not (repo / "cml-bot.yaml").exists() and not (repo / ".github").exists()


def test_regression_on_a_text_target_is_refused(tmp_path: Path) -> None:
    penguins(tmp_path)
    result = run_init(tmp_path, "--target", "species", "--task", "regression")
    refused(
        tmp_path,
        result,
        "--task regression needs a numeric target, and 'species' holds text values (e.g. 'Adelie')",
        "fix: use --task classification, or pick a numeric --target",
    )


@pytest.mark.parametrize("metric", ["roc_auc", "f1", "average_precision"])
def test_a_two_class_metric_on_three_classes_is_refused(tmp_path: Path, metric: str) -> None:
    penguins(tmp_path)
    result = run_init(tmp_path, "--target", "species", "--metric", metric)
    refused(
        tmp_path,
        result,
        f"{metric} need(s) exactly two classes, and 'species' has 3",
        "fix: use a multiclass form: roc_auc_ovr, f1_macro",
    )
    assert run_init(tmp_path, "--target", "species", "--metric", "roc_auc_ovr").exit_code == 0


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("cml-bot/cml-bot@main", "'main' is not a release tag or a commit SHA: a branch moves"),
        ("me/fork@feature/x", "'feature/x' is not a release tag or a commit SHA"),
        ("cml-bot/cml-bot@0123456", "'0123456' is a short commit SHA"),
    ],
)
def test_an_action_ref_that_is_not_a_tag_or_sha_is_refused(
    tmp_path: Path, ref: str, says: str
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "init",
            "-c",
            str(tmp_path / "c.yaml"),
            "--yes",
            "--data",
            "sklearn:wine",
            "--action-ref",
            ref,
        ],
    )
    refused(tmp_path, result, says, "fix: pin the full 40-character commit SHA")


def test_only_release_tags_and_full_shas_pass() -> None:
    accepted = [f"a/b@{SHA}", "a/b@v1", "a/b@v1.2.0", "a/b@1.2.0-rc.1", "v2"]
    assert [init.check_action_ref(r).rpartition("@")[2] for r in accepted] == [
        SHA,
        "v1",
        "v1.2.0",
        "1.2.0-rc.1",
        "v2",
    ]
    for moving in ("a/b@main", "a/b@release/2024", "a/b@0123456789abcdef"):
        with pytest.raises(ConfigError, match="pin the full 40-character commit SHA"):
            init.check_action_ref(moving)
