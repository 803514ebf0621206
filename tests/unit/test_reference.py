"""docs/configuration.md is generated from the code: it must say what the code does."""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from cml_bot.config import reference as reference
from cml_bot.config.models import Config
from cml_bot.core import metrics as metrics

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_committed_reference_matches_the_code() -> None:
    generated = reference.generate()
    committed = DOC.read_text(encoding="utf-8")
    if committed != generated:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    generated.splitlines(keepends=True),
                    "docs/configuration.md (committed)",
                    "generated from cml_bot/config/models.py and cml_bot/core/metrics.py",
                )
            )[:60]
        )
        pytest.fail(
            "docs/configuration.md is out of date with the code; regenerate it with\n"
            f"    {reference.REGENERATE}\n\n{diff}"
        )


def leaf_paths(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        tp = info.annotation
        if isinstance(tp, type) and typing.get_origin(tp) is None and issubclass(tp, BaseModel):
            out += leaf_paths(tp, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_field_is_documented_with_type_default_meaning_and_example() -> None:
    rows = {r.path: r for r in reference.rows()}
    for path in leaf_paths():
        assert path in rows, f"{path} is missing from the reference"
    for r in rows.values():
        assert r.type and r.default, r
        assert r.meaning, f"{r.path} has no meaning: give its Field a description"
        assert r.example, f"{r.path} has no example: add one to reference.EXAMPLES"
    for name in ("min", "max", "max_drop", "require", "forbid"):
        assert f"gates.<metric>.{name}" in rows


def test_examples_are_valid_values_of_their_field() -> None:
    import yaml

    from cml_bot.config.models import parse_config

    base = {"model": {"name": "m"}, "train": {"data": "d.csv", "target": "y"}}
    for r in reference.rows():
        if r.path.startswith("gates") or r.path in ("model.task",):
            continue  # gates need their metric evaluated; task changes the default metrics
        data = yaml.safe_load(yaml.safe_dump(base))
        node = data
        parts = r.path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(r.example)
        parse_config(data)  # raises ConfigError when the example is not a valid value


def test_section_defaults_come_from_the_section_not_the_spec_class() -> None:
    rows = {r.path: r for r in reference.rows()}
    assert rows["commands.deploy.permission"].default == "`maintain`"
    assert rows["commands.help.permission"].default == "`none`"
    assert rows["model.name"].default == "required"
    assert rows["train.timeout"].type == "integer, > 0"
    assert "RandomForestClassifier" in rows["train.estimator"].default


def test_metric_catalogue_lists_every_metric_with_direction_and_interval() -> None:
    page = reference.generate()
    table = page[page.index("## metrics") :]
    for spec in metrics.METRICS.values():
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| `{spec.name}` "))
        assert spec.label in line and spec.direction in line
        method = reference.METRIC_INTERVALS.get(spec.name, reference.KIND_INTERVALS[spec.kind])
        assert method in line


def test_tables_are_well_formed() -> None:
    for line in reference.generate().splitlines():
        if line.startswith("| `"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) in (5, 6), line
