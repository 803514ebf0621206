"""Messages that pointed the wrong way (issue 17, item 1) now say what is wrong: a float target
under `task: classification`, an estimator of the other task, text labels an estimator cannot
take. (`evaluate --version`, `compare` and `run --local` outside git: tests/integration/
test_exit_codes.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cml_bot.config import parse_config
from cml_bot.core.errors import ConfigError, TrainingError
from cml_bot.ml.data import load_dataset
from cml_bot.ml.training import train_builtin
from tests.unit.model_payloads import project

INT_ONLY = '''
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class IntOnly(ClassifierMixin, BaseEstimator):
    """A classifier that, like XGBoost's, takes class labels 0..K-1 only."""

    def fit(self, X, y):
        y = np.asarray(y)
        if y.dtype.kind not in "iu":
            raise ValueError("Invalid classes inferred from unique values of `y`")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])
'''


def test_a_float_target_under_classification_asks_about_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"bill": rng.normal(40, 5, 80), "mass": rng.normal(4200, 800, 80)})
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    cfg = parse_config(
        {"model": {"name": "m"}, "train": {"data": "penguins.csv", "target": "mass"}},
        root=tmp_path,
    )
    with pytest.raises(ConfigError) as info:
        load_dataset(cfg)
    assert info.value.message.startswith("the target 'mass' has 80 distinct float values (e.g. ")
    assert info.value.message.endswith("and model.task is classification")
    assert info.value.fix is not None
    assert info.value.fix.startswith("did you mean `model.task: regression`?")
    assert "stratif" not in str(info.value)


def test_an_estimator_of_the_other_task_is_named(tmp_path: Path) -> None:
    cfg = project(tmp_path, "sklearn.ensemble.RandomForestRegressor")
    with pytest.raises(ConfigError) as info:
        train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    assert info.value.message == (
        "train.estimator sklearn.ensemble.RandomForestRegressor is a regressor, and model.task "
        "is classification"
    )
    assert info.value.fix == (
        "use a classification estimator (e.g. sklearn.ensemble.RandomForestClassifier), or "
        "set model.task: regression"
    )


def test_text_labels_are_encoded_for_a_classifier_that_needs_integers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It fails on the text labels as they are, so the built-in trainer fits it on 0..K-1 and
    the model predicts the text labels (with probabilities in the same class order)."""
    (tmp_path / "intonly.py").write_text(INT_ONLY)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = project(tmp_path, "intonly.IntOnly")
    dataset = load_dataset(cfg)
    trained = train_builtin(cfg, dataset, {}, tmp_path / "out", echo=lambda _: None)
    assert trained.scored.classes == ["no", "yes"]
    assert set(trained.scored.pred.tolist()) == {"no"}  # IntOnly predicts its first class
    assert len(trained.scored.pred) == len(dataset.evaluation)


def test_a_wrapped_model_still_names_the_estimators_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "intonly.py").write_text(
        INT_ONLY.replace('if y.dtype.kind not in "iu":', "if True:")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = project(tmp_path, "intonly.IntOnly")
    with pytest.raises(TrainingError) as info:
        train_builtin(cfg, load_dataset(cfg), {}, tmp_path / "out", echo=lambda _: None)
    assert info.value.message == (
        "training intonly.IntOnly failed: ValueError: Invalid classes inferred from unique "
        "values of `y`"
    )
    assert "check train.params and the data's columns" not in str(info.value)
