"""Doctor check of the library versions a model is trained and scored with: what this
environment runs (what each registered version records, ``cml_bot.lib.*``) and what the
repository pins, so that a champion trained months ago is scored by the same code."""

from __future__ import annotations

import re
from pathlib import Path

from cml_bot.config import Config
from cml_bot.doctor.check import Check

PIN_FIX = (
    "pin them in a constraints or lock file that CI installs, e.g. `pip freeze | grep -iE "
    "'^(scikit-learn|numpy|pandas)==' > constraints.txt` and `pip install -r "
    'requirements.txt -c constraints.txt` (README, "Repeatable models")'
)
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#,]+)", re.M)
_LOCKED = re.compile(r'^name = "([^"]+)"\s*\nversion = "([^"]+)"', re.M)


def check_libraries(cfg: Config, root: Path) -> Check:
    """``ok`` listing the pinned set when every library a version records is pinned at the
    version running here; ``warn`` naming what is unpinned or pinned to another version."""
    from cml_bot import ml

    running = ml.library_versions(cfg.estimator if cfg.train.command is None else None)
    shown = ", ".join(f"{name} {version}" for name, version in running.items())
    running.pop(ml.PYTHON)  # the workflows' python-version pins it, not a file
    pins, files = _pins(cfg, root)
    where = f" ({', '.join(files)})" if files else ""
    unpinned = [name for name in running if _key(name) not in pins]
    other = [
        f"{name}=={pins[_key(name)]} pinned, {version} installed"
        for name, version in running.items()
        if _key(name) in pins and pins[_key(name)] != version
    ]
    if not unpinned and not other:
        return Check("libraries", "ok", f"pinned{where}: {shown}")
    problems = ([f"not pinned: {', '.join(unpinned)}"] if unpinned else []) + other
    return Check(
        "libraries",
        "warn",
        f"running {shown}; {'; '.join(problems)}{where}: a champion registered today may be "
        "scored by other versions later (each version records those it was trained with)",
        PIN_FIX,
    )


def _pins(cfg: Config, root: Path) -> tuple[dict[str, str], list[str]]:
    """``name==version`` pins of requirements/constraints files and lock files in the config's
    folder and the repository root, by normalised name; and the files read."""
    from cml_bot import ml

    pins: dict[str, str] = {}
    files: list[str] = []
    for folder in dict.fromkeys([cfg.root.resolve(), root.resolve()]):
        for name in ml.DEPENDENCY_FILES:
            path = folder / name
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found = _LOCKED.findall(text) if name.endswith(".lock") else []
            found += _REQUIREMENT.findall(text) if name.endswith(".txt") else []
            if found:
                files.append(name)
            for dist, version in found:
                pins.setdefault(_key(dist), version)
    return pins, files


def _key(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()
