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
