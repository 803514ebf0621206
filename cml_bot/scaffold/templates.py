"""The Jinja2 templates of the files ``cml-bot init`` writes, and how a value goes into them.

The templates live in the top-level ``templates/scaffold/`` folder, shipped in the wheel as
``cml_bot/templates/scaffold/`` (``[tool.hatch.build.targets.wheel.force-include]``); an
editable install reads them from the source tree, as :mod:`cml_bot.report.render` does for
``report.md.j2``.

They render YAML, so Jinja's HTML autoescape is off: every value a user chose (a branch, a path,
a column name ...) goes through the ``yaml_scalar`` filter, which quotes it when YAML would read
it as something else. A missing variable is an error (``StrictUndefined``), never an empty
string. ``trim_blocks`` and ``lstrip_blocks`` let a ``{% ... %}`` tag stand on its own line.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FunctionLoader, StrictUndefined

FOLDER = "scaffold"


def yaml_scalar(value: str) -> str:
    """A string as one YAML scalar (quoted when YAML would read it as something else)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def template_source(name: str) -> str:
    """The text of ``templates/scaffold/<name>`` (wheel: ``cml_bot/templates``; editable:
    ``templates/``)."""
    try:
        res = resources.files("cml_bot") / "templates" / FOLDER / name
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        pass
    fallback = Path(__file__).resolve().parents[2] / "templates" / FOLDER / name
    return fallback.read_text(encoding="utf-8")


@cache
def environment() -> Environment:
    """The one Jinja2 environment for the scaffold templates (they ``include`` each other)."""
    env = Environment(
        loader=FunctionLoader(template_source),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML, not HTML: user values go through yaml_scalar
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml_scalar"] = yaml_scalar
    return env


def render(name: str, **context: Any) -> str:
    """Render ``templates/scaffold/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)
