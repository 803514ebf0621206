"""Row identity without an id column, the training-row record, and the row account."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from cml_bot.config import parse_config
from cml_bot.ml import overlap, rows
from cml_bot.ml.data import ROW_ID, Dataset, load_dataset
from cml_bot.stats import PredictionSet

TABLE = pd.DataFrame(
    {
        "island": ["Biscoe", "Dream", "Biscoe", None, "Dream"],
        "mass": [3750.0, np.nan, 3800.0, 4100.0, np.nan],
        "species": ["Adelie", "Gentoo", "Adelie", "Chinstrap", "Gentoo"],
    }
)


def keys(frame: pd.DataFrame) -> list[str]:
    return list(rows.content_keys(frame, frame.columns))


def test_content_keys_survive_reordering_appending_and_deleting_rows() -> None:
    before = dict(zip(TABLE.index, keys(TABLE), strict=True))
    shuffled = TABLE.iloc[[4, 2, 0, 3, 1]]
    after = dict(zip(shuffled.index, keys(shuffled), strict=True))
    assert all(after[i] == before[i] for i in (0, 2, 3))  # rows 1 and 4 are identical: they
    assert {after[1], after[4]} == {before[1], before[4]}  # may swap occurrence numbers
    appended = pd.concat([TABLE, pd.DataFrame({"island": ["Torgersen"], "mass": [3000.0]})])
    assert keys(appended)[:5] == list(before.values())
    assert keys(TABLE.drop(index=[0]))[1:] == [before[i] for i in (2, 3, 4)]


def test_duplicates_are_separate_rows_with_an_occurrence_index() -> None:
    ks = keys(TABLE)
    assert ks[1] != ks[4] and ks[4] == ks[1] + "#1"  # rows 1 and 4 have the same content
    assert len(set(ks)) == len(ks)


def test_numbers_match_whatever_type_the_file_gave_them() -> None:
    ints = pd.DataFrame({"mass": [3750, 3800], "sex": ["m", "f"]})
    floats = pd.DataFrame({"mass": [3750.0, 3800.0], "sex": ["m", "f"]})
    text = pd.DataFrame({"mass": ["3750", "3800.0"], "sex": ["m", "f"]})
    assert keys(ints) == keys(floats) == keys(text)
    assert keys(ints)[0] != keys(pd.DataFrame({"mass": [3751], "sex": ["m"]}))[0]


def test_keys_under_a_recorded_scheme_need_its_columns() -> None:
    identity = rows.identity_of(TABLE, None, ())
    assert identity == {"scheme": "content", "columns": ["island", "mass", "species"]}
    wider = TABLE.assign(extra=1)
    widened = rows.keys_under(wider, identity)
    assert widened is not None and list(widened) == keys(TABLE)  # a column added: same rows
    assert rows.keys_under(TABLE.drop(columns="mass"), identity) is None
    by_id = {"scheme": "id_column", "column": "id"}
    ids = rows.keys_under(TABLE.assign(id=[7, 8, 9, 10, 11]), by_id)
    assert ids is not None and list(ids) == ["7", "8", "9", "10", "11"]


def test_the_record_round_trips_and_a_foreign_file_is_ignored(tmp_path: Path) -> None:
    record = rows.TrainingRecord({"scheme": "content", "columns": ["a"]}, ["r1", "r2"], ["a"], "y")
    record.write(tmp_path)
    assert rows.read_record(tmp_path) == record
    (tmp_path / rows.RECORD_FILE).write_text('{"rows": "not a list"}')
    assert rows.read_record(tmp_path) is None
    assert rows.read_record(tmp_path / "missing") is None


def _dataset(tmp_path: Path, frame: pd.DataFrame) -> Dataset:
    frame.to_csv(tmp_path / "d.csv", index=False)
    cfg = parse_config(
        {
            "model": {"name": "m", "task": "classification"},
            "train": {"data": "d.csv", "target": "y"},
            "evaluate": {"test_size": 0.5},
        },
        root=tmp_path,
    )
    return load_dataset(cfg)


def test_account_sets_aside_the_rows_the_baseline_was_trained_on(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(40) % 7, "z": np.arange(40), "y": np.arange(40) % 2})
    data = _dataset(tmp_path, frame)
    eval_ids = list(data.evaluation[ROW_ID])
    theirs = rows.TrainingRecord(data.identity, [*eval_ids[:5], "r-not-here"], ["x", "z"], "y")
    acc = overlap.account(data, theirs, "champion v1")
    assert (acc.evaluation, acc.baseline_trained_on, acc.compared) == (20, 5, 15)
    assert acc.excluded == set(eval_ids[:5])
    assert (acc.training_added, acc.training_removed) == (20, 6)
    note = overlap.set_aside_note(acc, "champion v1")
    assert note is not None and note.startswith("Compared on 15 of 20 evaluation rows")
    gone = dataclasses.replace(theirs, identity={"scheme": "content", "columns": ["x", "w"]})
    assert "cannot be recognised" in str(overlap.account(data, gone).unmatched)


def test_kept_drops_excluded_rows_whatever_their_type() -> None:
    preds = PredictionSet(
        row_id=np.array([1, 2, 3]), y_true=np.array([0, 1, 0]), y_pred=np.array([0, 1, 1])
    )
    assert list(overlap.kept(preds, {"2"}).row_id) == [1, 3]
