"""Point values of :mod:`cml_bot.stats.engine`: each metric on one model's rows, in natural
units, equal to scikit-learn's; :class:`_Undefined` (or NaN from :func:`_safe_point`) when the
metric has no value there. Pure: numpy only.
"""

from __future__ import annotations

import numpy as np

from cml_bot.core.metrics import MetricSpec
from cml_bot.stats.bootstrap import _evaluator
from cml_bot.stats.delong import _binary_target, _delong_placements, _positive_scores
from cml_bot.stats.labels import _label_scores, _label_table
from cml_bot.stats.pair import _Pair, _Undefined
from cml_bot.stats.predictions import PredictionSet
from cml_bot.stats.rowloss import _r2, _row_loss


def _safe_point(spec: MetricSpec, preds: PredictionSet) -> float:
    try:
        return _point(spec, _Pair(preds, preds))
    except _Undefined:
        return float("nan")


def _point(spec: MetricSpec, pair: _Pair) -> float:
    if pair.n == 0:
        raise _Undefined("no rows")
    if spec.kind == "label":
        table = _label_table(pair)
        if spec.average == "binary" and (why := table.binary_problem()):
            raise _Undefined(why)
        return float(_label_scores(spec, table.confusions(table.counts[None])[0], table.pos_b)[0])
    if spec.kind == "auc":
        pos, n_pos, n_neg = _binary_target(pair)
        return _delong_placements(_positive_scores(pair.b, pair), pos, n_pos, n_neg)[1]
    if spec.kind == "rowloss":
        return float(np.mean(_row_loss(spec, pair, 0)))
    if spec.kind == "rmse":
        return float(np.sqrt(np.mean(pair.sq_err(0))))
    if spec.kind == "r2":
        if pair.n < 2:
            raise _Undefined("r2 needs two rows")
        y = pair.y_float()
        return _r2(float(np.mean(pair.sq_err(0))), float(np.mean((y - y.mean()) ** 2)))
    return float(_evaluator(spec, pair, 0).fn(np.arange(pair.n)[None])[0])
