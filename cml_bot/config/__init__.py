"""``cml-bot.yaml``, one module per job:

* ``models``: the validated models (pydantic v2), their defaults, and :func:`parse_config`;
  ``sections``: the settings sections it composes (registry, deploy, verdict, commands, report);
* ``errors``: each validation problem as its field's path, the value and the fix;
* ``loading``: reading the file (YAML errors with line and column, a key given twice with
  both lines) and ``--set`` overrides;
* ``trusted``: the privileged settings a pull request may not choose for itself;
* ``reference``: the generated reference (``python -m cml_bot.config.reference``).

May import: ``core``, pydantic, PyYAML. Pure apart from reading the file it is given.
"""

from cml_bot.config.latency import LATENCY_GATE
from cml_bot.config.loading import (
    apply_overrides,
    config_from_text,
    edit_params,
    load_config,
    parse_overrides,
    read_yaml,
)
from cml_bot.config.models import Config, Gate, parse_config, permission_at_least
from cml_bot.config.sections import CommandsSection
from cml_bot.config.trusted import PRIVILEGED, with_trusted

__all__ = [
    "LATENCY_GATE",
    "PRIVILEGED",
    "CommandsSection",
    "Config",
    "Gate",
    "apply_overrides",
    "config_from_text",
    "edit_params",
    "load_config",
    "parse_config",
    "parse_overrides",
    "permission_at_least",
    "read_yaml",
    "with_trusted",
]
