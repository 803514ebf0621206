"""``cml-bot.yaml``: the validated models (pydantic v2), loading with duplicate-key and
field-path errors, ``--set`` overrides, and the generated reference (``python -m
cml_bot.config.reference``).

May import: ``core``, pydantic, PyYAML. Pure apart from reading the file it is given.
"""

from cml_bot.config.models import (
    CommandsSection,
    Config,
    Gate,
    apply_overrides,
    load_config,
    parse_config,
    parse_overrides,
    permission_at_least,
)

__all__ = [
    "CommandsSection",
    "Config",
    "Gate",
    "apply_overrides",
    "load_config",
    "parse_config",
    "parse_overrides",
    "permission_at_least",
]
