"""Reading ``cml-bot.yaml`` (YAML errors with their line and column) and ``--set`` overrides.

Pure: reads the file it is given and nothing else (no environment, no adapters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cml_bot import DEFAULT_CONFIG_FILE
from cml_bot.config.models import Config, parse_config
from cml_bot.core import ConfigError

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Python's spelling of "no value", which YAML reads as text: refused with the YAML spelling.
PYTHON_NONE = frozenset({"None"})


class _UniqueKeys(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error: PyYAML
    keeps the last one silently, so `gates:` written twice would drop the first block."""


def _mapping(loader: _UniqueKeys, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, str | int | float | bool) and key in seen:
            raise _Duplicate(key, seen[key], line)
        if isinstance(key, str | int | float | bool):
            seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Duplicate(Exception):
    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(key, first, second)
        self.key, self.first, self.second = key, first, second


def read_yaml(text: str, source: str) -> Any:
    """YAML text parsed safely, or a :class:`ConfigError` naming the line: bad syntax, or a key
    given twice in one mapping (both lines named)."""
    try:
        return yaml.load(text, Loader=_UniqueKeys)  # noqa: S506 - a SafeLoader subclass
    except _Duplicate as dup:
        raise ConfigError(
            f"{source}: the key '{dup.key}' is given twice, at line {dup.first} and line "
            f"{dup.second}; YAML would silently keep only the second",
            fix=f"merge the two '{dup.key}' entries into one",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{source}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            fix="fix the YAML syntax (indentation, quotes, colons)",
        ) from None


def load_config(path: str | Path = DEFAULT_CONFIG_FILE) -> Config:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path}",
            fix="create it with `cml-bot init`, or pass --config PATH",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", fix="save the file as UTF-8") from None
    return config_from_text(text, root=path.resolve().parent, source=str(path), name=path.name)


def config_from_text(text: str, *, root: Path, source: str, name: str) -> Config:
    """A config from its text (a file, or ``git show REF:PATH``); ``source`` names it in errors."""
    cfg = parse_config(read_yaml(text, source), root=root, source=source)
    cfg._file_name = name
    return cfg


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["n_estimators=300", "max_depth=null", "-min_samples_leaf"]`` -> typed values (YAML
    scalars; ``null`` and ``~`` are None); ``-name`` removes a parameter (the key ``-name``)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep and key.startswith("-") and _PARAM_RE.match(key[1:]):
            out[key] = None
            continue
        if not sep or not _KEY_RE.match(key):
            raise ConfigError(
                f"override {pair!r} is not key=value",
                fix="write it as name=value, e.g. n_estimators=300 (-name removes a parameter)",
            )
        out[key] = _scalar(key, raw)
    return out


def _scalar(key: str, raw: str) -> Any:
    """One ``--set`` value read as YAML; Python's ``None`` and collections are refused."""
    if raw.strip() in PYTHON_NONE:
        raise ConfigError(
            f"override {key}={raw.strip()}: YAML reads `{raw.strip()}` as the text "
            f"'{raw.strip()}', not as no value",
            fix=f"write {key}=null (or {key}=~) to set it to None, or -{key} to remove it",
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
    return value


def edit_params(cfg: Config, overrides: Mapping[str, object]) -> tuple[Config, dict[str, Any]]:
    """The bare-key overrides of ``--set`` and ``/retrain`` applied to ``train``:
    ``estimator=PATH`` switches the estimator and empties ``train.params`` (the new estimator's
    own defaults), ``-name`` removes ``train.params.name``. Returns the config and the
    remaining parameter values (applied over ``train.params`` by the trainer)."""
    values = {k: v for k, v in overrides.items() if _PARAM_RE.match(k) and k != "estimator"}
    removed = [k[1:] for k in overrides if k.startswith("-")]
    if "estimator" not in overrides and not removed:
        return cfg, values
    train = cfg.train.model_dump()
    for key in removed:
        _check_removal(key, train["params"], values)
        del train["params"][key]
    if "estimator" in overrides:
        train.update(estimator=_estimator_path(overrides["estimator"]), params={})
    data = {**cfg.model_dump(), "train": train}
    new = parse_config(data, root=cfg.root, source="config with overrides")
    new._file_name = cfg.file_name
    return new, values


def _check_removal(key: str, params: Mapping[str, object], values: Mapping[str, object]) -> None:
    if key in values:
        raise ConfigError(
            f"override -{key}: {key} is also set ({key}={values[key]!r})",
            fix=f"either set {key}=VALUE or remove it with -{key}, not both",
        )
    if key not in params:
        raise ConfigError(
            f"override -{key}: train.params has no '{key}' to remove "
            f"({', '.join(params) or 'none is set'})",
            fix="name a parameter set in train.params",
        )


def _estimator_path(value: object) -> str:
    if not isinstance(value, str) or "." not in value:
        raise ConfigError(
            f"override estimator={value!r} is not an import path",
            fix="write estimator=module.Class, e.g. "
            "estimator=sklearn.linear_model.LogisticRegression",
        )
    return value


def apply_overrides(cfg: Config, overrides: Mapping[str, object]) -> Config:
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
