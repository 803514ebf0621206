"""Which evaluation rows a comparison may use: none that either model was trained on.

:func:`account` matches the candidate's evaluation rows against the candidate's own training rows
and against the rows the baseline recorded (``train_rows.json``, see :mod:`cml_bot.ml.rows`),
re-identifying the current rows with the baseline's recorded identity scheme. The rows either
model was trained on are set aside; :class:`~cml_bot.ml.rows.RowAccount` says how many and why.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cml_bot.ml.data import ROW_ID, Dataset
from cml_bot.ml.rows import RowAccount, TrainingRecord, describe
from cml_bot.stats import PredictionSet


def account(dataset: Dataset, baseline: TrainingRecord | None, who: str = "") -> RowAccount:
    """The evaluation rows of ``dataset`` to compare on, and the ones set aside."""
    eval_ids = dataset.evaluation[ROW_ID].tolist()
    train_ids = dataset.train[ROW_ID].tolist()
    own = set(train_ids)
    acc = RowAccount(evaluation=len(eval_ids), identity=describe(dataset.identity))
    acc.excluded = {r for r in eval_ids if r in own}
    acc.candidate_trained_on = len(acc.excluded)
    acc.duplicates = sum(1 for r in eval_ids if "#" in str(r))
    if baseline is None:
        return acc
    mapped = dataset.keys_under(baseline.identity)
    if mapped is None:
        acc.unmatched = (
            f"the current data lacks what {who or 'the baseline'}'s row identity needs "
            f"({describe(baseline.identity)}): its training rows cannot be recognised"
        )
        return acc
    train_keys, eval_keys = mapped
    theirs = set(baseline.rows)
    hit = {r for r in eval_ids if eval_keys[r] in theirs}
    acc.baseline_trained_on = len(hit)
    acc.excluded |= hit
    mine = {train_keys[r] for r in train_ids}
    acc.training_added = len(mine - theirs)
    acc.training_removed = len(theirs - mine)
    return acc


def without_rows(dataset: Dataset, excluded: set[object]) -> Dataset:
    """``dataset`` with the evaluation rows in ``excluded`` removed."""
    if not excluded:
        return dataset
    keep = ~dataset.evaluation[ROW_ID].isin(list(excluded))
    return dataclasses.replace(dataset, evaluation=dataset.evaluation[keep].reset_index(drop=True))


def kept(preds: PredictionSet, excluded: set[object]) -> PredictionSet:
    """The predictions of the rows not in ``excluded`` (ids compared as text: a predictions.csv
    read back may type them differently)."""
    if not excluded:
        return preds
    names = np.asarray([str(x) for x in excluded], dtype=object)
    mask = ~np.isin(np.asarray(preds.row_id).astype(str).astype(object), names)
    return preds.take(np.flatnonzero(mask))


def set_aside_note(acc: RowAccount, who: str) -> str | None:
    """What the report says about the rows set aside (None: none were)."""
    reasons = []
    if acc.baseline_trained_on:
        reasons.append(f"{acc.baseline_trained_on} because {who} was trained on them")
    if acc.candidate_trained_on:
        reasons.append(f"{acc.candidate_trained_on} because the candidate was trained on them")
    if not reasons:
        return None
    return (
        f"Compared on {acc.compared} of {acc.evaluation} evaluation rows; set aside: "
        f"{' and '.join(reasons)} (rows identified by {acc.identity})."
    )
