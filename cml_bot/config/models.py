"""``cml-bot.yaml``: typed models, defaults, loading and validation with errors that say the fix.

Pure: reads the file it is given and nothing else (no environment, no adapters).
"""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from cml_bot import DEFAULT_CONFIG_FILE
from cml_bot.core import ConfigError
from cml_bot.core import metrics as metrics

Permission = Literal["none", "read", "triage", "write", "maintain", "admin"]
PERMISSION_ORDER: tuple[str, ...] = ("none", "read", "triage", "write", "maintain", "admin")
DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.RandomForestClassifier",
    "regression": "sklearn.ensemble.RandomForestRegressor",
}
_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _argv(value: Any) -> Any:
    """A command given as one string is split like a shell line (never run through a shell)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot split the command line: {exc}") from None
    return value


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
        description="A column that identifies rows; default: the row position in the data file.",
    )
    estimator: str | None = Field(
        None,
        description="Import path of a scikit-learn compatible "
        "estimator; default by task: RandomForestClassifier/Regressor.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Estimator parameters.")
    command: list[str] | None = Field(
        None,
        description="Your own training command instead of "
        "the built-in trainer: an argument list (or one string split "
        "like a shell line, never run by a shell). Placeholders: "
        "{output_dir}, {eval_data}, {params_json}, {seed}.",
    )
    timeout: int = Field(3600, gt=0, description="Seconds before the training command is stopped.")
    seed: int = Field(
        0, ge=0, description="Random seed for the split, the estimator and the statistics."
    )

    _split_command = field_validator("command", mode="before")(_argv)

    @model_validator(mode="after")
    def _one_trainer(self) -> TrainSection:
        if self.command is None and self.data is None:
            raise ValueError("set either `data` (built-in trainer) or `command` (your own trainer)")
        if self.command is not None and len(self.command) == 0:
            raise ValueError("`command` is empty: give the program and its arguments")
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
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of the intervals.")
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
    require: Literal["significant_improvement"] | None = Field(
        None, description="Fail unless the change is a significant improvement."
    )
    forbid: Literal["significant_regression"] | None = Field(
        None, description="Fail on a significant regression, whatever its size."
    )

    @model_validator(mode="after")
    def _bounds(self) -> Gate:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class RegistrySection(_Strict):
    backend: Literal["auto", "mlflow", "github"] = Field(
        "auto",
        description="auto: mlflow when a tracking URI is set, github inside Actions, else "
        "the local SQLite store.",
    )
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; default "
        "MLFLOW_TRACKING_URI, else sqlite:///.cml-bot/mlflow.db.",
    )


class DeploySection(_Strict):
    alias: str = Field(
        "champion",
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$",
        description="The registry alias that marks the deployed model.",
    )
    environment: str = Field("production", description="GitHub Deployment environment.")
    command: list[str] | None = Field(
        None,
        description="Deploy hook (argument list); gets "
        "MODEL_URI, MODEL_VERSION and MODEL_NAME in its environment.",
    )
    timeout: int = Field(600, gt=0, description="Seconds before the deploy hook is stopped.")

    _split_command = field_validator("command", mode="before")(_argv)


class CommandSpec(_Strict):
    permission: Permission = Field("write", description="Least repository permission needed.")
    params: list[str] = Field(
        default_factory=list, description="Parameter keys `/retrain` may override."
    )


class CommandsSection(_Strict):
    retrain: CommandSpec = CommandSpec(permission="write")
    evaluate: CommandSpec = CommandSpec(permission="write")
    deploy: CommandSpec = CommandSpec(permission="maintain")
    rollback: CommandSpec = CommandSpec(permission="maintain")
    help: CommandSpec = CommandSpec(permission="none")


class ReportSection(_Strict):
    template: str | None = Field(None, description="Your own Jinja2 report template (path).")
    max_chars: int = Field(65000, ge=2000, le=65000, description="Size budget of the comment.")


class Config(_Strict):
    model: ModelSection
    train: TrainSection
    evaluate: EvaluateSection = EvaluateSection()
    gates: dict[str, Gate] = Field(default_factory=dict, description="Per-metric gates.")
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
            if name not in self.evaluate.metrics:
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


class _FieldError(ValueError):
    def __init__(self, loc: tuple[Any, ...], value: Any, problem: str, fix: str):
        super().__init__(problem)
        self.loc, self.value, self.problem, self.fix = loc, value, problem, fix


def _or(items: list[str] | tuple[str, ...]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (for key suggestions)."""
    model: Any = Config
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return model
        ann = field.annotation
        model = (
            ann
            if isinstance(ann, type) and issubclass(ann, BaseModel)
            else Gate
            if part == "gates"
            else None
        )
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(err: Any) -> str:
    loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
    kind, value = err["type"], err.get("input")
    where = _path(loc)
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        known = list(owner.model_fields) if owner else []
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        fix = f"did you mean '{hint[0]}'?" if hint else f"allowed keys here: {', '.join(known)}"
        return f"{where}: unknown key '{loc[-1]}'\n  fix: {fix}"
    if kind == "missing":
        return f"{where}: required but missing\n  fix: add `{loc[-1]}:` to {_path(loc[:-1])}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{where}: {value!r} is not allowed\n  fix: use one of {expected}"
    if kind == "value_error" and isinstance(err.get("ctx", {}).get("error"), _FieldError):
        fe: _FieldError = err["ctx"]["error"]
        return f"{_path(fe.loc)}: {fe.value!r} {fe.problem}\n  fix: {fe.fix}"
    msg = err["msg"].removeprefix("Value error, ")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"{where}: {msg}{shown}\n  fix: {_FIXES.get(kind, 'correct the value in the config')}"


_FIXES = {
    "string_type": "write a string (quote it in YAML)",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "list_type": "write a YAML list, e.g. [a, b]",
    "dict_type": "write a mapping of key: value",
    "model_type": "write a mapping of key: value",
    "string_pattern_mismatch": "use letters, digits, '.', '_' or '-' (no spaces)",
    "greater_than": "write a larger number",
    "greater_than_equal": "write a larger number",
    "less_than": "write a smaller number",
    "less_than_equal": "write a smaller number",
}


def parse_config(data: Any, *, root: Path | None = None, source: str = "config") -> Config:
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
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(
            f"{source} is invalid ({len(lines)} problem"
            f"{'s' if len(lines) > 1 else ''}):\n" + "\n".join(lines)
        ) from None
    cfg._root = root or Path.cwd()
    return cfg


def load_config(path: str | Path = DEFAULT_CONFIG_FILE) -> Config:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path}",
            fix="create it with `cml-bot init`, or pass --config PATH",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            fix="fix the YAML syntax (indentation, quotes, colons)",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", fix="save the file as UTF-8") from None
    cfg = parse_config(data, root=path.resolve().parent, source=str(path))
    cfg._file_name = path.name
    return cfg


_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["n_estimators=300", "max_depth=null"]`` -> typed values (YAML scalars)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.match(key):
            raise ConfigError(
                f"override {pair!r} is not key=value",
                fix="write it as name=value, e.g. n_estimators=300",
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)):
            raise ConfigError(
                f"override {key}: {raw!r} must be a single value",
                fix="give a number, a string, true/false or null",
            )
        out[key] = value
    return out


def apply_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    """A new config with overrides applied. A bare key (``n_estimators``) means ``train.params``;
    a dotted key (``evaluate.test_size``) names any field. The result is validated again."""
    if not overrides:
        return cfg
    data = cfg.model_dump(exclude_defaults=False)
    for key, value in overrides.items():
        parts = key.split(".") if "." in key else ["train", "params", key]
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {} if node.get(part) is None else node[part]
                if not isinstance(node[part], dict):
                    raise ConfigError(
                        f"override {key}: {part} is not a section",
                        fix="name a field inside a section, e.g. train.params.x=1",
                    )
            node = node[part]
        node[parts[-1]] = value
    new = parse_config(data, root=cfg.root, source="config with overrides")
    new._file_name = cfg.file_name
    return new


def permission_at_least(have: str, need: str) -> bool:
    """True when permission ``have`` is at least ``need`` (none < read < ... < admin)."""
    order = {p: i for i, p in enumerate(PERMISSION_ORDER)}
    return order.get(have, 0) >= order[need]
