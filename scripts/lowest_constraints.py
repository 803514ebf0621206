#!/usr/bin/env python3
"""Write ``constraints/lowest.txt``: every runtime dependency pinned to its declared floor.

The floors are said once, in ``pyproject.toml``; this file is derived from them. It covers
``[project] dependencies`` and every extra except ``dev`` (the test tools float). CI's
``lowest`` job installs with it, so each floor is a version the test suite has passed on::

    python -m pip install -e '.[dev]' -c constraints/lowest.txt

Every runtime requirement must name exactly one floor, ``>=X``, ``~=X`` or ``==X`` (an exact
pin is its own floor), beside any ``<``, ``<=`` or ``!=``; anything else (no floor, ``>X``, an
environment marker) is refused rather than guessed.

Usage::

    python scripts/lowest_constraints.py           # rewrite constraints/lowest.txt
    python scripts/lowest_constraints.py --check   # exit 1 if it differs from pyproject.toml
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest and mypy bring tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
OUTPUT = ROOT / "constraints" / "lowest.txt"
NOT_RUNTIME = {"dev"}  # the extras whose requirements are tools, not what cml-bot runs with

REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"\s*(?:\[[^\]]*\])?"  # extras: constraints files cannot carry them
    r"\s*(?P<specs>[^;]*)$"
)
FLOOR = re.compile(r"^(?:>=|==|~=)\s*(?P<version>[0-9][0-9A-Za-z.+!-]*)$")
CEILING = re.compile(r"^(<=|<|!=)\s*[0-9][0-9A-Za-z.*+!-]*$")  # allowed beside a floor
HEADER = """\
# The lowest supported version of every runtime dependency: CI's `lowest` job installs with
#   python -m pip install -e '.[dev]' -c constraints/lowest.txt
# Generated from pyproject.toml by scripts/lowest_constraints.py; do not edit, run it instead.
"""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements(pyproject: dict) -> list[str]:
    """``dependencies``, then each runtime extra in file order."""
    project = pyproject["project"]
    reqs = list(project.get("dependencies", []))
    for extra, extra_reqs in project.get("optional-dependencies", {}).items():
        if extra not in NOT_RUNTIME:
            reqs.extend(extra_reqs)
    return reqs


def floor_of(requirement: str) -> tuple[str, str]:
    """(name, floor version) of one requirement string; ValueError if it has no plain floor."""
    match = REQUIREMENT.match(requirement.strip())
    if match is None or ";" in requirement:
        raise ValueError(f"{requirement!r}: not a plain requirement (markers are not supported)")
    floors = []
    for spec in filter(None, (s.strip() for s in match["specs"].split(","))):
        found = FLOOR.match(spec)
        if found is not None:
            floors.append(found["version"])
        elif CEILING.match(spec) is None:
            raise ValueError(f"{requirement!r}: {spec!r} is neither a floor nor a ceiling")
    if len(floors) != 1:
        raise ValueError(f"{requirement!r}: needs exactly one floor (>=X, ~=X or ==X)")
    return match["name"], floors[0]


def floors(pyproject: dict) -> dict[str, str]:
    """Declared name -> floor, one entry per distribution; a conflicting repeat is an error."""
    result: dict[str, str] = {}
    seen: dict[str, str] = {}
    for requirement in runtime_requirements(pyproject):
        name, version = floor_of(requirement)
        key = normalize(name)
        if key in seen:
            if result[seen[key]] != version:
                raise ValueError(f"{name}: two floors, {result[seen[key]]} and {version}")
            continue
        seen[key] = name
        result[name] = version
    return result


def render(pyproject: dict) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in floors(pyproject).items())


def load(path: Path = PYPROJECT) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    text = render(load())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run scripts/lowest_constraints.py")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
