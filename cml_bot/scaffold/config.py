"""The commented ``cml-bot.yaml`` that ``cml-bot init`` writes, from the answers it gathered.

The config is for the built-in scikit-learn trainer (a random forest), with every section
commented and the common alternatives shown commented out; ``docs/configuration.md`` has every
field. The text is the Jinja2 template ``templates/scaffold/cml-bot.yaml.j2``.
:func:`cml_bot.scaffold.setup.plan` validates it before anything is written.
"""

from __future__ import annotations

from cml_bot import __version__
from cml_bot.scaffold.data import Answers, default_metrics
from cml_bot.scaffold.templates import render

TEMPLATE = "cml-bot.yaml.j2"


def render_config(answers: Answers) -> str:
    """A commented cml-bot.yaml for the built-in scikit-learn trainer."""
    assert answers.task and answers.data and answers.target and answers.model_name
    return render(
        TEMPLATE,
        version=__version__,
        model_name=answers.model_name,
        task=answers.task,
        data=answers.data,
        target=answers.target,
        id_column=answers.id_column,
        metrics=answers.metrics or default_metrics(answers.task, None),
    )
