"""Loading a scikit-learn model from an MLflow model directory, safely: skops with a FIXED
allow-list of types, never the list the model's own files carry.

MLflow's loader (``mlflow.sklearn.load_model``, and ``mlflow.pyfunc`` for the sklearn flavor)
hands skops the ``skops_trusted_types`` of the model's MLmodel file: whoever can write the model
writes that list, so a replaced file can name ``posix.system`` and have it called while loading.
Here the allow-list is computed from the installed scikit-learn, numpy and scipy
(:func:`skops_allowed_types`); a model needing any other type is refused, naming it, before
anything in the file is created. Pickle and cloudpickle models are refused outright. cml-bot
calls this in the worker process (:mod:`cml_bot.ml.worker`), which holds no credentials either.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cml_bot.core import EXIT_REFUSED, RegistryError

REFUSED_FIX = (
    "cml-bot loads a registered scikit-learn model only if it is made of scikit-learn, numpy and "
    "scipy types, never trusting the list in the model's own MLmodel file; retrain it with a "
    "scikit-learn estimator (train.estimator), list a third-party estimator's package in "
    "registry.trusted_packages (on the default branch), or use train.command for a model with "
    "your own classes, or register it again if its files were replaced "
    "(docs/troubleshooting.md#model-loading-refused)"
)
LOAD_FIX = (
    "check the registry has that version and its artifacts "
    "(docs/troubleshooting.md#model-loading-refused)"
)

# Roots of the scikit-learn classes a fitted model may hold: estimators, transformers, pipelines
# and meta-estimators, and what they keep inside (trees, kernels, losses and links, distance
# metrics and neighbour trees, optimisers). Each root and its subclasses defined in sklearn.*.
_SKLEARN_ROOTS = (
    ("sklearn.base", "BaseEstimator"),
    ("sklearn.tree._tree", "Tree"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
    ("sklearn.gaussian_process.kernels", "Kernel"),
    ("sklearn._loss.loss", "BaseLoss"),
    ("sklearn._loss.link", "BaseLink"),
    ("sklearn.metrics._dist_metrics", "DistanceMetric"),
    ("sklearn.neighbors", "KDTree"),
    ("sklearn.neighbors", "BallTree"),
    ("sklearn.neural_network._stochastic_optimizers", "BaseOptimizer"),
)


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"  # as skops names a type


def _subclasses(root: type) -> list[type]:
    found: list[type] = [root]
    todo: list[type] = [root]
    while todo:
        subs: list[type] = todo.pop().__subclasses__()
        for sub in subs:
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


@functools.lru_cache(maxsize=1)
def skops_allowed_types() -> frozenset[str]:
    """The types cml-bot lets skops create besides skops's own defaults (which are computed
    from the installed scikit-learn, numpy and scipy too), computed from the installed packages
    and never read from a model: the scikit-learn classes under :data:`_SKLEARN_ROOTS`, numpy's
    ``dtype`` classes and scipy's sparse matrices and arrays. Types only: no function (a
    function named in a file would be called or handed to the model)."""
    import numpy as np
    import scipy.sparse
    import skops.io  # noqa: F401  (imports every public scikit-learn module, as below)
    from sklearn.utils import all_estimators

    all_estimators()  # imports every public scikit-learn module: the subclasses are all known
    names: set[str] = set()
    for module_name, attr in _SKLEARN_ROOTS:
        try:
            root = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):  # another scikit-learn version
            continue
        for cls in _subclasses(root):
            module = cls.__module__
            if module.startswith("sklearn.") and not any(t in module for t in (".tests", "_test")):
                names.add(_type_name(cls))
    names.add(_type_name(np.dtype))
    names.update(
        _type_name(cls)
        for cls in vars(np.dtypes).values()
        if isinstance(cls, type) and issubclass(cls, np.dtype)
    )
    sparse_bases = tuple(
        b
        for b in (getattr(scipy.sparse, "spmatrix", None), getattr(scipy.sparse, "sparray", None))
        if isinstance(b, type)
    )
    names.update(
        _type_name(cls)
        for cls in vars(scipy.sparse).values()
        if isinstance(cls, type) and issubclass(cls, sparse_bases)
    )
    return frozenset(names)


def _model_file(model_dir: Path, label: str) -> Path:
    """The skops file of a scikit-learn MLflow model directory (refused unless skops)."""
    import yaml

    try:
        meta = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RegistryError(
            f"cannot load model {label}: no readable MLmodel file ({type(exc).__name__})",
            fix=LOAD_FIX,
        ) from None
    flavors = meta.get("flavors") if isinstance(meta, dict) else None
    conf = flavors.get("sklearn") if isinstance(flavors, dict) else None
    if not isinstance(conf, dict) or not isinstance(conf.get("pickled_model"), str):
        raise RegistryError(
            f"cannot load model {label}: its MLmodel has no scikit-learn (sklearn) flavor",
            fix=LOAD_FIX,
        )
    fmt = conf.get("serialization_format", "pickle")
    if fmt != "skops":
        raise RegistryError(
            f"refused to load model {label}: it is serialized as {fmt!r}, which runs code "
            "when loaded",
            fix="cml-bot saves and loads scikit-learn models in the skops format only; "
            "register the model again with cml-bot (docs/troubleshooting.md#model-loading-refused)",
            exit_code=EXIT_REFUSED,
        )
    root = model_dir.resolve()
    path = (root / conf["pickled_model"]).resolve()
    if root not in path.parents or not path.is_file():
        raise RegistryError(
            f"cannot load model {label}: its model file {conf['pickled_model']!r} is not a file "
            "inside the model directory",
            fix=LOAD_FIX,
        )
    return path


def package_types(packages: Iterable[str]) -> frozenset[str]:
    """The classes defined in each of ``packages`` (``registry.trusted_packages``, a privileged
    setting) and its imported submodules: types only, never a function. A package that does not
    import is a RegistryError saying so."""
    names: set[str] = set()
    for package in packages:
        try:
            importlib.import_module(package)
        except ImportError as exc:
            raise RegistryError(
                f"registry.trusted_packages names {package!r}, which does not import here: {exc}",
                fix="install it where cml-bot trains (docs/workflows.md#6-your-own-packages)",
            ) from None
        for name, module in list(sys.modules.items()):
            if module is None or not (name == package or name.startswith(package + ".")):
                continue
            names.update(
                _type_name(obj)
                for obj in vars(module).values()
                if isinstance(obj, type) and obj.__module__ == name
            )
    return frozenset(names)


def load_sklearn(model_dir: Path, label: str | None = None, packages: Iterable[str] = ()) -> Any:
    """The scikit-learn model in the MLflow model directory ``model_dir`` (skops format), loaded
    with :func:`skops_allowed_types` and the classes of ``packages`` (:func:`package_types`); a
    RegistryError naming every type outside them, before anything in the file is created.
    ``label`` names the model in messages (default: the path).
    """
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    label = label or str(model_dir)
    path = _model_file(Path(model_dir), label)
    allowed = skops_allowed_types() | package_types(packages)
    try:
        untrusted = set(skops.io.get_untrusted_types(file=path)) - allowed
        if untrusted:
            raise RegistryError(
                f"refused to load model {label}: it needs type(s) cml-bot does not trust: "
                f"{', '.join(sorted(untrusted))}",
                fix=REFUSED_FIX,
                exit_code=EXIT_REFUSED,
            )
        return skops.io.load(path, trusted=sorted(allowed))
    except RegistryError:
        raise
    except UntrustedTypesFoundException as exc:
        raise RegistryError(
            f"refused to load model {label}: {_first_line(exc)}",
            fix=REFUSED_FIX,
            exit_code=EXIT_REFUSED,
        ) from None
    except Exception as exc:
        message = f"cannot load model {label}: {_first_line(exc)}"
        raise RegistryError(message, fix=LOAD_FIX) from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"
