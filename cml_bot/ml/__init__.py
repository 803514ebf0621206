"""Training and scoring one model: data loading and the evaluation split, the built-in and the
command trainer, evaluation (predictions, metrics, size, latency), the pipeline that logs a run,
and the baseline (champion, base commit in a worktree, or none).

Pull-request code and model deserialization never run in this process: the built-in trainer
fits, and registered models are loaded and scored, in ``python -m cml_bot.ml.worker`` with no
token or credential (``isolation`` runs it, ``loading`` is its skops loader with a fixed
allow-list); the command trainer runs the team's command the same way.

May import: ``core``, ``config``, ``stats``, ``registry``; scikit-learn and pandas.
"""

from cml_bot.ml.baseline import Baseline, default_base_ref, resolve, worktree
from cml_bot.ml.data import SKLEARN_DATASETS, load_dataset, load_frame
from cml_bot.ml.inputs import (
    DEPENDENCY_FILES,
    PYTHON,
    filter_paths,
    inputs_fingerprint,
    installed_version,
    library_versions,
    version_changes,
)
from cml_bot.ml.latency import Timing, time_together
from cml_bot.ml.overlap import kept
from cml_bot.ml.pipeline import (
    Outcome,
    load_outcome,
    promote,
    read_outcome,
    run_tags,
    train_candidate,
    typed_params,
    write_outcome,
)
from cml_bot.ml.scoring import recorded_candidate, score_registered
from cml_bot.ml.team import describe as describe_training_python
from cml_bot.ml.training import estimator_origin, run_command

__all__ = [
    "DEPENDENCY_FILES",
    "PYTHON",
    "SKLEARN_DATASETS",
    "Baseline",
    "Outcome",
    "Timing",
    "default_base_ref",
    "describe_training_python",
    "estimator_origin",
    "filter_paths",
    "inputs_fingerprint",
    "installed_version",
    "kept",
    "library_versions",
    "load_dataset",
    "load_frame",
    "load_outcome",
    "promote",
    "read_outcome",
    "recorded_candidate",
    "resolve",
    "run_command",
    "run_tags",
    "score_registered",
    "time_together",
    "train_candidate",
    "typed_params",
    "version_changes",
    "worktree",
    "write_outcome",
]
