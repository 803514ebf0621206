"""Class labels an estimator cannot take as they are: :class:`EncodedLabels` fits the estimator on
labels 0..K-1 and predicts the original ones, so a classifier that needs integer labels (XGBoost's,
for one) works on text labels. The built-in trainer wraps the estimator only after it refused the
labels as they are (:mod:`cml_bot.ml.worker`), so scikit-learn's own classifiers, which take text
labels, are saved as before. A wrapped model needs cml-bot importable where it is loaded."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if


def _inner_has(name: str) -> Any:
    return lambda self: hasattr(self.estimator, name)


class EncodedLabels(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """``estimator`` fitted on the labels encoded as 0..K-1; predicts the original labels."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> EncodedLabels:
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.estimator_ = clone(self.estimator).fit(X, encoder.transform(y))
        return self

    def predict(self, X: Any) -> np.ndarray:
        codes = np.asarray(self.estimator_.predict(X)).ravel().astype(int)
        return np.asarray(self.classes_[codes])

    @available_if(_inner_has("predict_proba"))  # type: ignore[untyped-decorator]
    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.estimator_.predict_proba(X))
