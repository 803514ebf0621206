"""What the PR report says besides the comparison: :class:`ReportContext` and its parts.

Pure data: the model identities, the changed parameters (:func:`changed_params`, with
:data:`UNSET` for a side that lacks one), the data changes (:class:`DataChanges`), notes, links
and slash commands. The generation time is passed in, never read from the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cml_bot import __version__
from cml_bot.compare import ModelIdentity


class _Unset:
    def __repr__(self) -> str:
        return "(not set)"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class DataChanges:
    rows_before: int | None = None
    rows_after: int | None = None
    balance_before: dict[str, float] | None = None
    balance_after: dict[str, float] | None = None
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)
    added_inputs: list[str] = field(default_factory=list)  # model input columns
    removed_inputs: list[str] = field(default_factory=list)
    estimator_before: str | None = None  # set only when the estimator class changed
    estimator_after: str | None = None
    training_added: int | None = None  # training rows (None: not known)
    training_removed: int | None = None
    rows_compared: int | None = None  # evaluation rows the comparison used (None: not known)
    rows_set_aside: int | None = None

    @property
    def headline(self) -> list[str]:
        """What changed in the model's inputs, estimator and training rows: one phrase each."""
        out = []
        if self.added_inputs:
            out.append(f"Model inputs added: {', '.join(self.added_inputs)}.")
        if self.removed_inputs:
            out.append(f"Model inputs removed: {', '.join(self.removed_inputs)}.")
        if self.estimator_before and self.estimator_after:
            out.append(f"Estimator: {self.estimator_before} → {self.estimator_after}.")
        if self.training_added or self.training_removed:
            out.append(
                f"Training rows: {self.training_added or 0} added, "
                f"{self.training_removed or 0} removed."
            )
        return out

    @classmethod
    def between(cls, baseline: ModelIdentity | None, candidate: ModelIdentity) -> DataChanges:
        before = baseline.columns if baseline is not None else []
        inputs = baseline.features if baseline is not None else []
        old_est = baseline.estimator if baseline is not None else None
        changed = bool(old_est and candidate.estimator and old_est != candidate.estimator)
        return cls(
            rows_before=baseline.rows if baseline is not None else None,
            rows_after=candidate.rows,
            balance_before=baseline.class_balance if baseline is not None else None,
            balance_after=candidate.class_balance,
            added_columns=[c for c in candidate.columns if before and c not in before],
            removed_columns=[c for c in before if candidate.columns and c not in candidate.columns],
            added_inputs=[c for c in candidate.features if inputs and c not in inputs],
            removed_inputs=[
                c for c in inputs if candidate.features and c not in candidate.features
            ],
            estimator_before=_class_name(old_est) if changed else None,
            estimator_after=_class_name(candidate.estimator) if changed else None,
        )


def _class_name(path: str | None) -> str | None:
    return path.rpartition(".")[2] if path else None


def changed_params(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, old, new) for every parameter that differs; :data:`UNSET` marks a missing side."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, UNSET), new.get(name, UNSET)
        if a is UNSET or b is UNSET or a != b:
            out.append((name, a, b))
    return out


@dataclass(frozen=True)
class ReportContext:
    """Everything the report says besides the comparison itself."""

    model_name: str
    baseline: ModelIdentity | None
    candidate: ModelIdentity
    generated_at: datetime  # passed in, never read from the clock here
    baseline_note: str = ""  # e.g. "champion v3", "base commit (no champion yet)"
    changed_params: list[tuple[str, Any, Any]] | None = None  # None: from the identities' params
    data_changes: DataChanges | None = None  # None: from the identities' data summaries
    notes: list[str] = field(default_factory=list)
    run_url: str | None = None  # the workflow run
    commands: list[tuple[str, str, str]] = field(default_factory=list)  # verb, usage, permission
    bot_version: str = __version__
    marker: str = ""  # "": report_marker(model_name)
