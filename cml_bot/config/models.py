"""``cml-bot.yaml``: typed models, defaults, and validation of parsed YAML
(:func:`parse_config`) with errors that say the fix (:mod:`cml_bot.config.errors`). Reading the
file and ``--set`` overrides are in :mod:`cml_bot.config.loading`.

Pure: no environment, no adapters, no files.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from cml_bot import DEFAULT_CONFIG_FILE
from cml_bot.config.errors import _FieldError, _or, describe
from cml_bot.config.gatecheck import check_metric_gate
from cml_bot.config.latency import LATENCY_GATE, check_latency_gate
from cml_bot.config.sections import (
    PERMISSION_ORDER,
    CommandsSection,
    DeploySection,
    RegistrySection,
    ReportSection,
    VerdictSection,
    _argv,
    _Strict,
)
from cml_bot.core import ConfigError
from cml_bot.core import metrics as metrics

DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.RandomForestClassifier",
    "regression": "sklearn.ensemble.RandomForestRegressor",
}
_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class ModelSection(_Strict):
    name: str = Field(
        pattern=_NAME_RE,
        description="Registered model name; also names the sticky "
        "comment and the commit status context (`cml-bot/<name>`).",
    )
    task: Literal["classification", "regression"] = Field(
        "classification", description="What the model predicts."
    )


class TrainSection(_Strict):
    data: str | None = Field(
        None,
        description="Training data: a CSV or Parquet path relative to "
        "the config file, or `sklearn:<name>` for a dataset that ships with "
        "scikit-learn (iris, wine, breast_cancer, diabetes, digits).",
    )
    target: str | None = Field(None, description="The label column.")
    features: list[str] | None = Field(
        None, description="Feature columns; default: every column but the target and the id column."
    )
    id_column: str | None = Field(
        None,
        description="A column that identifies rows (unique values). Without one, a row is "
        "identified by a hash of its content (every column) and, among identical rows, its "
        "occurrence number: adding, deleting or reordering rows keeps the others' identity; "
        "editing a cell makes that row a new one. The identity decides which evaluation rows a "
        "model was trained on, so that no model is scored on them.",
    )
    estimator: str | None = Field(
        None,
        description="Import path of a scikit-learn compatible "
        "estimator; default by task: RandomForestClassifier/Regressor. The built-in trainer puts "
        "preprocessing in front of it, saved with the model: numeric columns get missing values "
        "replaced by the training median; text (non-numeric) columns get missing values replaced "
        "by the most frequent value and are one-hot encoded (a category unseen in training "
        "encodes as all zeros). Nothing is scaled: add scaling inside your own estimator (e.g. a "
        "Pipeline class) if it needs it.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Estimator parameters.")
    command: list[str] | None = Field(
        None,
        description="Your own training command instead of "
        "the built-in trainer: an argument list (or one string split "
        "like a shell line, never run by a shell). Placeholders: "
        "{output_dir}, {eval_data}, {params_json}, {seed}.",
    )
    timeout: int = Field(
        3600,
        gt=0,
        description="Seconds before training (the command, or the built-in trainer's worker) "
        "or scoring a registered model is stopped.",
    )
    env: list[str] = Field(
        default_factory=list,
        description="Environment variables the training command may see although they are "
        "named like credentials (e.g. `HF_TOKEN`); every other token, password, key and the "
        "GitHub and MLflow credentials are withheld from training. Privileged: read from the "
        "default branch's config.",
    )
    seed: int = Field(
        0, ge=0, description="Random seed for the split, the estimator and the statistics."
    )

    _split_command = field_validator("command", mode="before")(_argv)

    @model_validator(mode="after")
    def _one_trainer(self) -> TrainSection:
        if self.command is None and self.data is None:
            raise _FieldError(
                ("train",),
                None,
                "has nothing to train from: neither `data` nor `command` is set",
                "set train.data (a CSV or Parquet file, or sklearn:<name>) for the built-in "
                "trainer, or train.command for your own",
            )
        if self.command is not None and len(self.command) == 0:
            raise _FieldError(
                ("train", "command"), [], "is empty", "give the program and its arguments"
            )
        if (
            self.data is not None
            and self.command is None
            and not self.target
            and not self.data.startswith("sklearn:")
        ):
            raise _FieldError(
                ("train", "target"),
                None,
                "is required with a data file",
                "name the label column in train.target",
            )
        if self.command is not None and self.estimator is not None:
            raise _FieldError(
                ("train", "estimator"),
                self.estimator,
                "is not used: `train.command` trains the model, so the built-in trainer and "
                "its estimator never run (train.params still reach the command as {params_json})",
                "remove train.estimator, or remove train.command to use the built-in trainer",
            )
        if (
            self.data is not None
            and self.command is None
            and not self.target
            and not self.data.startswith("sklearn:")
        ):
            raise ValueError("`target` is required with a data file: name the label column")
        return self


class EvaluateSection(_Strict):
    data: str | None = Field(
        None, description="Evaluation data file; default: a seeded split of `train.data`."
    )
    test_size: float = Field(
        0.25,
        gt=0,
        lt=1,
        description="Share of `train.data` held out for evaluation when `data` is not set.",
    )
    metrics: list[str] = Field(
        default_factory=list, description="scikit-learn scorer names; default by task."
    )
    slices: list[str] = Field(default_factory=list, description="Columns to compare per value.")
    group_column: str | None = Field(
        None,
        description="A column grouping dependent rows (per customer, patient, session): "
        "intervals resample whole groups. Needs about 40 groups (docs/statistics.md).",
    )

    @property
    def row_columns(self) -> list[str]:
        """The evaluation columns kept with the predictions: the slices and the group column."""
        extra = [self.group_column] if self.group_column else []
        return list(dict.fromkeys([*self.slices, *extra]))

    min_rows: int = Field(
        30,
        ge=1,
        description="Fewest evaluation rows a comparison with the champion may rest on. Rows a "
        "model was trained on are set aside (rows are identified by `train.id_column`, else by a "
        "hash of their content); when fewer than this many remain, the baseline is the base "
        "commit retrained on the candidate's split instead, and the report says so.",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of the intervals.")
    latency_rounds: int = Field(
        7,
        ge=0,
        le=100,
        description="Rounds in which the candidate and the baseline are timed together, "
        "interleaved, in one worker process on the same rows (0: not timed, no latency ratio).",
    )
    n_resamples: int = Field(
        2000, ge=100, le=100000, description="Bootstrap resamples where one is needed."
    )


class Gate(_Strict):
    min: float | None = Field(None, description="Absolute floor for the candidate's value.")
    max: float | None = Field(None, description="Absolute ceiling for the candidate's value.")
    max_drop: float | None = Field(
        None,
        ge=0,
        description="Allowed regression versus the "
        "baseline, in the metric's units (direction from the metric).",
    )
    min_improvement: float | None = Field(
        None,
        ge=0,
        description="Required gain over the baseline, in the metric's units (direction from "
        "the metric); judged like max_drop.",
    )
    require: Literal["significant_improvement"] | None = Field(
        None, description="Fail unless the change is a significant improvement."
    )
    forbid: Literal["significant_regression"] | None = Field(
        None, description="Fail on a significant regression, whatever its size."
    )
    judge: Literal["interval", "point"] = Field(
        "interval",
        description="How max_drop and min_improvement are judged. `interval`: pass when the "
        "whole confidence interval of the change clears the threshold, fail when it lies "
        "entirely beyond it, inconclusive in between. `point`: the point estimate alone "
        "(pass or fail, blind to noise).",
    )
    severity: Literal["fail", "warn"] = Field(
        "fail",
        description="`warn`: a failed or inconclusive gate is shown in the report but does "
        "not decide the status.",
    )

    @model_validator(mode="after")
    def _bounds(self) -> Gate:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g}): no value passes")
        return self


class Config(_Strict):
    model: ModelSection
    train: TrainSection
    evaluate: EvaluateSection = EvaluateSection()
    gates: dict[str, Gate] = Field(default_factory=dict, description="Per-metric gates.")
    verdict: VerdictSection = VerdictSection()
    baseline: Literal["champion", "base", "none"] = Field(
        "champion", description="What the candidate is compared with."
    )
    registry: RegistrySection = RegistrySection()
    deploy: DeploySection = DeploySection()
    commands: CommandsSection = CommandsSection()
    report: ReportSection = ReportSection()

    _root: Path = PrivateAttr(default_factory=Path.cwd)
    _file_name: str = PrivateAttr(default=DEFAULT_CONFIG_FILE)

    @model_validator(mode="after")
    def _metrics(self) -> Config:
        task = self.model.task
        if not self.evaluate.metrics:
            object.__setattr__(self.evaluate, "metrics", list(metrics.DEFAULT_METRICS[task]))
        for i, name in enumerate(self.evaluate.metrics):
            spec = metrics.METRICS.get(name)
            if spec is None:
                hint = metrics.suggest(name, task)
                raise _FieldError(
                    ("evaluate", "metrics", i),
                    name,
                    "is not a scikit-learn scorer cml-bot knows",
                    f"did you mean {_or(hint)}?"
                    if hint
                    else "see docs/configuration.md for the list",
                )
            if spec.task != task:
                raise _FieldError(
                    ("evaluate", "metrics", i),
                    name,
                    f"is a {spec.task} metric",
                    f"model.task is {task}: use one of {_or(metrics.DEFAULT_METRICS[task])}",
                )
        for name in self.gates:
            if name == LATENCY_GATE:
                check_latency_gate(self.gates[name])
            elif name in self.evaluate.metrics:
                check_metric_gate(name, self.gates[name])
            else:
                hint = difflib.get_close_matches(name, self.evaluate.metrics, n=1, cutoff=0.5)
                raise _FieldError(
                    ("gates", name),
                    name,
                    "gates a metric that is not evaluated",
                    f"did you mean {_or(hint)}?"
                    if hint
                    else f"add it to evaluate.metrics or gate one of {_or(self.evaluate.metrics)}",
                )
        return self

    @property
    def file_name(self) -> str:
        """The config file's name (``cml-bot.yaml`` unless --config named another)."""
        return self._file_name

    @property
    def root(self) -> Path:
        """The folder the config file is in; relative paths resolve against it."""
        return self._root

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self._root / p

    @property
    def estimator(self) -> str:
        return self.train.estimator or DEFAULT_ESTIMATORS[self.model.task]


def parse_config(data: object, *, root: Path | None = None, source: str = "config") -> Config:
    """Validate already-parsed YAML. Raises :class:`ConfigError` naming field, value and fix."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping, got {type(data).__name__}",
            fix="start the file with `model:` and `train:` sections",
        )
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        lines = [describe(e, Config) for e in exc.errors()]
        raise ConfigError(
            f"{source} is invalid ({len(lines)} problem"
            f"{'s' if len(lines) > 1 else ''}):\n" + "\n".join(lines)
        ) from None
    cfg._root = root or Path.cwd()
    return cfg


def permission_at_least(have: str, need: str) -> bool:
    """True when permission ``have`` is at least ``need`` (none < read < ... < admin)."""
    order = {p: i for i, p in enumerate(PERMISSION_ORDER)}
    return order.get(have, 0) >= order[need]
