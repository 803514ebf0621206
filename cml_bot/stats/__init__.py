"""Paired statistics: the delta of a metric between two models scored on the same rows, with
its confidence interval and significance, by the method that fits the metric's kind; and
:class:`PredictionSet`, the one input every comparison needs (numpy arrays, so not in ``core``,
which ``cml-bot plan`` loads).

May import: ``core``, numpy, scipy. Pure.
"""

from cml_bot.stats.engine import PairedDelta, metric_value, paired_delta, paired_deltas
from cml_bot.stats.labels import confusion_matrix
from cml_bot.stats.latency import LatencyRatio, latency_ratio
from cml_bot.stats.pair import label_codes
from cml_bot.stats.power import detectable_difference, standard_error
from cml_bot.stats.predictions import PROBA_PREFIX, PredictionSet, align

__all__ = [
    "PROBA_PREFIX",
    "LatencyRatio",
    "PairedDelta",
    "PredictionSet",
    "align",
    "confusion_matrix",
    "detectable_difference",
    "label_codes",
    "latency_ratio",
    "metric_value",
    "paired_delta",
    "paired_deltas",
    "standard_error",
]
