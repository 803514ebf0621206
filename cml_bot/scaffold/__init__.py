"""``cml-bot init``: what it asks, what it infers from the data, and the config and workflows it
writes (least privilege, pinned actions).

May import: ``core``, ``config``, ``ml``.
"""

from cml_bot.scaffold.data import Answers
from cml_bot.scaffold.setup import gather, layout, next_steps, plan, refuse_existing, write
from cml_bot.scaffold.workflows import DEFAULT_ACTION_REF

__all__ = [
    "DEFAULT_ACTION_REF",
    "Answers",
    "gather",
    "layout",
    "next_steps",
    "plan",
    "refuse_existing",
    "write",
]
