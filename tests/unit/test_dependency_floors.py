"""The floors are said once: ``constraints/lowest.txt`` (what CI's ``lowest`` job installs with)
is exactly what ``scripts/lowest_constraints.py`` derives from ``pyproject.toml``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]


def _script() -> ModuleType:
    path = ROOT / "scripts" / "lowest_constraints.py"
    spec = importlib.util.spec_from_file_location("lowest_constraints", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _script()
PYPROJECT = script.load()


def test_committed_constraints_match_the_floors_in_pyproject() -> None:
    committed = (ROOT / "constraints" / "lowest.txt").read_text(encoding="utf-8")
    assert committed == script.render(PYPROJECT), (
        "constraints/lowest.txt is stale: run python scripts/lowest_constraints.py"
    )


def test_every_runtime_dependency_and_runtime_extra_is_pinned_to_its_floor() -> None:
    pinned = {
        script.normalize(line.partition("==")[0]): line.partition("==")[2]
        for line in (ROOT / "constraints" / "lowest.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    for requirement in script.runtime_requirements(PYPROJECT):
        name, floor = script.floor_of(requirement)
        assert pinned[script.normalize(name)] == floor, requirement
    assert "pytest" not in pinned  # the dev tools float


def test_dev_extra_repeats_runtime_packages_with_the_same_floor() -> None:
    runtime = {
        script.normalize(script.floor_of(r)[0]): r.replace(" ", "")
        for r in script.runtime_requirements(PYPROJECT)
    }
    for requirement in PYPROJECT["project"]["optional-dependencies"]["dev"]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
        if script.normalize(name) in runtime:
            assert requirement.replace(" ", "") == runtime[script.normalize(name)], requirement


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("numpy>=1.25", ("numpy", "1.25")),
        ("mlflow-skinny==3.17.2", ("mlflow-skinny", "3.17.2")),
        ("tabulate[widechars] >= 0.9", ("tabulate", "0.9")),
        ("numpy>=1.25,<3,!=2.0.1", ("numpy", "1.25")),
        ("skops~=0.12", ("skops", "0.12")),
    ],
)
def test_floor_of_reads_a_plain_floor(requirement: str, expected: tuple[str, str]) -> None:
    assert script.floor_of(requirement) == expected


@pytest.mark.parametrize(
    "requirement",
    ["numpy", "numpy<3", "numpy>1.25", "numpy>=1.25,==2.0", "tomli>=2; python_version < '3.11'"],
)
def test_floor_of_refuses_what_is_not_one_plain_floor(requirement: str) -> None:
    with pytest.raises(ValueError):
        script.floor_of(requirement)
