"""Doctor check: the estimator imports where it will be trained, and can be loaded once it is
the champion (docs/workflows.md, "Your own packages")."""

from __future__ import annotations

from collections.abc import Mapping

from cml_bot.config import Config
from cml_bot.core import CmlBotError
from cml_bot.doctor.check import TROUBLE, Check

NAME = "the training environment"


def check_estimator(cfg: Config, env: Mapping[str, str]) -> Check:
    """A training command: which Python runs it. The built-in trainer: the estimator imports in
    a worker, as it will when it trains, and its package may be loaded later."""
    from cml_bot import ml

    where = ml.describe_training_python(env)
    if cfg.train.command is not None:
        return Check(NAME, "ok", where)
    try:
        origin = ml.estimator_origin(cfg)
    except CmlBotError as exc:
        return Check(
            NAME,
            "fail",
            f"{cfg.estimator} does not import where cml-bot trains ({where}): {exc.message}",
            fix="install its package into the Python that trains: in Actions, a step before "
            "cml-bot (`pip install -r requirements.txt`); locally, beside cml-bot "
            f"({TROUBLE}#estimator-does-not-import)",
        )
    package = cfg.estimator.partition(".")[0]
    trusted = {p.partition(".")[0] for p in cfg.registry.trusted_packages}
    if package not in ("sklearn", *trusted) and "." in cfg.estimator:
        return Check(
            NAME,
            "warn",
            f"{cfg.estimator} imports (from {origin}) and trains, but cml-bot will refuse to "
            f"load it as the champion: {package!r} is not in registry.trusted_packages",
            fix=f"add `{package}` to registry.trusted_packages on the default branch "
            f"({TROUBLE}#model-loading-refused)",
        )
    return Check(NAME, "ok", f"{cfg.estimator} imports from {origin}; {where}")
