"""What a model is made of: the files its training reads and the libraries it runs on.

- **Training paths** (:func:`training_paths`): the config file, the data files, the code the
  training runs (a ``train.command`` script and the local modules it imports, ``-m`` modules, a
  local estimator's module) and the dependency pins found next to the config (requirements,
  constraints, lock files). ``cml-bot init`` writes them as the deploy workflow's ``paths:``
  filter; a file outside the repository is left out of the filter (it cannot be watched).
- **Inputs fingerprint** (:func:`inputs_fingerprint`): a hash of the config's settings that shape
  the model, the other files' contents and the ``--set`` overrides, recorded with every run and
  registered version (``cml_bot.inputs``). A merge whose fingerprint (and library versions)
  equal the champion's would train the same model again: it deploys nothing.
- **Library versions** (:func:`library_versions`): Python, scikit-learn, numpy, pandas and the
  estimator's own distribution, recorded with every version (``cml_bot.lib.<name>``) and
  compared when the champion is scored (:func:`version_changes`).

Everything is read from files and package metadata: no module of the repository is imported.
"""

from __future__ import annotations

import ast
import hashlib
import json
import platform
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from cml_bot.config import Config
from cml_bot.core import file_sha256
from cml_bot.registry import ModelVersion

LIBRARIES = ("scikit-learn", "numpy", "pandas")
PYTHON = "python"
DEPENDENCY_FILES = (
    "requirements.txt",
    "requirements.lock",
    "requirements-lock.txt",
    "constraints.txt",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "environment.yml",
)
_OWN_MODULES = {"sklearn", "numpy", "pandas"}  # LIBRARIES' modules: no metadata scan for them
_SKIP_DIRS = {"__pycache__", ".git", ".cml-bot"}
_MAX_FILES = 2000  # a package this large is hashed no further (the filter still names it)


def training_paths(cfg: Config) -> list[Path]:
    """Every file or folder training reads, absolute, without duplicates, in a stable order."""
    found = [cfg.root / cfg.file_name]
    for spec in (cfg.train.data, cfg.evaluate.data):
        if spec and not spec.startswith("sklearn:"):
            found.append(cfg.resolve(spec))
    found += _code_paths(cfg)
    found += [cfg.root / name for name in DEPENDENCY_FILES if (cfg.root / name).is_file()]
    return list(dict.fromkeys(p.resolve() for p in found))


def filter_paths(cfg: Config, repo_root: Path) -> list[str]:
    """:func:`training_paths` as a workflow's ``paths:`` patterns, relative to ``repo_root``
    (a folder as ``folder/**``); paths outside the repository are left out."""
    root = repo_root.resolve()
    patterns = []
    for path in training_paths(cfg):
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            continue
        patterns.append(f"{rel}/**" if path.is_dir() else rel)
    return patterns


def inputs_fingerprint(cfg: Config, overrides: Mapping[str, Any]) -> str:
    """A hash of what training reads: the config's settings that shape the model
    (:func:`model_settings`: not gates, metrics or comments), the other training paths'
    contents (by path relative to the config) and the overrides. Equal fingerprints mean the
    same training inputs."""
    digest = hashlib.sha256()
    settings = {"config": model_settings(cfg), "overrides": dict(overrides)}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for rel, content in sorted(_file_digests(cfg)):
        digest.update(f"\n{rel}\0{content}".encode())
    return digest.hexdigest()[:16]


def model_settings(cfg: Config) -> dict[str, Any]:
    """The config's settings that change the trained model: the task, ``train`` (but its
    timeout and the variables it may see) and the evaluation split."""
    return {
        "task": cfg.model.task,
        "estimator": cfg.estimator,
        "train": cfg.train.model_dump(exclude={"timeout", "env"}),
        "split": {"data": cfg.evaluate.data, "test_size": cfg.evaluate.test_size},
    }


def library_versions(estimator: str | None) -> dict[str, str]:
    """The versions this process runs: Python, scikit-learn, numpy, pandas, and the
    distribution of ``estimator``'s top-level module when it is another one."""
    names = list(LIBRARIES)
    top = estimator.split(".")[0] if estimator else ""
    dist = _distribution_of(top) if top and top not in _OWN_MODULES else None
    if dist and dist not in names:
        names.append(dist)
    versions = {PYTHON: platform.python_version()}
    versions.update({name: v for name in names if (v := installed_version(name))})
    return versions


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (``python``: the interpreter's)."""
    if name == PYTHON:
        return platform.python_version()
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def version_changes(recorded: Mapping[str, str]) -> list[str]:
    """``name A → B`` for each library recorded with a model whose installed version here
    differs (``not installed`` when it is missing)."""
    changes = []
    for name, was in sorted(recorded.items()):
        now = installed_version(name)
        if now != was:
            changes.append(f"{name} {was} → {now or 'not installed'}")
    return changes


def libraries_note(version: ModelVersion) -> list[str]:
    """The report's note when ``version`` runs here on other library versions than it was
    trained with (none recorded: nothing to say)."""
    changes = version_changes(version.libraries)
    if not changes:
        return []
    return [
        f"v{version.version} was trained with other library versions than this run uses: "
        f"{'; '.join(changes)}. Its scores here may differ from those it was registered with, "
        "and part of the difference may be the libraries'; pin the versions (README, "
        '"Repeatable models").'
    ]


# --------------------------------------------------------------------------- the files


def _file_digests(cfg: Config) -> Iterator[tuple[str, str]]:
    """Each training path's files but the config (its settings count, not its text)."""
    root = cfg.root.resolve()
    config = (cfg.root / cfg.file_name).resolve()
    for path in training_paths(cfg):
        for file in _files(path) if path != config else ():
            try:
                rel = file.relative_to(root).as_posix()
            except ValueError:
                rel = file.as_posix()
            yield rel, file_sha256(file)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []  # a path that does not exist (yet) is no input; its absence changes nothing
    found = [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(path).parts)
    ]
    return found[:_MAX_FILES]


# --------------------------------------------------------------------------- the code


def _code_paths(cfg: Config) -> list[Path]:
    """The command's scripts (and the local modules they import), its ``-m`` modules, and a
    local estimator's module."""
    found: list[Path] = []
    argv = cfg.train.command or []
    for i, arg in enumerate(argv):
        if "{" in arg or arg.startswith("-"):
            continue
        if i > 0 and argv[i - 1] == "-m":
            found += _module(arg, cfg.root)
        elif (cfg.root / arg).is_file():
            found += _script_closure(cfg.root / arg, cfg.root)
        elif (cfg.root / arg).is_dir() and arg.strip("./"):
            found.append(cfg.root / arg)  # a folder the command is given (not the config's)
    if cfg.train.command is None and cfg.train.estimator:
        found += _module(cfg.train.estimator.rpartition(".")[0], cfg.root)
    return found


def _module(name: str, base: Path) -> list[Path]:
    """The local file or top-level package ``name`` comes from, if it is under ``base``."""
    top = name.split(".")[0]
    if not top:
        return []
    if (base / top).is_dir():
        return [base / top]
    return [base / f"{top}.py"] if (base / f"{top}.py").is_file() else []


def _script_closure(script: Path, root: Path) -> list[Path]:
    """``script``, the local modules it imports, transitively (looked up next to the script,
    then in the config's folder), and the files its string literals name (``"features.yaml"``,
    relative to the config's folder, where the command runs)."""
    seen: list[Path] = []
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        if path.is_file() and path.suffix == ".py":
            imports, literals = _references(path)
            for name in imports:
                for base in (path.parent, root):
                    local = _module(name, base)
                    if local:
                        todo += local
                        break
            seen += [root / t for t in literals if t.strip("./") and (root / t).is_file()]
    return seen


def _references(path: Path) -> tuple[list[str], list[str]]:
    """The modules ``path`` imports and its short one-line string literals."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return [], []
    names: list[str] = []
    literals: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals += [node.value] if _path_like(node.value) else []
    return names, literals


def _path_like(value: str) -> bool:
    return 0 < len(value) < 200 and not {"\n", "\0"} & set(value)


@lru_cache(maxsize=32)
def _distribution_of(module: str) -> str | None:
    """The distribution that installs top-level module ``module`` (``sklearn`` →
    ``scikit-learn``), from the installed packages' metadata."""
    dists = metadata.packages_distributions().get(module) or []
    return dists[0] if dists else None
