"""``cml-bot doctor``: checks of the config, the data, the workflows, the token and the tracking
store, each with its fix.

May import: ``core``, ``config``, ``ml``, ``github``, ``registry``.
"""

from cml_bot.doctor.check import Inputs
from cml_bot.doctor.diagnose import exit_code, render, run

__all__ = ["Inputs", "exit_code", "render", "run"]
