"""The commented ``cml-bot.yaml`` that ``cml-bot init`` writes, from the answers it gathered.

The config is for the built-in scikit-learn trainer (a random forest), with every section
commented and the common alternatives shown commented out; ``docs/configuration.md`` has every
field. :func:`cml_bot.scaffold.setup.plan` validates it before anything is written.
"""

from __future__ import annotations

from cml_bot import __version__
from cml_bot.scaffold.data import Answers, default_metrics
from cml_bot.scaffold.workflows import yaml_scalar


def render_config(answers: Answers) -> str:
    """A commented cml-bot.yaml for the built-in scikit-learn trainer."""
    assert answers.task and answers.data and answers.target and answers.model_name
    id_column = answers.id_column
    task = answers.task
    metrics = answers.metrics or default_metrics(task, None)
    primary = metrics[0]
    estimator = (
        "sklearn.ensemble.RandomForestClassifier"
        if task == "classification"
        else "sklearn.ensemble.RandomForestRegressor"
    )
    id_line = (
        _c(
            f"  id_column: {yaml_scalar(id_column)}",
            "stable row ids: rows are compared one by one",
        )
        if id_column
        else _c("  # id_column: customer_id", "a column with stable row ids; default: row position")
    )
    q = yaml_scalar
    return f"""\
# cml-bot configuration (written by `cml-bot init`, cml-bot {__version__}).
# Every field, its default and an example: docs/configuration.md. Check it: `cml-bot validate`.

model:
{_c(f"  name: {q(answers.model_name)}", "names the registered model, the PR comment, the status")}
  task: {task}

train:                       # the built-in scikit-learn trainer ...
{_c(f"  data: {q(answers.data)}", "CSV or Parquet (relative to this file), or sklearn:<name>")}
  target: {q(answers.target)}
{id_line}
  estimator: {estimator}
  params:                    # estimator parameters; try others with `cml-bot run --local --set k=v`
    n_estimators: 100
  seed: 0                    # one seed for the split, the estimator and the statistics
  # ... or your own training script instead of data/target/estimator (docs/training-contract.md):
  # command: ["{{python}}", "train.py", "--out", "{{output_dir}}", "--params", "{{params_json}}"]

evaluate:
  test_size: 0.25            # a seeded split of train.data (or set `data:` to a test file)
{_c(f"  metrics: [{', '.join(map(q, metrics))}]", "scikit-learn scorer names (see the docs)")}
  # slices: [region]         # compare per value of these columns too

gates:                       # what fails the commit status
  {q(primary)}:
    forbid: significant_regression   # fail when it gets worse by more than noise
    # max_drop: 0.01         # ... or when it drops by more than this, significant or not
    # min: 0.80              # ... or when it falls below an absolute floor

baseline: champion           # the deployed model; the first PR retrains the base commit

registry:
  tracking_uri: null         # null: MLFLOW_TRACKING_URI, else a local store in .cml-bot/
  # tracking_uri: https://mlflow.example.com   # a shared MLflow server (README: scaling)

deploy:
  alias: champion            # the registry alias that marks the deployed model
  environment: production    # the GitHub Deployment environment (cml-bot-deploy.yml)
  # command: ["./deploy.sh"]  # a hook run after promotion, with MODEL_URI in its environment

commands:                    # slash commands in PR comments, and who may use them
  retrain: {{permission: write, params: [n_estimators, max_depth]}}
  deploy: {{permission: maintain}}
  rollback: {{permission: maintain}}
"""


def _c(text: str, comment: str, column: int = 29) -> str:
    """``text`` with ``# comment`` aligned at ``column`` (or one space after a longer text)."""
    return f"{text:<{column - 1}} # {comment}"
