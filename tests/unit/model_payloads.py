"""Hostile models and estimators for the isolation tests: real payloads, not mocks.

* :func:`poison_skops` replaces a scikit-learn MLflow model's skops file with one whose loading
  calls ``os.system`` (a ``ConstructorFromReduceNode`` of ``posix.system``) and lists that
  function in the MLmodel's ``skops_trusted_types``, as an attacker who can write the registry
  would: MLflow's own loader trusts that list and runs the command.
* :func:`poison_pickle` makes the model a pickle whose ``__reduce__`` calls ``os.system``.
* :data:`SPY_MODULE` is an estimator module that writes its process's environment to a file
  while it fits.

And the small project, registered model and registry the isolation tests use.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shlex
import shutil
import textwrap
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cml_bot.config.models import parse_config
from cml_bot.core import Progress
from cml_bot.ml import score_registered
from cml_bot.registry import ModelVersion
from cml_bot.registry.mlflow_models import save_sklearn_model

# What the cml-bot process holds and pull-request code must never see.
SECRETS = {
    "GITHUB_TOKEN": "ghs_isolationTOKEN0123456789",
    "CML_BOT_GITHUB_TOKEN": "ghp_isolationPAT0123456789",
    "INPUT_GITHUB-TOKEN": "ghs_isolationTOKEN0123456789",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-hunter2-0123",
    "MLFLOW_TRACKING_TOKEN": "mlflow-token-0123456",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0123456789",
}

SYSTEM = f"{os.system.__module__}.system"  # "posix.system" on Linux and macOS

SPY_MODULE = textwrap.dedent(
    """
    import json
    import os
    from pathlib import Path

    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin


    class Spy(ClassifierMixin, BaseEstimator):
        '''Predicts the majority class; writes os.environ next to this file while fitting.'''

        def __init__(self, depth=1):
            self.depth = depth

        def fit(self, X, y):
            Path(__file__).with_name("env.json").write_text(json.dumps(dict(os.environ)))
            values, counts = np.unique(np.asarray(y), return_counts=True)
            self.classes_ = values
            self.majority_ = values[int(np.argmax(counts))]
            return self

        def predict(self, X):
            return np.full(len(X), self.majority_, dtype=object)


    class Sleeper(Spy):
        def fit(self, X, y):
            import time

            time.sleep(60)
            return self


    class Crasher(Spy):
        def fit(self, X, y):
            os._exit(7)
    """
)


def leaked(env: dict[str, str]) -> list[str]:
    """The secrets (by name) present in ``env``, by name or by value."""
    values = "\n".join(env.values())
    return sorted(k for k, v in SECRETS.items() if k in env or v in values)


def _sklearn_flavor(model_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = yaml.safe_load((model_dir / "MLmodel").read_text())
    return meta, meta["flavors"]["sklearn"]


def skops_payload(command: str) -> bytes:
    """A skops file whose loading runs ``command`` (if ``posix.system`` is trusted)."""
    import skops

    module, _, name = SYSTEM.rpartition(".")
    arg = {
        "__class__": "str",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(command),
        "is_json": True,
        "__id__": 2,
    }
    schema = {
        "__class__": name,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [arg],
            "__id__": 3,
        },
        "__id__": 1,
        "protocol": 2,
        "_skops_version": skops.__version__,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    return buffer.getvalue()


def poison_skops(model_dir: Path, marker: Path) -> str:
    """Replace the model's skops file by one that creates ``marker`` when loaded with the
    MLmodel's own trusted types (which now list it); returns the type it needs."""
    meta, flavor = _sklearn_flavor(model_dir)
    assert flavor["serialization_format"] == "skops"
    payload = skops_payload(f"touch {shlex.quote(str(marker))}")
    (model_dir / flavor["pickled_model"]).write_bytes(payload)
    flavor["skops_trusted_types"] = [*flavor.get("skops_trusted_types", []), SYSTEM]
    (model_dir / "MLmodel").write_text(yaml.safe_dump(meta))
    return SYSTEM


class _Reduce:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (self.command,)


def poison_pickle(model_dir: Path, command: str) -> None:
    """Make the model a pickle (MLmodel says so) whose loading runs ``command``."""
    meta, flavor = _sklearn_flavor(model_dir)
    for old in model_dir.glob("model.*"):
        old.unlink()
    (model_dir / "model.pkl").write_bytes(pickle.dumps(_Reduce(command)))
    flavor.update(pickled_model="model.pkl", serialization_format="pickle")
    flavor.pop("skops_trusted_types", None)
    meta["flavors"]["python_function"]["model_path"] = "model.pkl"
    (model_dir / "MLmodel").write_text(yaml.safe_dump(meta))


def rows(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": rng.normal(size=n),
            "color": rng.choice(["red", "blue"], size=n),
            "y": np.where(x1 > 0, "yes", "no"),
        }
    )


def project(root: Path, estimator: str = "sklearn.linear_model.LogisticRegression") -> Any:
    """A config in ``root`` with its data and the spy estimator module beside it."""
    rows().to_csv(root / "train.csv", index=False)
    (root / "evil_est.py").write_text(SPY_MODULE)
    data = {
        "model": {"name": "m", "task": "classification"},
        "train": {"data": "train.csv", "target": "y", "estimator": estimator, "params": {}},
        "evaluate": {"metrics": ["accuracy"]},
    }
    return parse_config(data, root=root)


def registered_model(where: Path) -> Path:
    """A real registered-looking scikit-learn model directory (skops, like cml-bot saves)."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = rows()
    encode = make_column_transformer((OneHotEncoder(), ["color"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(
        frame[["x1", "x2", "color"]], frame["y"]
    )
    save_sklearn_model(model, where)
    return where


class FolderRegistry:
    """A registry that keeps models as files (like the GitHub Releases backend)."""

    def __init__(self, model_dir: Path):
        self.model_dir = model_dir

    def model_location(self, version: ModelVersion, dest: Path) -> str:
        target = dest / "model"
        shutil.copytree(self.model_dir, target, dirs_exist_ok=True)
        return str(target)


def rescore(tmp_path: Path, model_dir: Path, kind: str = "sklearn") -> Any:
    cfg = project(tmp_path)
    version = ModelVersion(name="m", version="3", model_uri="models:/m/3", kind=kind)
    return score_registered(
        cfg,
        version,
        tracker=SimpleNamespace(tracking_uri=""),  # type: ignore[arg-type]  (a local model)
        out_dir=tmp_path / "scored",
        progress=Progress(quiet=True),
        registry=FolderRegistry(model_dir),  # type: ignore[arg-type]
    )
